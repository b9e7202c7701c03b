"""Stream work: the TCP connections modules read through a stream decoder.

A module with a `stream_decoder()` (see the contract) reads its TCP connections, claimed by
their first bytes or by port, away from the scanning process's per-message work. A
`StreamSide` is one set of those decoders with their own router and reassembler: segments in,
in capture order; each decoder's `flush()` out, which the module's scan takes in
`ModuleScan.on_stream_flush`, in the same order.

A serial scan keeps its stream side in its own process. A parallel scan runs it in a stream
worker, a process of its own (`StreamWorker`): span workers pick out the segments its modules
may read, the scanning process hands each span's segments on as they come (packed bytes it
never opens) and takes the partials back in span order, at most `IN_FLIGHT` spans behind. The
reassembly, the claims and the parsing of every stream then cost the scanning process nothing.

Most stream bytes are never read: a connection no module claimed, or one a module let go of
(TLS after its handshake), is released, and its later segments are dropped. So a span worker
sends a segment's payload of `MIN_REFERENCED` bytes or more as a reference, its place in the
capture file (`by_reference`), and the stream side reads it from the file only for a connection
that is still read. The bytes of the rest never cross a pipe, and their segments travel as
records (`mcpcap.core.streampack`) that the stream side skips without making them.
"""

from __future__ import annotations

import contextlib
import marshal
import queue
from collections.abc import Iterator
from typing import Any

from mcpcap.core.decap import Segment
from mcpcap.core.errors import McpcapError
from mcpcap.core.modules.contract import ProtocolModule
from mcpcap.core.reader import LayoutFile, PcapLayout
from mcpcap.core.streampack import STREAM_FIELDS, next_kept_over, opened, record_at
from mcpcap.core.streams import StreamRouter, TcpInterest
from mcpcap.core.tcpstream import StreamBudget, TcpReassembler

IN_FLIGHT = 4  # span batches the stream worker may be behind (bounds what waits for it)
POLL = 0.05  # seconds between two looks at whether the stream worker is still alive
STOP_TIMEOUT = 5.0

MIN_REFERENCED = 256  # smaller payloads travel with their segment (a read costs more)
_PAYLOAD = Segment._fields.index("payload")


def by_reference(seg: Segment, buf: bytes, start: int, end: int, base: int) -> tuple:
    """A span worker's segment for the stream side (its first `STREAM_FIELDS` fields): its
    payload, when it is large, as a reference to where it lies in the frame `buf[start:end]`
    (`base`: the file offset of `buf`). A payload not found there as it is (never for the
    decapsulator's slices) travels whole."""
    payload = seg.payload
    size = len(payload)
    if size < MIN_REFERENCED:
        return tuple(seg[:STREAM_FIELDS])
    at = end - size if buf.endswith(payload, start, end) else buf.find(payload, start, end)
    if at < 0:
        return tuple(seg[:STREAM_FIELDS])
    return (*seg[:_PAYLOAD], (base + at, size), *seg[_PAYLOAD + 1 : STREAM_FIELDS])


def reads_streams(module: ProtocolModule) -> bool:
    """Whether the module reads its TCP connections through a stream decoder."""
    return type(module).stream_decoder is not ProtocolModule.stream_decoder


class StreamSide:
    """The stream decoders of a scan's modules (None for the others), fed in capture order."""

    def __init__(self, modules: list[ProtocolModule], budget: StreamBudget) -> None:
        self.budget = budget
        self.decoders = [
            _decoder(module, budget) if reads_streams(module) else None for module in modules
        ]
        readers = [(m, d) for m, d in zip(modules, self.decoders, strict=True) if d is not None]
        self.interest = TcpInterest([module for module, _ in readers])
        self._reassembler = TcpReassembler(budget=budget)
        self._router = StreamRouter(readers, self._reassembler)
        self._next_kept = next_kept_over(self._reassembler.connections, self._reassembler.drops)
        self.active = bool(readers)
        self.payloads: LayoutFile | None = None  # where referenced payloads are read

    def feed(self, seg: Segment, frame: int, ts: float) -> None:
        self._router.feed(seg, frame, ts)

    def feed_packed(self, packed: bytes) -> None:
        """A span's segments (`streampack`); one of a released connection is skipped (as
        `feed` would drop it) without being made, and its payload, when referenced, is never
        read."""
        addresses, records, odd = opened(packed)
        feed, next_kept = self._router.feed, self._next_kept
        pos = next_kept(records, addresses, odd, 0)
        while pos < len(records):
            (frame, ts, fields), pos = record_at(records, addresses, odd, pos)
            payload = fields[_PAYLOAD]
            if payload.__class__ is tuple:
                fields = (*fields[:_PAYLOAD], self._read(payload), *fields[_PAYLOAD + 1 :])
            feed(Segment(*fields), frame, ts)
            pos = next_kept(records, addresses, odd, pos)

    def _read(self, reference: tuple[int, int]) -> bytes:
        if self.payloads is None:
            raise McpcapError("a stream segment's payload lies in a capture file not given")
        return self.payloads.read(*reference)

    def close(self) -> None:
        if self.payloads is not None:
            self.payloads.close()

    def flush(self) -> list[Any]:
        """Each decoder's partial (None for a module without a decoder, or with nothing new)."""
        return [decoder.flush() if decoder is not None else None for decoder in self.decoders]

    def finish(self, frame: int, ts: float) -> list[Any]:
        """The end of the capture: held bytes delivered, every connection closed, flushed."""
        self._router.flush(frame, ts)
        for decoder in self.decoders:
            if decoder is not None:
                decoder.close()
        return self.flush()


