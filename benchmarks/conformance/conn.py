"""Generate captures that exercise the conn module's edge cases, for differential checks.

Each case family is one capture (scapy-built, fixed seed and times: the output is the same on
every run). Run them through the oracle with this tree's mcpcap first on PATH:

    python benchmarks/conformance/conn.py /work/scratch/diff-conn/gen
    PATH=$PWD/.venv/bin:$PATH python ../shared/tools/module_oracle.py conn \
        --corpus /work/scratch/diff-conn/gen --show 20

Families: TCP lifecycles for every Zeek conn_state, odd TCP (mid-stream starts, simultaneous
open, SYN retransmissions and sequence jumps, a new SYN after a close, SYN payload, RST with
data, sequence wrap-around, retransmissions, zero windows, odd flag sets), inactivity timeouts,
UDP (one way, both ways, broadcast, multicast, padding, port 0), ICMP and ICMPv6 (echo, errors
quoting flows), IPv4 fragments (in and out of order, overlapping, duplicated, missing pieces),
IPv6 extension headers, tunnels (GRE in its forms, ERSPAN, VXLAN, Geneve, IP-in-IP, 6in4, 4in6,
Teredo, GTP-U, PPTP, nesting), link layers (VLAN, QinQ, MPLS, PPPoE, LLC/SNAP, SLL, SLL2, raw
IP, BSD loopback both byte orders, OpenBSD loop, PPP, Cisco HDLC, pcapng with several
interfaces, nanosecond and big-endian pcap), snap-length cuts, bad checksums, TSO (IP total
length 0) and hostile headers (which must give malformed counts, never a traceback).
"""

from __future__ import annotations

import random
import struct
import sys
from collections.abc import Callable, Iterable
from functools import partial
from typing import NamedTuple

from generator_cli import output_folder  # (this folder: first on the path of a script)
from scapy.contrib.geneve import GENEVE
from scapy.contrib.gtp import GTP_U_Header
from scapy.contrib.mpls import MPLS
from scapy.layers.dot11 import Dot11, Dot11QoS, RadioTap
from scapy.layers.inet import GRE, ICMP, IP, TCP, UDP, IPOption_RR
from scapy.layers.inet6 import (
    HAO,
    ICMPv6DestUnreach,
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    ICMPv6PacketTooBig,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
    Jumbo,
)
from scapy.layers.ipsec import AH, ESP
from scapy.layers.l2 import GRE_PPTP, LLC, SNAP, CookedLinux, Dot1AD, Dot1Q, Dot3, Ether
from scapy.layers.l2tp import L2TP
from scapy.layers.pflog import PFLog
from scapy.layers.ppp import PPP, PPPoE
from scapy.layers.vxlan import VXLAN
from scapy.packet import Packet, Raw

SEED = 20261205
T0 = 1_700_000_000.0
ETH = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
INNER_ETH = Ether(src="02:00:00:00:01:01", dst="02:00:00:00:01:02")
FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
LT_ETH, LT_RAW, LT_NULL, LT_PPP, LT_CHDLC, LT_LOOP, LT_SLL, LT_SLL2 = (
    1,
    101,
    0,
    9,
    104,
    108,
    113,
    276,
)
LT_IPV4, LT_IPV6, LT_RAW12, LT_RAW14, LT_PPP_HDLC = 228, 229, 12, 14, 50

# a captured frame: (time, bytes as captured, length as sent; 0: as captured)
Frame = tuple[float, bytes, int]


