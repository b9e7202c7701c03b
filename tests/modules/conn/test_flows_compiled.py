"""`FlowDecoder.packet`'s C twin (`_flows.c`) against `python_packet`, its reference.

Both decoders get the same packets and flush at the same frames; what they flush must be equal.
The C side counts only the packets that change nothing but counts (and UDP flows whole) and
hands the rest to the Python: the tests also check that it took a fair share, so the
comparison is not all fallback.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpcap.core.decap import Segment
from mcpcap.modules.conn import flows
from mcpcap.modules.conn.flows import FlowDecoder
from tests.modules.conn.flowkit import ACK, FIN, PSH, RST, SYN, icmp, tcp, udp
from tests.twins import captures, segments

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
pytestmark = pytest.mark.skipif(
    flows._COMPILED_PACKET is None, reason="the compiled code is turned off (MCPCAP_PURE_PYTHON)"
)

Packet = tuple[int, float, Segment]


class _Twins:
    """A Python decoder and a compiled one, fed alike; `handed` counts the compiled one's
    fallbacks to Python."""

    def __init__(self) -> None:
        self.python = FlowDecoder()
        self.python.packet = self.python.python_packet
        self.compiled = FlowDecoder()
        self.handed = 0

        def fallback(frame: int, ts: float, seg: Segment) -> None:
            self.handed += 1
            self.compiled.python_packet(frame, ts, seg)

        self.compiled.packet = flows._COMPILED_PACKET(
            self.compiled,
            fallback,
            flows.udp_service,
            flows.DNS_PORTS,
            (flows.ICMP4_PAIRS, flows.ICMP6_PAIRS),
        )

    def feed(self, packets: list[Packet], flush_every: int = 0) -> None:
        for count, (frame, ts, seg) in enumerate(packets, start=1):
            self.python.packet(frame, ts, seg)
            self.compiled.packet(frame, ts, seg)
            if flush_every and count % flush_every == 0:
                assert self.compiled.flush() == self.python.flush()
        assert self.compiled.flush() == self.python.flush()


def _packets(paths: list[Path]) -> list[Packet]:
    """Every packet-mode segment of the captures, numbered and timed as a scan does."""
    return [packet for path in paths for packet in segments(path, packets=True)]


@pytest.fixture(scope="module")
def capture_packets(tmp_path_factory) -> list[list[Packet]]:
    """The fixture captures' packets, and a small benchmark capture's, capture by capture."""
    folder = tmp_path_factory.mktemp("generated")
    paths = captures(folder, ("captures", "conn", "tls", "http", "dhcp_icmp", "gaps"), seed=9,
                     packets=4000)  # fmt: skip
    return [found for found in (_packets([path]) for path in paths) if found]


@pytest.mark.parametrize("flush_every", [0, 1, 7, 250])
def test_the_same_flushes_on_every_capture(capture_packets, flush_every):
    handed = total = 0
    for packets in capture_packets:
        twins = _Twins()
        twins.feed(packets, flush_every)
        handed += twins.handed
        total += len(packets)
    assert total > 5000
    if flush_every in (0, 250):  # (spans of a few packets: most start a piece or its head)
        assert handed < total * 0.6, (handed, total)  # the C side counted a fair share


def test_the_same_flushes_on_the_corpus(corpus):
    paths = sorted(path for path in corpus.rglob("*") if ".pcap" in path.name)
    assert paths
    rng = random.Random(3)
    for path in paths:
        packets = _packets([path])
        if packets:
            _Twins().feed(packets, rng.choice((0, 64, 4096)))


def test_edges_of_the_counted_cases():
    """Sequence wrap-around, a pure ACK above the highest sequence, zero windows, the timeout
    and the second's boundaries exactly, timestamps that are ints, tunnelled packets."""
    c, s = ("10.0.0.1", 40000), ("10.0.0.2", 443)
    top = 0xFFFFFFFF - 20
    packets: list[tuple[float, Segment]] = [
        (1.0, tcp(c, s, SYN, top)),
        (1.1, tcp(s, c, SYN | ACK, 77, top + 1)),
        (1.2, tcp(c, s, ACK, top + 1, 78)),
    ]
    seq = top + 1
    for i in range(40):  # through the wrap
        packets.append((1.3 + i / 100, tcp(c, s, ACK | PSH, seq, 78, b"x" * 9)))
        seq = (seq + 9) & 0xFFFFFFFF
        packets.append((1.3 + i / 100, tcp(s, c, ACK, 78, seq, window=0 if i % 5 == 0 else 9)))
    packets += [
        (2.0, tcp(s, c, ACK, 5000, seq)),  # a pure ACK far above: the highest sequence moves
        (2.0, tcp(c, s, ACK, seq, 78)),
        (302.0, tcp(c, s, ACK, seq, 78)),  # exactly the timeout after: the same piece
        (602.0000001, tcp(c, s, ACK, seq, 78)),  # just past it: a new piece
        (603, tcp(c, s, ACK, seq, 78)),  # an int timestamp
        (604.0, udp(("10.0.0.9", 5353), ("224.0.0.251", 5353), b"")),
        (604.5, udp(("10.0.0.9", 5353), ("224.0.0.251", 5353), b"q")),
        (605.0, udp(("10.0.0.9", 5353), ("224.0.0.251", 5353), b"q")),
        (605.0, udp(("10.0.0.9", 5353), ("224.0.0.251", 5353), b"q", outer=TUNNEL)),
        (605.5, tcp(c, s, ACK | FIN, seq, 78)),
        (605.6, tcp(s, c, RST, 78)),
    ]
    twins = _Twins()
    twins.feed([(frame, ts, seg) for frame, (ts, seg) in enumerate(packets, start=1)])
    assert twins.handed < len(packets)


