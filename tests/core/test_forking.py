"""Work done in a forked copy of the process (`mcpcap.core.forking`), and the scan's summaries
computed half in such a copy."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from mcpcap.core import forking, store
from mcpcap.core.service import Analyzer

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")


def gone(pid: int) -> bool:
    """Whether `pid` is no child of this process any more (reaped)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_the_copys_bytes_come_back_whole_beyond_a_pipes_buffer():
    data = bytes(range(256)) * 4096  # 1 MiB: the copy blocks on the pipe until it is read
    with forking.forked(lambda: data) as copy:
        assert copy.result() == data
    assert gone(copy.pid)


def test_a_copy_that_fails_gives_none_and_is_reaped():
    def fail() -> bytes:
        raise RuntimeError("no")

    with forking.forked(fail) as copy:
        assert copy.result() is None
    assert gone(copy.pid)


def test_a_copy_left_without_its_result_is_ended_and_reaped():
    started = time.monotonic()
    with forking.forked(lambda: time.sleep(60) or b"late") as copy:
        pass
    assert time.monotonic() - started < 10
    assert gone(copy.pid)


def test_a_signal_ends_the_copy_without_the_process_handler(tmp_path):
    """The scan's handlers remove the store being built: a copy must not run them."""
    marker = tmp_path / "handled"
    previous = signal.signal(signal.SIGTERM, lambda *_: marker.write_text("x"))
    try:
        with forking.forked(lambda: time.sleep(60) or b"late") as copy:
            time.sleep(0.2)  # the copy reaches its work
            os.kill(copy.pid, signal.SIGTERM)
            assert copy.result() is None
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert not marker.exists()


def test_no_copy_is_made_while_another_thread_runs():
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not forking.can_fork()
        assert forking.forked(lambda: b"x") is None
    finally:
        stop.set()
        other.join()


def test_the_copy_runs_no_exit_handlers_of_the_process(tmp_path):
    """The copy leaves by `os._exit`: what the process registered for its own exit (or left in
    a buffer) is not done twice."""
    marker = tmp_path / "ran"
    script = (
        "import atexit, pathlib, sys\n"
        "from mcpcap.core import forking\n"
        f"atexit.register(lambda: open({str(marker)!r}, 'a').write('x'))\n"
        "sys.stdout.write('buffered')\n"
        "with forking.forked(lambda: b'ok') as copy:\n"
        "    assert copy.result() == b'ok'\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True)
    assert out.stdout == b"buffered"  # once: the copy's inherited buffer was never flushed
    assert marker.read_text() == "x"  # the handler ran once, in the process itself


@pytest.fixture
def capture(tmp_path, example):
    copy = tmp_path / "copy.pcap"
    shutil.copyfile(example, copy)
    return copy


def stored_summaries(settings, capture) -> dict[str, str]:
    """Every module's stored summary text of a fresh analysis."""
    with Analyzer(settings).analyze(capture, capture.name) as analysis:
        db, modules, top_n = analysis.db, analysis.modules, settings.top_n
        return {m.name: store.read_meta(db, store.summary_key(m.name, top_n)) for m in modules}


def test_summaries_made_partly_in_a_copy_are_those_made_here(capture, make_settings, monkeypatch):
    handed, made_here = [], []
    real_result, real_texts = forking.Forked.result, Analyzer._summary_texts
    scanning = os.getpid()

    def result(self):
        handed.append(real_result(self))
        return handed[-1]

    def slowly(self, db, modules, facts):
        """Each summary a little slower, so the copy is sure to be running before the turns
        run out; and what this process made, noted."""

        def taking():
            for module in modules:
                time.sleep(0.1)
                yield module

        texts = real_texts(self, db, taking(), facts)
        if os.getpid() == scanning:
            made_here.extend(texts)
        return texts

    monkeypatch.setattr(forking.Forked, "result", result)
    monkeypatch.setattr(Analyzer, "_summary_texts", slowly)
    monkeypatch.setattr(forking, "can_fork", lambda: True)  # whatever threads pytest runs
    split = stored_summaries(make_settings(no_cache=True), capture)
    assert len(handed) == 1 and handed[0] is not None  # the copy made its share
    copied = set(json.loads(handed[0]))
    assert copied and made_here  # each made some: whoever was ready took the next
    assert copied.isdisjoint(made_here) and copied | set(made_here) == set(split)

    monkeypatch.setattr(forking, "can_fork", lambda: False)
    here = stored_summaries(make_settings(no_cache=True), capture)
    assert len(split) == 6 and all(split.values())
    assert split == here


def test_the_share_of_a_failed_copy_is_made_here(capture, make_settings, monkeypatch):
    here = stored_summaries(make_settings(no_cache=True), capture)
    scanning, real = os.getpid(), Analyzer._summary_texts

    def failing_in_the_copy(self, db, modules, facts):
        if os.getpid() != scanning:  # the copy inherits this patch
            raise OSError("the copy fails")
        return real(self, db, modules, facts)

    monkeypatch.setattr(forking, "can_fork", lambda: True)
    monkeypatch.setattr(Analyzer, "_summary_texts", failing_in_the_copy)
    assert stored_summaries(make_settings(no_cache=True), capture) == here

    def failing_after_taking_a_turn(self, db, modules, facts):
        if os.getpid() != scanning:
            next(iter(modules))  # a module taken, then never given back
            raise OSError("the copy fails")
        time.sleep(0.2)  # (the copy takes its turn meanwhile)
        return real(self, db, modules, facts)

    monkeypatch.setattr(Analyzer, "_summary_texts", failing_after_taking_a_turn)
    assert stored_summaries(make_settings(no_cache=True), capture) == here


def test_turns_share_the_items_out_once_each_to_whoever_is_ready(monkeypatch):
    monkeypatch.setattr(forking, "can_fork", lambda: True)  # whatever threads pytest runs
    items = [f"item {n}" for n in range(12)]
    with forking.Turns(items) as turns:

        def copy_share() -> bytes:
            taken = []
            for item in turns:
                taken.append(item)
                time.sleep(0.05)
            return json.dumps(taken).encode()

        with forking.forked(copy_share) as copy:
            here = []
            for item in turns:
                here.append(item)
                time.sleep(0.05)
            there = json.loads(copy.result())
    assert here and there and sorted(here + there) == sorted(items)
    with pytest.raises(ValueError, match="at most 255"):
        forking.Turns(list(range(256)))
