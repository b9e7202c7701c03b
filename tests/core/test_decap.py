"""Decapsulator: link types, IPv4/IPv6, fragments, tunnels and the caller's filters."""

from __future__ import annotations

import ipaddress
import random
import socket
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.all import (
    GRE,
    IP,
    LLC,
    SNAP,
    TCP,
    UDP,
    CookedLinux,
    CookedLinuxV2,
    Dot1AD,
    Dot1Q,
    Dot11,
    Ether,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
    Loopback,
    RadioTap,
    fragment,
    fragment6,
    raw,
)
from scapy.layers.inet import ICMP, IPerror, UDPerror
from scapy.layers.ipsec import AH
from scapy.layers.ppp import HDLC, PPP

from mcpcap.core.decap import Decapsulator, FragmentTable, Segment, format_ipv6
from mcpcap.core.reader import CaptureReader
from tests.corpus import CORPUS

DNS_QUERY = bytes.fromhex("1234010000010000000000000776696b69706564696103636f6d0000010001")


def eth(**fields) -> Ether:
    """Ethernet with fixed addresses (scapy would otherwise try ARP to find them)."""
    return Ether(**{"dst": "02:00:00:00:00:02", "src": "02:00:00:00:00:01", **fields})


def dns_only(sport: int, dport: int, payload: bytes) -> bool:
    return sport == 53 or dport == 53


def make(tcp_ports: frozenset[int] = frozenset({53}), **kwargs) -> Decapsulator:
    return Decapsulator(dns_only, tcp_ports, **kwargs)


def udp4(src: str = "192.0.2.1", dst: str = "198.51.100.7", sport: int = 40000, dport: int = 53):
    return IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / DNS_QUERY


def udp6(src: str = "2001:db8::1", dst: str = "2001:db8::53", sport: int = 40000, dport: int = 53):
    return IPv6(src=src, dst=dst) / UDP(sport=sport, dport=dport) / DNS_QUERY


def only(segments: list[Segment]) -> Segment:
    assert len(segments) == 1, segments
    return segments[0]


# -- the plain paths ---------------------------------------------------------------------------


def test_ethernet_ipv4_udp() -> None:
    seg = only(make().decode(1, raw(eth() / udp4()), 1.0))
    assert seg == Segment("udp", "192.0.2.1", 40000, "198.51.100.7", 53, DNS_QUERY, 0, 0)


def test_unwanted_udp_is_dropped_before_formatting(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int, bytes]] = []

    def wanted(sport: int, dport: int, payload: bytes) -> bool:
        calls.append((sport, dport, payload))
        return False

    def explode(raw: bytes) -> str:
        raise AssertionError("formatted an address of an unwanted packet")

    monkeypatch.setattr("mcpcap.core.decap.format_address", explode)
    monkeypatch.setattr("mcpcap.core.decap._inet_ntoa", explode)
    decap = Decapsulator(wanted, frozenset())
    assert decap.decode(1, raw(eth() / udp4(dport=443)), 1.0) == []
    assert decap.decode(1, raw(eth() / udp6(dport=443)), 1.0) == []
    assert decap.decode(1, raw(eth() / IP() / TCP(dport=80) / b"x"), 1.0) == []
    assert calls == [(40000, 443, DNS_QUERY), (40000, 443, DNS_QUERY)]


def test_ethernet_padding_ignored_via_ip_total_length() -> None:
    frame = raw(eth() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=53, dport=9) / b"ab")
    seg = only(make().decode(1, frame + b"\x00" * 20, 1.0))
    assert seg.payload == b"ab"


def test_udp_length_shorter_than_ip_payload_bounds_payload() -> None:
    packet = IP(raw(udp4()))
    packet[UDP].len = 8 + 5
    frame = raw(eth() / IP(raw(packet)))
    assert only(make().decode(1, frame, 1.0)).payload == DNS_QUERY[:5]