TUNNEL = (17, "192.0.2.1", 4789, "192.0.2.2", 4789)
_FLAGS = st.sampled_from([ACK, ACK | PSH, ACK, SYN, SYN | ACK, FIN | ACK, RST, 0, ACK | RST])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 2),  # which flow
            st.booleans(),  # direction
            _FLAGS,
            st.integers(-3000, 3000),  # sequence step from the direction's last
            st.sampled_from([0, 0, 1, 100, 1460]),  # payload length
            st.sampled_from([0, 65535]),  # window
            st.floats(0, 400),  # gap in seconds
        ),
        max_size=60,
    ),
    st.sampled_from([0, 5, 13]),
)
def test_random_tcp_conversations(steps, flush_every):
    ends = [(("10.0.0.1", 40000 + i), ("10.0.0.2", 443)) for i in range(3)]
    seqs = [[1000, 9000] for _ in ends]
    ts = 1.0
    packets = []
    for frame, (flow, back, flags, step, size, window, gap) in enumerate(steps, start=1):
        ts += gap
        src, dst = ends[flow][::-1] if back else ends[flow]
        seq = seqs[flow][back] = (seqs[flow][back] + step) & 0xFFFFFFFF
        ack = seqs[flow][not back]
        packets.append((frame, ts, tcp(src, dst, flags, seq, ack, b"d" * size, window)))
    _Twins().feed(packets, flush_every)


_PAYLOADS = st.sampled_from([
    b"", b"q", b"\x12\x34" + bytes(10),  # empty, short, a bare DNS header
    bytes.fromhex("12340100000100000000000003777777076578616d706c6503636f6d0000010001"),
    bytes([0xC3]) + b"\x00\x00\x00\x01" + bytes(20),  # a QUIC v1 long header
    bytes(236) + b"\x63\x82\x53\x63" + bytes(8),  # DHCP's magic cookie
])  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3),  # which flow
            st.booleans(),  # direction
            _PAYLOADS,
            st.sampled_from([0.0, 0.3, 1.0, 59.9, 60.0, 60.5, 200.0]),  # gap in seconds
            st.sampled_from([None, 7]),  # VLAN
        ),
        max_size=60,
    ),
    st.sampled_from([0, 3, 11]),
)
def test_random_udp_flows(steps, flush_every):
    """New flows and their timeouts, each direction's service from its first payload, on DNS,
    DHCP, QUIC and other ports; the C takes nearly all of them."""
    dns, dhcp = (("10.0.0.1", 40000), ("10.0.0.2", 53)), (("10.0.0.1", 68), ("10.0.0.9", 67))
    quic, same = (("10.0.0.3", 50000), ("10.0.0.4", 443)), (("10.0.0.5", 9), ("10.0.0.5", 9))
    ends = [dns, dhcp, quic, same]
    ts = 1.0
    packets = []
    for frame, (flow, back, payload, gap, vlan) in enumerate(steps, start=1):
        ts += gap
        src, dst = ends[flow][::-1] if back else ends[flow]
        packets.append((frame, ts, udp(src, dst, payload)._replace(vlan=vlan)))
    twins = _Twins()
    twins.feed(packets, flush_every)
    # only each span's first packet of a second (and of a stack of layers) went to the Python
    span = (lambda i: i // flush_every) if flush_every else (lambda i: 0)
    firsts = {(span(i), int(ts), seg.vlan) for i, (_, ts, seg) in enumerate(packets)}
    assert twins.handed <= len(firsts)


_ICMP = st.sampled_from([
    (False, 8, 0), (False, 0, 0), (False, 3, 3), (False, 11, 0), (False, 13, 0), (False, 5, 1),
    (True, 128, 0), (True, 129, 0), (True, 135, 0), (True, 136, 0), (True, 1, 4), (True, 3, 0),
])  # fmt: skip


def _l2(ethertype: int, layers: tuple) -> Segment:
    return Segment("l2", "", ethertype, "", 0, b"", 0, 0, layers=layers, frame_len=60)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 2),  # which pair of hosts (or a frame without IP for 2)
            st.booleans(),  # direction
            _ICMP,  # (IPv6, type, code)
            st.sampled_from([b"", b"\0" * 4, b"\0" * 8, b"\0" * 64]),  # the message from its type
            st.sampled_from([0.0, 0.2, 1.0, 60.0, 60.5]),  # gap in seconds
            st.sampled_from([0x0806, 0x88CC, 0]),  # a frame without IP's ethertype
        ),
        max_size=60,
    ),
    st.sampled_from([0, 4, 9]),
)
def test_random_icmp_flows_and_frames_without_ip(steps, flush_every):
    """ICMP flows keyed by Zeek's type pairs (a request and its reply are one flow, an error
    its own), their timeouts and payload bytes past the header; frames without IP counted by
    ethertype: the C takes all but each span's first packet of a second or a stack."""
    hosts = [("10.0.0.1", "10.0.0.2"), ("fe80::1", "fe80::2")]
    ts = 1.0
    packets = []
    for frame, (pair, back, (v6, kind, code), data, gap, ethertype) in enumerate(steps, 1):
        ts += gap
        if pair == 2:
            layers = ("eth", "arp") if ethertype == 0x0806 else ("eth", "other")
            packets.append((frame, ts, _l2(ethertype, layers)))
            continue
        src, dst = hosts[v6][::-1] if back else hosts[v6]
        packets.append((frame, ts, icmp(src, dst, kind, code, data, v6=v6)))
    twins = _Twins()
    twins.feed(packets, flush_every)
    span = (lambda i: i // flush_every) if flush_every else (lambda i: 0)
    firsts = {(span(i), int(ts), seg.layers) for i, (_, ts, seg) in enumerate(packets)}
    assert twins.handed <= len(firsts)