# ------------------------------------------------------------------------------ file writers
def pcap_bytes(
    linktype: int,
    frames: Iterable[Frame],
    *,
    snaplen: int = 65535,
    nano: bool = False,
    big: bool = False,
) -> bytes:
    """A classic pcap file (microseconds or nanoseconds, either byte order)."""
    end = ">" if big else "<"
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = [struct.pack(end + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    scale = 1_000_000_000 if nano else 1_000_000
    for ts, data, orig in frames:
        whole = int(ts)
        frac = round((ts - whole) * scale)
        out.append(struct.pack(end + "IIII", whole, frac, len(data), orig or len(data)))
        out.append(data)
    return b"".join(out)


def _block(kind: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    size = len(body) + 12
    return struct.pack("<II", kind, size) + body + struct.pack("<I", size)


def pcapng_bytes(interfaces: list[tuple[int, int]], frames: Iterable[tuple[int, Frame]]) -> bytes:
    """A pcapng file: interfaces are (linktype, snaplen); frames name their interface."""
    out = [_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))]
    out += [_block(1, struct.pack("<HHI", lt, 0, snap)) for lt, snap in interfaces]
    for iface, (ts, data, orig) in frames:
        micros = round(ts * 1_000_000)
        head = struct.pack(
            "<IIIII", iface, micros >> 32, micros & 0xFFFFFFFF, len(data), orig or len(data)
        )
        out.append(_block(6, head + data))
    return b"".join(out)


class Cap:
    """Frames in time order: each `add` is 10 ms after the one before unless told."""

    def __init__(self, start: float = T0) -> None:
        self.now = start
        self.frames: list[Frame] = []

    def add(self, frame: Packet | bytes, *, gap: float = 0.01, snap: int = 0) -> None:
        self.now += gap
        data = bytes(frame)
        cut = data[:snap] if snap else data
        self.frames.append((round(self.now, 6), cut, len(data) if snap else 0))


# ------------------------------------------------------------------------------ TCP helper
class Tcp:
    """One TCP conversation: each side's next sequence number tracked as a real stack would."""

    def __init__(
        self,
        cap: Cap,
        client: str,
        cport: int,
        server: str,
        sport: int,
        *,
        wrap: Callable[[Packet], Packet] | None = None,
        rng: random.Random,
    ) -> None:
        self.cap, self.wrap = cap, wrap or (lambda p: ETH / p)
        self.ends = ((client, cport), (server, sport))
        self.seq = [rng.randrange(1 << 32), rng.randrange(1 << 32)]
        self.v6 = ":" in client

    def send(
        self,
        side: int,
        flags: int,
        data: bytes = b"",
        *,
        seq: int | None = None,
        window: int = 65535,
        advance: bool = True,
        gap: float = 0.01,
        snap: int = 0,
        chksum: int | None = None,
    ) -> None:
        (src, sp), (dst, dp) = self.ends[side], self.ends[1 - side]
        seq = self.seq[side] if seq is None else seq
        ack = self.seq[1 - side] if flags & ACK else 0
        ip = IPv6(src=src, dst=dst) if self.v6 else IP(src=src, dst=dst)
        tcp = TCP(
            sport=sp,
            dport=dp,
            flags=flags,
            seq=seq & 0xFFFFFFFF,
            ack=ack & 0xFFFFFFFF,
            window=window,
        )
        if chksum is not None:
            tcp.chksum = chksum
        self.cap.add(self.wrap(ip / tcp / Raw(data) if data else ip / tcp), gap=gap, snap=snap)
        if advance:
            self.seq[side] = (seq + len(data) + bool(flags & SYN) + bool(flags & FIN)) & 0xFFFFFFFF

    def handshake(self) -> None:
        self.send(0, SYN)
        self.send(1, SYN | ACK)
        self.send(0, ACK)

    def exchange(
        self, request: bytes = b"GET / HTTP/1.0\r\n\r\n", reply: bytes = b"x" * 300
    ) -> None:
        self.send(0, PSH | ACK, request)
        self.send(1, ACK)
        self.send(1, PSH | ACK, reply)
        self.send(0, ACK)


# ------------------------------------------------------------------------------ the families
def tcp_states(rng: random.Random) -> Cap:
    """One connection per Zeek conn_state (and IPv6 twins of a few), ports telling them apart."""
    cap = Cap()
    c, s, c6, s6 = "10.1.0.1", "10.1.0.2", "2001:db8::1", "2001:db8::2"

    def conn(port: int, v6: bool = False) -> Tcp:
        return Tcp(cap, c6 if v6 else c, 40000 + port, s6 if v6 else s, port, rng=rng)

    for v6 in (False, True):
        t = conn(1001, v6)  # S0
        t.send(0, SYN)
        t = conn(1002, v6)  # S1
        t.handshake()
        t.exchange()
        t = conn(1003, v6)  # SF
        t.handshake()
        t.exchange()
        t.send(0, FIN | ACK)
        t.send(1, FIN | ACK)
        t.send(0, ACK)
        t = conn(1004, v6)  # REJ
        t.send(0, SYN)
        t.send(1, RST | ACK, seq=0)
    t = conn(1005)  # S2: the client closes, the server says nothing after
    t.handshake()
    t.exchange()
    t.send(0, FIN | ACK)
    t = conn(1006)  # S3: the server closes, the client says nothing after
    t.handshake()
    t.exchange()
    t.send(1, FIN | ACK)
    t = conn(1007)  # RSTO
    t.handshake()
    t.exchange()
    t.send(0, RST | ACK)
    t = conn(1008)  # RSTR
    t.handshake()
    t.exchange()
    t.send(1, RST)
    t = conn(1009)  # RSTOS0: SYN, then the client resets
    t.send(0, SYN)
    t.send(0, RST)
    t = conn(1010)  # RSTRH: only a SYN-ACK from the server, then its reset
    t.send(1, SYN | ACK)
    t.send(1, RST)
    t = conn(1011)  # SH: SYN then FIN from the client, nothing back
    t.send(0, SYN)
    t.send(0, FIN)
    t = conn(1012)  # SHR: SYN-ACK then FIN from the server only
    t.send(1, SYN | ACK)
    t.send(1, FIN | ACK)
    t = conn(1013)  # OTH: data both ways, no SYN seen
    t.send(0, PSH | ACK, b"abc")
    t.send(1, PSH | ACK, b"defg")
    t = conn(1014)  # RSTO after a SYN-ACK and a reset on both sides
    t.handshake()
    t.send(0, RST | ACK)
    t.send(1, RST | ACK, seq=t.seq[1])
    t = conn(1015)  # SF closed with FIN and then RST after the FINs
    t.handshake()
    t.exchange()
    t.send(1, FIN | ACK)
    t.send(0, FIN | ACK)
    t.send(1, RST, advance=False)
    return cap


def tcp_odd(rng: random.Random) -> Cap:
    """Mid-stream starts, simultaneous open, retried SYNs, a new SYN after a close, SYN data,
    RST with data, wrap-around, retransmissions, zero windows and strange flag sets."""
    cap = Cap()
    c, s = "10.2.0.1", "10.2.0.2"

    def conn(cport: int, sport: int) -> Tcp:
        return Tcp(cap, c, cport, s, sport, rng=rng)

    t = conn(50001, 80)  # mid-stream, the client speaks first
    t.send(0, PSH | ACK, b"more of a request")
    t.send(1, ACK)
    t = conn(50002, 443)  # mid-stream, the server speaks first
    t.send(1, PSH | ACK, b"y" * 500)
    t.send(0, ACK)
    t.send(1, FIN | ACK)
    t = conn(50003, 50004)  # mid-stream, both high ports
    t.send(1, ACK)
    t.send(0, PSH | ACK, b"z" * 10)
    t = conn(50005, 50006)  # simultaneous open
    t.send(0, SYN)
    t.send(1, SYN, gap=0.0001)
    t.send(0, SYN | ACK, seq=(t.seq[0] - 1))
    t.send(1, SYN | ACK, seq=(t.seq[1] - 1))
    t.send(0, PSH | ACK, b"hello")
    t = conn(50007, 80)  # SYN retransmitted, then answered
    for _ in range(3):
        t.send(0, SYN, advance=False, gap=1.0)
    t.send(0, SYN)
    t.handshake_seen = True
    t.send(1, SYN | ACK)
    t.send(0, ACK)
    t = conn(50008, 80)  # SYN with a new ISN each time (a restarted client)
    for _ in range(3):
        t.send(0, SYN, seq=rng.randrange(1 << 32), gap=1.0)
    t = conn(50009, 80)  # a close, then a new SYN on the same ports: two connections
    t.handshake()
    t.exchange()
    t.send(0, FIN | ACK)
    t.send(1, FIN | ACK)
    t.send(0, ACK)
    t.seq = [rng.randrange(1 << 32), rng.randrange(1 << 32)]
    t.handshake()
    t.exchange()
    t = conn(50010, 80)  # a reset, then a new SYN 1 s later
    t.handshake()
    t.send(1, RST)
    t.seq = [rng.randrange(1 << 32), t.seq[1]]
    t.send(0, SYN, gap=1.0)
    t.send(1, SYN | ACK)
    t = conn(50011, 443)  # payload in the SYN (TCP Fast Open) and in the SYN-ACK
    t.send(0, SYN, b"early data " * 10)
    t.send(1, SYN | ACK, b"early reply")
    t.send(0, ACK)
    t = conn(50012, 80)  # RST with data (RFC 9293 3.5.3 lets it carry diagnostics)
    t.handshake()
    t.send(1, RST | ACK, b"connection refused by policy")
    t = conn(50013, 80)  # sequence numbers wrap around
    t.seq = [0xFFFFFF00, 0xFFFFFFF0]
    t.handshake()
    for _ in range(4):
        t.send(0, PSH | ACK, b"w" * 100)
        t.send(1, ACK)
    t.send(0, FIN | ACK)
    t.send(1, FIN | ACK)
    t.send(0, ACK)
    t = conn(50014, 80)  # retransmissions, reordering, a zero window and window probes
    t.handshake()
    first = t.seq[0]
    t.send(0, PSH | ACK, b"a" * 100)
    t.send(0, PSH | ACK, b"a" * 100, seq=first, advance=False)
    t.send(0, PSH | ACK, b"c" * 100, seq=first + 200)
    t.send(0, PSH | ACK, b"b" * 100, seq=first + 100)
    t.seq[0] = first + 300
    t.send(1, ACK, window=0)
    t.send(0, ACK, b"p", advance=False)
    t.send(1, ACK, window=0)
    t.send(1, ACK, window=8192)
    t.send(0, ACK, seq=t.seq[0] - 1, advance=False)  # keep-alive
    t = conn(50015, 80)  # odd flag sets: SYN+FIN, FIN+RST, null, Xmas, URG
    t.send(0, SYN | FIN)
    t = conn(50016, 80)
    t.handshake()
    t.send(0, FIN | RST | ACK)
    t = conn(50017, 80)
    t.send(0, 0)
    t.send(0, FIN | PSH | URG)
    t = conn(50018, 22)  # a long-lived connection with many segments in both directions
    t.handshake()
    for n in range(60):
        t.send(n % 2, PSH | ACK, bytes([n]) * (1 + n * 7 % 1400))
    return cap


def timeouts(rng: random.Random) -> Cap:
    """Inactivity: UDP and ICMP 60 s, TCP 5 min (Zeek's defaults), just under and just over."""
    cap = Cap()
    c, s = "10.3.0.1", "10.3.0.2"
    for port, gap in ((5001, 59.0), (5002, 61.0), (5003, 200.0)):
        udp = ETH / IP(src=c, dst=s) / UDP(sport=port, dport=9999)
        cap.add(udp / Raw(b"a" * 20))
        cap.add(ETH / IP(src=s, dst=c) / UDP(sport=9999, dport=port) / Raw(b"b" * 30))
        cap.add(udp / Raw(b"c" * 40), gap=gap)
    t = Tcp(cap, c, 6001, s, 80, rng=rng)
    t.handshake()
    t.exchange()
    t.send(0, PSH | ACK, b"after four minutes", gap=240.0)
    t.send(1, ACK)
    t = Tcp(cap, c, 6002, s, 80, rng=rng)
    t.handshake()
    t.exchange()
    t.send(0, PSH | ACK, b"after six minutes", gap=360.0)
    t.send(1, ACK)
    t.send(1, FIN | ACK, gap=400.0)
    cap.add(ETH / IP(src=c, dst=s) / ICMP(type=8, id=7, seq=1), gap=1)
    cap.add(ETH / IP(src=s, dst=c) / ICMP(type=0, id=7, seq=1))
    cap.add(ETH / IP(src=c, dst=s) / ICMP(type=8, id=7, seq=2), gap=61.0)
    return cap


def udp_kinds(rng: random.Random) -> Cap:
    """UDP: both ways, one way, broadcast, multicast, zero length, padding, port 0, a host
    talking to itself, checksum 0 and wrong checksums."""
    cap = Cap()
    c, s = "10.4.0.1", "10.4.0.2"
    for n in range(3):
        cap.add(ETH / IP(src=c, dst=s) / UDP(sport=7001, dport=53) / Raw(b"q" * (20 + n)))
        cap.add(ETH / IP(src=s, dst=c) / UDP(sport=53, dport=7001) / Raw(b"r" * (60 + n)))
    for n in range(4):
        cap.add(ETH / IP(src=c, dst=s) / UDP(sport=7002, dport=514) / Raw(b"syslog %d" % n))
    bcast = Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff")
    cap.add(
        bcast / IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67) / Raw(b"d" * 240)
    )
    cap.add(bcast / IP(src=c, dst="10.4.255.255") / UDP(sport=137, dport=137) / Raw(b"n" * 50))
    cap.add(
        ETH / IP(src=c, dst="224.0.0.251", ttl=255) / UDP(sport=5353, dport=5353) / Raw(b"m" * 30)
    )
    cap.add(
        ETH / IP(src=s, dst="224.0.0.251", ttl=255) / UDP(sport=5353, dport=5353) / Raw(b"m" * 31)
    )
    cap.add(ETH / IP(src=c, dst="239.255.255.250") / UDP(sport=7003, dport=1900) / Raw(b"M-SEARCH"))
    cap.add(ETH / IPv6(src="fe80::1", dst="ff02::fb") / UDP(sport=5353, dport=5353) / Raw(b"m6"))
    cap.add(ETH / IPv6(src="fe80::1", dst="ff02::1:2") / UDP(sport=546, dport=547) / Raw(b"s" * 40))
    cap.add(ETH / IP(src=c, dst=s) / UDP(sport=7004, dport=7005))  # zero-length payload
    cap.add(ETH / IP(src=c, dst=s) / UDP(sport=7006, dport=7007) / Raw(b"p"))  # padded to 60
    cap.add(ETH / IP(src=c, dst=s) / UDP(sport=0, dport=0) / Raw(b"zero"))
    cap.add(ETH / IP(src=c, dst=c) / UDP(sport=7008, dport=7008) / Raw(b"self"))
    cap.add(ETH / IP(src=c, dst=c) / UDP(sport=7008, dport=7008) / Raw(b"self again"))
    cap.add(ETH / IP(src=c, dst=s) / UDP(sport=7009, dport=7010, chksum=0) / Raw(b"no sum"))
    cap.add(
        ETH
        / IP(src=c, dst=s, chksum=0x1234)
        / UDP(sport=7011, dport=7012, chksum=0x4321)
        / Raw(b"bad")
    )
    cap.add(ETH / IP(src=s, dst=c) / UDP(sport=7012, dport=7011, chksum=0xFFFF) / Raw(b"bad too"))
    # Ethernet trailer after the IP packet (FCS-like bytes): not counted in the IP bytes
    cap.add(
        bytes(ETH / IP(src=c, dst=s) / UDP(sport=7013, dport=7014) / Raw(b"t" * 30))
        + b"\xde\xad\xbe\xef"
    )
    # IPv4 options
    cap.add(
        ETH / IP(src=c, dst=s, options=[IPOption_RR()]) / UDP(sport=7015, dport=7016) / Raw(b"o")
    )
    return cap


