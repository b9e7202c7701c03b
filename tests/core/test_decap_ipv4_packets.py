"""Packet mode's IPv4 hot path (`Decapsulator._ethernet_ipv4_packet`) on frames cut short:
what the long way gives (a `malformed` segment), never an exception out of `decode`."""

from __future__ import annotations

import random
import struct

from scapy.layers.inet import ICMP, IP, TCP, UDP, IPerror, UDPerror
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from mcpcap.core.decap import Decapsulator

MACS = {"src": "02:00:00:00:00:01", "dst": "02:00:00:00:00:02"}


def long_way(decap: Decapsulator, frame: bytes, linktype: int = 1, ts: float = 0.0) -> list:
    """What `decode_at` gives a frame that takes no hot path (its general decoding)."""
    decap._vlan = decap._outer = None
    decap._frame_len = len(frame)
    try:
        return decap._link(linktype, frame, ts, 0)
    except (IndexError, struct.error, ValueError) as error:  # malformed (decode_at)
        return [decap._bad_frame(error)]


def test_a_udp_header_cut_short_is_malformed_not_an_exception():
    """Found by benchmarks/fuzz_modules.py: 34 to 41 bytes of Ethernet + IPv4 + UDP (the IP
    total length intact) made the hot path unpack the UDP header past the captured end."""
    ip = Ether(**MACS) / IP(src="192.0.2.1", dst="192.0.2.2")
    udp = ip / UDP(sport=1000, dport=53) / Raw(b"q" * 20)
    tcp = ip / TCP(sport=1000, dport=80, flags="PA") / Raw(b"GET / HTTP/1.1\r\n")
    frames = [bytes(udp), bytes(tcp)]
    shortcut, general = (Decapsulator(lambda *_: False, frozenset(), packets=True) for _ in "ab")
    for frame in frames:
        for cut in range(34, len(frame) + 1):
            segments = shortcut.decode(1, frame[:cut], 0.0)
            assert segments == long_way(general, frame[:cut]), cut
    assert shortcut.decode(1, frames[0][:40], 0.0)[0].transport == "malformed"


def test_icmp_and_arp_take_the_hot_path_with_what_the_long_way_gives():
    """ICMP (an echo, an error quoting a UDP datagram) and ARP frames, whole, cut at every
    length and with random bytes changed: the hot path gives what the long way gives."""
    ip = Ether(**MACS) / IP(src="192.0.2.1", dst="192.0.2.2", ttl=9)
    seeds = [
        bytes(ip / ICMP(type=8, id=7, seq=1) / Raw(b"ping" * 8)),
        bytes(ip / ICMP(type=3, code=3) / IPerror(src="192.0.2.2", dst="192.0.2.1")
              / UDPerror(sport=5000, dport=33434)),
        bytes(Ether(**MACS) / ARP(psrc="192.0.2.1", pdst="192.0.2.2")) + b"\0" * 18,
    ]  # fmt: skip
    shortcut, general = (Decapsulator(lambda *_: False, frozenset(), packets=True) for _ in "ab")
    taken = [shortcut._ethernet_ipv4_packet(frame, 0, len(frame)) for frame in seeds]
    assert [seg.transport for (seg,) in taken] == ["icmp", "icmp", "l2"]
    assert (taken[0][0].sport, taken[0][0].ttl, taken[2][0].sport) == (8, 9, 0x0806)
    rng = random.Random(3)
    for seed in seeds:
        variants = [seed[:cut] for cut in range(14, len(seed) + 1)]
        for _ in range(200):
            edited = bytearray(seed)
            for _ in range(rng.randint(1, 3)):
                edited[rng.randrange(12, 40)] = rng.randrange(256)
            variants.append(bytes(edited))
        for frame in variants:
            assert shortcut.decode(1, frame, 0.0) == long_way(general, frame), frame.hex()