def test_ipv4_total_length_beyond_capture_uses_captured_bytes() -> None:
    """As tshark does for tcpdump's ipv4_invalid_total_length.pcap: dissect what was captured."""
    frame = bytearray(raw(eth() / udp4()))
    struct.pack_into("!H", frame, 16, len(frame) - 14 + 1)
    assert only(make().decode(1, bytes(frame), 1.0)).payload == DNS_QUERY


def test_ipv4_with_options() -> None:
    packet = IP(src="10.1.1.1", dst="10.2.2.2", options=b"\x01\x01\x01\x00") / UDP(dport=53) / b"q"
    seg = only(make().decode(1, raw(eth() / packet), 1.0))
    assert (seg.src, seg.payload) == ("10.1.1.1", b"q")


@pytest.mark.parametrize(
    "frame",
    [
        b"",
        b"\x00" * 13,
        raw(eth() / udp4())[:30],
        raw(eth(type=0x0800)) + b"\x46" + b"\x00" * 19,  # IHL larger than the packet
        raw(eth(type=0x0800)) + b"\x65" + b"\x00" * 40,  # version 6 in an IPv4 ethertype
        raw(eth(type=0x0800)) + raw(udp4())[:21],
    ],
)
def test_malformed_frames_are_counted_not_raised(frame: bytes) -> None:
    decap = make()
    assert decap.decode(1, frame, 1.0) == []
    assert decap.malformed == 1


def test_udp_length_below_eight_is_malformed() -> None:
    frame = bytearray(raw(eth() / udp4()))
    struct.pack_into("!H", frame, 38, 4)
    decap = make()
    assert decap.decode(1, bytes(frame), 1.0) == []
    assert decap.malformed == 1


def test_ipv6_udp_and_rfc5952_addresses() -> None:
    packet = udp6(src="2001:0db8:0000:0000:0001:0000:0000:0001", dst="::ffff:192.0.2.1")
    seg = only(make().decode(1, raw(eth() / packet), 1.0))
    assert seg.src == "2001:db8::1:0:0:1"
    assert seg.dst == "::ffff:192.0.2.1"


def test_format_ipv6_agrees_with_ipaddress_except_mapped_form() -> None:
    rng = random.Random(5)
    for _ in range(5000):
        raw_address = bytes(rng.choice([0, 0, 0, 1, 0xFF, rng.randrange(256)]) for _ in range(16))
        text = format_ipv6(raw_address)
        assert ipaddress.IPv6Address(text).packed == raw_address
        if raw_address[:12] != b"\x00" * 10 + b"\xff\xff":
            assert text == ipaddress.IPv6Address(raw_address).compressed
    assert format_ipv6(socket.inet_pton(socket.AF_INET6, "::192.0.2.1")) == "::c000:201"


def test_ethernet_ipv6_padding_uses_payload_length() -> None:
    frame = raw(eth() / IPv6() / UDP(sport=53, dport=1000) / b"abc") + b"\x00" * 6
    assert only(make().decode(1, frame, 1.0)).payload == b"abc"


def test_ipv6_extension_headers() -> None:
    packet = (
        IPv6(src="2001:db8::1", dst="2001:db8::2")
        / IPv6ExtHdrHopByHop()
        / IPv6ExtHdrRouting()
        / IPv6ExtHdrDestOpt()
        / AH(nh=17, payloadlen=4, icv=b"\x00" * 12)
        / UDP(sport=5353, dport=53)
        / b"ext"
    )
    frame = bytearray(raw(eth() / packet))
    seg = only(make().decode(1, bytes(frame), 1.0))
    assert seg.payload == b"ext"


def test_ipv6_no_next_header_yields_nothing() -> None:
    frame = raw(eth() / IPv6(nh=59) / (b"\x00" * 8))
    decap = make()
    assert decap.decode(1, frame, 1.0) == []
    assert decap.malformed == 0


def test_tcp_segment_fields() -> None:
    packet = IP(src="10.0.0.1", dst="10.0.0.2") / TCP(
        sport=5000, dport=53, seq=4242, flags="PA", options=[("NOP", None), ("NOP", None)]
    )
    seg = only(make().decode(1, raw(eth() / packet / b"\x00\x05hello"), 1.0))
    assert seg == Segment("tcp", "10.0.0.1", 5000, "10.0.0.2", 53, b"\x00\x05hello", 4242, 0x18)