def icmp_kinds(rng: random.Random) -> Cap:
    """ICMP and ICMPv6: echo both ways, errors that quote a TCP or UDP flow of the capture
    (which must not count for that flow), ICMPv6 too big."""
    cap = Cap()
    c, s, r = "10.5.0.1", "10.5.0.2", "10.5.0.254"
    for n in range(3):
        cap.add(ETH / IP(src=c, dst=s) / ICMP(type=8, id=42, seq=n) / Raw(b"ping" * 8))
        cap.add(ETH / IP(src=s, dst=c) / ICMP(type=0, id=42, seq=n) / Raw(b"ping" * 8))
    probe = IP(src=c, dst=s) / UDP(sport=8001, dport=33434) / Raw(b"trace")
    cap.add(ETH / probe)
    cap.add(ETH / IP(src=s, dst=c) / ICMP(type=3, code=3) / bytes(probe)[:28])
    cap.add(ETH / IP(src=r, dst=c) / ICMP(type=11, code=0) / bytes(probe))
    t = Tcp(cap, c, 8002, s, 80, rng=rng)
    t.handshake()
    quoted = (
        IP(src=c, dst=s) / TCP(sport=8002, dport=80, flags="PA", seq=t.seq[0]) / Raw(b"x" * 1400)
    )
    t.send(0, PSH | ACK, b"x" * 1400)
    cap.add(ETH / IP(src=r, dst=c) / ICMP(type=3, code=4, nexthopmtu=1300) / bytes(quoted)[:576])
    c6, s6 = "2001:db8:5::1", "2001:db8:5::2"
    for n in range(2):
        cap.add(ETH / IPv6(src=c6, dst=s6) / ICMPv6EchoRequest(id=9, seq=n, data=b"v6"))
        cap.add(ETH / IPv6(src=s6, dst=c6) / ICMPv6EchoReply(id=9, seq=n, data=b"v6"))
    probe6 = IPv6(src=c6, dst=s6) / UDP(sport=8003, dport=9) / Raw(b"u" * 1300)
    cap.add(ETH / probe6)
    cap.add(ETH / IPv6(src=s6, dst=c6) / ICMPv6DestUnreach(code=4) / bytes(probe6)[:1232])
    cap.add(
        ETH
        / IPv6(src="2001:db8:5::fe", dst=c6)
        / ICMPv6PacketTooBig(mtu=1280)
        / bytes(probe6)[:1232]
    )
    return cap


