"""Parallel scans: worker processes decode, the scanning process keeps everything in order.

The design, for an uncompressed classic pcap file (other captures are scanned in one process):

1. The scanning process walks only the record headers (`CaptureReader.pcap_spans`, about a
   quarter of a microsecond a record) and cuts the file into spans of whole records, a few MiB
   each. A span is three integers, so handing it to a worker costs nothing. A worker takes
   `SPANS_PER_JOB` spans at a time, reads them one after the other and hands back one result
   for them all: what a result costs once (its decoders' flushes, a connection's piece, the
   marshalling, the scanning process's merges) is paid less often, while a read holds one span.
2. A worker reads its spans and does the per-packet work: link layers and IP (`Decapsulator`,
   reading each frame where it lies in the span), then each module's `worker_decoder` on the
   datagrams the module wants (for DNS the whole message decode, lowered names and registered
   domains, the tallies and the message rows). It returns compact tuples in frame order and
   what each module's decoder hands over at the end of its spans (DNS: its tallies and its
   message rows as one store chunk), packed with `marshal` (several times cheaper to load than
   a pickle of the same tuples), plus the spans' packet count, byte count and first/last
   timestamps.
3. What needs state across frames stays with the one process that sees every frame in order:
   a frame carrying TCP on a port a module wants, or an IP fragment, comes back whole (as a
   deferred frame) and is decapsulated, reassembled and decoded there, exactly as in a serial
   scan. So do pairing, counters and store writes (`ModuleScan.on_udp_decoded`).
4. At most `IN_FLIGHT_PER_WORKER` spans per worker are outstanding, so memory is bounded by the
   span size, not by the capture; results are consumed in span order. Waiting checks the
   cancellation event every `CANCEL_POLL` seconds; cancelling (or any error) withdraws the
   scan's spans not yet begun, and workers write nothing to disk.
5. Every scan of the process draws on one pool (`POOL`) of at most `pool_size()` processes
   (the cores), whatever the number of scans running at once; their spans queue in one line.
   The pool lives while some scan uses it. A worker that dies (killed, out of memory) ends
   the scans it served with an error, never a hang.

Workers are forked when the scanning process has a single thread (`mcpcap analyze`); with
threads (the MCP server, the TUI) they start through `forkserver`, else `spawn`. Workers run
at a lower priority than the scanning process, which is the narrowest stage. Small captures
are not worth the start-up: `choose_workers` picks one process below `MIN_PARALLEL_BYTES`.
A worker that finds its span shorter than the scan saw it (the file shrank), or another file
at the path, stops the scan with the reader's `changed_error`.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import marshal
import math
import multiprocessing
import os
import struct
import sys
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, NamedTuple

from mcpcap.core import fastpath
from mcpcap.core.decap import MIN_ETHERNET_FAST, Decapsulator, FrameDeferred
from mcpcap.core.errors import CancelledError, McpcapError
from mcpcap.core.reader import NANOSECONDS, LayoutFile, PcapLayout, PcapSpan
from mcpcap.core.streampack import STREAM_FIELDS, pack_items
from mcpcap.core.streams import TcpInterest
from mcpcap.core.streamwork import MIN_REFERENCED, by_reference, reads_streams

SPAN_BYTES = 2 << 20
# spans a worker scans for one result: two halve the per-result costs above (1m, session 28:
# about 2% of the tree's CPU in 10 pairs of runs side by side; spans of 4 MiB gained as much or
# more, but hold twice the bytes in each read, which the tree's memory bound does not allow)
SPANS_PER_JOB = 2
MIN_PARALLEL_BYTES = 32 << 20  # measured on a quiet machine: at 58 MB two processes pay 1.4x
MAX_AUTO_WORKERS = 2
IN_FLIGHT_PER_WORKER = 3
CANCEL_POLL = 0.05
WORKER_NICENESS = 5
STOP_TIMEOUT = 5.0  # seconds to wait for a terminated worker to be gone
DEFERRED = -1  # the first item of a deferred frame: (DEFERRED, frame, ts, data, wire length)
# a TCP segment (as a plain tuple) sent back for its stream, which the scanning process reads
TCP_SEGMENT = -2
# the packet decoders' partials up to a deferred frame: (PACKET_FLUSH, partials by module), so
# that the scanning process hands them over before what it makes of that frame
PACKET_FLUSH = -3

# (marshal.dumps((items, partials)), the stream worker's segments (`streampack.pack` of
# (frame, ts, segment fields) tuples, or None), packets, bytes, first_ts, last_ts)
SpanResult = tuple[bytes, bytes | None, int, int, float | None, float | None]


def unpack_items(packed: bytes) -> tuple[list[tuple], list[Any]]:
    """A span's items in frame order, and each module decoder's `flush()` value (or None)."""
    return marshal.loads(packed)


def choose_workers(requested: int | None, size: int) -> int:
    """Processes for a scan: as asked, else one for a small file and up to two cores above."""
    if requested is not None:
        return max(1, requested)
    if size < MIN_PARALLEL_BYTES:
        return 1
    return max(1, min(MAX_AUTO_WORKERS, os.cpu_count() or 1))


def pool_size() -> int:
    """The worker processes one mcpcap process may run at once: its usable cores."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def run_spans(
    layout: PcapLayout,
    spans: Iterable[PcapSpan],
    module_names: list[str],
    workers: int,
    cancel: threading.Event | None = None,
    waiting: Callable[[], None] | None = None,
) -> Iterator[tuple[PcapSpan, SpanResult]]:
    """The spans, `SPANS_PER_JOB` at a time (as one span that covers them), each with its
    worker's result, in span order, from the process's shared pool.

    `waiting` is called every `CANCEL_POLL` seconds spent waiting for a result (a caller's
    chance to notice a cancellation); closing the iterator withdraws the spans not yet begun
    (see `_SharedPool.use`).
    """
    window: deque[tuple[PcapSpan, Future]] = deque()
    with POOL.use(workers, lambda: [job for _, job in window]) as executor:
        pending = iter(spans)
        more = True
        while True:
            while more and len(window) < workers * IN_FLIGHT_PER_WORKER:
                group = tuple(itertools.islice(pending, SPANS_PER_JOB))
                if not group:
                    more = False
                else:
                    job = _submit(executor, layout, module_names, group)
                    window.append((_covering(group), job))
            if not window:
                return
            span, job = window[0]
            while not job.done():
                if cancel is not None and cancel.is_set():
                    raise CancelledError("the analysis was cancelled")
                if waiting is not None:
                    waiting()
                futures.wait([job], CANCEL_POLL)
                if not job.done() and _a_worker_died(executor):
                    raise _worker_died()
            window.popleft()
            yield span, _result(job)