def _decoder(module: ProtocolModule, budget: StreamBudget) -> Any:
    """A module's stream decoder; one that holds stream bytes itself (`share_budget`) gets the
    budget its chunks' reassembler counts against."""
    decoder = module.stream_decoder()
    share = getattr(decoder, "share_budget", None)
    if share is not None:
        share(budget)
    return decoder


class StreamWorker:
    """A parallel scan's stream side, in a process of its own."""

    def __init__(
        self, context: Any, names: list[str], max_stream_bytes: int, layout: PcapLayout
    ) -> None:
        self._inbox = context.Queue()
        self._outbox = context.Queue()
        self._process = context.Process(
            target=_serve,
            args=(self._inbox, self._outbox, names, max_stream_bytes, layout),
            name="mcpcap-streams",
            daemon=True,
        )
        self._process.start()
        self._waiting = 0
        self._closed = False

    def send(self, packed: bytes) -> Iterator[list[Any]]:
        """Hand on one span's packed segments (`streampack`); yields the partials of spans now
        done (all of them, in order, and waits for the oldest while `IN_FLIGHT` spans are
        outstanding)."""
        self._inbox.put(packed)
        self._waiting += 1
        while self._waiting:
            result = self._take(block=self._waiting > IN_FLIGHT)
            if result is None:
                return
            yield marshal.loads(result)

    def finish(self, frame: int, ts: float) -> tuple[list[list[Any]], int]:
        """Every span's partials still due, then the end of the capture's; and the number of
        streams its budget cut."""
        self._inbox.put((frame, ts))
        partials = []
        while self._waiting:
            partials.append(marshal.loads(self._take(block=True)))
        last, cut = marshal.loads(self._take(block=True, last=True))
        partials.append(last)
        self.close()
        return partials, cut

    def close(self) -> None:
        """Stop the process (at once when it still has work: a cancelled or failed scan)."""
        if self._closed:
            return
        self._closed = True
        if self._process.is_alive():
            self._inbox.put(None)
            self._process.join(STOP_TIMEOUT)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(STOP_TIMEOUT)
        for box in (self._inbox, self._outbox):
            box.cancel_join_thread()  # what it still holds is of no use to anyone
            box.close()

    def _take(self, block: bool, last: bool = False) -> bytes | None:
        while True:
            try:
                result = self._outbox.get(timeout=POLL) if block else self._outbox.get_nowait()
            except queue.Empty:
                if not self._process.is_alive():
                    raise McpcapError(
                        "the stream worker of the scan stopped unexpectedly (killed, or out of "
                        "memory); the analysis did not finish"
                    ) from None
                if not block:
                    return None
                continue
            if isinstance(result, McpcapError):
                raise result
            if not last:
                self._waiting -= 1
            return result


def _serve(
    inbox: Any, outbox: Any, names: list[str], max_stream_bytes: int, layout: PcapLayout
) -> None:
    """The stream worker: span batches in, partials out, until the end of the capture."""
    from mcpcap.core.modules.registry import load_modules
    from mcpcap.core.parallel import init_worker

    init_worker()
    try:
        side = StreamSide(load_modules(names), StreamBudget(max_stream_bytes))
        side.payloads = LayoutFile(layout)
        while True:
            message = inbox.get()
            if message is None:
                return
            if isinstance(message, bytes):
                side.feed_packed(message)
                outbox.put(marshal.dumps(side.flush()))
                continue
            frame, ts = message
            outbox.put(marshal.dumps((side.finish(frame, ts), side.budget.cut)))
            with contextlib.suppress(Exception):
                inbox.get(timeout=STOP_TIMEOUT)  # the None that closes: nothing else comes
            return
    except McpcapError as error:  # the capture changed meanwhile: the scan says so
        outbox.put(error)