def test_tcp_pure_ack_dropped_but_syn_fin_rst_kept() -> None:
    decap = make()
    ack = IP() / TCP(sport=5000, dport=53, flags="A")
    assert decap.decode(228, raw(ack), 1.0) == []
    for flags in ("S", "F", "R", "SA"):
        packet = IP() / TCP(sport=5000, dport=53, flags=flags)
        assert only(decap.decode(228, raw(packet), 1.0)).tcp_flags & 0x07


def test_tcp_on_other_ports_is_ignored() -> None:
    frame = raw(eth() / IP() / TCP(sport=5000, dport=80) / b"GET /")
    assert make().decode(1, frame, 1.0) == []
    assert only(make(frozenset({80})).decode(1, frame, 1.0)).payload == b"GET /"


def test_icmp_quoted_dns_is_not_a_message() -> None:
    error = IP(dst="192.0.2.1") / ICMP(type=3, code=3) / IPerror() / UDPerror(dport=53) / DNS_QUERY
    six = raw(IPv6(nh=58) / (b"\x01\x04\x00\x00\x00\x00\x00\x00" + raw(udp6())))
    decap = make()
    assert decap.decode(1, raw(eth() / error), 1.0) == []
    assert decap.decode(229, raw(six), 1.0) == []
    assert decap.malformed == 0


# -- link types --------------------------------------------------------------------------------


def _vlan_frames() -> list[bytes]:
    inner = udp4()
    qinq = raw(eth(type=0x9100) / Dot1Q(vlan=7, type=0x8100) / Dot1Q(vlan=8) / inner)
    return [
        raw(eth() / Dot1Q(vlan=5) / inner),
        raw(eth() / Dot1AD(vlan=5) / Dot1Q(vlan=6) / inner),
        qinq,
    ]


@pytest.mark.parametrize("frame", _vlan_frames())
def test_vlan_tags(frame: bytes) -> None:
    assert only(make().decode(1, frame, 1.0)).payload == DNS_QUERY


def test_llc_snap_ethernet() -> None:
    frame = raw(eth(dst="ff:ff:ff:ff:ff:ff", type=60) / LLC() / SNAP(code=0x0800) / udp4())
    frame = frame[:12] + struct.pack("!H", len(frame) - 14) + frame[14:]
    assert only(make().decode(1, frame, 1.0)).payload == DNS_QUERY


def test_mpls_and_pppoe() -> None:
    mpls = b"\x00\x01\x01\x40" + raw(udp4())  # one label, bottom of stack
    frame = raw(eth(type=0x8847)) + mpls
    assert only(make().decode(1, frame, 1.0)).payload == DNS_QUERY
    pppoe = b"\x11\x00\x00\x01" + struct.pack("!H", 2 + len(raw(udp4()))) + b"\x00\x21"
    frame = raw(eth(type=0x8864)) + pppoe + raw(udp4())
    assert only(make().decode(1, frame, 1.0)).payload == DNS_QUERY


def test_an_ethernet_pseudowire_behind_its_control_word():
    """RFC 4448 over MPLS: the bottom label, a control word (first nibble 0, RFC 4385), then
    the customer's Ethernet frame."""
    pseudowire = b"\x00\x01\x01\x40" + b"\x00\x00\x00\x07" + raw(eth() / udp4())
    decoder = make(packets=True)
    segment = only(decoder.decode(1, raw(eth(type=0x8847)) + pseudowire, 1.0))
    assert segment.payload == DNS_QUERY
    assert segment.layers[:5] == ("eth", "mpls", "pwethcw", "eth", "ipv4")