def _covering(spans: tuple[PcapSpan, ...]) -> PcapSpan:
    """The one span that covers consecutive spans."""
    first, last = spans[0], spans[-1]
    return PcapSpan(first.start, last.end, first.first_frame, sum(s.count for s in spans))


def _submit(
    executor: ProcessPoolExecutor, layout: PcapLayout, names: list[str], spans: tuple
) -> Future:
    try:
        return executor.submit(_scan_span, layout, names, *spans)
    except BrokenProcessPool:  # a worker died since the last result
        raise _worker_died() from None


def _result(job: Future) -> SpanResult:
    try:
        return job.result()
    except BrokenProcessPool:
        raise _worker_died() from None


def _a_worker_died(executor: ProcessPoolExecutor) -> bool:
    """Whether a process of the pool has ended while a scan uses it (none ends before the pool
    stops). The executor's own thread tells the futures, unless the worker died while it was
    sending a result: that thread then waits for the rest of it for ever (see `_stop`), and
    the scan would wait for its result as long."""
    return any(process.exitcode is not None for process in _processes_of(executor))


def _processes_of(executor: ProcessPoolExecutor) -> list:
    """The pool's processes (`ProcessPoolExecutor` keeps no public table of them)."""
    return list((getattr(executor, "_processes", None) or {}).values())


def _worker_died() -> McpcapError:
    POOL.discard_broken()
    return McpcapError(
        "a worker process of the scan stopped unexpectedly (killed, or out of memory); "
        "the analysis did not finish"
    )


