"""Packets as they were on the wire, where a capture shows them otherwise (found by
benchmarks/conformance/conn.py): TCP segmentation offload, snap-length cuts inside a TCP or UDP
header, IPv6 atomic fragments and reassembled extension headers, GTP-U, the reassembly time."""

from __future__ import annotations

from scapy.contrib.gtp import GTP_U_Header, GTPEchoRequest, GTPHeader
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, Jumbo
from scapy.layers.ipsec import AH
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from mcpcap.core.decap import Decapsulator

ETH = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
A, B, A6, B6 = "192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2"


def packets(**options) -> Decapsulator:
    return Decapsulator(lambda *_: False, frozenset(), packets=True, **options)


def test_a_zero_ipv4_total_length_is_the_captured_packet():
    """TCP segmentation offload leaves the total length 0 in a capture of the sender: the
    packet is what was captured (Zeek's ip_hdr_len_zero, Wireshark's TSO reading)."""
    big = bytearray(bytes(ETH / IP(src=A, dst=B) / TCP(sport=1000, dport=80, flags="PA")
                          / Raw(b"L" * 4000)))  # fmt: skip
    big[16:18] = b"\0\0"
    (seg,) = packets().decode(1, bytes(big), 0.0)
    assert (seg.transport, seg.ip_len, seg.data_len, len(seg.payload)) == ("tcp", 4040, 4000, 4000)
    streams = Decapsulator(lambda *_: False, frozenset({80}))
    (seg,) = streams.decode(1, bytes(big), 0.0)
    assert seg.payload == b"L" * 4000


def test_tcp_options_cut_by_the_snap_length_still_make_the_segment():
    """A SYN whose 40-byte header the capture cut inside the options: flags, sequence and
    ports are there, the payload is empty; the sizes are the packet's as sent."""
    syn = bytes(ETH / IP(src=A, dst=B) / TCP(sport=1000, dport=80, flags="S", seq=7,
                                              options=[("MSS", 1460), ("SAckOK", b""),
                                                       ("Timestamp", (1, 0)), ("NOP", None),
                                                       ("WScale", 7)]))  # fmt: skip
    assert len(syn) == 14 + 20 + 40
    (seg,) = packets().decode(1, syn[:68], 0.0, len(syn))
    assert (seg.transport, seg.tcp_flags, seg.seq, seg.sport, seg.dport) == ("tcp", 2, 7, 1000, 80)
    assert (seg.payload, seg.ip_len, seg.data_len) == (b"", 60, 0)


def test_a_transport_header_cut_after_its_ports_is_a_cut_not_a_truncation():
    """`tcp_header_cut` when the snap length cut it (the IP length holds it), with the ports;
    `tcp_header_truncated` when the IP packet itself is too short for it."""
    data = bytes(ETH / IP(src=A, dst=B) / TCP(sport=1000, dport=80, flags="PA") / Raw(b"x" * 50))
    (seg,) = packets().decode(1, data[:40], 0.0, len(data))
    assert (seg.transport, seg.payload, seg.sport, seg.dport) == (
        "malformed", b"tcp_header_cut", 1000, 80)  # fmt: skip
    assert seg.ip_len == 90
    (seg,) = packets().decode(1, data[:36], 0.0, len(data))  # two bytes: no ports
    assert seg.payload == b"tcp_header_truncated"
    short = bytearray(data[: 14 + 20 + 12])
    short[16:18] = (32).to_bytes(2, "big")  # the IP packet holds 12 bytes of TCP
    (seg,) = packets().decode(1, bytes(short), 0.0)
    assert seg.payload == b"tcp_header_truncated"
    udp = bytes(ETH / IP(src=A, dst=B) / UDP(sport=1000, dport=53) / Raw(b"q" * 30))
    (seg,) = packets().decode(1, udp[:40], 0.0, len(udp))
    assert (seg.payload, seg.sport, seg.dport) == (b"udp_header_cut", 1000, 53)