@pytest.mark.parametrize(
    ("linktype", "frame"),
    [
        (113, raw(CookedLinux(proto=0x0800) / udp4())),
        (113, raw(CookedLinux(proto=0x86DD) / udp6())),
        (276, raw(CookedLinuxV2(proto=0x0800) / udp4())),
        (12, raw(udp4())),
        (14, raw(udp6())),
        (101, raw(udp6())),
        (228, raw(udp4())),
        (229, raw(udp6())),
        (0, struct.pack("<I", 2) + raw(udp4())),
        (0, struct.pack(">I", 2) + raw(udp4())),
        (0, struct.pack("<I", 24) + raw(udp6())),
        (0, struct.pack(">I", 28) + raw(udp6())),
        (0, struct.pack("<I", 30) + raw(udp6())),
        (0, raw(Loopback(type=2) / udp4())),
        (108, struct.pack(">I", 2) + raw(udp4())),
        (108, struct.pack(">I", 24) + raw(udp6())),
        (9, raw(PPP(proto=0x0021) / udp4())),
        (9, b"\xff\x03\x00\x57" + raw(udp6())),
        (9, b"\x21" + raw(udp4())),  # protocol field compressed
        (50, raw(HDLC() / PPP(proto=0x0021) / udp4())),
        (104, b"\x0f\x00\x08\x00" + raw(udp4())),
        (10, b"\x50" + b"\x01" * 12 + b"\xaa\xaa\x03\x00\x00\x00\x08\x00" + raw(udp4())),
        (258, struct.pack("<II", 108, 1) + b"\x00" * 100 + raw(eth() / udp4())),
        (192, struct.pack("<BBHI", 0, 0, 8, 1) + raw(eth() / udp4())),
    ],
)
def test_link_types(linktype: int, frame: bytes) -> None:
    decap = make()
    seg = only(decap.decode(linktype, frame, 1.0))
    assert seg.payload == DNS_QUERY
    assert seg.dport == 53
    assert decap.malformed == 0


def test_nflog_in_both_byte_orders() -> None:
    packet = raw(udp4())
    for endian in ("<", ">"):
        prefix_tlv = struct.pack(endian + "HH", 8, 10) + b"eth0"
        packet_tlv = struct.pack(endian + "HH", 4 + len(packet), 9) + packet
        frame = b"\x02\x00\x00\x00" + prefix_tlv + packet_tlv + b"\x00" * (-len(packet) % 4)
        assert only(make().decode(239, frame, 1.0)).payload == DNS_QUERY


def test_radiotap_80211_goes_through_scapy() -> None:
    frame = raw(
        RadioTap() / Dot11(type=2, subtype=0, FCfield=1) / LLC() / SNAP(code=0x0800) / udp4()
    )
    decap = make()
    assert only(decap.decode(127, frame, 1.0)).payload == DNS_QUERY
    assert only(decap.decode(105, frame[8:], 1.0)).payload == DNS_QUERY
    assert decap.decode(127, b"\x00\x00\x08\x00\x00\x00\x00\x00\xff", 1.0) == []


def test_unknown_link_type_warns_once() -> None:
    decap = make()
    assert decap.decode(65000, raw(udp4()), 1.0) == []
    assert decap.decode(65000, raw(udp4()), 2.0) == []
    assert decap.warnings == ["link type 65000 is not supported; its frames skipped"]


# -- fragments ---------------------------------------------------------------------------------


def _ipv4_fragments(size: int = 3000) -> list[bytes]:
    packet = IP(src="192.0.2.9", dst="192.0.2.10", id=777) / UDP(sport=53, dport=3333)
    return [raw(f) for f in fragment(packet / (b"F" * size), fragsize=1000)]


def _ipv6_fragments(size: int = 3000) -> list[bytes]:
    packet = IPv6(src="2001:db8::9", dst="2001:db8::10") / IPv6ExtHdrFragment(id=99)
    return [raw(f) for f in fragment6(packet / UDP(sport=53, dport=3333) / (b"G" * size), 1280)]


@pytest.mark.parametrize("order", ["in", "reversed", "shuffled"])
def test_ipv4_fragments_reassembled(order: str) -> None:
    pieces = _ipv4_fragments()
    if order == "reversed":
        pieces.reverse()
    elif order == "shuffled":
        random.Random(3).shuffle(pieces)
    decap = make()
    results = [decap.decode(228, piece, float(i)) for i, piece in enumerate(pieces)]
    assert all(r == [] for r in results[:-1])
    seg = only(results[-1])
    assert seg.payload == b"F" * 3000
    assert (seg.src, seg.sport) == ("192.0.2.9", 53)
    assert len(decap.fragments) == 0 and decap.fragments.buffered_bytes == 0