class _SharedPool:
    """The one pool of worker processes every scan of this process shares.

    Its spans queue in one line, in the order scans hand them in (each scan keeps at most
    `IN_FLIGHT_PER_WORKER` times its `workers` outstanding), so concurrent scans take turns.
    The pool starts with the first scan that needs it and stops when the last one ends: idle,
    mcpcap holds no worker processes. With `fork` (a process with one thread: one scan at a
    time) it has as many processes as that scan asked for; otherwise they start as needed, up
    to `pool_size()`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._users: dict[ProcessPoolExecutor, int] = {}

    @contextlib.contextmanager
    def use(
        self, workers: int, outstanding: Callable[[], Iterable[Future]] = tuple
    ) -> Iterator[ProcessPoolExecutor]:
        """The pool, for one scan whose futures not yet done `outstanding` gives. A scan that
        ends early withdraws them when other scans go on with the pool; the last user stops it
        at once instead, its futures left to the pool's end. (Cancelling them first would race
        that end on Python before 3.12: its thread sets an error on every future it still held,
        and one already cancelled raises InvalidStateError in that thread.)"""
        with self._lock:
            if self._executor is None:
                self._executor = self._start(workers)
                self._users[self._executor] = 0
            executor = self._executor
            self._users[executor] += 1
        ended = False
        try:
            yield executor
            ended = True
        finally:
            with self._lock:
                self._users[executor] -= 1
                if not self._users[executor]:
                    del self._users[executor]
                    if self._executor is executor:
                        self._executor = None
                    # under the lock: the next pool starts only when this one's processes ended
                    _stop(executor, at_once=not ended)
                elif not ended:  # the spans not begun make way for the other scans' spans
                    for job in outstanding():
                        job.cancel()

    def discard_broken(self) -> None:
        """A worker died: scans starting from now on get a new pool."""
        with self._lock:
            self._executor = None

    @staticmethod
    def _start(workers: int) -> ProcessPoolExecutor:
        context = worker_context()
        size = pool_size()
        if context.get_start_method() == "fork":
            size = min(size, max(1, workers))
        with helpers_ready(context):
            return ProcessPoolExecutor(size, mp_context=context, initializer=init_worker)


POOL = _SharedPool()


def _stop(executor: ProcessPoolExecutor, at_once: bool) -> None:
    """Stop the pool's processes; `at_once` (a cancelled or failed scan) does not let them end
    the spans they hold, which a cancelled scan would otherwise wait for."""
    if not at_once:
        executor.shutdown(wait=True, cancel_futures=True)
        return
    # ProcessPoolExecutor.terminate_workers from Python 3.14 on; its process table before. The
    # executor's own thread notices the ends; waiting for it could wait on a killed worker's
    # locks, so only the processes themselves are waited for.
    processes = _processes_of(executor)
    # (shutdown forgets the result queue: take its writing end first, see below)
    writer = getattr(getattr(executor, "_result_queue", None), "_writer", None)
    for process in processes:
        with contextlib.suppress(OSError, AttributeError):
            process.terminate()
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(OSError, AttributeError, AssertionError):
            process.join(STOP_TIMEOUT)
    # A worker ended while it was sending a result leaves the executor's thread reading the rest
    # of it for ever, and the interpreter joins that thread at exit. With the workers gone, this
    # process holds the pipe's only other writing end: closing it ends that read (EOF).
    with contextlib.suppress(OSError, AttributeError):
        writer.close()


def _start_helpers(context: multiprocessing.context.BaseContext) -> None:
    """Start the fork server and resource tracker now (they inherit stderr), not in a submit."""
    method = context.get_start_method()
    if method == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()
    elif method == "spawn":  # pragma: no cover - platforms without fork
        from multiprocessing import resource_tracker

        resource_tracker.ensure_running()


@contextlib.contextmanager
def helpers_ready(context: multiprocessing.context.BaseContext) -> Iterator[None]:
    """Where worker processes of `context` can start: its helpers running, a real stderr."""
    with _real_stderr():
        _start_helpers(context)
        yield


@contextlib.contextmanager
def _real_stderr() -> Iterator[None]:
    """multiprocessing hands `sys.stderr`'s descriptor to its helper processes. A TUI (or a test
    runner) may have replaced `sys.stderr` with an object whose descriptor is not a real one,
    which makes the helpers fail to start: lend them the process's own stderr meanwhile."""
    try:
        os.fstat(sys.stderr.fileno())
    except (AttributeError, OSError, ValueError):
        saved = sys.stderr
        sys.stderr = sys.__stderr__ or open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
        try:
            yield
        finally:
            sys.stderr = saved
        return
    yield


