"""TcpReassembler and holes: given up on when the peer acknowledges past them or a bound is
reached, with the lost size; bytes past a hole keep their own frame; an end names FIN or RST."""

from __future__ import annotations

from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether

from mcpcap.core.decap import Decapsulator, Segment
from mcpcap.core.tcpstream import MAX_HELD_BYTES, StreamChunk, TcpReassembler

SYN, FIN, RST, ACK, PSH_ACK = 0x02, 0x01, 0x04, 0x10, 0x18
CLIENT, SERVER = ("10.0.0.1", 40000), ("10.0.0.2", 80)


def client(seq: int, data: bytes = b"", flags: int = PSH_ACK, ack: int = 0) -> Segment:
    return Segment("tcp", *CLIENT, *SERVER, data, seq % 2**32, flags, ack % 2**32)


def server(seq: int, data: bytes = b"", flags: int = PSH_ACK, ack: int = 0) -> Segment:
    return Segment("tcp", *SERVER, *CLIENT, data, seq % 2**32, flags, ack % 2**32)


def opened(client_isn: int = 0, server_isn: int = 1000) -> TcpReassembler:
    r = TcpReassembler()
    r.feed(client(client_isn, flags=SYN), 1, 1.0)
    r.feed(server(server_isn, flags=SYN | ACK, ack=client_isn + 1), 2, 2.0)
    return r


def view(chunks: list[StreamChunk]) -> list[tuple]:
    return [(c.src, c.data, c.gap, c.lost, c.frame, c.ts, c.end, c.reset) for c in chunks]


def test_the_peer_acknowledging_past_a_hole_releases_what_waits_with_its_own_frames() -> None:
    r = opened()
    assert r.feed(server(1001, b"HTTP"), 3, 3.0)[0].frame == 0  # in order: the delivering frame
    # 1005..1015 is lost; two segments wait beyond it
    assert r.feed(server(1015, b"second"), 4, 4.0) == []
    assert r.feed(server(1021, b"third"), 5, 5.0) == []
    got = r.feed(client(1, b"GET /next", ack=1026), 6, 6.0)
    assert view(got) == [
        ("10.0.0.2", b"second", True, 10, 4, 4.0, False, False),
        ("10.0.0.2", b"third", False, 0, 5, 5.0, False, False),
        ("10.0.0.1", b"GET /next", False, 0, 0, 0.0, False, False),  # after: captured later
    ]
    assert r.buffered_bytes == 0


def test_an_acknowledgement_not_past_the_stream_changes_nothing() -> None:
    r = opened()
    r.feed(server(1001, b"abc"), 3, 3.0)
    assert r.feed(server(1010, b"later"), 4, 4.0) == []
    assert r.feed(client(1, b"x", ack=1004), 5, 5.0)[0].data == b"x"  # acks what was seen
    assert r.buffered_bytes == 5
    filled = r.feed(server(1004, b"defghi"), 6, 6.0)  # the hole fills: nothing was lost
    assert view(filled) == [
        ("10.0.0.2", b"defghi", False, 0, 0, 0.0, False, False),
        ("10.0.0.2", b"later", False, 0, 0, 0.0, False, False),  # complete only now
    ]


def test_a_hole_acknowledged_before_anything_beyond_it_comes_as_a_gap_at_once() -> None:
    """The auditor's lost request: the response acknowledges it before the next request."""
    r = opened()
    got = r.feed(server(1001, b"HTTP/1.1 200", ack=1 + 30), 3, 3.0)
    assert view(got) == [
        ("10.0.0.1", b"", True, 30, 3, 3.0, False, False),
        ("10.0.0.2", b"HTTP/1.1 200", False, 0, 0, 0.0, False, False),
    ]
    after = r.feed(client(31, b"GET /two"), 4, 4.0)  # in order now: no gap, no wait
    assert view(after) == [("10.0.0.1", b"GET /two", False, 0, 0, 0.0, False, False)]


