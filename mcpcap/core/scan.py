"""One pass over a capture: frames -> transport segments -> the chosen protocol modules.

This is the only loop that touches every packet, so it stays plain: no per-packet objects beyond
what the reader and the decapsulator return, progress and cancellation checked every few
thousand packets.

Scans in one process take turns: at most `SCANS.slots` (the cores) run at once, the others
wait in arrival order and say so through their progress callback ("queued behind 2 scans").
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import os
import sqlite3
import struct
import threading
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from mcpcap.core import fastpath, flowsplits, streampack
from mcpcap.core.decap import Decapsulator, Segment
from mcpcap.core.errors import CancelledError
from mcpcap.core.gcpause import collector_paused
from mcpcap.core.linktypes import linktype_name
from mcpcap.core.modules.contract import PayloadSignature, ProtocolModule
from mcpcap.core.reader import CaptureReader, LayoutFile, PcapLayout
from mcpcap.core.streampack import STREAM_FIELDS
from mcpcap.core.streams import StreamRouter
from mcpcap.core.streamwork import StreamSide, StreamWorker, reads_streams
from mcpcap.core.tcpstream import DEFAULT_MAX_STREAM_BYTES, StreamBudget, TcpReassembler

PROGRESS_EVERY = 8192
# frames between two flushes of a serial scan's packet and stream decoders: about a span's (a
# parallel scan's workers flush at each span's end). What they gather meanwhile (a piece per
# active flow, the rows of the streams read) waits in memory: at 65,536 frames that was a
# tenth of the serial 1M-packet benchmark's peak; flushing more often costs no measurable time
PACKETS_PER_FLUSH = 4_096
QUEUE_POLL = 0.2  # seconds between two checks (and reports) of a scan waiting for its turn

# progress(packets_done, bytes_done, bytes_total), or with a fourth argument, a note saying why
# the scan waits ("queued behind 2 scans"), when the callback accepts one
Progress = Callable[..., None]


def scan_capture(
    path: Path,
    db: sqlite3.Connection,
    modules: list[ProtocolModule],
    *,
    max_packets: int | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    workers: int | None = None,
    max_stream_bytes: int = DEFAULT_MAX_STREAM_BYTES,
) -> dict[str, Any]:
    """Feed every frame to the modules; return the capture facts and each module's counts.

    `workers` None chooses by the file's size (see `mcpcap.core.parallel`); more than one
    decodes in worker processes when the capture and every module allow it, with the same
    results as one process. `max_stream_bytes` bounds what unfinished TCP streams hold.
    """
    budget = StreamBudget(max_stream_bytes)
    facts = _scan_capture(path, db, modules, max_packets, progress, cancel, workers, budget)
    facts["warnings"] += budget.warnings()
    return facts


def _scan_capture(
    path: Path,
    db: sqlite3.Connection,
    modules: list[ProtocolModule],
    max_packets: int | None,
    progress: Progress | None,
    cancel: threading.Event | None,
    workers: int | None,
    budget: StreamBudget,
) -> dict[str, Any]:
    with (
        CaptureReader(str(path)) as reader,
        SCANS.turn(cancel, _queue_reporter(progress, reader)),
        collector_paused(),  # only while it scans: a scan waiting its turn makes no garbage
    ):
        return _scan_reader(reader, db, modules, max_packets, progress, cancel, workers, budget)


def _scan_reader(
    reader: CaptureReader,
    db: sqlite3.Connection,
    modules: list[ProtocolModule],
    max_packets: int | None,
    progress: Progress | None,
    cancel: threading.Event | None,
    workers: int | None,
    budget: StreamBudget,
) -> dict[str, Any]:
    scans = [(module, module.start_scan(db, {"stream_budget": budget})) for module in modules]
    feeder = _FrameFeeder(scans, modules, budget)
    size = reader.size
    layout = reader.pcap_layout
    count = 1
    if layout is not None and all(module.scans_in_workers() for module in modules):
        from mcpcap.core.parallel import choose_workers

        count = choose_workers(workers, size)
    try:
        if count > 1:
            seen = _scan_parallel(
                db, reader, feeder, scans, modules, count, max_packets, progress, cancel
            )
        else:
            seen = _scan_serial(reader, feeder, max_packets, progress, cancel)
        packets, total_bytes, first_ts, last_ts, stopped_early = seen
        reader.check_unchanged()
        # data still waiting behind a segment the capture never had belongs to the last frame
        feeder.flush(packets, last_ts or 0.0)
    finally:
        feeder.close()
    if progress is not None:
        progress(packets, reader.bytes_read, size)
    facts = {
        "format": reader.format.value,
        "compressed": reader.compressed,
        "link_types": [
            {"linktype": lt, "name": linktype_name(lt)} for lt in dict.fromkeys(reader.link_types)
        ],
        "packets": packets,
        "bytes": total_bytes,
        "first_ts": first_ts,
        "last_ts": last_ts,
        "warnings": list(reader.warnings),
        "stopped_early": stopped_early,
        "max_packets": max_packets,
    }
    facts["modules"] = {module.name: scan.finish(db) for module, scan in scans}
    flowsplits.move_stored_uids(db, [place for module in modules for place in module.stored_uids])
    facts["warnings"] += [warning for _, scan in scans for warning in scan.warnings()]
    return facts


Seen = tuple[int, int, "float | None", "float | None", bool]


def _scan_serial(
    reader: CaptureReader,
    feeder: _FrameFeeder,
    max_packets: int | None,
    progress: Progress | None,
    cancel: threading.Event | None,
) -> Seen:
    """Every frame in this process, in order."""
    packets = total_bytes = 0
    first_ts = last_ts = None
    stopped_early = False
    size = reader.size
    frame = feeder.frame
    for ts, linktype, data, orig_len in reader:
        if max_packets is not None and packets >= max_packets:
            stopped_early = True
            break
        packets += 1
        total_bytes += orig_len
        if first_ts is None or ts < first_ts:
            first_ts = ts
        if last_ts is None or ts > last_ts:
            last_ts = ts
        if packets % PROGRESS_EVERY == 0:
            if cancel is not None and cancel.is_set():
                raise CancelledError("the analysis was cancelled")
            if progress is not None:
                progress(packets, reader.bytes_read, size)
        frame(packets, ts, linktype, data, orig_len)
    return packets, total_bytes, first_ts, last_ts, stopped_early


def _scan_parallel(
    db: sqlite3.Connection,
    reader: CaptureReader,
    feeder: _FrameFeeder,
    scans: list[tuple[ProtocolModule, Any]],
    modules: list[ProtocolModule],
    workers: int,
    max_packets: int | None,
    progress: Progress | None,
    cancel: threading.Event | None,
) -> Seen:
    """Workers decode spans of the file; results come back here in capture order."""
    from mcpcap.core.parallel import SPAN_BYTES, run_spans

    layout = reader.pcap_layout
    assert layout is not None
    spans = reader.pcap_spans(SPAN_BYTES, max_packets)
    names = [module.name for module in modules]
    if progress is not None:
        progress = _Repeating(progress, reader.size)
    waiting = _FirstWait(modules, progress.again if progress is not None else None)
    if feeder.stream_side.active:
        # a process of its own pays for itself when streams are claimed on any port (every
        # TCP segment goes there); a few ports' streams (DNS over TCP) are read here
        feeder.collect_streams(names, layout, own_process=feeder.stream_side.interest.any_port)
    runs = run_spans(layout, spans, names, workers, cancel, waiting)
    with contextlib.closing(runs) as results:
        seen = _consume_spans(
            results,
            feeder,
            [scan for _, scan in scans],
            layout.linktype,
            progress,
            cancel,
            reader.size,
        )
    return (*seen, reader.stopped_early)


class _FirstWait:
    """Called while the scanning process waits for a worker's result. The first time, it imports
    what the end of the scan needs (the stored counts' models and each module's results: about
    0.1 s), which would otherwise run after the workers are done; every time, it repeats the
    last progress report (`waiting`). A name that does not import is left to the code that
    needs it (this only saves time: it never fails a scan)."""

    # the core's own: `service` stores each module's counts with these models
    CORE_IMPORTS = ("mcpcap.core.modules.counts",)

    def __init__(self, modules: list[ProtocolModule], waiting: Callable[[], None] | None) -> None:
        self._imports = [*self.CORE_IMPORTS, *(n for m in modules for n in m.results_imports)]
        self._waiting = waiting

    def __call__(self) -> None:
        if self._imports:
            imports, self._imports = self._imports, []
            for name in imports:
                with contextlib.suppress(ImportError):
                    importlib.import_module(name)
        if self._waiting is not None:
            self._waiting()


def _consume_spans(
    results: Iterator[tuple[Any, tuple]],
    feeder: _FrameFeeder,
    module_scans: list[Any],
    linktype: int,
    progress: Progress | None,
    cancel: threading.Event | None,
    size: int,
) -> tuple[int, int, float | None, float | None]:
    """Hand the workers' results to the module scans, in capture order."""
    packets = total_bytes = 0
    first_ts = last_ts = None
    for span, result in results:
        _hand_over(result, feeder, module_scans, linktype)
        count, span_bytes, low, high = result[2:]
        # a span's results (its bytes, and its items above) go before the next span's arrive:
        # a loop variable would keep them while the next ones are received and unpacked, two
        # spans' items at once (the largest part of a scan's memory in this process)
        del result
        packets += count
        total_bytes += span_bytes
        if low is not None and (first_ts is None or low < first_ts):
            first_ts = low
        if high is not None and (last_ts is None or high > last_ts):
            last_ts = high
        if cancel is not None and cancel.is_set():
            raise CancelledError("the analysis was cancelled")
        if progress is not None:
            progress(packets, span.end, size)
    return packets, total_bytes, first_ts, last_ts


