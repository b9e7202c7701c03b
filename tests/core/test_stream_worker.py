"""Stream decoders: a parallel scan reads the streams of a module with a `stream_decoder` in a
stream worker process, with the same chunks as one process gives; a stream worker that dies
ends the scan with an error (never a hang), and none outlives its scan."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from scapy.utils import wrpcap

from mcpcap.core import parallel, scan, streampack, streamwork
from mcpcap.core.decap import Decapsulator, Segment
from mcpcap.core.errors import CancelledError, CaptureReadError, McpcapError
from mcpcap.core.modules import registry
from mcpcap.core.reader import CaptureReader, LayoutFile
from mcpcap.core.tcpstream import StreamBudget
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
@pytest.mark.parametrize("referenced", [False, True], ids=["payloads-sent", "payloads-referenced"])
def test_a_stream_decoder_reads_what_on_tcp_reads_in_one_process_and_in_a_stream_worker(
    tmp_path, monkeypatch, referenced
):
    path = _write(tmp_path / "talks.pcap", TALKS)
    one = _scan(path, 1, monkeypatch)
    sent = []
    if referenced:  # every payload goes as a reference, which the stream worker reads back
        monkeypatch.setattr(streamwork, "MIN_REFERENCED", 1)
        # (the Python loop: the compiled one takes the threshold and `by_reference` once;
        # tests/core/test_parallel_compiled.py holds it to this one, references included)
        monkeypatch.setattr(parallel, "span_loop", parallel.python_span_loop)

        def noted(*args):
            fields = streamwork.by_reference(*args)
            sent.append(fields[5])
            return fields

        monkeypatch.setattr(parallel, "by_reference", noted)
    many = _scan(path, 2, monkeypatch)
    if referenced:
        assert sent and all(isinstance(payload, tuple) for payload in sent if payload)
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


def _items(path: Path, talk: list[tuple[bool, bytes]]) -> list[tuple]:
    """A talk's segments as a span worker sends them, every payload as a reference."""
    frames = _tcp_exchange(41000, 7000, talk)
    wrpcap(str(path), frames)
    items, offset = [], 24  # after the file header
    for number, frame in enumerate(frames, 1):
        raw = bytes(frame)
        seg = Decapsulator({53}, frozenset(), packets=True).decode(1, raw, 0.0)[0]
        offset += 16  # the record header
        fields = streamwork.by_reference(seg, raw, 0, len(raw), offset) if seg.payload else seg
        items.append((number, float(number), tuple(fields)))
        offset += len(raw)
    return items


def _side(path: Path) -> streamwork.StreamSide:
    side = streamwork.StreamSide(registry.load_modules(["hook_decoded"]), StreamBudget())
    side.payloads = LayoutFile(CaptureReader(path).pcap_layout)
    return side


@pytest.mark.usefixtures("decoded_registry")
def test_referenced_payloads_are_read_from_the_capture_only_while_their_connection_is_read(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(streamwork, "MIN_REFERENCED", 1)
    talk = [(True, b"HELLO there"), (False, b"hi"), (True, b"BYE"), (True, b"after the release")]
    items = _items(tmp_path / "talk.pcap", talk)
    assert all(isinstance(fields[5], tuple) for _, _, fields in items if fields[5])
    side = _side(tmp_path / "talk.pcap")
    # the segment after the release points past the end of the file: it is never read
    frame, ts, fields = items[-3]
    assert fields[5] != b""
    items[-3] = (frame, ts, (*fields[:5], (10**9, fields[5][1]), *fields[6:]))
    side.feed_packed(streampack.pack_items(items))
    data = [chunk[3] for chunk in side.finish(len(items), 99.0)[0][:-1]]
    assert data == [b"HELLO there", b"hi", b"BYE"]
    side.close()

    # while the connection is read, a payload that is not in the file any more stops the scan
    side = _side(tmp_path / "talk.pcap")
    frame, ts, fields = items[3]
    items[3] = (frame, ts, (*fields[:5], (10**9, fields[5][1]), *fields[6:]))
    with pytest.raises(CaptureReadError, match="changed while it was being read"):
        side.feed_packed(streampack.pack_items(items))
    side.close()


def test_a_payload_travels_by_reference_only_when_large_and_found_in_its_frame():
    frame = bytes(range(60)) + b"P" * 300 + b"\x00" * 4  # a payload, then a trailer
    big = Segment("tcp", "a", 1, "b", 2, b"P" * 300, 7, 0x18)
    assert streamwork.by_reference(big, frame, 0, len(frame), 1000)[5] == (1060, 300)
    at_end = frame[:-4]
    assert streamwork.by_reference(big, at_end, 0, len(at_end), 1000)[5] == (1060, 300)
    kept = streamwork.STREAM_FIELDS
    small = big._replace(payload=b"P" * (streamwork.MIN_REFERENCED - 1))
    assert streamwork.by_reference(small, frame, 0, len(frame), 1000) == tuple(small)[:kept]
    elsewhere = big._replace(payload=b"Q" * 300)  # not a slice of this frame
    assert streamwork.by_reference(elsewhere, frame, 0, len(frame), 1000) == elsewhere[:kept]
    # the rest of what the stream side reads is unchanged; the packet details are left behind
    sent = streamwork.by_reference(big, frame, 0, len(frame), 0)
    assert sent[:5] == big[:5]
    assert sent[6:] == big[6:kept]
    assert Segment._fields[kept - 1] == "ack"


def test_a_segment_made_again_from_what_was_sent_has_what_the_stream_side_reads():
    seg = Segment("tcp", "a", 1, "b", 2, b"data", 7, 0x18, 99, 512, 64, 4, 6, 10, None, 64,
                  ("eth", "vlan", "ipv4", "tcp"), 82)  # fmt: skip
    again = Segment(*streamwork.by_reference(seg, b"", 0, 0, 0))
    assert again[: streamwork.STREAM_FIELDS] == seg[: streamwork.STREAM_FIELDS]
    assert again.ack == 99
    assert again.window == 0 and again.layers == ()  # defaults: no stream decoder reads them


@pytest.mark.usefixtures("decoded_registry")
def test_a_capture_cut_short_before_the_stream_worker_reads_a_payload_stops_the_scan(
    tmp_path, monkeypatch
):
    path = _write(tmp_path / "cut.pcap", TALKS)
    monkeypatch.setattr(streamwork, "MIN_REFERENCED", 1)
    monkeypatch.setattr(parallel, "SPAN_BYTES", 400)
    monkeypatch.setattr(parallel, "MIN_PARALLEL_BYTES", 0)

    def spans_read_then_cut(layout, spans, names, count, cancel=None, waiting=None):
        done = [(span, parallel._scan_span(layout, names, span)) for span in spans]
        os.truncate(path, 200)  # the span workers are done: only the stream worker reads now
        yield from done

    monkeypatch.setattr(parallel, "run_spans", spans_read_then_cut)
    modules = registry.load_modules(["hook_decoded"])
    with pytest.raises(CaptureReadError, match=r"cut\.pcap changed while it was being read"):
        scan.scan_capture(path, sqlite3.connect(":memory:"), modules, workers=2)
    assert not multiprocessing.active_children()