def test_bytes_a_capture_shows_after_their_acknowledgement_come_too_late() -> None:
    r = opened()
    first = r.feed(server(1001, b"ok", ack=1 + 10), 3, 3.0)
    assert view(first)[0] == ("10.0.0.1", b"", True, 10, 3, 3.0, False, False)
    second = r.feed(server(1003, b"ok", ack=1 + 50), 4, 4.0)
    assert view(second)[0] == ("10.0.0.1", b"", True, 40, 4, 4.0, False, False)
    assert r.feed(client(31, b"late"), 5, 5.0) == []  # already given up on: as a retransmission
    got = r.feed(client(51, b"on"), 6, 6.0)
    assert view(got) == [("10.0.0.1", b"on", False, 0, 0, 0.0, False, False)]


def test_acknowledgements_across_the_sequence_wrap() -> None:
    r = opened(server_isn=2**32 - 3)
    r.feed(server(2**32 - 2, b"ab"), 3, 3.0)
    assert r.feed(server(4, b"late"), 4, 4.0) == []  # 0..3 lost, across the wrap
    got = r.feed(client(1, b"q", ack=8), 5, 5.0)
    assert view(got)[0] == ("10.0.0.2", b"late", True, 4, 4, 4.0, False, False)


def test_without_acknowledgements_a_small_bound_gives_up_on_the_hole() -> None:
    r = opened()
    piece = b"x" * 1000
    seq, frame = 1101, 3  # 1001..1100 lost
    while r.buffered_bytes + len(piece) <= MAX_HELD_BYTES:
        assert r.feed(server(seq, piece), frame, float(frame)) == []
        seq, frame = seq + len(piece), frame + 1
    got = r.feed(server(seq, piece), frame, float(frame))
    assert [(c.frame, c.gap, c.lost) for c in got[:2]] == [(3, True, 100), (4, False, 0)]
    assert [c.frame for c in got] == list(range(3, frame + 1))  # each its own frame
    assert r.buffered_bytes == 0


def test_an_end_says_whether_it_was_a_fin_or_an_rst() -> None:
    r = opened()
    fin = r.feed(server(1001, flags=FIN | ACK, ack=1), 3, 3.0)
    assert view(fin) == [("10.0.0.2", b"", False, 0, 0, 0.0, True, False)]
    reset = r.feed(client(1, flags=RST | ACK, ack=1002), 4, 4.0)
    assert view(reset) == [("10.0.0.1", b"", False, 0, 0, 0.0, True, True)]
    r = opened()
    both = r.feed(server(1001, flags=RST), 3, 3.0)  # an RST ends both directions
    assert sorted((c.src, c.end, c.reset) for c in both) == [
        ("10.0.0.1", True, True),
        ("10.0.0.2", True, True),
    ]


def test_an_rst_does_not_count_as_an_acknowledgement() -> None:
    r = opened()
    r.feed(server(1001, b"abc"), 3, 3.0)
    assert r.feed(server(1010, b"later"), 4, 4.0) == []
    got = r.feed(client(1, flags=RST | ACK, ack=1015), 5, 5.0)
    data = [(c.data, c.lost, c.frame) for c in got if c.src == "10.0.0.2"]
    assert data == [(b"later", 6, 4), (b"", 0, 0)]  # given up on by the RST itself


def test_bytes_delivered_past_a_hole_at_a_fin_carry_the_frame_they_were_captured_in() -> None:
    r = opened()
    r.feed(client(1, b"abc"), 3, 3.0)
    assert r.feed(client(7, b"ghi"), 4, 4.0) == []  # "d" never comes
    assert r.feed(client(5, b"ef"), 5, 5.0) == []
    late = r.feed(client(10, flags=FIN), 6, 6.0)
    assert [(c.data, c.gap, c.lost, c.frame, c.ts) for c in late] == [
        (b"ef", True, 1, 5, 5.0),
        (b"ghi", False, 0, 4, 4.0),
        (b"", False, 0, 0, 0.0),
    ]


def test_the_decapsulated_segment_carries_the_acknowledgement_the_reassembler_reads() -> None:
    decap = Decapsulator(lambda sport, dport, payload: False, frozenset({80}))
    packet = (
        Ether()
        / IP(src="10.0.0.1", dst="10.0.0.2")
        / TCP(sport=40000, dport=80, seq=7, ack=123_456, flags="PA")
    )
    (seg,) = decap.decode(1, bytes(packet / b"GET"), 1.0)
    assert (seg.seq, seg.ack, seg.tcp_flags, seg.payload) == (7, 123_456, PSH_ACK, b"GET")
