"""Write many small ICMP/ICMPv6 captures, one per case family, for the differential oracle.

Run from the repository root (scapy is in the test extra)::

    python benchmarks/conformance/icmp.py /work/scratch/diff-dhcp/gen-icmp
    python ../shared/tools/module_oracle.py icmp --corpus /work/scratch/diff-dhcp/gen-icmp --show 20

Messages are built with scapy, hostile ones from bytes. Deterministic: fixed addresses, a fixed
seed for identifiers and payloads, a fixed clock. Without an argument the captures go to a temp
directory.
"""

from __future__ import annotations

import random
import struct
import sys
from collections.abc import Callable

from generator_cli import (  # (this folder: first on the path of a script)
    output_folder,
    write_families,
)
from scapy.contrib.geneve import GENEVE
from scapy.contrib.mpls import MPLS
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPerror, TCPerror, UDPerror, fragment
from scapy.layers.inet6 import (
    ICMPv6DestUnreach,
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    ICMPv6MLQuery,
    ICMPv6MLReport,
    ICMPv6MLReport2,
    ICMPv6ND_NA,
    ICMPv6ND_NS,
    ICMPv6ND_RA,
    ICMPv6ND_Redirect,
    ICMPv6ND_RS,
    ICMPv6NDOptDstLLAddr,
    ICMPv6NDOptMTU,
    ICMPv6NDOptPrefixInfo,
    ICMPv6NDOptRDNSS,
    ICMPv6NDOptRedirectedHdr,
    ICMPv6NDOptSrcLLAddr,
    ICMPv6PacketTooBig,
    ICMPv6ParamProblem,
    ICMPv6TimeExceeded,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    RouterAlert,
    fragment6,
    in6_chksum,
)
from scapy.layers.l2 import GRE, CookedLinux, CookedLinuxV2, Dot1Q, Ether, Loopback
from scapy.layers.ppp import PPP, PPPoE
from scapy.layers.vxlan import VXLAN
from scapy.packet import Packet, Padding, Raw
from scapy.utils import checksum, wrpcap

SEED = 792
START = 1_714_554_000.0
HOST, PEER, ROUTER, ROUTER2 = "10.0.0.5", "198.51.100.7", "10.0.0.1", "192.0.2.33"
HOST6, PEER6, ROUTER6 = "2001:db8::5", "2001:db8:ffff::7", "fe80::1"
HOST_MAC, ROUTER_MAC = "02:00:00:00:00:05", "02:00:00:00:00:01"

rng = random.Random(SEED)


class Capture:
    """Frames of one capture, stamped by a clock that moves `gap` seconds per frame."""

    def __init__(self) -> None:
        self.packets: list[Packet] = []
        self.clock = START

    def add(self, pkt: Packet, gap: float = 0.01, src_mac: str = HOST_MAC) -> None:
        self.clock += gap
        frame = Ether(src=src_mac, dst=ROUTER_MAC) / pkt if not isinstance(pkt, Ether) else pkt
        frame.time = self.clock
        self.packets.append(frame)

    def v4(self, src: str, dst: str, icmp: Packet | bytes, gap: float = 0.01, **ip) -> None:
        """An ICMP message (scapy layers, or bytes: then with their own checksum) in IPv4."""
        proto = {"proto": 1} if isinstance(icmp, bytes) else {}
        self.add(IP(src=src, dst=dst, ttl=ip.pop("ttl", 64), **proto, **ip) / icmp, gap)

    def v6(self, src: str, dst: str, icmp: Packet | bytes, gap: float = 0.01, **ip) -> None:
        """An ICMPv6 message in IPv6; bytes get their checksum here (it covers the addresses)."""
        header = IPv6(src=src, dst=dst, hlim=ip.pop("hlim", 64), **ip)
        if isinstance(icmp, bytes):
            header.nh = 58
            total = in6_chksum(58, header, icmp)
            icmp = icmp[:2] + struct.pack("!H", total) + icmp[4:]
        self.add(header / icmp, gap)


def data(n: int) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(n))


def raw_icmp(kind: int, code: int, rest: bytes, body: bytes = b"", good: bool = True) -> bytes:
    """An ICMPv4 message from bytes, with its checksum right (or wrong when `good` is False)."""
    head = bytes((kind, code)) + b"\0\0" + rest
    total = checksum(head + body)
    return head[:2] + struct.pack("!H", total if good else total ^ 0x5A5A) + head[4:] + body