@pytest.mark.parametrize("order", ["in", "reversed"])
def test_ipv6_fragments_reassembled(order: str) -> None:
    pieces = _ipv6_fragments()
    assert len(pieces) >= 3
    if order == "reversed":
        pieces.reverse()
    decap = make()
    results = [decap.decode(229, piece, 1.0) for piece in pieces]
    assert only(results[-1]).payload == b"G" * 3000
    assert all(r == [] for r in results[:-1])


def test_duplicate_fragment_is_harmless() -> None:
    pieces = _ipv4_fragments()
    decap = make()
    sequence = [pieces[0], pieces[0], *pieces[1:]]
    results = [decap.decode(228, piece, 1.0) for piece in sequence]
    assert only(results[-1]).payload == b"F" * 3000


def test_overlapping_ipv4_fragment_first_data_wins() -> None:
    packet = IP(src="10.0.0.1", dst="10.0.0.2", id=5, proto=17)
    whole = raw(UDP(sport=53, dport=9) / (b"A" * 24))  # 32 bytes
    first = IP(raw(packet / whole[:16]))
    first.flags = "MF"
    overlap = IP(raw(packet / (b"Z" * 16)))
    overlap.frag, overlap.flags = 1, "MF"  # bytes 8..24: 8..16 were seen, 16..24 are new
    last = IP(raw(packet / whole[16:]))
    last.frag = 2
    decap = make()
    assert decap.decode(228, raw(first), 1.0) == []
    assert decap.decode(228, raw(overlap), 1.0) == []
    seg = only(decap.decode(228, raw(last), 1.0))
    assert seg.payload == b"A" * 8 + b"Z" * 8 + b"A" * 8
    assert len(decap.fragments) == 0


def test_overlapping_ipv6_fragments_discard_the_datagram() -> None:
    table = FragmentTable(1 << 20, 100, 30.0)
    assert table.add("k", 0, True, b"a" * 16, 1.0, next_header=17, discard_overlaps=True) is None
    assert table.add("k", 8, True, b"b" * 16, 1.0, discard_overlaps=True) is None
    assert len(table) == 0
    assert table.add("k", 16, False, b"c" * 8, 1.0, discard_overlaps=True) is None


def test_fragments_never_completed_are_bounded_by_bytes_and_count() -> None:
    decap = make(max_fragment_bytes=10_000, max_fragment_datagrams=5)
    for ident in range(50):
        first = IP(src="10.0.0.1", dst="10.0.0.2", id=ident, flags="MF") / (b"x" * 1000)
        assert decap.decode(228, raw(first), 1.0) == []
        assert decap.fragments.buffered_bytes <= 10_000
        assert len(decap.fragments) <= 5
    assert decap.fragments.dropped == 45


def test_fragment_bytes_bound() -> None:
    decap = make(max_fragment_bytes=2500)
    for ident in range(10):
        first = IP(src="10.0.0.1", dst="10.0.0.2", id=ident, flags="MF") / (b"x" * 1000)
        decap.decode(228, raw(first), 1.0)
    assert decap.fragments.buffered_bytes <= 2500
    assert len(decap.fragments) == 2


def test_fragments_expire_after_timeout() -> None:
    pieces = _ipv4_fragments()
    decap = make(fragment_timeout=30.0)
    decap.decode(228, pieces[0], 100.0)
    decap.decode(228, pieces[1], 101.0)
    assert decap.decode(228, pieces[2], 200.0) == []  # the first two are gone by now
    assert decap.fragments.expired == 1
    assert len(decap.fragments) == 1


def test_fragment_offset_beyond_64k_drops_the_datagram() -> None:
    table = FragmentTable(1 << 20, 100, 30.0)
    assert table.add("k", 65_000, False, b"x" * 1000, 1.0) is None
    assert len(table) == 0 and table.dropped == 1