def prepare_workers() -> None:
    """Start the fork server a scan's workers will come from, ahead of the first scan.

    Only where scans would use one (a process with threads, more than one core): its start-up,
    a new interpreter that imports the decoders, takes about a third of a second, which then
    falls in the time a person spends browsing rather than in their first open.
    """
    if (os.cpu_count() or 1) < 2 or worker_context().get_start_method() != "forkserver":
        return
    from multiprocessing import forkserver

    with _real_stderr():
        forkserver.ensure_running()


def worker_imports() -> list[str]:
    """What the registered modules' workers import (a fork server loads them once)."""
    from mcpcap.core.modules.registry import load_modules

    return [name for module in load_modules(None) for name in module.worker_imports]


def worker_context() -> multiprocessing.context.BaseContext:
    """fork when this process has one thread (fastest, and no re-import of `__main__`);
    forkserver when it has more (forking threads can deadlock); spawn where neither exists."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([__name__, *worker_imports()])
        return ctx
    return multiprocessing.get_context("spawn")


# ---------------------------------------------------------------------- in the worker
MAX_SCANNERS = 4  # files a worker keeps open at once (one per concurrent scan it serves)
_scanners: OrderedDict[tuple[PcapLayout, tuple[str, ...]], _SpanScanner] = OrderedDict()


def init_worker() -> None:
    # a worker decodes spans without making cyclic garbage: see `mcpcap.core.gcpause`; it
    # collects when it starts on another file (`_scanner_for`). What it inherited (a forked
    # process's whole heap, or the fork server's) is never its garbage: frozen, a collection
    # walks only what the worker made. (Walked, it cost a CLI scan's workers 17 ms each, and a
    # worker forked from a test process with millions of objects seconds at each new pool.)
    gc.disable()
    gc.freeze()
    with contextlib.suppress(OSError, AttributeError):
        # the scanning process is the pipeline's narrowest stage: on a busy machine it should
        # not wait for a core behind the workers that feed it
        os.nice(WORKER_NICENESS)
    from mcpcap.core.shutdown import die_with_parent

    die_with_parent()  # a fork server's worker would outlive a killed scanning process


def _scan_span(layout: PcapLayout, module_names: list[str], *spans: PcapSpan) -> SpanResult:
    key = (layout, tuple(module_names))
    scanner = _scanner_for(key)
    try:
        return scanner.scan(*spans)
    except BaseException:
        # a span that failed half-way leaves its decoders' state behind: start afresh
        _scanners.pop(key, None)
        scanner.close()
        raise


def _scanner_for(key: tuple[PcapLayout, tuple[str, ...]]) -> _SpanScanner:
    scanner = _scanners.get(key)
    if scanner is not None:
        _scanners.move_to_end(key)
        return scanner
    while len(_scanners) >= MAX_SCANNERS:
        _scanners.popitem(last=False)[1].close()
    gc.collect()
    scanner = _scanners[key] = _SpanScanner(key[0], list(key[1]))
    return scanner


class _SpanScanner:
    """One worker's reader, decapsulator and decoders for one file, kept between spans."""

    def __init__(self, layout: PcapLayout, module_names: list[str]) -> None:
        from mcpcap.core.modules.registry import load_modules
        from mcpcap.core.scan import UdpDispatch, packet_routes

        modules = load_modules(module_names)
        self.file = LayoutFile(layout)
        scans = [(module, i) for i, module in enumerate(modules)]
        self.dispatch = UdpDispatch(scans)
        self.tcp = TcpInterest([module for module in modules if not reads_streams(module)])
        self.stream_tcp = TcpInterest([module for module in modules if reads_streams(module)])
        self.decoders = [
            module.worker_decoder() if module.wants_packets or module.udp_decoder() else None
            for module in modules
        ]
        self.flushes = [getattr(d, "flush", None) for d in self.decoders]
        self.packet_flushes = [
            flush if module.wants_packets else None
            for module, flush in zip(modules, self.flushes, strict=True)
        ]
        self.packet_routes = packet_routes(
            [(m, d) for m, d in zip(modules, self.decoders, strict=True) if m.wants_packets]
        )
        packets = (
            any(module.wants_packets for module in modules)
            or self.tcp.any_port
            or self.stream_tcp.any_port
        )
        self.decap = Decapsulator(
            self.dispatch.wanted,
            self.tcp.ports | self.stream_tcp.ports,
            defer_fragments=True,
            packets=packets,
        )
        self.loop = SpanLoop(
            packets,
            layout.endian == "<",
            layout.scale,
            layout.linktype,
            self.decap.decode_at,
            self.packet_routes,
            self.dispatch.for_datagram,
            [getattr(decoder, "compiled_call", decoder) for decoder in self.decoders],
            self.tcp.wants if self.tcp.active else None,
            self.stream_tcp if self.stream_tcp.active else None,
            self._flush_packets,
            self.decap.compiled_parts(),
        )

    def close(self) -> None:
        self.file.close()

    def scan(self, *spans: PcapSpan) -> SpanResult:
        """One result for consecutive spans, each read in turn (one span's bytes at a time)."""
        out: list[tuple] = []
        streams: list[tuple] = []
        count = total = 0
        low = high = None
        for span in spans:
            buf = self.file.read(span.start, span.end - span.start)
            size, first, last = span_loop(self.loop, buf, span.start, span.count,
                                          span.first_frame, out, streams)  # fmt: skip
            del buf
            if span.count:
                count += span.count
                total += size
                low = first if low is None else min(low, first)
                high = last if high is None else max(high, last)
        partials = [flush() if flush is not None else None for flush in self.flushes]
        packed = marshal.dumps((out, partials))
        packed_streams = pack_items(streams) if streams else None
        return packed, packed_streams, count, total, low, high

    def _flush_packets(self) -> list:
        """The packet decoders' partials so far (None for the other modules)."""
        return [flush() if flush is not None else None for flush in self.packet_flushes]