# ------------------------------------------------------------------ ICMPv4 echo
def v4_echo(c: Capture) -> None:
    ident = rng.getrandbits(16)
    for seq in range(5):  # plain pairs
        body = data(32)
        c.v4(HOST, PEER, ICMP(type=8, id=ident, seq=seq) / body, gap=1)
        c.v4(PEER, HOST, ICMP(type=0, id=ident, seq=seq) / body, gap=0.02)
    for seq in range(3):  # lost
        c.v4(HOST, PEER, ICMP(type=8, id=ident, seq=100 + seq) / data(8), gap=1)
    # a reply with no request, a duplicated reply, a duplicated request answered once
    c.v4(PEER, HOST, ICMP(type=0, id=ident, seq=999) / data(8))
    body = data(16)
    c.v4(HOST, PEER, ICMP(type=8, id=ident, seq=200) / body)
    c.v4(PEER, HOST, ICMP(type=0, id=ident, seq=200) / body)
    c.v4(PEER, HOST, ICMP(type=0, id=ident, seq=200) / body)
    c.v4(HOST, PEER, ICMP(type=8, id=ident, seq=201) / body)
    c.v4(HOST, PEER, ICMP(type=8, id=ident, seq=201) / body)
    c.v4(PEER, HOST, ICMP(type=0, id=ident, seq=201) / body)
    # the same id/seq reused later (a new ping run) and by another host
    for src in (HOST, "10.0.0.6"):
        c.v4(src, PEER, ICMP(type=8, id=ident, seq=0) / b"again", gap=2)
        c.v4(PEER, src, ICMP(type=0, id=ident, seq=0) / b"again")
    # requests with the same id/seq and different data, answered in reverse order
    c.v4(HOST, PEER, ICMP(type=8, id=7, seq=7) / b"first")
    c.v4(HOST, PEER, ICMP(type=8, id=7, seq=7) / b"second")
    c.v4(PEER, HOST, ICMP(type=0, id=7, seq=7) / b"second")
    c.v4(PEER, HOST, ICMP(type=0, id=7, seq=7) / b"first")
    # a reply from another address than the one pinged (anycast, a NAT): no pair
    c.v4(HOST, PEER, ICMP(type=8, id=8, seq=1) / b"x")
    c.v4("198.51.100.8", HOST, ICMP(type=0, id=8, seq=1) / b"x")
    # a broadcast ping answered by two hosts
    c.v4(HOST, "10.0.0.255", ICMP(type=8, id=9, seq=1) / b"b")
    c.v4("10.0.0.7", HOST, ICMP(type=0, id=9, seq=1) / b"b")
    c.v4("10.0.0.8", HOST, ICMP(type=0, id=9, seq=1) / b"b")
    # bad checksums: on the request, on the reply
    c.v4(HOST, PEER, raw_icmp(8, 0, struct.pack("!HH", 10, 1), b"cksum", good=False))
    c.v4(PEER, HOST, raw_icmp(0, 0, struct.pack("!HH", 10, 1), b"cksum"))
    c.v4(HOST, PEER, raw_icmp(8, 0, struct.pack("!HH", 10, 2), b"cksum"))
    c.v4(PEER, HOST, raw_icmp(0, 0, struct.pack("!HH", 10, 2), b"cksum", good=False))
    # a reply whose data differs from the request's (a broken middlebox)
    c.v4(HOST, PEER, ICMP(type=8, id=11, seq=1) / b"asked")
    c.v4(PEER, HOST, ICMP(type=0, id=11, seq=1) / b"other")
    # Ethernet padding after short echoes (other bytes each way) is not their data
    for payload, pad in ((b"", b"\xaa" * 18), (b"z", b"\xbb" * 17)):
        c.v4(HOST, PEER, ICMP(type=8, id=13, seq=1) / payload / Padding(pad))
    c.v4(PEER, HOST, ICMP(type=0, id=13, seq=1) / Padding(b"\x55" * 18))
    # echo with code 1, a 4-byte and a 6-byte echo (no id/seq or half), zero-length data
    c.v4(HOST, PEER, ICMP(type=8, code=1, id=12, seq=1))
    c.v4(PEER, HOST, ICMP(type=0, code=1, id=12, seq=1))
    c.v4(HOST, PEER, raw_icmp(8, 0, b""))
    c.v4(HOST, PEER, raw_icmp(8, 0, b"\0\x0d"))