# -- tunnels -----------------------------------------------------------------------------------


def _outer(inner: bytes, proto: int) -> bytes:
    return raw(eth() / IP(src="203.0.113.1", dst="203.0.113.2", proto=proto) / inner)


def test_ip_in_ip_and_6in4() -> None:
    decap = make()
    assert only(decap.decode(1, _outer(raw(udp4()), 4), 1.0)).payload == DNS_QUERY
    assert only(decap.decode(1, _outer(raw(udp6()), 41), 1.0)).src == "2001:db8::1"
    six_in_six = raw(eth() / IPv6(nh=4) / udp4())
    assert only(decap.decode(1, six_in_six, 1.0)).src == "192.0.2.1"


@pytest.mark.parametrize(
    "gre",
    [
        raw(GRE(proto=0x0800) / udp4()),
        raw(GRE(proto=0x86DD, chksum_present=1, key_present=1, seqnum_present=1) / udp6()),
        raw(GRE(proto=0x6558, key_present=1, key=9) / eth() / udp4()),
        raw(GRE(proto=0x88BE, seqnum_present=1))
        + b"\x10\x00\x00\x01\x00\x00\x00\x00"
        + raw(eth() / udp4()),
        raw(GRE(proto=0x22EB)) + b"\x20\x00\x00\x01" + b"\x00" * 8 + raw(eth() / udp4()),
        b"\x30\x81\x88\x0b" + b"\x00" * 12 + b"\xff\x03\x00\x21" + raw(udp4()),  # PPTP
    ],
)
def test_gre_variants(gre: bytes) -> None:
    assert only(make().decode(1, _outer(gre, 47), 1.0)).payload == DNS_QUERY


def test_vxlan_and_geneve_followed_regardless_of_filter() -> None:
    def nothing_wanted(sport: int, dport: int, payload: bytes) -> bool:
        return dport == 53

    vxlan = b"\x08\x00\x00\x00\x00\x00\x2a\x00" + raw(eth() / udp4())
    geneve_eth = b"\x00\x00\x65\x58\x00\x00\x01\x00" + raw(eth() / udp4())
    geneve_ip = b"\x01\x00\x08\x00\x00\x00\x01\x00" + b"\x00" * 4 + raw(udp4())
    decap = Decapsulator(nothing_wanted, frozenset())
    for dport, payload in ((4789, vxlan), (8472, vxlan), (6081, geneve_eth), (6081, geneve_ip)):
        frame = raw(eth() / IP() / UDP(sport=1234, dport=dport) / payload)
        assert only(decap.decode(1, frame, 1.0)).payload == DNS_QUERY


def test_dns_to_a_vxlan_port_is_still_dns() -> None:
    frame = raw(eth() / IP() / UDP(sport=53, dport=4789) / b"\x00\x00\x81\x80rest")
    assert only(make().decode(1, frame, 1.0)).payload == b"\x00\x00\x81\x80rest"


@pytest.mark.parametrize(
    "prefix",
    [
        b"",
        b"\x00\x00\x0d\x6c\xfc\x3d\x71\x48",  # origin indication
        b"\x00\x01\x00\x00" + b"\x00" * 9,  # authentication, no client id or value
        b"\x00\x01\x02\x01ab" + b"c" + b"\x00" * 9 + b"\x00\x00\x0d\x6c\xfc\x3d\x71\x48",
    ],
)
def test_teredo(prefix: bytes) -> None:
    frame = raw(eth() / IP() / UDP(sport=3544, dport=50000) / (prefix + raw(udp6())))
    assert only(make().decode(1, frame, 1.0)).src == "2001:db8::1"


def test_tunnel_depth_is_limited() -> None:
    packet = raw(udp4())
    for _ in range(10):
        packet = raw(IP(proto=4) / packet)
    assert make().decode(228, packet, 1.0) == []


# -- real captures -----------------------------------------------------------------------------