def _hand_over(result: tuple, feeder: _FrameFeeder, module_scans: list[Any], linktype: int) -> None:
    """One span's worker results to the module scans (its items die with this call)."""
    from mcpcap.core.parallel import DEFERRED, PACKET_FLUSH, TCP_SEGMENT, hand_items, unpack_items

    frame = feeder.frame

    def special(item: tuple) -> None:
        """An item the core reads: a frame this process decodes, a TCP segment, or the packet
        decoders' partials up to a deferred frame."""
        kind = item[0]
        if kind == DEFERRED:
            frame(item[1], item[2], linktype, item[3], item[4])
        elif kind == TCP_SEGMENT:
            feeder.tcp_segment(item[1], item[2], Segment._make(item[3]))
        elif kind == PACKET_FLUSH:
            _hand_over_partials(feeder, module_scans, item[1])

    items, partials = unpack_items(result[0])
    hand_items(items, [scan.on_udp_decoded for scan in module_scans], special)
    feeder.flush_packets()  # the span's deferred frames, which this process decoded
    if feeder.stream_items is not None:
        feeder.hand_on_streams(result[1])
    _hand_over_partials(feeder, module_scans, partials)


def _hand_over_partials(feeder: _FrameFeeder, module_scans: list[Any], partials: list) -> None:
    """A worker's partials, after those of the frames this process decoded before them (the
    deferred frames): every module gets its packets' partials in capture order."""
    feeder.flush_packets()
    for scan, partial in zip(module_scans, partials, strict=True):
        if partial is not None:
            scan.on_worker_flush(partial)