def test_an_atomic_ipv6_fragment_is_processed_alone():
    """RFC 6946 4: offset 0 and no more fragments is no fragment: its packet as sent, read
    at once (a worker need not defer it to the reassembling process)."""
    frame = bytes(ETH / IPv6(src=A6, dst=B6) / IPv6ExtHdrHopByHop() / IPv6ExtHdrFragment(id=9)
                  / UDP(sport=1000, dport=9) / Raw(b"atomic"))  # fmt: skip
    for decap in (packets(), packets(defer_fragments=True)):
        (seg,) = decap.decode(1, frame, 0.0)
        assert (seg.transport, seg.payload, seg.ip_len) == ("udp", b"atomic", 40 + 8 + 8 + 14)


def test_a_reassembled_ipv6_packet_counts_its_unfragmentable_headers():
    """RFC 8200 4.5: the original packet is the unfragmentable part (the IPv6 header and the
    extension headers before the fragment header) and the reassembled payload."""
    udp = bytes(IPv6(src=A6, dst=B6) / UDP(sport=1000, dport=9) / Raw(b"F" * 2000))[40:]
    decap = packets()
    found = []
    for offset, more, piece in ((0, 1, udp[:1000]), (1000, 0, udp[1000:])):
        frame = (
            ETH
            / IPv6(src=A6, dst=B6)
            / IPv6ExtHdrHopByHop()
            / IPv6ExtHdrFragment(nh=17, offset=offset // 8, m=more, id=5)
            / Raw(piece)
        )
        found += decap.decode(1, bytes(frame), 0.0)
    (seg,) = found
    assert (seg.transport, len(seg.payload), seg.ip_len) == ("udp", 2000, 40 + 8 + 2008)


def test_gtp_u_carries_its_inner_packet():
    """3GPP TS 29.281: a G-PDU on UDP 2152 (with or without its optional fields and an
    extension header) is a tunnel; an echo request on that port is plain UDP."""
    inner = IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=1000, dport=443, flags="S")
    outer = ETH / IP(src=A, dst=B) / UDP(sport=2152, dport=2152)
    extension = GTP_U_Header(teid=5, gtp_type=255, E=1, next_ex=0x85) / Raw(b"\x01\x10\x01\x00")
    for gtp in (GTP_U_Header(teid=5), GTP_U_Header(teid=5, S=1, seq=3), extension):
        segments = packets().decode(1, bytes(outer / gtp / inner), 0.0)
        assert [s.transport for s in segments] == ["udp", "tcp"]
        assert segments[1].outer == (17, A, 2152, B, 2152) and segments[1].sport == 1000
        assert segments[0].layers == ("eth", "ipv4", "udp", "gtp", "ipv4", "tcp")
    echo = packets().decode(1, bytes(outer / GTPHeader(gtp_type=1) / GTPEchoRequest()), 0.0)
    assert [s.transport for s in echo] == ["udp"]


def test_fragments_wait_sixty_seconds_for_the_rest():
    """RFC 8200 4.5 and RFC 1122 3.3.2 (60 to 120 s): a datagram whose pieces come 50 s apart
    is reassembled; one whose last piece comes after 61 s is dropped."""
    payload = bytes(IP(src=A, dst=B) / UDP(sport=1000, dport=9) / Raw(b"d" * 1600))[20:]
    for gap, whole in ((50.0, True), (61.0, False)):
        decap = packets()
        first = ETH / IP(src=A, dst=B, id=1, proto=17, flags="MF") / Raw(payload[:1480])
        last = ETH / IP(src=A, dst=B, id=1, proto=17, frag=185) / Raw(payload[1480:])
        assert decap.decode(1, bytes(first), 100.0) == []
        assert bool(decap.decode(1, bytes(last), 100.0 + gap)) is whole


