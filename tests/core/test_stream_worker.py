"""Stream decoders: a parallel scan reads the streams of a module with a `stream_decoder` in a
stream worker process, with the same chunks as one process gives; a stream worker that dies
ends the scan with an error (never a hang), and none outlives its scan."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

import pytest
from scapy.utils import wrpcap

from mcpcap.core import parallel, scan
from mcpcap.core.errors import CancelledError, McpcapError
from mcpcap.core.modules import registry
from tests.core import hook_modules
from tests.core import test_scan_hooks as scan_hooks
from tests.core.test_scan_hooks import _tcp_exchange


def _write(path: Path, talks: list[list[tuple[bool, bytes]]]) -> Path:
    frames = []
    for n, said in enumerate(talks):
        frames += _tcp_exchange(41000 + n, 7000 + n, said)
    wrpcap(str(path), frames)
    return path


TALKS = [
    [(True, b"HELLO there"), (False, b"hi"), (True, b"BYE"), (True, b"after the release")],
    [(False, b"220 ready"), (True, b"HELLO late"), (False, b"ok")],
    [(True, b"GARBAGE"), (False, b"NOPE")],
    *([(True, b"HELLO %d" % n), (False, b"fine")] for n in range(6)),
]


@pytest.fixture
def decoded_registry(monkeypatch):
    monkeypatch.setattr(registry, "BUILTIN_MODULES", hook_modules.MODULES)
    registry.registered.cache_clear()
    # the stream worker is forked, so it sees the registry patched here
    monkeypatch.setattr(parallel, "worker_context", lambda: multiprocessing.get_context("fork"))
    yield
    registry.registered.cache_clear()


def _scan(path: Path, workers: int, monkeypatch, cancel: threading.Event | None = None) -> dict:
    return scan_hooks._scan(path, workers, monkeypatch, ("hook_streams", "hook_decoded"), cancel)


@pytest.mark.usefixtures("decoded_registry")
def test_a_stream_decoder_reads_what_on_tcp_reads_in_one_process_and_in_a_stream_worker(
    tmp_path, monkeypatch
):
    path = _write(tmp_path / "talks.pcap", TALKS)
    one = _scan(path, 1, monkeypatch)
    many = _scan(path, 2, monkeypatch)
    # the same claims and releases as a module reading its streams with on_tcp in this process
    assert one["hook_decoded"]["chunks"][:-1] == one["hook_streams"]["chunks"]
    assert one["hook_decoded"]["chunks"][-1] == ("closed",)
    assert b"after the release" not in [c[3] for c in one["hook_decoded"]["chunks"][:-1]]
    assert many["hook_decoded"]["chunks"] == one["hook_decoded"]["chunks"]
    assert many["hook_decoded"]["flushes"] > 3  # one partial per span that had stream bytes
    assert not multiprocessing.active_children()  # the stream worker ended with its scan


@pytest.mark.usefixtures("decoded_registry")
def test_a_stream_worker_that_dies_ends_the_scan_with_an_error(tmp_path, monkeypatch):
    path = _write(tmp_path / "dies.pcap", [*TALKS[:2], [(True, b"HELLO"), (True, b"DIE")]])
    started = time.monotonic()
    with pytest.raises(McpcapError, match="stream worker of the scan stopped unexpectedly"):
        _scan(path, 2, monkeypatch)
    assert time.monotonic() - started < 30
    assert not multiprocessing.active_children()


@pytest.mark.usefixtures("decoded_registry")
def test_a_cancelled_scan_stops_its_stream_worker(tmp_path, monkeypatch):
    path = _write(tmp_path / "talks.pcap", TALKS * 3)
    cancel = threading.Event()
    real = scan._FrameFeeder.hand_on_streams

    def cancel_after_the_first_span(self, packed):
        real(self, packed)
        cancel.set()

    monkeypatch.setattr(scan._FrameFeeder, "hand_on_streams", cancel_after_the_first_span)
    with pytest.raises(CancelledError):
        _scan(path, 2, monkeypatch, cancel)
    assert not multiprocessing.active_children()