def v4_other_queries(c: Capture) -> None:
    c.v4(HOST, PEER, ICMP(type=13, id=1, seq=1, ts_ori=1, ts_rx=0, ts_tx=0))
    c.v4(PEER, HOST, ICMP(type=14, id=1, seq=1, ts_ori=1, ts_rx=2, ts_tx=3))
    c.v4(HOST, PEER, ICMP(type=17, id=2, seq=1) / b"\0\0\0\0")
    c.v4(PEER, HOST, ICMP(type=18, id=2, seq=1) / b"\xff\xff\xff\0")
    c.v4(HOST, PEER, ICMP(type=15, id=3, seq=1))
    c.v4(ROUTER, "224.0.0.1", raw_icmp(9, 0, b"\x01\x02\x07\x08", bytes(8)))  # router adv
    c.v4(HOST, "224.0.0.2", raw_icmp(10, 0, bytes(4)))  # router solicitation
    c.v4(HOST, PEER, raw_icmp(42, 0, struct.pack("!HBB", 5, 1, 1), b"\0\x08\x02\x01" + bytes(4)))
    c.v4(PEER, HOST, raw_icmp(43, 0, struct.pack("!HBB", 5, 1, 0xA0)))
    c.v4(HOST, PEER, raw_icmp(77, 3, bytes(4), b"unknown"))


# ------------------------------------------------------------------ ICMPv4 errors
def quote_udp(src=HOST, dst=PEER, sport=40000, dport=33434, payload=b"x" * 12) -> Packet:
    return (
        IPerror(src=src, dst=dst, ttl=1, id=rng.getrandbits(16))
        / UDPerror(sport=sport, dport=dport)
        / payload
    )


def quote_tcp(src=HOST, dst=PEER, sport=40001, dport=443) -> Packet:
    return IPerror(src=src, dst=dst) / TCPerror(sport=sport, dport=dport, flags="S", seq=1)


def v4_unreachable(c: Capture) -> None:
    for code in range(16):
        quoted = quote_udp(dport=53 + code) if code % 2 else quote_tcp(dport=8000 + code)
        c.v4(ROUTER, HOST, ICMP(type=3, code=code) / quoted)
    c.v4(ROUTER, HOST, ICMP(type=3, code=4, nexthopmtu=1400) / quote_tcp())
    # quoting ICMP (an echo request that could not be delivered)
    c.v4(ROUTER, HOST, ICMP(type=3, code=1) / IPerror(src=HOST, dst=PEER) / ICMP(type=8, id=5))
    # quoting SCTP, GRE and an unknown protocol
    c.v4(ROUTER, HOST, ICMP(type=3, code=2) / IPerror(src=HOST, dst=PEER, proto=132) /
         struct.pack("!HHI", 5000, 38412, 1))  # fmt: skip
    c.v4(ROUTER, HOST, ICMP(type=3, code=2) / IPerror(src=HOST, dst=PEER, proto=47) / bytes(8))
    c.v4(ROUTER, HOST, ICMP(type=3, code=2) / IPerror(src=HOST, dst=PEER, proto=253) / bytes(8))
    # quoted IP header with options, quoting a later fragment (no transport header)
    c.v4(ROUTER, HOST, ICMP(type=3, code=3) / IPerror(src=HOST, dst=PEER, options=b"\x01" * 4)
         / UDPerror(sport=1, dport=2))  # fmt: skip
    c.v4(ROUTER, HOST, ICMP(type=3, code=3) / IPerror(src=HOST, dst=PEER, proto=17, frag=100)
         / bytes(8))  # fmt: skip
    # the whole original datagram quoted (RFC 1812: as much as fits in 576)
    c.v4(ROUTER, HOST, ICMP(type=3, code=3) / quote_udp(payload=data(500)))