def _segments(name: str, tcp_ports: frozenset[int] = frozenset({53})) -> list[Segment]:
    decap = Decapsulator(dns_only, tcp_ports)
    with CaptureReader(CORPUS / name) as reader:
        return [seg for ts, lt, data, _ in reader for seg in decap.decode(lt, data, ts)]


@pytest.mark.usefixtures("corpus")
@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("tcpdump-nflog.pcap", 4),
        ("tcpdump-LINKTYPE_PKTAP.pcap", 1),
        ("zeek-radiotap.pcap", 2),  # the third is mDNS on 5353
        ("tcpdump-ipv4_invalid_total_length.pcap", 1),
        ("zeek-geneve-vxlan-dns-truncated.pcap", 2),
        ("zeek-dns-inverse-query.pcap", 7),  # FDDI; SYN, SYN-ACK, 3 with data, 2 FIN
        ("tcpdump-LINKTYPE_IPV4.pcap", 1),
        ("tcpdump-LINKTYPE_IPV6.pcap", 1),
        ("zeek-icmp-destunreach-udp.pcap", 0),
    ],
)
def test_corpus_segments(name: str, count: int) -> None:
    segments = _segments(name)
    assert len(segments) == count
    assert all(53 in (s.sport, s.dport) for s in segments)


@pytest.mark.usefixtures("corpus")
def test_corpus_fragmented_dns_is_reassembled() -> None:
    segments = _segments("ndpi-dns_fragmented.pcap")
    assert any(len(s.payload) > 1500 for s in segments)


def test_random_frames_never_raise() -> None:
    rng = random.Random(11)
    seeds = [raw(eth() / udp4()), raw(eth() / udp6()), _outer(raw(GRE() / udp4()), 47)]
    decap = make()
    for _ in range(3000):
        frame = bytearray(rng.choice(seeds))
        for _ in range(rng.randrange(1, 6)):
            frame[rng.randrange(len(frame))] = rng.randrange(256)
        frame = frame[: rng.randrange(len(frame) + 1)]
        linktype = rng.choice([0, 1, 9, 12, 101, 108, 113, 192, 239, 258, 276])
        result = decap.decode(linktype, bytes(frame), rng.random() * 100)
        assert isinstance(result, list)
    assert decap.malformed > 0
    assert decap.fragments.buffered_bytes <= 4 << 20


