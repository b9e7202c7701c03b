"""Chunks that carry the frame they were captured in: the router hands that frame on, and DNS over
TCP keeps (frame, index) unique however one frame's messages arrive."""

from __future__ import annotations

import struct

from mcpcap.core.decap import Segment
from mcpcap.core.streams import StreamRouter
from mcpcap.core.tcpstream import StreamChunk, TcpReassembler
from mcpcap.modules.dns.streams import DnsStreams
from tests.modules.dns.tcp_capture import CLIENT, SERVER, exchange

PSH_ACK, SYN = 0x18, 0x02


class _Ports:
    """A module reading TCP port 53, as the router sees one."""

    tcp_ports = frozenset({53})

    @staticmethod
    def claims_streams() -> bool:
        return False


class _Reader:
    def __init__(self) -> None:
        self.seen: list[tuple[int, float, bytes, bool]] = []

    def on_tcp(self, frame: int, ts: float, chunk: StreamChunk) -> None:
        self.seen.append((frame, ts, chunk.data, chunk.gap))


def _framed(message: bytes) -> bytes:
    return struct.pack("!H", len(message)) + message


def test_the_router_hands_on_the_frame_a_chunk_was_captured_in() -> None:
    reader = _Reader()
    router = StreamRouter([(_Ports(), reader)], TcpReassembler())

    def feed(seq: int, data: bytes, frame: int, flags: int = PSH_ACK) -> None:
        seg = Segment("tcp", SERVER, 53, CLIENT, 46000, data, seq, flags)
        router.feed(seg, frame, float(frame))

    def client(ack: int, frame: int) -> None:
        seg = Segment("tcp", CLIENT, 46000, SERVER, 53, b"q", 1, PSH_ACK, ack)
        router.feed(seg, frame, float(frame))

    feed(100, b"", 1, SYN)
    feed(101, b"ab", 2)
    feed(110, b"later", 3)  # 103..109 never captured
    client(115, 4)  # the client acknowledges past the hole
    assert reader.seen == [
        (2, 2.0, b"ab", False),
        (3, 3.0, b"later", True),  # delivered at frame 4, captured in frame 3
        (4, 4.0, b"q", False),
    ]


def test_dns_over_tcp_numbers_a_frames_messages_however_they_arrive() -> None:
    streams = DnsStreams()
    q1, r1 = exchange(1, "one.example")
    q2, _ = exchange(2, "two.example")
    q3, _ = exchange(3, "three.example")
    ends = (CLIENT, 46000, SERVER, 53)
    other = (CLIENT, 46001, SERVER, 53)
    streams.on_tcp(7, 1.0, StreamChunk(*ends, _framed(q1), False, True))
    streams.on_tcp(8, 1.1, StreamChunk(*other, _framed(q2), False, True))
    # a frame whose messages come in two deliveries (two segments of one tunnelled frame, one
    # of them delivered later past a hole): its second message is not numbered 0 again
    streams.on_tcp(7, 1.0, StreamChunk(*other, _framed(q3), True, True))
    streams.on_tcp(9, 1.2, StreamChunk(SERVER, 53, CLIENT, 46000, _framed(r1), False, True))
    _counts, messages, _bad, _transactions, _totals = streams.flush()
    assert [(m[0], m[1], m[10]) for m in messages] == [(7, 0, 1), (8, 0, 2), (7, 1, 3), (9, 0, 1)]
