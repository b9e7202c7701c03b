"""Two small modules that exercise the scan hooks: every packet, and streams claimed by bytes."""

from __future__ import annotations

import os
import signal
from typing import Any, ClassVar

from mcpcap.core.modules.contract import ModuleScan, ProtocolModule


class _Unused(ProtocolModule):
    def create_tables(self, db) -> None:
        pass

    def open_results(self, db, counts, capture, settings):  # pragma: no cover - never asked
        raise NotImplementedError

    def summary_model(self) -> type:  # pragma: no cover - never asked
        raise NotImplementedError


class PacketLog:
    """A packet decoder: notes what each packet looked like; hands it over at each flush."""

    def __init__(self) -> None:
        self.seen: list[tuple] = []

    def packet(self, frame: int, ts: float, seg) -> None:
        self.seen.append(
            (frame, seg.transport, seg.src, seg.sport, seg.dst, seg.dport, seg.ip_len,
             seg.data_len, seg.proto, seg.vlan, seg.outer, len(seg.payload), seg.ttl)
        )  # fmt: skip

    def flush(self) -> list[tuple] | None:
        seen, self.seen = self.seen, []
        return seen or None


class PacketScan(ModuleScan):
    def __init__(self) -> None:
        self.packets: list[tuple] = []
        self.flushes = 0

    def on_udp(self, frame, ts, seg) -> None:  # pragma: no cover - wants no datagrams
        raise AssertionError("a packet module that wants no UDP got a datagram")

    def on_tcp(self, frame, ts, chunk) -> None:  # pragma: no cover - reads no streams
        raise AssertionError("a packet module that reads no stream got a chunk")

    def on_worker_flush(self, partial: list) -> None:
        self.flushes += 1
        self.packets += [tuple(p) for p in partial]

    def finish(self, db) -> dict[str, Any]:
        return {"packets": self.packets, "flushes": self.flushes}


class PacketModule(_Unused):
    name: ClassVar[str] = "hook_packets"
    title: ClassVar[str] = "Packets"
    wants_packets: ClassVar[bool] = True

    def worker_decoder(self) -> PacketLog:
        return PacketLog()

    def start_scan(self, db, options) -> PacketScan:
        return PacketScan()


class StreamScan(ModuleScan):
    def __init__(self) -> None:
        self.chunks: list[tuple] = []

    def on_udp(self, frame, ts, seg) -> None:  # pragma: no cover - wants no datagrams
        raise AssertionError("got a datagram")

    def on_tcp(self, frame, ts, chunk) -> bool:
        self.chunks.append((frame, chunk.src, chunk.sport, chunk.data, chunk.gap, chunk.end))
        return b"BYE" not in chunk.data  # the greeting protocol ends with BYE

    def finish(self, db) -> dict[str, Any]:
        return {"chunks": self.chunks}


class StreamModule(_Unused):
    """Claims any connection whose first bytes (in either direction) say HELLO."""

    name: ClassVar[str] = "hook_streams"
    title: ClassVar[str] = "Streams"

    def claims_tcp(self, sport: int, dport: int, data: bytes) -> bool:
        return data.startswith(b"HELLO")

    def start_scan(self, db, options) -> StreamScan:
        return StreamScan()


class ChunkLog:
    """A stream decoder: notes each chunk of its connections (claimed at HELLO, released after
    BYE); `DIE` kills the process it runs in (to test a stream worker that dies)."""

    def __init__(self) -> None:
        self.chunks: list[tuple] = []

    def on_tcp(self, frame, ts, chunk) -> bool:
        if chunk.data == b"DIE" and os.getpid() != PARENT:
            os.kill(os.getpid(), signal.SIGKILL)
        self.chunks.append((frame, chunk.src, chunk.sport, chunk.data, chunk.gap, chunk.end))
        return b"BYE" not in chunk.data

    def flush(self) -> list[tuple] | None:
        chunks, self.chunks = self.chunks, []
        return chunks or None

    def close(self) -> None:
        self.chunks.append(("closed",))


class DecodedStreamScan(ModuleScan):
    def __init__(self) -> None:
        self.chunks: list[tuple] = []
        self.flushes = 0

    def on_udp(self, frame, ts, seg) -> None:  # pragma: no cover - wants no datagrams
        raise AssertionError("got a datagram")

    def on_tcp(self, frame, ts, chunk) -> None:  # pragma: no cover - its decoder reads them
        raise AssertionError("on_tcp called for a module with a stream decoder")

    def on_stream_flush(self, partial: list) -> None:
        self.flushes += 1
        self.chunks += [tuple(chunk) for chunk in partial]

    def finish(self, db) -> dict[str, Any]:
        return {"chunks": self.chunks, "flushes": self.flushes}


class StreamDecoderModule(StreamModule):
    """`StreamModule`'s claims, read by a stream decoder."""

    name: ClassVar[str] = "hook_decoded"
    title: ClassVar[str] = "Decoded streams"

    def stream_decoder(self) -> ChunkLog:
        return ChunkLog()

    def start_scan(self, db, options) -> DecodedStreamScan:
        return DecodedStreamScan()


PARENT = os.getpid()
MODULES = {
    "hook_packets": f"{__name__}:PacketModule",
    "hook_streams": f"{__name__}:StreamModule",
    "hook_decoded": f"{__name__}:StreamDecoderModule",
}
