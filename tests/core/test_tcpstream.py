"""TcpReassembler: order, duplicates, overlaps, holes, wrap-around, endings and bounds."""

from __future__ import annotations

import random

import pytest

from mcpcap.core.decap import Decapsulator, Segment
from mcpcap.core.reader import CaptureReader
from mcpcap.core.tcpstream import StreamBudget, StreamChunk, TcpReassembler, seq_diff
from tests.corpus import CORPUS

SYN, FIN, RST, PSH_ACK, ACK = 0x02, 0x01, 0x04, 0x18, 0x10


def seg(seq: int, payload: bytes = b"", flags: int = PSH_ACK, *, reply: bool = False) -> Segment:
    if reply:
        return Segment("tcp", "10.0.0.2", 53, "10.0.0.1", 40000, payload, seq % 2**32, flags)
    return Segment("tcp", "10.0.0.1", 40000, "10.0.0.2", 53, payload, seq % 2**32, flags)


def feed_all(reassembler: TcpReassembler, segments: list[Segment]) -> list[StreamChunk]:
    return [chunk for s in segments for chunk in reassembler.feed(s)]


def stream(chunks: list[StreamChunk], src: str = "10.0.0.1") -> bytes:
    return b"".join(c.data for c in chunks if c.src == src)


def test_in_order_with_handshake() -> None:
    r = TcpReassembler()
    chunks = feed_all(r, [seg(1000, flags=SYN), seg(1001, b"hello "), seg(1007, b"world")])
    assert [c.data for c in chunks] == [b"hello ", b"world"]
    assert all(c.syn_seen and not c.gap for c in chunks)
    assert chunks[0][:4] == ("10.0.0.1", 40000, "10.0.0.2", 53)


def test_syn_consumes_one_sequence_number_and_carries_data() -> None:
    r = TcpReassembler()
    chunks = feed_all(r, [seg(5, b"fast-open", flags=SYN), seg(15, b"!")])
    assert stream(chunks) == b"fast-open!"


def test_retransmission_dropped() -> None:
    r = TcpReassembler()
    chunks = feed_all(r, [seg(0, flags=SYN), seg(1, b"abc"), seg(1, b"abc"), seg(4, b"def")])
    assert stream(chunks) == b"abcdef"


def test_overlap_trims_delivered_bytes() -> None:
    r = TcpReassembler()
    chunks = feed_all(r, [seg(0, flags=SYN), seg(1, b"abcd"), seg(3, b"cdefg")])
    assert [c.data for c in chunks] == [b"abcd", b"efg"]


def test_out_of_order_waits_for_the_hole() -> None:
    r = TcpReassembler()
    first = feed_all(r, [seg(0, flags=SYN), seg(4, b"def"), seg(7, b"ghi")])
    assert first == []
    assert r.buffered_bytes == 6
    later = r.feed(seg(1, b"abc"))
    assert [c.data for c in later] == [b"abc", b"def", b"ghi"]
    assert not any(c.gap for c in later)
    assert r.buffered_bytes == 0


def test_out_of_order_overlapping_pieces() -> None:
    r = TcpReassembler()
    chunks = feed_all(
        r, [seg(0, flags=SYN), seg(5, b"efgh"), seg(3, b"cdef"), seg(5, b"ef"), seg(1, b"ab")]
    )
    assert stream(chunks) == b"abcdefgh"


def test_mid_stream_start() -> None:
    r = TcpReassembler()
    chunks = feed_all(r, [seg(777, b"\x00\x03abc"), seg(782, b"next")])
    assert stream(chunks) == b"\x00\x03abcnext"
    assert not chunks[0].syn_seen


def test_both_directions_are_separate_streams() -> None:
    r = TcpReassembler()
    chunks = feed_all(
        r,
        [
            seg(100, flags=SYN),
            seg(900, flags=SYN | ACK, reply=True),
            seg(101, b"query"),
            seg(901, b"answer", reply=True),
        ],
    )
    assert stream(chunks, "10.0.0.1") == b"query"
    assert stream(chunks, "10.0.0.2") == b"answer"
    assert len(r) == 1