def v4_time_exceeded(c: Capture) -> None:
    """A UDP traceroute: three probes per TTL, hops answering time exceeded, then the target."""
    hops = [ROUTER, "203.0.113.1", "203.0.113.9", PEER]
    port = 33434
    for ttl, hop in enumerate(hops, start=1):
        for _ in range(3):
            probe = IP(src=HOST, dst=PEER, ttl=ttl, id=rng.getrandbits(16)) / UDP(
                sport=50000, dport=port) / bytes(24)  # fmt: skip
            c.add(probe, gap=0.05)
            quoted = IPerror(bytes(probe))
            quoted.ttl = 1
            kind, code = (3, 3) if hop == PEER else (11, 0)
            c.v4(hop, HOST, ICMP(type=kind, code=code) / quoted)
            port += 1
    # ICMP traceroute (echo with rising TTL) and a reassembly time exceeded
    for ttl in (1, 2):
        probe = IP(src=HOST, dst=PEER, ttl=ttl) / ICMP(type=8, id=77, seq=ttl) / b"tr"
        c.add(probe)
        c.v4(hops[ttl - 1], HOST, ICMP(type=11, code=0) / IPerror(bytes(probe)))
    c.v4(PEER, HOST, ICMP(type=11, code=1) / IPerror(src=HOST, dst=PEER, flags="MF") /
         UDPerror(sport=9, dport=10))  # fmt: skip


def v4_redirect_paramprob(c: Capture) -> None:
    for code in range(4):
        c.v4(ROUTER, HOST, ICMP(type=5, code=code, gw=ROUTER2) / quote_tcp(dport=80 + code))
    c.v4(ROUTER, HOST, ICMP(type=12, code=0, ptr=20) / quote_udp())
    c.v4(ROUTER, HOST, ICMP(type=12, code=1) / quote_tcp())
    c.v4(ROUTER, HOST, ICMP(type=12, code=2) / quote_udp())
    c.v4(ROUTER, HOST, ICMP(type=4, code=0) / quote_tcp())  # source quench


def v4_cut_short(c: Capture) -> None:
    full = bytes(quote_tcp())
    for size in (0, 8, 19, 20, 22, 24, 28):  # nothing, part of the IP header, part of TCP's
        c.v4(ROUTER, HOST, raw_icmp(3, 3, bytes(4), full[:size]))
    quoted = bytes(quote_udp())
    c.v4(ROUTER, HOST, raw_icmp(11, 0, bytes(4), quoted[:27]))
    # an IHL that claims more than is there, an IHL under 5, a version that is not 4 or 6
    bad_ihl = bytes((0x4F,)) + full[1:24]
    c.v4(ROUTER, HOST, raw_icmp(3, 1, bytes(4), bad_ihl))
    c.v4(ROUTER, HOST, raw_icmp(3, 1, bytes(4), bytes((0x43,)) + full[1:28]))
    c.v4(ROUTER, HOST, raw_icmp(3, 1, bytes(4), bytes((0x55,)) + full[1:28]))
    # an error quoting an error, an ICMP message of 2 and 6 bytes
    c.v4(ROUTER, HOST, ICMP(type=3, code=1) / IPerror(src=HOST, dst=PEER) / ICMP(type=3) /
         IPerror(src=PEER, dst=HOST) / UDPerror(sport=1, dport=2))  # fmt: skip
    c.v4(ROUTER, HOST, b"\x03\x03")
    c.v4(ROUTER, HOST, b"\x03\x03\0\0\0\0")
    # quoting IPv6 inside an IPv4 error (6in4 tunnel)
    inner = IPv6(src=HOST6, dst=PEER6) / UDP(sport=5, dport=6) / b"q"
    c.v4(ROUTER, HOST, ICMP(type=3, code=3) / IPerror(src=HOST, dst=PEER, proto=41) / inner)