class _Repeating:
    """A progress callback that can say its last report again: while a scan waits for its
    workers, the caller still hears from it (and may cancel it meanwhile)."""

    def __init__(self, progress: Progress, size: int) -> None:
        self._progress = progress
        self._last: tuple = (0, 0, size)

    def __call__(self, *report: Any) -> None:
        self._last = report
        self._progress(*report)

    def again(self) -> None:
        self._progress(*self._last)


class _FrameFeeder:
    """Frames -> segments -> module scans, for every frame this process decapsulates.

    TCP goes two ways: to the `on_tcp` of modules that read streams here (`streams`), and to
    the stream decoders of the others (`stream_side`, see `mcpcap.core.streamwork`): in this
    process for a serial scan; collected in `stream_items` for a parallel one, then handed on
    span by span (`hand_on_streams`) to its stream worker or to this process's decoders.
    """

    def __init__(
        self,
        scans: list[tuple[ProtocolModule, Any]],
        modules: list[ProtocolModule],
        budget: StreamBudget | None = None,
    ):
        self.budget = budget = budget if budget is not None else StreamBudget()
        self.scans = scans
        self.udp_wanted = UdpDispatch(scans)
        tcp_ports = frozenset().union(*(module.tcp_ports for module in modules))
        here = [(module, scan) for module, scan in scans if not reads_streams(module)]
        self.streams = StreamRouter(here, TcpReassembler(budget=budget))
        self.stream_side = StreamSide(modules, budget)
        self.stream_items: deque[tuple] | None = None  # set for a parallel scan
        self.stream_worker: StreamWorker | None = None
        self._stream_start: tuple[Any, list[str], PcapLayout] | None = None
        readers = [(module, module.worker_decoder(), scan) for module, scan in scans
                   if module.wants_packets]  # fmt: skip
        self.packet_feeds = [(decoder, scan) for _, decoder, scan in readers]
        self.packet_routes = packet_routes([(module, decoder) for module, decoder, _ in readers])
        # every packet is decoded when a module counts packets or claims streams on any port
        packets = (
            bool(self.packet_feeds)
            or self.streams.interest.any_port
            or self.stream_side.interest.any_port
        )
        self.decap = Decapsulator(self.udp_wanted.wanted, tcp_ports, packets=packets)
        self._unflushed = 0

    def frame(
        self,
        number: int,
        ts: float,
        linktype: int,
        data: bytes,
        wire_len: int = 0,
        packets: bool = True,
    ) -> None:
        """One frame's segments to the modules (`wire_len`: its length as sent); `packets`
        False: the packet modules have had this frame already (a worker decoded it and sent it
        back for its TCP stream)."""
        segments = self.decap.decode(linktype, data, ts, wire_len)
        if packets and self.packet_feeds:
            self._feed_packets(number, ts, segments)
        for seg in segments:
            transport = seg.transport
            if transport == "udp":
                # (outside packet mode the decapsulator kept only wanted datagrams)
                for scan in self.udp_wanted.targets(seg):
                    scan.on_udp(number, ts, seg)
            elif transport == "tcp":
                if self.streams.interest.wants(seg):
                    self.streams.feed(seg, number, ts)
                if self.stream_side.active and self.stream_side.interest.wants(seg):
                    if self.stream_items is None:
                        self.stream_side.feed(seg, number, ts)
                    else:
                        self.stream_items.append((number, ts, seg[:STREAM_FIELDS]))
        self._unflushed += 1
        if self._unflushed >= PACKETS_PER_FLUSH:
            self.flush_packets()

    def collect_streams(self, names: list[str], layout: PcapLayout, own_process: bool) -> None:
        """A parallel scan's stream segments are collected span by span, in frame order, for
        the stream decoders: in a stream worker (`own_process`), started with the first stream
        bytes (a capture without any costs no process) from the start method chosen now,
        before the span workers' threads exist; or in this process. Either reads the payloads
        the span workers referenced from the capture file (`layout`)."""
        from mcpcap.core.parallel import worker_context

        self.stream_items = deque()
        self._stream_start = (worker_context(), names, layout) if own_process else None
        if not own_process:
            self.stream_side.payloads = LayoutFile(layout)

    def _stream_worker(self) -> StreamWorker:
        if self.stream_worker is None:
            from mcpcap.core.parallel import helpers_ready

            assert self._stream_start is not None
            context, names, layout = self._stream_start
            with helpers_ready(context):
                self.stream_worker = StreamWorker(context, names, self.budget.max_bytes, layout)
        return self.stream_worker

    def close(self) -> None:
        """Stop the stream worker if one is still running (a cancelled or failed scan), and
        let go of the capture file the stream side read payloads from."""
        if self.stream_worker is not None:
            self.stream_worker.close()
        self.stream_side.close()

    def tcp_segment(self, number: int, ts: float, seg: Segment) -> None:
        """A TCP segment a worker decoded (and its packet decoders counted), for its stream."""
        self.streams.feed(seg, number, ts)

    def _feed_packets(self, number: int, ts: float, segments: list) -> None:
        routes = self.packet_routes
        for seg in segments:
            for packet in routes[seg.transport]:
                packet(number, ts, seg)

    def flush_packets(self) -> None:
        """The packet decoders' partials to their module scans (as a worker's at a span end),
        and in a serial scan the stream decoders' too."""
        if not self._unflushed:
            return
        self._unflushed = 0
        for decoder, scan in self.packet_feeds:
            partial = decoder.flush()
            if partial is not None:
                scan.on_worker_flush(partial)
        if self.stream_side.active and self.stream_items is None:
            self.take_stream_partials(self.stream_side.flush())

    def hand_on_streams(self, packed: bytes | None) -> None:
        """A span's stream segments (packed by its worker, None for none) with those of the
        frames this process decoded for it, in frame order, to the stream decoders; the
        partials they finished meanwhile to their module scans."""
        assert self.stream_items is not None
        if self.stream_items:
            items = streampack.unpack(packed) if packed else []
            items.extend(self.stream_items)
            self.stream_items.clear()
            items.sort(key=_frame_of)
            packed = streampack.pack_items(items)
        if not packed:
            return
        if self._stream_start is None:  # read here
            self.stream_side.feed_packed(packed)
            self.take_stream_partials(self.stream_side.flush())
            return
        for partials in self._stream_worker().send(packed):
            self.take_stream_partials(partials)

    def take_stream_partials(self, partials: list[Any]) -> None:
        for (_, scan), partial in zip(self.scans, partials, strict=True):
            if partial is not None:
                scan.on_stream_flush(partial)

    def flush(self, number: int, ts: float) -> None:
        """The end of the capture: what streams still hold, and the last partials."""
        self.streams.flush(number, ts)
        self.flush_packets()
        if not self.stream_side.active:
            return
        if self.stream_items is not None and self.stream_items:
            self.hand_on_streams(None)
        if self.stream_items is None or self._stream_start is None:  # read in this process
            self.take_stream_partials(self.stream_side.finish(number, ts))
            return
        if self.stream_worker is None:
            return  # the capture had no stream bytes for them
        partials, cut = self.stream_worker.finish(number, ts)
        for each in partials:
            self.take_stream_partials(each)
        self.budget.cut += cut  # the stream worker's budget bounded the same setting