def test_l2tp_data_messages_carry_their_ppp_frame():
    """RFC 2661 3.1: a data message (T bit clear, version 2) with or without its length,
    sequence and offset fields carries a PPP frame; a control message carries none."""
    inner = IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1000, dport=53) / Raw(b"q")
    outer = ETH / IP(src=A, dst=B) / UDP(sport=1701, dport=1701)
    ppp = b"\xff\x03\x00\x21"
    headers = [
        b"\x00\x02" + b"\x00\x01\x00\x02",  # tunnel, session
        b"\x48\x02" + b"\x00\x00" + b"\x00\x01\x00\x02" + b"\x00\x05\x00\x06",  # L, S
        b"\x02\x02" + b"\x00\x01\x00\x02" + b"\x00\x03" + b"pad",  # O: 3 bytes of padding
    ]
    for header in headers:
        segments = packets().decode(1, bytes(outer / Raw(header + ppp) / inner), 0.0)
        assert [s.transport for s in segments] == ["udp", "udp"], header
        assert segments[1].sport == 1000 and segments[1].outer == (17, A, 1701, B, 1701)
        assert segments[0].layers == ("eth", "ipv4", "udp", "l2tp", "ppp", "ipv4", "udp")
    control = b"\xc8\x02" + b"\x00\x0c" + bytes(8)
    assert len(packets().decode(1, bytes(outer / Raw(control + ppp) / inner), 0.0)) == 1


def test_pflog_and_enc_link_types():
    """pf's log (117) and OpenBSD's enc (109): a header, then the IP packet."""
    packet = bytes(IP(src=A, dst=B) / TCP(sport=1000, dport=80, flags="S"))
    pflog = bytes([61, 2]) + bytes(62) + packet  # a 61-byte header, padded to 64
    enc = b"\x00\x00\x00\x02" + bytes(8) + packet
    for linktype, frame, name in ((117, pflog, "pflog"), (109, enc, "enc")):
        (seg,) = packets().decode(linktype, frame, 0.0)
        assert (seg.transport, seg.sport, seg.layers) == ("tcp", 1000, (name, "ipv4", "tcp"))


def test_an_ipv6_payload_length_of_zero_is_a_jumbogram_only_with_its_option():
    """RFC 2675: payload length 0 with a Jumbo Payload option is a jumbogram of that length;
    without one the payload is empty (tshark and Zeek read it so): its TCP header is not in
    the packet (malformed), its UDP datagram is not either."""
    tcp = TCP(sport=1000, dport=80, flags="PA") / Raw(b"J" * 3000)
    plain = bytearray(bytes(ETH / IPv6(src=A6, dst=B6) / tcp))
    plain[18:20] = b"\0\0"
    (seg,) = packets().decode(1, bytes(plain), 0.0)
    assert (seg.transport, seg.payload, seg.ip_len) == ("malformed", b"tcp_header_truncated", 40)
    hop = IPv6ExtHdrHopByHop(options=[Jumbo(jumboplen=8 + 20 + 3000)])
    jumbo = bytearray(bytes(ETH / IPv6(src=A6, dst=B6) / hop / tcp))
    jumbo[18:20] = b"\0\0"
    (seg,) = packets().decode(1, bytes(jumbo), 0.0)
    assert (seg.transport, len(seg.payload), seg.ip_len) == ("tcp", 3000, 40 + 8 + 20 + 3000)
    udp = bytearray(bytes(ETH / IPv6(src=A6, dst=B6) / UDP(sport=1000, dport=53) / Raw(b"q" * 30)))
    udp[18:20] = b"\0\0"
    dns = Decapsulator(lambda *_: True, frozenset())
    assert dns.decode(1, bytes(udp), 0.0) == [] and dns.malformed == 1


def test_an_ipv4_authentication_header_is_read_through():
    """RFC 4302: AH authenticates but does not hide its payload; the TCP segment after it (in
    IPv4 as in IPv6) is the packet's transport."""
    ah = AH(nh=6, payloadlen=4, spi=1, seq=1, icv=bytes(12))  # 24 bytes: (6 - 2) words
    frame = bytes(ETH / IP(src=A, dst=B, proto=51) / ah / TCP(sport=1000, dport=80, flags="S"))
    (seg,) = packets().decode(1, frame, 0.0)
    assert (seg.transport, seg.sport, seg.tcp_flags, seg.ip_len) == ("tcp", 1000, 2, 20 + 24 + 20)
    streams = Decapsulator(lambda *_: False, frozenset({80}))
    assert [s.sport for s in streams.decode(1, frame, 0.0)] == [1000]