def test_scapy_is_imported_only_for_link_types_that_need_it(tmp_path: Path) -> None:
    script = f"""
import sys
from mcpcap.core.decap import Decapsulator
from mcpcap.core.reader import CaptureReader
decap = Decapsulator(lambda s, d, p: True, frozenset())
frame = bytes.fromhex({raw(eth() / udp4()).hex()!r})
assert decap.decode(1, frame, 0.0)
assert decap.decode(113, bytes(14) + b"\\x08\\x00" + frame[14:], 0.0)
assert not any(name.startswith("scapy") for name in sys.modules), "scapy imported too early"
decap.decode(127, bytes(8), 0.0)
assert "scapy" in sys.modules
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=Path.cwd(), check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


_FUZZ_SEEDS = [
    raw(eth() / udp4()),
    raw(eth() / udp6()),
    _outer(raw(GRE(proto=0x6558) / eth() / udp4()), 47),
    raw(eth() / IP() / UDP(sport=1, dport=4789) / (b"\x08" + b"\x00" * 7) / eth() / udp4()),
    raw(eth() / IP() / UDP(sport=3544, dport=9) / udp6()),
    *_ipv6_fragments(1500),
]


@settings(max_examples=400, deadline=1000)
@given(
    seed=st.sampled_from(_FUZZ_SEEDS),
    edits=st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), max_size=6),
    cut=st.integers(0, 2000),
    linktype=st.sampled_from([0, 1, 9, 10, 12, 50, 101, 104, 108, 113, 149, 192, 228, 229, 239]),
)
def test_decode_never_raises(seed: bytes, edits: list, cut: int, linktype: int) -> None:
    frame = bytearray(seed)
    for position, value in edits:
        if frame:
            frame[position % len(frame)] = value
    decap = make(frozenset({53, 80}))
    segments = decap.decode(linktype, bytes(frame[:cut]), 1.0)
    assert isinstance(segments, list)
    assert all(isinstance(s, Segment) for s in segments)


_HOT_PATH_SEEDS = [
    raw(eth() / udp4()),
    raw(eth() / udp6()),
    raw(eth() / udp6(sport=5353, dport=5353)),
    raw(eth() / udp6()) + bytes(12),  # Ethernet padding: the IPv6 payload length bounds it
    raw(eth() / IPv6() / UDP(dport=53, len=20) / DNS_QUERY),  # the UDP length bounds it
    raw(eth() / IPv6() / UDP(sport=443, dport=50000) / (b"q" * 40)),
    raw(eth() / IPv6() / TCP(sport=53, dport=40000, flags="PA") / (b"\x00\x1d" + DNS_QUERY)),
    raw(eth() / IPv6() / TCP(sport=443, dport=40000, flags="A") / (b"t" * 30)),
    raw(eth() / IPv6() / UDP(sport=1, dport=4789) / (b"\x08" + b"\x00" * 7) / eth() / udp4()),
    raw(eth() / IPv6(nh=0) / IPv6ExtHdrHopByHop() / UDP(dport=53) / DNS_QUERY),
]


@settings(max_examples=400, deadline=1000)
@given(
    seed=st.sampled_from(_HOT_PATH_SEEDS),
    edits=st.lists(st.tuples(st.integers(0, 120), st.integers(0, 255)), max_size=4),
    cut=st.integers(0, 200),
)
def test_hot_paths_give_what_the_long_way_gives(seed: bytes, edits: list, cut: int) -> None:
    """`decode` takes shortcuts for Ethernet + IPv4/IPv6 + UDP/TCP; `_link` never does."""
    frame = bytearray(seed)
    for position, value in edits:
        frame[position % len(frame)] = value
    frame = bytes(frame[: max(cut, 14)])
    try:
        long_way = make(frozenset({53}))._link(1, frame, 1.0, 0)
    except (IndexError, struct.error, ValueError):
        long_way = []  # counted as malformed by `decode`
    assert make(frozenset({53})).decode(1, frame, 1.0) == long_way


_IN_PLACE_SEEDS = [
    *_HOT_PATH_SEEDS,
    raw(eth() / udp4()) + bytes(6),  # Ethernet padding: the IPv4 total length bounds it
    raw(eth() / IP() / UDP(dport=53, len=20) / DNS_QUERY),  # the UDP length bounds it
    raw(eth() / IP() / TCP(sport=443, dport=40000, flags="A") / (b"t" * 30)),
    raw(eth() / IP() / TCP(sport=53, dport=40000, flags="PA") / (b"\x00\x1d" + DNS_QUERY)),
    raw(eth() / IP(flags="MF") / UDP(dport=53) / DNS_QUERY),
    raw(eth(type=0x0806) / (b"a" * 28)),
]


@settings(max_examples=400, deadline=1000)
@given(
    seed=st.sampled_from(_IN_PLACE_SEEDS),
    edits=st.lists(st.tuples(st.integers(0, 120), st.integers(0, 255)), max_size=4),
    cut=st.integers(0, 200),
    before=st.binary(max_size=40),
    after=st.binary(max_size=80),
)
def test_a_frame_read_in_place_decodes_like_the_frame_alone(
    seed: bytes, edits: list, cut: int, before: bytes, after: bytes
) -> None:
    """A worker decodes frames where they lie in its span of the file (`decode_at`): whatever
    bytes come after a frame (the next record), it decodes exactly as the frame copied out."""
    frame = bytearray(seed)
    for position, value in edits:
        frame[position % len(frame)] = value
    frame = bytes(frame[:cut])
    alone, in_place = make(frozenset({53})), make(frozenset({53}))
    expected = alone.decode(1, frame, 1.0)
    buf = before + frame + after
    assert in_place.decode_at(1, buf, len(before), len(before) + len(frame), 1.0) == expected
    assert in_place.malformed == alone.malformed
