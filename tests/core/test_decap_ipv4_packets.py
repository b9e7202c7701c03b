"""Packet mode's IPv4 hot path (`Decapsulator._ethernet_ipv4_packet`) on frames cut short:
what the long way gives (a `malformed` segment), never an exception out of `decode`."""

from __future__ import annotations

import struct

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether
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
