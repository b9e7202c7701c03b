"""The cyclic garbage collector is off while a scan runs, and comes back as it was."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

import pytest

from mcpcap.core.config import Settings
from mcpcap.core.gcpause import collector_paused
from mcpcap.core.service import Analyzer
from mcpcap.modules.dns.scan import DnsScan

EXAMPLE = Path(__file__).resolve().parents[2] / "example.pcap"


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_nested_and_concurrent_pauses_restore_the_collector_once(collector_on):
    inner_started, outer_may_end = threading.Event(), threading.Event()

    def other_scan() -> None:
        with collector_paused():
            inner_started.set()
            outer_may_end.wait(5)

    with collector_paused():
        assert not gc.isenabled()
        thread = threading.Thread(target=other_scan)
        thread.start()
        inner_started.wait(5)
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other thread's scan still runs
    outer_may_end.set()
    thread.join(5)
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off(collector_on):
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_a_scan_runs_with_the_collector_off_and_restores_it(collector_on, monkeypatch, tmp_path):
    seen: list[bool] = []
    original = DnsScan._record

    def record(self, *args):
        seen.append(gc.isenabled())
        return original(self, *args)

    monkeypatch.setattr(DnsScan, "_record", record)
    settings = Settings(use_cache=False, workers=1, cache_dir=tmp_path)
    with Analyzer(settings).analyze(EXAMPLE, EXAMPLE.name) as analysis:
        assert analysis.summary()["dns"]["messages"] > 0
    assert seen and not any(seen)
    assert gc.isenabled()


def test_a_failed_scan_restores_the_collector(collector_on, tmp_path):
    garbage = tmp_path / "garbage.pcap"
    garbage.write_bytes(b"not a capture at all" * 10)
    settings = Settings(use_cache=False, workers=1, cache_dir=tmp_path)
    with pytest.raises(Exception):  # noqa: B017 - which error is the reader's business
        Analyzer(settings).analyze(garbage, garbage.name)
    assert gc.isenabled()