def test_sequence_wrap_around() -> None:
    r = TcpReassembler()
    isn = 2**32 - 3
    chunks = feed_all(r, [seg(isn, flags=SYN), seg(isn + 1, b"ab"), seg(isn + 3, b"cdef")])
    assert stream(chunks) == b"abcdef"
    out_of_order = TcpReassembler()
    chunks = feed_all(
        out_of_order, [seg(isn, flags=SYN), seg(isn + 5, b"ef"), seg(isn + 1, b"abcd")]
    )
    assert stream(chunks) == b"abcdef"


def test_seq_diff_is_signed_modulo() -> None:
    assert seq_diff(5, 2**32 - 5) == 10
    assert seq_diff(2**32 - 5, 5) == -10
    assert seq_diff(7, 7) == 0


def test_hole_never_filled_is_skipped_when_the_buffer_is_full() -> None:
    r = TcpReassembler(max_buffer_per_direction=100)
    feed_all(r, [seg(0, flags=SYN), seg(1, b"a")])
    chunks = feed_all(r, [seg(10 + 40 * i, b"x" * 40) for i in range(3)])
    assert [c.gap for c in chunks] == [True, False, False]
    assert b"".join(c.data for c in chunks) == b"x" * 120
    assert r.buffered_bytes == 0
    after = r.feed(seg(130, b"tail"))
    assert [(c.data, c.gap) for c in after] == [(b"tail", False)]


def test_fin_flushes_past_the_hole_and_ends_the_direction() -> None:
    r = TcpReassembler()
    chunks = feed_all(r, [seg(0, flags=SYN), seg(1, b"ab"), seg(10, b"late"), seg(14, flags=FIN)])
    assert [(c.data, c.gap, c.end) for c in chunks] == [
        (b"ab", False, False),
        (b"late", True, False),
        (b"", False, True),  # the FIN: this direction ends
    ]
    assert r.buffered_bytes == 0
    assert r.feed(seg(3, b"cdefghi")) == []  # the direction is over


def test_fin_and_fin_closes_the_connection_and_frees_buffers() -> None:
    r = TcpReassembler()
    feed_all(
        r,
        [
            seg(0, flags=SYN),
            seg(50, flags=SYN | ACK, reply=True),
            seg(1, b"q"),
            seg(9, b"buffered"),
            seg(51, b"a", reply=True),
            seg(17, flags=FIN | ACK),
            seg(52, flags=FIN | ACK, reply=True),
        ],
    )
    assert r.active_connections == 0
    assert r.buffered_bytes == 0
    assert r.feed(seg(1, b"q")) == []  # late retransmission after the end


def test_rst_ends_both_directions() -> None:
    r = TcpReassembler()
    feed_all(r, [seg(0, flags=SYN), seg(50, flags=SYN | ACK, reply=True), seg(1, b"abc")])
    chunks = r.feed(seg(4, flags=RST))
    # no data waited: each direction that existed only hears that it ended
    assert sorted((c.src, c.data, c.end) for c in chunks) == [
        ("10.0.0.1", b"", True),
        ("10.0.0.2", b"", True),
    ]
    assert r.active_connections == 0
    assert r.feed(seg(51, b"x", reply=True)) == []


def test_rst_flushes_buffered_data_with_a_gap() -> None:
    r = TcpReassembler()
    feed_all(r, [seg(0, flags=SYN), seg(1, b"ab"), seg(20, b"zz")])
    chunks = r.feed(seg(51, flags=RST, reply=True))
    assert [(c.src, c.data, c.gap, c.end) for c in chunks] == [
        ("10.0.0.1", b"zz", True, False),
        ("10.0.0.1", b"", False, True),
    ]


def test_a_released_connection_is_dropped_until_a_new_syn() -> None:
    r = TcpReassembler()
    feed_all(r, [seg(0, flags=SYN), seg(1, b"ab"), seg(20, b"zz")])
    r.release(("10.0.0.1", 40000), ("10.0.0.2", 53))
    assert r.buffered_bytes == 0 and r.budget.used == 0
    assert r.feed(seg(3, b"cd")) == []  # nobody reads it any more
    assert r.feed(seg(900, flags=SYN)) == []  # the ports' next connection is read again
    assert [c.data for c in r.feed(seg(901, b"new"))] == [b"new"]