def _frame_of(item: tuple) -> int:
    return item[0]


PACKET_TRANSPORTS = ("tcp", "udp", "icmp", "icmpv6", "ip", "l2", "malformed")


def packet_routes(decoders: list[tuple[ProtocolModule, Any]]) -> dict[str, list]:
    """Each packet-mode transport's `packet` methods, of the modules that read it, in order."""
    return {
        transport: [
            decoder.packet
            for module, decoder in decoders
            if module.packet_transports is None or transport in module.packet_transports
        ]
        for transport in PACKET_TRANSPORTS
    }


class UdpDispatch:
    """Decides once per datagram which module scans want it (usually exactly one module).

    Only modules that read UDP at all are asked, each by its `wants_udp`; where `_parallel.c`
    was built, a module without a test of its own is answered in C from its `udp_ports` and
    `udp_signatures` (`bind_dispatch`), without a call into Python.
    """

    def __init__(self, scans: list[tuple[ProtocolModule, Any]]) -> None:
        readers = [
            (module, scan)
            for module, scan in scans
            if module.udp_ports or module.udp_signatures or _own_udp_test(module) is not None
        ]
        self._checks = [(module.wants_udp, scan) for module, scan in readers]
        self.for_datagram = self.python_for_datagram
        # the decapsulator's UDP filter, asked for every datagram: whether any module wants it
        self.wanted = self._any_wants if self._checks else _no_datagram
        # in C where it was built (even with no reader: a packet decoder's scan asks for every
        # datagram); else with one module reading UDP, its test alone
        self.only: tuple[Callable[[int, int, bytes], bool], Any] | None = None
        if _COMPILED is not None:
            checks = tuple(
                (m.udp_ports, encode_signatures(m.udp_signatures), _own_udp_test(m), scan)
                for m, scan in readers
            )
            self.for_datagram = _COMPILED.bind_dispatch(checks)
            self.wanted = _COMPILED.bind_wanted(checks)
        elif len(self._checks) == 1:
            self.only = self._checks[0]
            self.for_datagram = self._for_the_only_reader
            self.wanted = self.only[0]

    def _any_wants(self, sport: int, dport: int, payload: bytes) -> bool:
        return any(wants(sport, dport, payload) for wants, _ in self._checks)

    def targets(self, seg) -> list:
        """The scans (in module order) that want the datagram."""
        return self.for_datagram(seg.sport, seg.dport, seg.payload)

    def python_for_datagram(self, sport: int, dport: int, payload: bytes) -> list:
        return [scan for wants, scan in self._checks if wants(sport, dport, payload)]

    def _for_the_only_reader(self, sport: int, dport: int, payload: bytes) -> list:
        wants, scan = self.only  # (set with this method)
        return [scan] if wants(sport, dport, payload) else []