def v4_extensions(c: Capture) -> None:
    """RFC 4884 length attribute and an RFC 5837 interface information object."""
    quoted = bytes(quote_udp(payload=bytes(100)))[:128]
    iio = struct.pack("!HBB", 12, 2, 0x0C) + struct.pack("!I", 7) + bytes((4, 0)) + b"eth"
    ext = struct.pack("!BBH", 0x20, 0, 0) + iio
    ext = ext[:2] + struct.pack("!H", checksum(ext)) + ext[4:]
    rest = struct.pack("!BBH", 0, len(quoted) // 4, 0)
    c.v4(ROUTER, HOST, raw_icmp(11, 0, rest, quoted + ext))
    c.v4(ROUTER, HOST, raw_icmp(3, 3, rest, quoted + ext))
    # a length attribute that claims more than is there
    c.v4(ROUTER, HOST, raw_icmp(3, 3, struct.pack("!BBH", 0, 200, 0), quoted[:64]))


# ------------------------------------------------------------------ ICMPv6
def v6_echo(c: Capture) -> None:
    for seq in range(4):
        body = data(24)
        c.v6(HOST6, PEER6, ICMPv6EchoRequest(id=0x66, seq=seq, data=body), gap=1)
        if seq != 2:
            c.v6(PEER6, HOST6, ICMPv6EchoReply(id=0x66, seq=seq, data=body))
    c.v6(PEER6, HOST6, ICMPv6EchoReply(id=0x66, seq=77, data=b"nobody asked"))
    body = b"dup"
    c.v6(HOST6, PEER6, ICMPv6EchoRequest(id=0x67, seq=1, data=body))
    c.v6(PEER6, HOST6, ICMPv6EchoReply(id=0x67, seq=1, data=body))
    c.v6(PEER6, HOST6, ICMPv6EchoReply(id=0x67, seq=1, data=body))
    # to a multicast group, two answers; with a hop-by-hop header
    c.v6(HOST6, "ff02::1", ICMPv6EchoRequest(id=0x68, seq=1))
    c.v6("fe80::7", HOST6, ICMPv6EchoReply(id=0x68, seq=1))
    c.v6("fe80::8", HOST6, ICMPv6EchoReply(id=0x68, seq=1))
    c.v6(HOST6, PEER6, IPv6ExtHdrHopByHop() / ICMPv6EchoRequest(id=0x69, seq=1))
    c.v6(PEER6, HOST6, ICMPv6EchoReply(id=0x69, seq=1))


def quote6_udp(sport=40000, dport=33434) -> Packet:
    return IPv6(src=HOST6, dst=PEER6, hlim=1) / UDP(sport=sport, dport=dport) / (b"y" * 8)


def v6_errors(c: Capture) -> None:
    for code in range(8):
        quoted = quote6_udp(dport=100 + code) if code % 2 else IPv6(src=HOST6, dst=PEER6) / TCP(
            sport=40001, dport=200 + code)  # fmt: skip
        c.v6(ROUTER6, HOST6, ICMPv6DestUnreach(code=code) / quoted)
    c.v6(ROUTER6, HOST6, ICMPv6PacketTooBig(mtu=1280) / IPv6(src=HOST6, dst=PEER6) /
         TCP(sport=40001, dport=443) / bytes(1200))  # fmt: skip
    c.v6(ROUTER6, HOST6, ICMPv6TimeExceeded(code=0) / quote6_udp())
    c.v6(ROUTER6, HOST6, ICMPv6TimeExceeded(code=1) / IPv6(src=HOST6, dst=PEER6) /
         IPv6ExtHdrFragment(offset=0, m=1, id=5) / UDP(sport=7, dport=8))  # fmt: skip
    for code in range(4):
        c.v6(ROUTER6, HOST6, ICMPv6ParamProblem(code=code, ptr=40) / quote6_udp())
    # quoting ICMPv6, extension headers, a later fragment, cut short
    c.v6(ROUTER6, HOST6, ICMPv6DestUnreach(code=3) / IPv6(src=HOST6, dst=PEER6) /
         ICMPv6EchoRequest(id=1, seq=1))  # fmt: skip
    c.v6(ROUTER6, HOST6, ICMPv6DestUnreach(code=4) / IPv6(src=HOST6, dst=PEER6) /
         IPv6ExtHdrHopByHop() / UDP(sport=11, dport=12))  # fmt: skip
    c.v6(ROUTER6, HOST6, ICMPv6DestUnreach(code=4) / IPv6(src=HOST6, dst=PEER6) /
         IPv6ExtHdrFragment(offset=100, m=0, id=6, nh=17) / bytes(8))  # fmt: skip
    full = bytes(quote6_udp())
    for size in (10, 40, 44, 48):
        c.v6(ROUTER6, HOST6, ICMPv6DestUnreach(code=4) / Raw(full[:size]))
    c.v6(ROUTER6, HOST6, ICMPv6DestUnreach(code=4) / IPv6(src=HOST6, dst=PEER6) /
         ICMPv6DestUnreach() / quote6_udp())  # fmt: skip


def v6_neighbour_discovery(c: Capture) -> None:
    c.v6("fe80::5", "ff02::2", ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr=HOST_MAC), hlim=255)
    c.v6(ROUTER6, "ff02::1", ICMPv6ND_RA(routerlifetime=1800) /
         ICMPv6NDOptSrcLLAddr(lladdr=ROUTER_MAC) / ICMPv6NDOptMTU(mtu=1500) /
         ICMPv6NDOptPrefixInfo(prefix="2001:db8::", prefixlen=64) /
         ICMPv6NDOptPrefixInfo(prefix="2001:db8:1::", prefixlen=64, A=0) /
         ICMPv6NDOptRDNSS(dns=["2001:db8::53"]), hlim=255)  # fmt: skip
    c.v6("fe80::5", "ff02::1:ff00:7", ICMPv6ND_NS(tgt="fe80::7") /
         ICMPv6NDOptSrcLLAddr(lladdr=HOST_MAC), hlim=255)  # fmt: skip
    c.v6("fe80::7", "fe80::5", ICMPv6ND_NA(tgt="fe80::7", R=0, S=1, O=1) /
         ICMPv6NDOptDstLLAddr(lladdr="02:00:00:00:00:07"), hlim=255)  # fmt: skip
    c.v6("::", "ff02::1:ff00:9", ICMPv6ND_NS(tgt="2001:db8::9"), hlim=255)  # DAD
    c.v6("fe80::9", "ff02::1", ICMPv6ND_NA(tgt="2001:db8::9", S=0), hlim=255)
    c.v6(ROUTER6, "fe80::5", ICMPv6ND_Redirect(tgt="fe80::2", dst=PEER6) /
         ICMPv6NDOptDstLLAddr(lladdr="02:00:00:00:00:02") /
         ICMPv6NDOptRedirectedHdr(pkt=bytes(quote6_udp())), hlim=255)  # fmt: skip
    # MLD: query, v1 report, v2 report, done
    c.v6(ROUTER6, "ff02::1", ICMPv6MLQuery(), hlim=1)
    c.v6("fe80::5", "ff02::fb", ICMPv6MLReport(mladdr="ff02::fb"), hlim=1)
    c.v6("fe80::5", "ff02::16", ICMPv6MLReport2(), hlim=1)
    c.v6("fe80::5", "ff02::2", raw6(132, 0, bytes(4) + bytes(16)), hlim=1)
    # as sent: behind a hop-by-hop header with a router alert (RFC 2711), and a fragment of NS
    alert = IPv6ExtHdrHopByHop(options=[RouterAlert()])
    c.v6("fe80::5", "ff02::16", alert / ICMPv6MLReport2(), hlim=1)
    c.v6(ROUTER6, "ff02::1", alert / ICMPv6MLQuery(), hlim=1)
    c.v6("fe80::5", "ff02::1", IPv6ExtHdrDestOpt() / ICMPv6ND_NS(tgt="fe80::7"), hlim=255)
    # hostile: option of length 0, option past the end, NS shorter than its target
    c.v6("fe80::5", "ff02::1", raw6(135, 0, bytes(4) + bytes(16) + b"\x01\x00" + bytes(6)))
    c.v6("fe80::5", "ff02::1", raw6(135, 0, bytes(4) + bytes(16) + b"\x01\x04" + bytes(6)))
    c.v6("fe80::5", "ff02::1", raw6(135, 0, bytes(4) + bytes(6)))
    c.v6("fe80::5", "ff02::1", raw6(134, 0, bytes(12) + (b"\x03\x01" + bytes(6)) * 40))


