"""Packet mode's IPv6 hot path (`Decapsulator._ethernet_ipv6_packet`) gives what the long way
gives, frame by frame: well-formed TCP and UDP, and the frames it must leave to the long way
(extension headers, jumbograms, tunnels, cut or malformed headers)."""

from __future__ import annotations

import random

from scapy.layers.inet import TCP, UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrHopByHop
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from mcpcap.core.decap import Decapsulator

from .test_decap_ipv4_packets import long_way

A, B = "2001:db8::1", "2001:db8:ffff::2"
MACS = {"src": "02:00:00:00:00:01", "dst": "02:00:00:00:00:02"}


def frames() -> list[bytes]:
    ip = Ether(**MACS) / IPv6(src=A, dst=B, hlim=7)
    packets = [
        ip / TCP(sport=40000, dport=443, flags="PA", seq=7, ack=9, window=0) / Raw(b"x" * 100),
        ip / TCP(sport=40000, dport=80, flags="S", options=[("MSS", 1460), ("NOP", None)]),
        ip / UDP(sport=5353, dport=53) / Raw(b"\x12\x34" + b"\0" * 30),
        ip / UDP(sport=1000, dport=4789) / Raw(b"\x08" + b"\0" * 7),  # a VXLAN carrier
        ip / UDP(sport=3544, dport=1000) / Raw(b"\0" * 12),  # Teredo
        ip / IPv6ExtHdrHopByHop() / UDP(sport=1, dport=2) / Raw(b"hop"),
        Ether(**MACS) / IPv6(src=B, dst=A, nh=58) / Raw(b"\x80\0\0\0\0\1\0\1"),  # ICMPv6
    ]
    made = [bytes(packet) for packet in packets]
    padded = bytes(ip / UDP(sport=9, dport=10) / Raw(b"data")) + b"\0" * 12  # trailer
    jumbo = bytearray(made[2])
    jumbo[18:20] = b"\0\0"  # payload length 0: a jumbogram's
    long_header = bytearray(made[1])  # a SYN: 24 header bytes, no data
    long_header[54 + 12] = 0xF0  # a TCP data offset past the packet
    short_udp = bytearray(made[2])
    short_udp[54 + 4 : 54 + 6] = b"\0\4"  # a UDP length under 8
    return [*made, padded, bytes(jumbo), bytes(long_header), bytes(short_udp)]


def test_the_ipv6_hot_path_gives_what_the_long_way_gives():
    shortcut, general = (Decapsulator(lambda *_: False, frozenset(), packets=True) for _ in "ab")
    rng = random.Random(11)
    compared = 0
    for frame in frames():
        variants = [frame] + [frame[: rng.randrange(14, len(frame) + 1)] for _ in range(30)]
        for variant in variants:
            expected = long_way(general, variant)
            assert shortcut.decode(1, variant, 0.0) == expected, variant.hex()
            compared += 1
    assert compared > 300


def test_the_ipv6_hot_path_takes_plain_tcp_udp_and_icmpv6_and_fills_every_field():
    decap = Decapsulator(lambda *_: False, frozenset(), packets=True)
    taken = [decap._ethernet_ipv6_packet(f, 0, len(f)) is not None for f in frames()]
    assert taken == [True, True, True, False, False, False, True, True, False, False, False]
    (seg,) = decap.decode(1, frames()[0], 0.0)
    assert (seg.transport, seg.src, seg.sport, seg.dst, seg.dport) == ("tcp", A, 40000, B, 443)
    assert (seg.seq, seg.ack, seg.window, seg.tcp_flags) == (7, 9, 0, 0x18)
    assert (seg.ip_len, seg.data_len, seg.payload, seg.ttl) == (160, 100, b"x" * 100, 7)
    (icmp,) = decap.decode(1, frames()[6], 0.0)
    assert (icmp.transport, icmp.src, icmp.sport, icmp.dport, icmp.proto) == (
        "icmpv6",
        B,
        128,
        0,
        58,
    )
    assert (icmp.payload, icmp.ip_len, icmp.data_len, icmp.layers) == (
        b"\x80\0\0\0\0\1\0\1",
        48,
        8,
        ("eth", "ipv6", "icmpv6"),
    )
