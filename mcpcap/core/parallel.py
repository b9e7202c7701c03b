"""Parallel scans: worker processes decode, the scanning process keeps everything in order.

The design, for an uncompressed classic pcap file (other captures are scanned in one process):

1. The scanning process walks only the record headers (`CaptureReader.pcap_spans`, about a
   quarter of a microsecond a record) and cuts the file into spans of whole records, a few MiB
   each. A span is three integers, so handing it to a worker costs nothing.
2. A worker reads its span and does the per-packet work: link layers and IP (`Decapsulator`,
   reading each frame where it lies in the span), then each module's `worker_decoder` on the
   datagrams the module wants (for DNS the whole message decode, lowered names and registered
   domains, the tallies and the message rows). It returns compact tuples in frame order and
   what each module's decoder hands over at the end of the span (DNS: its tallies and its
   message rows as one store chunk), packed with `marshal` (several times cheaper to load than
   a pickle of the same tuples), plus the span's packet count, byte count and first/last
   timestamps.
3. What needs state across frames stays with the one process that sees every frame in order:
   a frame carrying TCP on a port a module wants, or an IP fragment, comes back whole (as a
   deferred frame) and is decapsulated, reassembled and decoded there, exactly as in a serial
   scan. So do pairing, counters and store writes (`ModuleScan.on_udp_decoded`).
4. At most `IN_FLIGHT_PER_WORKER` spans per worker are outstanding, so memory is bounded by the
   span size, not by the capture; results are consumed in span order. Waiting checks the
   cancellation event every `CANCEL_POLL` seconds; cancelling (or any error) terminates the
   workers at once, and workers write nothing to disk.

Workers are forked when the scanning process has a single thread (`mcpcap analyze`); with
threads (the MCP server, the TUI) they start through `forkserver`, else `spawn`. Workers run
at a lower priority than the scanning process, which is the narrowest stage. Small captures
are not worth the start-up: `choose_workers` picks one process below `MIN_PARALLEL_BYTES`.
"""

from __future__ import annotations

import contextlib
import gc
import marshal
import math
import multiprocessing
import os
import struct
import sys
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from mcpcap.core.decap import Decapsulator, FrameDeferred
from mcpcap.core.errors import CancelledError
from mcpcap.core.reader import PcapLayout, PcapSpan

SPAN_BYTES = 4 << 20
MIN_PARALLEL_BYTES = 32 << 20  # measured on a quiet machine: at 58 MB two processes pay 1.4x
MAX_AUTO_WORKERS = 2
IN_FLIGHT_PER_WORKER = 3
CANCEL_POLL = 0.05
WORKER_NICENESS = 5
DEFERRED = -1  # the first item of a deferred frame: (DEFERRED, frame, ts, data)

# (marshal.dumps((items, partials)), packets, bytes, first_ts, last_ts); see `unpack_items`
SpanResult = tuple[bytes, int, int, float | None, float | None]


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


def run_spans(
    layout: PcapLayout,
    spans: Iterable[PcapSpan],
    module_names: list[str],
    workers: int,
    cancel: threading.Event | None = None,
) -> Iterator[tuple[PcapSpan, SpanResult]]:
    """Each span with its worker's result, in span order; workers are gone when this ends."""
    with _real_stderr():
        pool = _context().Pool(workers, initializer=_init_worker, initargs=(layout, module_names))
    try:
        window: deque[tuple[PcapSpan, Any]] = deque()
        pending = iter(spans)
        more = True
        while True:
            while more and len(window) < workers * IN_FLIGHT_PER_WORKER:
                span = next(pending, None)
                if span is None:
                    more = False
                else:
                    window.append((span, pool.apply_async(_scan_span, (span,))))
            if not window:
                return
            span, result = window.popleft()
            while not result.ready():
                if cancel is not None and cancel.is_set():
                    raise CancelledError("the analysis was cancelled")
                result.wait(CANCEL_POLL)
            yield span, result.get()
    finally:
        pool.terminate()
        pool.join()


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
    if (os.cpu_count() or 1) < 2 or _context().get_start_method() != "forkserver":
        return
    from multiprocessing import forkserver

    with _real_stderr():
        forkserver.ensure_running()