def test_new_syn_after_close_starts_a_new_connection() -> None:
    r = TcpReassembler()
    feed_all(r, [seg(0, flags=SYN), seg(1, b"one"), seg(4, flags=RST)])
    chunks = feed_all(r, [seg(5000, flags=SYN), seg(5001, b"two")])
    assert stream(chunks) == b"two"
    assert r.active_connections == 1


def test_retransmitted_syn_changes_nothing() -> None:
    r = TcpReassembler()
    chunks = feed_all(r, [seg(0, flags=SYN), seg(0, flags=SYN), seg(1, b"ab"), seg(0, flags=SYN)])
    chunks += r.feed(seg(1, b"abcd"))
    assert stream(chunks) == b"abcd"


def test_connections_are_lru_bounded() -> None:
    r = TcpReassembler(max_connections=10)
    for port in range(100):
        r.feed(Segment("tcp", "10.0.0.1", 1000 + port, "10.0.0.2", 53, b"x", 1, PSH_ACK))
    assert len(r) == 10
    assert r.evicted == 90
    # the most recent connection is still tracked: a retransmission is recognised
    assert r.feed(Segment("tcp", "10.0.0.1", 1099, "10.0.0.2", 53, b"x", 1, PSH_ACK)) == []


def test_per_direction_buffer_is_bounded_under_random_holes() -> None:
    rng = random.Random(9)
    r = TcpReassembler(max_buffer_per_direction=4096)
    r.feed(seg(0, flags=SYN))
    delivered = 0
    for _ in range(2000):
        chunks = r.feed(seg(1 + rng.randrange(200_000), b"y" * rng.randrange(1, 500)))
        delivered += sum(len(c.data) for c in chunks)
        assert r.buffered_bytes <= 4096
    assert delivered > 0


def test_random_order_delivers_the_exact_stream() -> None:
    rng = random.Random(4)
    data = bytes(rng.randrange(256) for _ in range(5000))
    pieces = []
    pos = 0
    while pos < len(data):
        size = rng.randrange(1, 300)
        pieces.append(seg(1 + pos, data[pos : pos + size]))
        pos += size
    shuffled = pieces[:]
    for i in range(0, len(shuffled) - 3, 3):  # local reordering, as on a real network
        window = shuffled[i : i + 3]
        rng.shuffle(window)
        shuffled[i : i + 3] = window
    duplicates = [rng.choice(pieces) for _ in range(20)]
    r = TcpReassembler()
    chunks = feed_all(r, [seg(0, flags=SYN), *shuffled, *duplicates])
    assert stream(chunks) == data
    assert not any(c.gap for c in chunks)


@pytest.mark.usefixtures("corpus")
def test_corpus_dns_over_tcp_streams() -> None:
    decap = Decapsulator(lambda s, d, p: False, frozenset({53}))
    r = TcpReassembler()
    chunks: list[StreamChunk] = []
    with CaptureReader(CORPUS / "zeek-dns-inverse-query.pcap") as reader:
        for ts, lt, data, _ in reader:
            for s in decap.decode(lt, data, ts):
                chunks += r.feed(s)
    client = stream(chunks, "212.180.42.100")
    server = stream(chunks, "131.243.64.3")
    assert len(client) == 29 and int.from_bytes(client[:2], "big") == 27
    assert len(server) == 44 and int.from_bytes(server[:2], "big") == 42
    assert r.active_connections == 0


def test_many_tiny_out_of_order_segments_stay_cheap() -> None:
    r = TcpReassembler()
    r.feed(seg(0, flags=SYN))
    data = bytes(range(256)) * 4
    for i in reversed(range(1, len(data))):
        assert r.feed(seg(1 + i, data[i : i + 1])) == []
    assert r.buffered_bytes == len(data) - 1
    chunks = r.feed(seg(1, data[:1]))
    assert b"".join(c.data for c in chunks) == data
    assert r.buffered_bytes == 0