def _carries_tcp(segments: list) -> bool:
    return any(seg.transport == "tcp" for seg in segments)


class SpanLoop(NamedTuple):
    """What the loop over a span's records calls (one per `_SpanScanner`)."""

    packets: bool  # packet mode: every frame decoded (`Decapsulator(packets=True)`)
    little_endian: bool  # the record headers'
    scale: float  # seconds per unit of the headers' fraction field
    linktype: int
    decode_at: Callable[..., list]  # `Decapsulator.decode_at`
    routes: dict[str, list[Callable]]  # the packet decoders of each transport (`packet_routes`)
    datagram_targets: Callable[[int, int, bytes], list[int]]  # `UdpDispatch.for_datagram`
    # each module's worker decoder, by module index (its `compiled_call` when it has one: a
    # compiled twin of its call)
    decoders: list[Any]
    wants_tcp: Callable[[Any], bool] | None  # TCP segments the scanning process reassembles
    streams: TcpInterest | None  # TCP segments for the stream decoders
    flush_packets: Callable[[], list]  # the packet decoders' partials so far
    # the compiled loop only: `Decapsulator.compiled_parts()`, for its hot path without the
    # call to `decode_at` (None: `decode_at` for every frame, as here)
    compiled_decap: tuple | None


_RECORD_HEADER = {
    True: struct.Struct("<IIII").unpack_from,
    False: struct.Struct(">IIII").unpack_from,
}