def worker_imports() -> list[str]:
    """What the registered modules' workers import (a fork server loads them once)."""
    from mcpcap.core.modules.registry import load_modules

    return [name for module in load_modules(None) for name in module.worker_imports]


def _context() -> multiprocessing.context.BaseContext:
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
_worker: _SpanScanner | None = None


def _init_worker(layout: PcapLayout, module_names: list[str]) -> None:
    global _worker
    gc.disable()  # a worker lives for one scan: see `mcpcap.core.gcpause`
    with contextlib.suppress(OSError, AttributeError):
        # the scanning process is the pipeline's narrowest stage: on a busy machine it should
        # not wait for a core behind the workers that feed it
        os.nice(WORKER_NICENESS)
    _worker = _SpanScanner(layout, module_names)


def _scan_span(span: PcapSpan) -> SpanResult:
    assert _worker is not None
    return _worker.scan(span)


class _SpanScanner:
    """One worker's reader, decapsulator and decoders, kept between spans."""

    def __init__(self, layout: PcapLayout, module_names: list[str]) -> None:
        from mcpcap.core.modules.registry import load_modules
        from mcpcap.core.scan import UdpDispatch

        modules = load_modules(module_names)
        self.layout = layout
        self.record_header = struct.Struct(layout.endian + "IIII")
        self.fd = os.open(layout.path, os.O_RDONLY)
        scans = [(module, i) for i, module in enumerate(modules)]
        self.dispatch = UdpDispatch(scans)
        tcp_ports = frozenset().union(*(module.tcp_ports for module in modules))
        self.decap = Decapsulator(self.dispatch.wanted, tcp_ports, defer_fragments=True)
        self.decoders = [module.worker_decoder() for module in modules]
        self.flushes = [getattr(d, "flush", None) for d in self.decoders]

    def scan(self, span: PcapSpan) -> SpanResult:
        buf = os.pread(self.fd, span.end - span.start, span.start)
        unpack = self.record_header.unpack_from
        scale, linktype = self.layout.scale, self.layout.linktype
        decode = self.decap.decode_at
        single = self.decoders[0] if len(self.decoders) == 1 else None
        out: list[tuple] = []
        append = out.append
        first, last = math.inf, -math.inf
        total = 0
        pos = 0
        frame = span.first_frame - 1
        for _ in range(span.count):
            sec, frac, incl, orig = unpack(buf, pos)
            start = pos + 16
            pos = start + incl
            frame += 1
            ts = sec + frac * scale
            total += orig
            if ts < first:
                first = ts
            if ts > last:
                last = ts
            try:
                segments = decode(linktype, buf, start, pos, ts)
            except FrameDeferred:
                append((DEFERRED, frame, ts, buf[start:pos]))
                continue
            if not segments:
                continue
            if segments[0].transport == "tcp" or (len(segments) > 1 and _carries_tcp(segments)):
                append((DEFERRED, frame, ts, buf[start:pos]))
                continue
            for seg in segments:
                if single is not None:
                    decoded = single(frame, ts, seg)
                    if decoded is not None:
                        append((0, frame, ts, seg.src, seg.sport, seg.dst, seg.dport, decoded))
                    continue
                for index, decoder in self._targets(seg):
                    decoded = decoder(frame, ts, seg)
                    if decoded is not None:
                        append((index, frame, ts, seg.src, seg.sport, seg.dst, seg.dport, decoded))
        partials = [flush() if flush is not None else None for flush in self.flushes]
        packed = marshal.dumps((out, partials))
        if not span.count:
            return packed, 0, 0, None, None
        return packed, span.count, total, first, last

    def _targets(self, seg) -> list[tuple[int, Any]]:
        return [(index, self.decoders[index]) for index in self.dispatch.targets(seg)]


def _carries_tcp(segments: list) -> bool:
    return any(seg.transport == "tcp" for seg in segments)