def raw6(kind: int, code: int, rest: bytes) -> bytes:
    """ICMPv6 bytes; scapy's IPv6 layer fills in the checksum only for its own ICMPv6 layers."""
    return bytes((kind, code)) + b"\0\0" + rest


def v4_tunnels_fragments(c: Capture) -> None:
    """ICMP inside VLAN, GRE, IP-in-IP, VXLAN and 6in4, and fragmented ICMP messages."""
    wraps: list[Callable[[Packet], Packet]] = [
        lambda p: Dot1Q(vlan=10) / p,
        lambda p: IP(src="192.0.2.1", dst="192.0.2.2") / GRE() / p,
        lambda p: IP(src="192.0.2.1", dst="192.0.2.2") / p,
        lambda p: IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=5000, dport=4789) / VXLAN()
        / Ether(src=HOST_MAC, dst=ROUTER_MAC) / p,
        lambda p: PPPoE(sessionid=7) / PPP(proto=0x0021) / p,
        lambda p: MPLS(label=100, s=0) / MPLS(label=200, s=1) / p,
        lambda p: IP(src="192.0.2.1", dst="192.0.2.2") / GRE(key_present=1, key=9) / p,
        lambda p: IPv6(src="2001:db8:9::1", dst="2001:db8:9::2") / p,
        lambda p: IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=5001, dport=6081) / GENEVE(
            proto=0x0800) / p,
    ]  # fmt: skip
    for n, wrap in enumerate(wraps):
        body = data(20)
        for pkt in (IP(src=HOST, dst=PEER) / ICMP(type=8, id=300 + n, seq=1) / body,
                    IP(src=PEER, dst=HOST) / ICMP(type=0, id=300 + n, seq=1) / body,
                    IP(src=ROUTER, dst=HOST) / ICMP(type=3, code=3) / quote_udp()):  # fmt: skip
            link = Ether(src=HOST_MAC, dst=ROUTER_MAC)
            ethertype = {PPPoE: 0x8864, MPLS: 0x8847}.get(type(wrap(IP())))
            if ethertype:
                link.type = ethertype
            c.add(link / wrap(pkt))
    c.add(IP(src="192.0.2.1", dst="192.0.2.2") / IPv6(src=HOST6, dst=PEER6) /
          ICMPv6EchoRequest(id=5, seq=5))  # fmt: skip
    # a 3000-byte echo in fragments (IPv4), and its reply; a fragmented ICMPv6 echo
    body = data(3000)
    for kind in (8, 0):
        src, dst = (HOST, PEER) if kind == 8 else (PEER, HOST)
        for piece in fragment(IP(src=src, dst=dst, id=4242 + kind) / ICMP(
                type=kind, id=400, seq=1) / body, fragsize=1480):  # fmt: skip
            c.add(piece)
    big = IPv6(src=HOST6, dst=PEER6) / IPv6ExtHdrFragment(id=99) / ICMPv6EchoRequest(
        id=401, seq=1, data=data(2000))  # fmt: skip
    for piece in fragment6(big, 1280):
        c.add(piece)
    # fragments out of order, and one that never completes
    pieces = fragment(IP(src=HOST, dst=PEER, id=4300) / ICMP(type=8, id=402, seq=1) / body,
                      fragsize=1480)  # fmt: skip
    for piece in reversed(pieces):
        c.add(piece)
    c.add(pieces[0].copy())
    c.packets[-1][IP].id = 4301