def _fragments(packet: IP, size: int) -> list[IP]:
    """IPv4 fragments of a packet, `size` payload bytes each (a multiple of 8)."""
    raw = bytes(packet[IP].payload)
    pieces = []
    for off in range(0, len(raw), size):
        more = off + size < len(raw)
        pieces.append(
            IP(
                src=packet.src,
                dst=packet.dst,
                id=packet.id,
                proto=packet.proto,
                flags="MF" if more else 0,
                frag=off // 8,
            )
            / Raw(raw[off : off + size])
        )
    return pieces


def frag4(rng: random.Random) -> Cap:
    """IPv4 fragments: in order, out of order, last first, duplicated, overlapping, a missing
    last or first piece, TCP fragmented, 8-byte pieces, a fragment timeout."""
    cap = Cap()
    c, s = "10.6.0.1", "10.6.0.2"

    def dgram(ident: int, sport: int, size: int = 3000) -> IP:
        return (
            IP(src=c, dst=s, id=ident)
            / UDP(sport=sport, dport=9000)
            / Raw(bytes(range(256)) * (size // 256) + b"e" * (size % 256))
        )

    for frag in _fragments(dgram(1, 9101), 1480):
        cap.add(ETH / frag)
    cap.add(ETH / IP(src=s, dst=c) / UDP(sport=9000, dport=9101) / Raw(b"ok"))
    parts = _fragments(dgram(2, 9102), 1000)
    for frag in (parts[1], parts[0], parts[3] if len(parts) > 3 else parts[2], parts[2]):
        cap.add(ETH / frag)
    for frag in reversed(_fragments(dgram(3, 9103), 800)):
        cap.add(ETH / frag)
    parts = _fragments(dgram(4, 9104), 1480)
    for frag in (parts[0], parts[0], parts[1], parts[2], parts[2]):  # duplicates
        cap.add(ETH / frag)
    parts = _fragments(dgram(5, 9105, 2000), 1000)  # an overlapping piece in between
    over = IP(src=c, dst=s, id=5, proto=17, flags="MF", frag=500 // 8) / Raw(b"O" * 1000)
    for frag in (parts[0], over, *parts[1:]):
        cap.add(ETH / frag)
    parts = _fragments(dgram(6, 9106), 1480)  # the last piece never comes
    for frag in parts[:-1]:
        cap.add(ETH / frag)
    parts = _fragments(dgram(7, 9107), 1480)  # the first piece never comes
    for frag in parts[1:]:
        cap.add(ETH / frag)
    for frag in _fragments(dgram(8, 9108, 200), 8):  # 8-byte pieces
        cap.add(ETH / frag)
    seg = (
        IP(src=c, dst=s, id=9)
        / TCP(sport=9109, dport=80, flags="PA", seq=1, ack=1)
        / Raw(b"T" * 2500)
    )
    for frag in _fragments(seg, 1480):
        cap.add(ETH / frag)
    for ident, sport, gap in ((10, 9110, 20.0), (13, 9114, 35.0)):  # 40 s, 70 s from the first
        parts = _fragments(dgram(ident, sport), 1480)
        cap.add(ETH / parts[0])
        for frag in parts[1:]:
            cap.add(ETH / frag, gap=gap)
    # one datagram's id reused by another flow between the same hosts after completion
    for ident, sport in ((11, 9111), (11, 9112)):
        for frag in _fragments(dgram(ident, sport, 1600), 1480):
            cap.add(ETH / frag)
    # a fragment whose payload is not a multiple of 8 before the last (bad), then the rest
    bad = IP(src=c, dst=s, id=12, proto=17, flags="MF", frag=0) / Raw(
        bytes(UDP(sport=9113, dport=9000, len=8 + 100) / Raw(b"k" * 100))[:13]
    )
    cap.add(ETH / bad)
    cap.add(ETH / IP(src=c, dst=s, id=12, proto=17, frag=13 // 8) / Raw(b"k" * 100))
    return cap


def ipv6_ext(rng: random.Random) -> Cap:
    """IPv6 extension headers before TCP/UDP: hop-by-hop, destination options, routing (type 0
    with addresses, type 2), the Home Address option, fragments (atomic and real, out of order)."""
    cap = Cap()
    c, s = "2001:db8:6::1", "2001:db8:6::2"
    cap.add(
        ETH / IPv6(src=c, dst=s) / IPv6ExtHdrHopByHop() / UDP(sport=6101, dport=53) / Raw(b"h" * 30)
    )
    cap.add(ETH / IPv6(src=s, dst=c) / UDP(sport=53, dport=6101) / Raw(b"h" * 60))
    cap.add(ETH / IPv6(src=c, dst=s) / IPv6ExtHdrDestOpt() / TCP(sport=6102, dport=80, flags="S"))
    cap.add(ETH / IPv6(src=s, dst=c) / TCP(sport=80, dport=6102, flags="SA"))
    cap.add(
        ETH
        / IPv6(src=c, dst=s)
        / IPv6ExtHdrHopByHop()
        / IPv6ExtHdrDestOpt()
        / IPv6ExtHdrFragment(m=0, offset=0, id=77)
        / UDP(sport=6103, dport=9)
        / Raw(b"atomic")
    )
    payload = bytes(UDP(sport=6104, dport=9000) / Raw(b"F" * 3000))
    # scapy computes no UDP checksum over a fragmented payload: take it from the whole packet
    payload = bytes(IPv6(src=c, dst=s) / UDP(sport=6104, dport=9000) / Raw(b"F" * 3000))[40:]
    pieces = [(0, payload[:1448], 1), (1448, payload[1448:2896], 1), (2896, payload[2896:], 0)]
    for off, data, more in (pieces[2], pieces[0], pieces[1]):
        cap.add(
            ETH
            / IPv6(src=c, dst=s)
            / IPv6ExtHdrFragment(nh=17, offset=off // 8, m=more, id=0x1234)
            / Raw(data)
        )
    # routing type 0 via an intermediate: the final destination is the last address
    rt = IPv6ExtHdrRouting(type=0, addresses=["2001:db8:6::99"], segleft=1)
    cap.add(ETH / IPv6(src=c, dst="2001:db8:6::50") / rt / UDP(sport=6105, dport=9) / Raw(b"r0"))
    rt2 = IPv6ExtHdrRouting(type=2, addresses=["2001:db8:6::77"], segleft=1)
    cap.add(ETH / IPv6(src=s, dst=c) / rt2 / UDP(sport=6106, dport=9) / Raw(b"r2"))
    cap.add(
        ETH
        / IPv6(src=c, dst=s)
        / IPv6ExtHdrDestOpt(options=[HAO(hoa="2001:db8:6::88")])
        / UDP(sport=6107, dport=9)
        / Raw(b"hao")
    )
    # the second header of a chain is a fragment header whose datagram never completes
    cap.add(
        ETH
        / IPv6(src=c, dst=s)
        / IPv6ExtHdrHopByHop()
        / IPv6ExtHdrFragment(nh=17, offset=0, m=1, id=5)
        / Raw(payload[:1000])
    )
    return cap


def tunnels(rng: random.Random) -> Cap:
    """Inner connections in every tunnel mcpcap or tshark follows by default."""
    cap = Cap()
    o1, o2 = "192.0.2.1", "192.0.2.2"
    inner_flow = partial(_flow, cap, rng=rng, hosts=TUNNEL_HOSTS)

    outer = ETH / IP(src=o1, dst=o2)
    inner_flow(0, lambda p: outer / GRE(proto=0x0800 if IP in p else 0x86DD) / p)
    inner_flow(
        1,
        lambda p: (
            outer
            / GRE(
                proto=0x0800,
                key_present=1,
                key=99,
                seqnum_present=1,
                sequence_number=5,
                chksum_present=1,
            )
            / p
        ),
    )
    inner_flow(
        2,
        lambda p: (
            outer / GRE(proto=0x6558) / Ether(src="02:00:00:00:01:01", dst="02:00:00:00:01:02") / p
        ),
    )
    inner_flow(3, lambda p: outer / UDP(sport=45000, dport=4789) / VXLAN(vni=1000) / INNER_ETH / p)
    inner_flow(4, lambda p: outer / UDP(sport=45001, dport=8472) / VXLAN(vni=1001) / INNER_ETH / p)
    inner_flow(
        5, lambda p: outer / UDP(sport=45002, dport=6081) / GENEVE(proto=0x6558) / INNER_ETH / p
    )
    inner_flow(6, lambda p: outer / UDP(sport=45003, dport=6081) / GENEVE(proto=0x0800) / p)
    inner_flow(7, lambda p: ETH / IP(src=o1, dst=o2, proto=4) / p)
    inner_flow(8, lambda p: ETH / IP(src=o1, dst=o2, proto=41) / p, v6=True)
    inner_flow(9, lambda p: ETH / IPv6(src="2001:db8:70::1", dst="2001:db8:70::2", nh=4) / p)
    inner_flow(
        10, lambda p: ETH / IPv6(src="2001:db8:70::1", dst="2001:db8:70::2", nh=41) / p, v6=True
    )
    teredo = IP(src=o1, dst=o2) / UDP(sport=3544, dport=51000)
    inner_flow(11, lambda p: ETH / teredo / p, v6=True)
    origin = b"\x00\x00" + b"\xaa\xbb" + bytes(4)  # Teredo origin indication
    inner_flow(
        12,
        lambda p: ETH / IP(src=o2, dst=o1) / UDP(sport=51001, dport=3544) / Raw(origin) / p,
        v6=True,
    )
    inner_flow(13, lambda p: outer / UDP(sport=2152, dport=2152) / GTP_U_Header(teid=77) / p)
    inner_flow(
        14,
        lambda p: (
            outer
            / UDP(sport=45004, dport=4789)
            / VXLAN(vni=7)
            / INNER_ETH
            / IP(src="172.16.0.1", dst="172.16.0.2")
            / GRE()
            / p
        ),
    )
    inner_flow(15, lambda p: outer / GRE(proto=0x8847) / MPLS(label=100, s=1) / p)
    inner_flow(
        16,
        lambda p: (
            ETH
            / Dot1Q(vlan=5)
            / IP(src=o1, dst=o2)
            / UDP(sport=45005, dport=4789)
            / VXLAN(vni=8)
            / INNER_ETH
            / Dot1Q(vlan=6)
            / p
        ),
    )
    # ERSPAN type II (GRE 0x88BE with a sequence number and the 8-byte ERSPAN header)
    erspan = b"\x10\x01\x00\x00\x00\x00\x00\x00"
    inner_flow(
        17,
        lambda p: (
            outer
            / GRE(proto=0x88BE, seqnum_present=1, sequence_number=1)
            / Raw(erspan)
            / INNER_ETH
            / p
        ),
    )
    return cap


def links(rng: random.Random) -> dict[str, bytes]:
    """One small conversation per link layer (each its own file when its link type differs)."""
    files: dict[str, bytes] = {}

    def conv(n: int, wrap: Callable[[Packet], Packet], v6: bool = False) -> Cap:
        cap = Cap()
        a, b = ("2001:db8:8::1", "2001:db8:8::2") if v6 else ("10.8.0.1", "10.8.0.2")
        t = Tcp(cap, a, 20000 + n, b, 443, wrap=wrap, rng=rng)
        t.handshake()
        t.exchange(b"hello", b"world" * 20)
        t.send(0, FIN | ACK)
        t.send(1, FIN | ACK)
        t.send(0, ACK)
        ip = IPv6(src=a, dst=b) if v6 else IP(src=a, dst=b)
        cap.add(wrap(ip / UDP(sport=21000 + n, dport=123) / Raw(b"n" * 48)))
        return cap

    eth_cases = {
        "vlan": lambda p: ETH / Dot1Q(vlan=10) / p,
        "qinq": lambda p: (
            Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
            / Dot1AD(vlan=100)
            / Dot1Q(vlan=10)
            / p
        ),
        "vlan9100": lambda p: (
            Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02", type=0x9100)
            / Dot1Q(vlan=20)
            / p
        ),
        "mpls": lambda p: (
            Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02", type=0x8847)
            / MPLS(label=16, s=0)
            / MPLS(label=17, s=1)
            / p
        ),
        "pppoe": lambda p: (
            Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
            / PPPoE(sessionid=5)
            / PPP(proto=0x0021 if IP in p else 0x0057)
            / p
        ),
        "llcsnap": lambda p: (
            Dot3(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
            / LLC(dsap=0xAA, ssap=0xAA, ctrl=3)
            / SNAP(OUI=0, code=0x0800 if IP in p else 0x86DD)
            / p
        ),
    }
    for n, (name, wrap) in enumerate(eth_cases.items()):
        for v6 in (False, True):
            cap = conv(n * 2 + v6, wrap, v6)
            files[f"link-{name}{'6' if v6 else ''}.pcap"] = pcap_bytes(LT_ETH, cap.frames)

    def ether_type(p: Packet) -> int:
        return 0x0800 if IP in p else 0x86DD

    raw_cases: dict[str, tuple[int, Callable[[Packet], bytes]]] = {
        "sll": (
            LT_SLL,
            lambda p: bytes(
                CookedLinux(
                    pkttype=0,
                    lladdrtype=1,
                    lladdrlen=6,
                    src=b"\x02\0\0\0\0\x01\0\0",
                    proto=ether_type(p),
                )
                / p
            ),
        ),
        "sll2": (
            LT_SLL2,
            lambda p: (
                struct.pack(">HHIHBB8s", ether_type(p), 0, 2, 1, 0, 6, b"\x02\0\0\0\0\x01\0\0")
                + bytes(p)
            ),
        ),
        "raw101": (LT_RAW, bytes),
        "raw12": (LT_RAW12, bytes),
        "raw14": (LT_RAW14, bytes),
        "null-le": (LT_NULL, lambda p: struct.pack("<I", 2 if IP in p else 30) + bytes(p)),
        "null-be": (LT_NULL, lambda p: struct.pack(">I", 2 if IP in p else 24) + bytes(p)),
        "loop": (LT_LOOP, lambda p: struct.pack(">I", 2 if IP in p else 24) + bytes(p)),
        "ppp": (
            LT_PPP,
            lambda p: b"\xff\x03" + struct.pack(">H", 0x21 if IP in p else 0x57) + bytes(p),
        ),
        "ppp-hdlc": (
            LT_PPP_HDLC,
            lambda p: b"\xff\x03" + struct.pack(">H", 0x21 if IP in p else 0x57) + bytes(p),
        ),
        "chdlc": (LT_CHDLC, lambda p: b"\x0f\x00" + struct.pack(">H", ether_type(p)) + bytes(p)),
    }
    for n, (name, (linktype, wrap)) in enumerate(raw_cases.items()):
        for v6 in (False, True):
            cap = conv(40 + n * 2 + v6, lambda p, wrap=wrap: Raw(wrap(p)), v6)
            files[f"link-{name}{'6' if v6 else ''}.pcap"] = pcap_bytes(linktype, cap.frames)
    cap4 = conv(90, bytes)
    files["link-ipv4-228.pcap"] = pcap_bytes(LT_IPV4, [(t, d, o) for t, d, o in cap4.frames])
    cap6 = conv(91, bytes, v6=True)
    files["link-ipv6-229.pcap"] = pcap_bytes(LT_IPV6, cap6.frames)
    cap = conv(92, lambda p: ETH / p)
    files["link-nano.pcap"] = pcap_bytes(LT_ETH, cap.frames, nano=True)
    cap = conv(93, lambda p: ETH / p, v6=True)
    files["link-bigendian.pcap"] = pcap_bytes(LT_ETH, cap.frames, big=True)
    # pcapng: Ethernet, raw IP and SLL interfaces interleaved, one with a small snap length
    eth, raw, sll = (
        conv(94, lambda p: ETH / p),
        conv(95, bytes),
        conv(96, lambda p: Raw(raw_cases["sll"][1](p))),
    )
    mixed = (
        [(0, f) for f in eth.frames] + [(1, f) for f in raw.frames] + [(2, f) for f in sll.frames]
    )
    mixed.sort(key=lambda item: item[1][0])
    files["link-pcapng-multi.pcapng"] = pcapng_bytes(
        [(LT_ETH, 0), (LT_RAW, 0), (LT_SLL, 128)], mixed
    )
    return files


def snaplen(rng: random.Random) -> Cap:
    """Frames cut by a snap length: inside the payload, inside the TCP header, inside IP."""
    cap = Cap()
    c, s = "10.9.0.1", "10.9.0.2"
    t = Tcp(cap, c, 11001, s, 80, rng=rng)
    t.handshake()
    t.send(0, PSH | ACK, b"G" * 1000, snap=96)
    t.send(1, PSH | ACK, b"H" * 1400, snap=64)
    t.send(1, PSH | ACK, b"H" * 1400, snap=54)  # TCP header whole, no payload
    t.send(0, ACK, snap=60)
    t.send(1, PSH | ACK, b"H" * 100, snap=40)  # TCP header cut
    t.send(1, PSH | ACK, b"H" * 100, snap=20)  # IP header cut
    for n in range(3):
        cap.add(
            ETH / IP(src=c, dst=s) / UDP(sport=11002, dport=53) / Raw(b"u" * 500), snap=50 + n * 8
        )
    t6 = Tcp(cap, "2001:db8:9::1", 11003, "2001:db8:9::2", 80, rng=rng)
    t6.handshake()
    t6.send(0, PSH | ACK, b"6" * 1200, snap=80)
    return cap


def checksums_and_tso(rng: random.Random) -> Cap:
    """Wrong IP/TCP/UDP checksums (offload on the capturing host) count; an IP total length of
    0 (TCP segmentation offload) is the captured length, as Zeek and Wireshark read it."""
    cap = Cap()
    c, s = "10.10.0.1", "10.10.0.2"
    t = Tcp(cap, c, 12001, s, 80, wrap=lambda p: ETH / p, rng=rng)
    t.send(0, SYN, chksum=0)
    t.send(1, SYN | ACK, chksum=0xBEEF)
    t.send(0, ACK, chksum=1)
    t.send(0, PSH | ACK, b"d" * 200, chksum=2)
    bad_ip = Tcp(
        cap,
        c,
        12002,
        s,
        80,
        wrap=lambda p: ETH / p.__class__(bytes(p)[:10] + b"\x12\x34" + bytes(p)[12:]),
        rng=rng,
    )
    bad_ip.handshake()
    # TSO: one large segment whose IP total length field is 0
    tso = Tcp(cap, c, 12003, s, 80, rng=rng)
    tso.handshake()
    big = (
        IP(src=c, dst=s, len=0)
        / TCP(sport=12003, dport=80, flags="PA", seq=tso.seq[0], ack=tso.seq[1])
        / Raw(b"L" * 4000)
    )
    raw = bytearray(bytes(ETH / big))
    raw[16:18] = b"\x00\x00"
    cap.add(bytes(raw))
    tso.seq[0] += 4000
    tso.send(1, ACK)
    return cap


def lengths(rng: random.Random) -> Cap:
    """Length fields that disagree with the frame: IPv6 payload length 0 without a Jumbo Payload
    option (and a real jumbogram's option), IPv4 and IPv6 lengths past the frame's end (no snap
    length), a UDP length past the IP payload."""
    cap = Cap()
    c6, s6, c, s = "2001:db8:f::1", "2001:db8:f::2", "10.13.0.1", "10.13.0.2"
    zero = bytearray(bytes(ETH / IPv6(src=c6, dst=s6) / TCP(sport=1, dport=80, flags="PA")
                           / Raw(b"J" * 3000)))  # fmt: skip
    zero[18:20] = b"\0\0"
    cap.add(bytes(zero))
    cap.add(ETH / IPv6(src=s6, dst=c6) / TCP(sport=80, dport=1, flags="A"))
    hop = IPv6ExtHdrHopByHop(options=[Jumbo(jumboplen=8 + 20 + 70000)])
    tcp = TCP(sport=5, dport=80, flags="PA", chksum=0) / Raw(b"j" * 70000)
    cap.add(ETH / IPv6(src=c6, dst=s6, plen=0) / hop / tcp)
    long4 = bytearray(bytes(ETH / IP(src=c, dst=s) / UDP(sport=2, dport=9) / Raw(b"x" * 100)))
    long4[16:18] = (1000).to_bytes(2, "big")
    cap.add(bytes(long4))
    cap.add(ETH / IP(src=s, dst=c) / UDP(sport=9, dport=2) / Raw(b"y"))
    long6 = bytearray(bytes(ETH / IPv6(src=c6, dst=s6) / UDP(sport=3, dport=9) / Raw(b"x" * 100)))
    long6[18:20] = (1000).to_bytes(2, "big")
    cap.add(bytes(long6))
    cap.add(ETH / IPv6(src=s6, dst=c6) / UDP(sport=9, dport=3) / Raw(b"y"))
    # IPsec AH (RFC 4302) before TCP and UDP, in IPv4 and IPv6; ESP hides its transport
    for n, ip in enumerate((IP(src=c, dst=s, proto=51), IPv6(src=c6, dst=s6, nh=51))):
        ah = AH(nh=6, payloadlen=4, spi=1, seq=n, icv=bytes(12))
        cap.add(ETH / ip / ah / TCP(sport=6 + n, dport=80, flags="S"))
        ah = AH(nh=17, payloadlen=4, spi=1, seq=n, icv=bytes(12))
        cap.add(ETH / ip / ah / UDP(sport=8 + n, dport=9) / Raw(b"a" * 20))
    cap.add(ETH / IP(src=c, dst=s, proto=50) / ESP(spi=2, seq=1, data=b"e" * 40))
    cap.add(ETH / IP(src=c, dst=s) / UDP(sport=4, dport=9, len=500) / Raw(b"x" * 20))
    cap.add(ETH / IP(src=s, dst=c) / UDP(sport=9, dport=4) / Raw(b"y"))
    return cap


def hostile(rng: random.Random) -> Cap:
    """Headers that do not add up: every one must give a malformed count, never a traceback."""
    cap = Cap()
    c, s = "10.11.0.1", "10.11.0.2"
    good = bytes(ETH / IP(src=c, dst=s) / TCP(sport=13001, dport=80, flags="S"))
    cases = [
        b"",
        b"\x02",
        good[:14],
        good[:20],
        good[:14] + b"\x44" + good[15:],  # IHL 4
        good[:14] + b"\x4f" + good[15:],  # IHL 15, longer than the packet
        good[:16] + b"\x00\x10" + good[18:],  # total length shorter than the header
        good[:14] + b"\x65" + good[15:],  # IPv6 version under an IPv4 ethertype
        good[:46] + b"\x20" + good[47:],  # TCP data offset 2
        good[:46] + b"\xf0" + good[47:],  # TCP data offset 15, past the end
        bytes(ETH / IP(src=c, dst=s) / UDP(sport=13002, dport=53, len=4) / Raw(b"x" * 10)),
        bytes(ETH / IP(src=c, dst=s) / UDP(sport=13003, dport=53, len=400) / Raw(b"x" * 10)),
        bytes(
            ETH
            / IPv6(src="2001:db8::1", dst="2001:db8::2", plen=8)
            / IPv6ExtHdrHopByHop(len=40)
            / Raw(b"x" * 8)
        ),
        bytes(
            ETH
            / IPv6(src="2001:db8::1", dst="2001:db8::2", plen=2000)
            / UDP(sport=13004, dport=9)
            / Raw(b"x")
        ),
        bytes(
            ETH
            / IP(src=c, dst=s)
            / GRE(proto=0x0800)
            / IP(src=c, dst=s)
            / GRE(proto=0x0800)
            / IP(src=c, dst=s)
            / GRE(proto=0x0800)
            / IP(src=c, dst=s)
            / GRE(proto=0x0800)
            / IP(src=c, dst=s)
            / GRE(proto=0x0800)
            / IP(src=c, dst=s)
            / UDP(sport=13005, dport=9)
        ),
        bytes(ETH / IP(src=c, dst=s) / UDP(sport=13006, dport=4789) / Raw(b"\x08\x00")),
        bytes(ETH / IP(src=c, dst=s) / UDP(sport=13007, dport=6081) / Raw(b"\x3f" + b"\x00" * 3)),
        bytes(ETH / IP(src=c, dst=s) / UDP(sport=3544, dport=13008) / Raw(b"\x00\x01\xff\xff")),
        bytes(ETH / IP(src=c, dst=s, proto=4) / Raw(b"\x45\x00")),
        bytes(ETH / IP(src=c, dst=s) / GRE(proto=0x6558) / Raw(b"\x00" * 5)),
        bytes(
            ETH
            / Dot1Q(vlan=1)
            / Dot1Q(vlan=2)
            / Dot1Q(vlan=3)
            / Dot1Q(vlan=4)
            / Dot1Q(vlan=5)
            / Dot1Q(vlan=6)
            / Dot1Q(vlan=7)
            / Dot1Q(vlan=8)
            / Dot1Q(vlan=9)
            / IP(src=c, dst=s)
            / UDP(sport=13009, dport=9)
        ),
        bytes(
            Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02", type=0x8847)
            / (b"\x00\x00\x00\x00" * 20)
        ),
        bytes(
            Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02", type=0x8864)
            / b"\x11\x00\x00\x05\x00\x02\x00"
        ),
    ]
    for case in cases:
        cap.add(case)
    # a good conversation around them still counts
    t = Tcp(cap, c, 13010, s, 80, rng=rng)
    t.handshake()
    t.exchange()
    return cap


class InnerHosts(NamedTuple):
    """Where `_flow`'s n-th connection lies: address prefixes (the host number is n + 1) and
    the first client ports of its TCP connection and UDP datagram."""

    v4: tuple[str, str]
    v6: tuple[str, str]
    tcp_port: int
    udp_port: int


TUNNEL_HOSTS = InnerHosts(("10.7.0.", "10.7.1."), ("2001:db8:7::", "2001:db8:7:1::"), 30000, 31000)
LINK_HOSTS = InnerHosts(("10.12.0.", "10.12.1."), ("2001:db8:c::", "2001:db8:d::"), 32000, 33000)


def _flow(cap: Cap, n: int, wrap: Callable[[Packet], Packet], rng: random.Random,
          v6: bool = False, hosts: InnerHosts = LINK_HOSTS) -> None:  # fmt: skip
    """A closed TCP connection and one UDP datagram between two inner hosts, each packet
    wrapped by `wrap` (a tunnel or a link layer)."""
    a, b = (f"{prefix}{n + 1:x}" for prefix in hosts.v6) if v6 else (
        f"{prefix}{n + 1}" for prefix in hosts.v4)  # fmt: skip
    t = Tcp(cap, a, hosts.tcp_port + n, b, 80, wrap=wrap, rng=rng)
    t.handshake()
    t.exchange()
    t.send(0, FIN | ACK)
    t.send(1, FIN | ACK)
    t.send(0, ACK)
    ip = IPv6(src=a, dst=b) if v6 else IP(src=a, dst=b)
    cap.add(wrap(ip / UDP(sport=hosts.udp_port + n, dport=53) / Raw(b"dns?" * 5)))


def more_tunnels(rng: random.Random) -> Cap:
    """Tunnels real networks carry beyond the common ones: PPTP (enhanced GRE and PPP), L2TP,
    Ethernet over MPLS with and without the control word, VXLAN over IPv6, GRE over IPv6,
    GTP-U with optional fields, IP-in-IP whose carrier is fragmented."""
    cap = Cap()
    outer = ETH / IP(src="192.0.2.11", dst="192.0.2.12")
    ppp = b"\xff\x03\x00\x21"
    _flow(cap, 0, lambda p: outer / GRE_PPTP(call_id=7, seqnum_present=1, sequence_number=1)
          / Raw(ppp) / p, rng)  # fmt: skip
    _flow(cap, 1, lambda p: outer / UDP(sport=1701, dport=1701) / L2TP(tunnel_id=1, session_id=2)
          / Raw(ppp) / p, rng)  # fmt: skip
    mpls = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02", type=0x8847)
    _flow(cap, 2, lambda p: mpls / MPLS(label=300, s=1) / Raw(bytes(4)) / INNER_ETH / p, rng)
    _flow(cap, 3, lambda p: mpls / MPLS(label=301, s=1) / INNER_ETH / p, rng)
    outer6 = ETH / IPv6(src="2001:db8:e::1", dst="2001:db8:e::2")
    _flow(cap, 4, lambda p: outer6 / UDP(sport=45010, dport=4789) / VXLAN(vni=9) / INNER_ETH / p,
          rng)  # fmt: skip
    _flow(cap, 5, lambda p: outer6 / GRE(proto=0x0800) / p, rng)
    _flow(cap, 6, lambda p: outer / UDP(sport=2152, dport=2152)
          / GTP_U_Header(teid=9, S=1, seq=4) / p, rng)  # fmt: skip
    big = (
        IP(src="192.0.2.11", dst="192.0.2.12", proto=4, id=77)
        / IP(src="10.12.0.90", dst="10.12.1.90")
        / UDP(sport=33090, dport=9)
        / Raw(b"B" * 2500)
    )
    for frag in _fragments(big, 1480):
        cap.add(ETH / frag)
    return cap


def more_links(rng: random.Random) -> dict[str, bytes]:
    """802.11 with radiotap, plain 802.11, pflog, and pcapng files a writer other than
    libpcap makes (nanosecond resolution, a simple packet block)."""
    files: dict[str, bytes] = {}
    llc = LLC(dsap=0xAA, ssap=0xAA, ctrl=3)
    wlan = Dot11(type=2, subtype=8, FCfield=1, addr1="02:00:00:00:00:0a",
                 addr2="02:00:00:00:00:0b", addr3="02:00:00:00:00:0c")  # fmt: skip
    for name, linktype, head in (("radiotap", 127, RadioTap() / wlan / Dot11QoS()),
                                 ("wlan", 105, wlan / Dot11QoS())):  # fmt: skip
        cap = Cap()
        _flow(cap, 10, lambda p, h=head: h / llc / SNAP(code=0x0800) / p, rng)
        files[f"link-{name}.pcap"] = pcap_bytes(linktype, cap.frames)
    cap = Cap()
    _flow(cap, 11, lambda p: PFLog(addrfamily=2, action=0, direction=1) / p, rng)
    files["link-pflog.pcap"] = pcap_bytes(117, cap.frames)
    cap = Cap()
    _flow(cap, 12, lambda p: ETH / p, rng)
    files["link-pcapng-spb.pcapng"] = pcapng_spb(LT_ETH, cap.frames)
    return files


def pcapng_spb(linktype: int, frames: list[Frame]) -> bytes:
    """A pcapng file of simple packet blocks (no timestamps) after a nanosecond interface."""
    out = [_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))]
    tsresol = struct.pack("<HHB3x", 9, 1, 9)  # if_tsresol = 9 (nanoseconds)
    out.append(_block(1, struct.pack("<HHI", linktype, 0, 0) + tsresol + bytes(4)))
    out += [_block(3, struct.pack("<I", len(data)) + data) for _, data, _ in frames]
    return b"".join(out)


FAMILIES: dict[str, Callable[[random.Random], Cap]] = {
    "tcp-states": tcp_states,
    "tcp-odd": tcp_odd,
    "timeouts": timeouts,
    "udp": udp_kinds,
    "icmp": icmp_kinds,
    "frag4": frag4,
    "ipv6-ext": ipv6_ext,
    "tunnels": tunnels,
    "snaplen": snaplen,
    "checksums-tso": checksums_and_tso,
    "lengths": lengths,
    "hostile": hostile,
    "more-tunnels": more_tunnels,
}


def build() -> dict[str, bytes]:
    """Every capture by file name (the same bytes on every run)."""
    rng = random.Random(SEED)
    files = {}
    for name, family in FAMILIES.items():
        cap = family(rng)
        snap = 262144
        files[f"{name}.pcap"] = pcap_bytes(LT_ETH, cap.frames, snaplen=snap)
    files.update(links(rng))
    files.update(more_links(rng))
    return files


def main() -> int:
    out = output_folder("conn", __doc__.splitlines()[0])
    files = build()
    for name, data in files.items():
        (out / name).write_bytes(data)
    print(f"{len(files)} captures in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