_COMPILED = fastpath.compiled("mcpcap.core._parallel")


def encode_signatures(signatures: tuple[PayloadSignature, ...]) -> bytes:
    """Signatures as `_parallel.c` reads them: each its minimum length (2 bytes, little-endian)
    and number of tests (1 byte), then each test's offset (2 bytes), mask and value."""
    return b"".join(
        struct.pack("<HB", signature.min_length, len(signature.tests))
        + b"".join(struct.pack("<HBB", *test) for test in signature.tests)
        for signature in signatures
    )


def _own_udp_test(module: ProtocolModule) -> Callable[[int, int, bytes], bool] | None:
    """The module's `wants_udp` when it overrides the contract's port test."""
    if type(module).wants_udp is ProtocolModule.wants_udp:
        return None
    return module.wants_udp


def _no_datagram(sport: int, dport: int, payload: bytes) -> bool:
    return False


class ScanQueue:
    """Lets at most `slots` scans run at once; the others wait their turn in arrival order."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._running = 0
        self._waiting: deque[object] = deque()
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def turn(
        self, cancel: threading.Event | None, queued: Callable[[int], None] | None = None
    ) -> Iterator[None]:
        """Wait for a free slot (calling `queued(scans ahead)` meanwhile), hold it, free it."""
        ticket = object()
        with self._changed:
            self._waiting.append(ticket)
        try:
            self._wait_for(ticket, cancel, queued)
        except BaseException:
            with self._changed:
                self._waiting.remove(ticket)
                self._changed.notify_all()
            raise
        try:
            yield
        finally:
            with self._changed:
                self._running -= 1
                self._changed.notify_all()

    def _wait_for(
        self, ticket: object, cancel: threading.Event | None, queued: Callable[[int], None] | None
    ) -> None:
        while True:
            with self._changed:
                if self._waiting[0] is ticket and self._running < self.slots:
                    self._waiting.popleft()
                    self._running += 1
                    self._changed.notify_all()
                    return
                ahead = self._running + self._waiting.index(ticket)
            # outside the lock: a report may take a while (it crosses to the MCP event loop)
            if queued is not None:
                queued(ahead)
            if cancel is not None and cancel.is_set():
                raise CancelledError("the analysis was cancelled while it waited for its turn")
            with self._changed:
                if self._waiting[0] is not ticket or self._running >= self.slots:
                    self._changed.wait(QUEUE_POLL)


def _scan_slots() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


SCANS = ScanQueue(_scan_slots())


def _queue_reporter(
    progress: Progress | None, reader: CaptureReader
) -> Callable[[int], None] | None:
    """`progress` as a queued scan reports: a note when the callback takes one."""
    if progress is None:
        return None
    try:
        inspect.signature(progress).bind(0, 0, 0, "")
        takes_note = True
    except (TypeError, ValueError):
        takes_note = False

    def queued(ahead: int) -> None:
        if takes_note:
            progress(0, 0, reader.size, f"queued behind {ahead} scan{'s' if ahead != 1 else ''}")
        else:
            progress(0, 0, reader.size)

    return queued