FAMILIES: dict[str, Callable[[Capture], None]] = {
    "v4-echo": v4_echo, "v4-other-queries": v4_other_queries, "v4-unreachable": v4_unreachable,
    "v4-time-exceeded": v4_time_exceeded, "v4-redirect-paramprob": v4_redirect_paramprob,
    "v4-cut-short": v4_cut_short, "v4-extensions": v4_extensions, "v6-echo": v6_echo,
    "v6-errors": v6_errors, "v6-neighbour-discovery": v6_neighbour_discovery,
    "tunnels-fragments": v4_tunnels_fragments,
}  # fmt: skip


# link type -> the link layer that replaces Ethernet (None: the IP packet alone)
LINKS: dict[int, Callable[[Packet], Packet] | None] = {
    101: None,  # raw IP
    0: lambda p: Loopback(type=2 if isinstance(p, IP) else 30) / p,  # BSD null
    113: lambda p: CookedLinux(pkttype=0, lladdrtype=1, src=b"\2\0\0\0\0\5\0\0") / p,
    276: lambda p: CookedLinuxV2(pkttype=0, lladdrtype=1, ifindex=2) / p,
}


def relinked(packets: list[Packet], linktype: int) -> list[Packet]:
    """The same IP packets on another link layer (the echo families over every link type)."""
    out = []
    for frame in packets:
        packet = frame.payload.copy()
        while not isinstance(packet, (IP, IPv6)):
            packet = packet.payload.copy()  # drop VLAN tags
        link = LINKS[linktype]
        packet = Raw(bytes(packet)) if link is None else link(packet)
        packet.time = frame.time
        out.append(packet)
    return out


def main() -> int:
    out = output_folder("icmp", __doc__.splitlines()[0])
    write_families(out, "icmp", FAMILIES, Capture)
    rng.seed(SEED)
    capture = Capture()
    for build in (v4_echo, v6_echo, v4_unreachable, v6_errors):
        build(capture)
    for linktype in LINKS:
        packets = relinked(capture.packets, linktype)
        wrpcap(str(out / f"icmp-link-{linktype}.pcap"), packets, linktype=linktype)
        print(f"link-{linktype}: {len(packets)} frames")
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