def test_flush_at_end_of_capture_releases_what_waits_behind_holes() -> None:
    r = TcpReassembler()
    feed_all(
        r,
        [
            seg(0, flags=SYN),
            seg(1, b"ab"),
            seg(10, b"late"),
            seg(20, b"later"),
            seg(500, b"reply", reply=True),
        ],
    )
    chunks = r.flush()
    assert [(c.src, c.dst, c.data, c.gap) for c in chunks] == [
        ("10.0.0.1", "10.0.0.2", b"late", True),
        ("10.0.0.1", "10.0.0.2", b"later", True),
    ]
    assert r.buffered_bytes == 0
    assert r.flush() == []


@pytest.mark.usefixtures("corpus")
def test_corpus_segment_missed_by_the_capture() -> None:
    """dnscap's dnso1tcp-midmiss: each side misses a segment; tshark shows 6 DNS messages.

    Each hole is given up on where the other side acknowledges past it (tshark: "ACKed unseen
    segment" in frames 14 and 15), with its size (client Seq 78 -> 108, server 47 -> 192):
    nothing waits for the end of the capture."""
    decap = Decapsulator(lambda s, d, p: False, frozenset({53}))
    r = TcpReassembler()
    chunks: list[StreamChunk] = []
    frames: list[int] = []
    with CaptureReader(CORPUS / "dnscap-dnso1tcp-midmiss.pcap") as reader:
        for frame, (ts, lt, data, _) in enumerate(reader, 1):
            for s in decap.decode(lt, data, ts):
                fed = r.feed(s, frame, ts)
                chunks += fed
                frames += [frame] * len(fed)
    assert r.flush() == []
    gaps = [(c.src, c.lost, c.frame, at) for c, at in zip(chunks, frames, strict=True) if c.gap]
    assert gaps == [("172.17.0.8", 30, 14, 14), ("8.8.8.8", 145, 14, 15)]
    messages = 0
    for src in ("172.17.0.8", "8.8.8.8"):
        pieces = [c for c in chunks if c.src == src]
        resync = next(i for i, c in enumerate(pieces) if c.gap)
        for part in (pieces[:resync], pieces[resync:]):
            data = b"".join(c.data for c in part)
            pos = 0
            while pos + 2 <= len(data):
                pos += 2 + int.from_bytes(data[pos : pos + 2], "big")
                messages += 1
            assert pos == len(data)
    assert messages == 6


def test_out_of_order_bytes_of_all_connections_stay_within_the_budget() -> None:
    budget = StreamBudget(max_bytes=50_000)
    r = TcpReassembler(budget=budget)
    delivered = 0
    for port in range(1000, 1100):  # each connection: a hole, then 1000 bytes waiting behind it
        s = Segment("tcp", "10.0.0.1", port, "10.0.0.2", 53, b"", 0, SYN)
        r.feed(s)
        waiting = Segment("tcp", "10.0.0.1", port, "10.0.0.2", 53, bytes(1000), 101, PSH_ACK)
        chunks = r.feed(waiting)
        delivered += sum(len(c.data) for c in chunks)
        assert budget.used == r.buffered_bytes <= budget.max_bytes
        assert all(c.gap for c in chunks)
    assert budget.cut > 0
    assert delivered + budget.used == 100 * 1000  # cut streams deliver, past their hole
    r.flush()
    assert budget.used == r.buffered_bytes == 0
    assert str(budget.cut) in budget.warnings()[0]


def test_an_evicted_or_restarted_connection_gives_its_bytes_back_to_the_budget() -> None:
    budget = StreamBudget()
    r = TcpReassembler(max_connections=1, budget=budget)
    r.feed(seg(0, flags=SYN))
    r.feed(seg(10, b"waiting"))
    assert budget.used == 7
    r.feed(seg(500, flags=SYN))  # a new ISN on the same ports drops what waited
    assert budget.used == 0
    r.feed(seg(510, b"waiting"))
    r.feed(Segment("tcp", "10.0.0.9", 1, "10.0.0.2", 53, b"", 0, SYN))  # evicts the first
    assert budget.used == 0
    assert budget.warnings() == []