def python_span_loop(
    loop: SpanLoop,
    buf: bytes,
    base: int,
    count: int,
    first_frame: int,
    out: list[tuple],
    streams: list[tuple],
) -> tuple[int, float, float]:
    """The `count` records of `buf` (the capture's bytes from file offset `base`), numbered
    from `first_frame`, each decoded and handed to the modules that read it; what goes back to
    the scanning process is appended to `out` (in frame order) and `streams` (the segments for
    the stream decoders). (total bytes as sent, first and last timestamps)

    In packet mode every packet goes to the packet decoders of its transport. Otherwise the
    decapsulator keeps only the datagrams modules want, and a frame carrying TCP goes back
    whole (deferred) for the scanning process's reassembly, as IP fragments always do."""
    unpack = _RECORD_HEADER[loop.little_endian]
    scale, linktype, decode = loop.scale, loop.linktype, loop.decode_at
    nanos = scale == NANOSECONDS  # whole microseconds, rounded from the integer fraction
    routes, decoders, datagram_targets = loop.routes, loop.decoders, loop.datagram_targets
    packet_mode, wants_tcp = loop.packets, loop.wants_tcp
    single = decoders[0] if len(decoders) == 1 else None
    stream_wants = loop.streams.wants if loop.streams is not None else None
    append = out.append
    first, last = math.inf, -math.inf
    total = 0
    pos = 0
    frame = first_frame - 1
    fed = False  # packet decoders fed since their last flush
    for _ in range(count):
        sec, frac, incl, orig = unpack(buf, pos)
        start = pos + 16
        pos = start + incl
        frame += 1
        ts = sec + round(frac / 1000) * 1e-6 if nanos else sec + frac * scale
        total += orig
        if ts < first:
            first = ts
        if ts > last:
            last = ts
        try:
            segments = decode(linktype, buf, start, pos, ts, orig)
        except FrameDeferred:
            if fed:
                append((PACKET_FLUSH, loop.flush_packets()))
                fed = False
            append((DEFERRED, frame, ts, buf[start:pos], orig))
            continue
        if not segments:
            continue
        if packet_mode:
            fed = True
            for seg in segments:
                transport = seg.transport
                for packet in routes[transport]:
                    packet(frame, ts, seg)
                if transport == "udp":
                    for index in datagram_targets(seg.sport, seg.dport, seg.payload):
                        decoded = decoders[index](frame, ts, seg)
                        if decoded is not None:
                            append((index, frame, ts, seg.src, seg.sport, seg.dst, seg.dport,
                                    decoded))  # fmt: skip
                elif transport == "tcp":
                    if wants_tcp is not None and wants_tcp(seg):
                        # its stream is read in order, by the scanning process
                        append((TCP_SEGMENT, frame, ts, tuple(seg)))
                    if stream_wants is not None and stream_wants(seg):
                        streams.append((frame, ts, by_reference(seg, buf, start, pos, base)))
            continue
        if segments[0].transport == "tcp" or (len(segments) > 1 and _carries_tcp(segments)):
            append((DEFERRED, frame, ts, buf[start:pos], orig))
            continue
        for seg in segments:
            if single is not None:
                decoded = single(frame, ts, seg)
                if decoded is not None:
                    append((0, frame, ts, seg.src, seg.sport, seg.dst, seg.dport, decoded))
                continue
            for index in datagram_targets(seg.sport, seg.dport, seg.payload):
                decoded = decoders[index](frame, ts, seg)
                if decoded is not None:
                    append((index, frame, ts, seg.src, seg.sport, seg.dst, seg.dport, decoded))
    return total, first, last


def python_hand_items(
    items: list[tuple], handlers: list[Callable[..., Any]], special: Callable[[tuple], Any]
) -> None:
    """A span's items (`unpack_items`), in order: each to the scan of the module it names,
    `handlers[kind](*item[1:])` (the scans' `on_udp_decoded`), or, for a kind below zero
    (`DEFERRED`, `TCP_SEGMENT`, `PACKET_FLUSH`), to `special(item)`. `hand_items` is this, or
    where it was built its C twin (`_parallel.c`), which spares a tuple and a loop step of
    Python for each item."""
    for item in items:
        if item[0] >= 0:
            handlers[item[0]](*item[1:])
        else:
            special(item)


def _compiled_loops() -> tuple[Callable[..., tuple[int, float, float]], Callable[..., None]]:
    """(`span_loop`, `hand_items`): compiled (`_parallel.c`) where it was built, else the
    Python functions."""
    compiled = fastpath.compiled("mcpcap.core._parallel")
    if compiled is None:
        return python_span_loop, python_hand_items
    compiled.setup(FrameDeferred, by_reference, MIN_REFERENCED, DEFERRED, TCP_SEGMENT,
                   PACKET_FLUSH, MIN_ETHERNET_FAST, STREAM_FIELDS)  # fmt: skip
    return compiled.span_loop, compiled.bind_hand_items(python_hand_items)


span_loop, hand_items = _compiled_loops()
