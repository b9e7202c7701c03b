"""DNS conformance captures: many small, varied captures to compare against tshark.

    python benchmarks/conformance/dns.py [OUT_DIR]          (default: a new temp folder)
    PATH=$PWD/.venv/bin:$PATH python ../shared/tools/dns_oracle.py --corpus OUT_DIR --show 20

One capture per case family (RR types in every section, names and compression pointers,
header oddities, opcodes and rcodes, mDNS/LLMNR, transports, IP fragments, link types, file
formats, seeded random mutations). Everything is deterministic: fixed addresses, ids, clock
and random seed, so two runs write identical bytes. Hostile cases are there to show that a
bad message gives a malformed count, never a traceback or a hang.

The oracle's JSON reader is strict UTF-8: tshark prints the mutated names of
17-mutations.pcap as bytes that are not, so run it on that file with a copy whose
`subprocess.run` calls pass `errors="replace"`.

Differences that remain, and why (each where tshark departs from an RFC or the oracle cannot
tell, or a choice of ours):
- A/AAAA/CNAME RDATA of the wrong length or a name running past RDLENGTH (05, 31, 08):
  tshark reads past the RDATA; we print RFC 3597 `\\# n hex` and count bad_rdata
  (RFC 1035 3.2.1, 3.4.1; RFC 3596 2.2).
- A pointer to a name whose first label starts with a NUL byte (07): tshark prints the root;
  RFC 2181 11 allows any octet in a label.
- A label holding a backslash and digits (07): tshark prints it unescaped, the oracle then
  reads `\\065` as an escape; we escape the backslash (RFC 1035 5.1).
- UPDATE prerequisites/deletions without RDATA (10): we print "", tshark no address; the oracle
  compares A/AAAA data whenever we have a record (RFC 2136 2.4, 2.5).
- Lone DNS messages on ports no one registered (19): tshark's heuristic takes them; we count
  DNS on another port only once its server answered a query there (a design choice).
- GTP-U (18, frame 9): the decapsulator does not open GTP-U tunnels (UDP 2152).
- pcapng custom blocks (29c): Wireshark numbers them as frames, our reader skips them.
"""

from __future__ import annotations

import random
import socket
import struct
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from generator_cli import output_folder  # (this folder: first on the path of a script)

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path[0] = str(ROOT)  # not this folder: its dns.py must not shadow a `dns` package

from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.inet6 import (  # noqa: E402
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
)
from scapy.layers.l2 import Dot1Q, Ether  # noqa: E402
from scapy.packet import Packet, Raw  # noqa: E402

from tests.fixtures.packets import (  # noqa: E402
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
    Clock,
    Frame,
    Interface,
    TcpFlow,
    encode_labels,
    encode_name,
    gzip_bytes,
    pcap_bytes,
    pcapng_bytes,
    raw_question,
    raw_rr,
    tcp_framed,
    write_file,
)

SEED = 1035
C4, S4 = "192.0.2.10", "192.0.2.53"
C6, S6 = "2001:db8::10", "2001:db8::53"
MDNS4, MDNS6 = "224.0.0.251", "ff02::fb"
LLMNR4 = "224.0.0.252"
CMAC, SMAC = "02:00:00:00:00:10", "02:00:00:00:00:53"
QUERY, RESPONSE, AA_RESPONSE = 0x0100, 0x8180, 0x8580

IN, CH, HS, NONE, ANY = 1, 3, 4, 254, 255


# ------------------------------------------------------------------------------- wire helpers
def nm(text: str) -> bytes:
    """An uncompressed name from dotted text ('' or '.' is the root)."""
    return encode_name(text)


def u16(value: int) -> bytes:
    return struct.pack(">H", value)


def u32(value: int) -> bytes:
    return struct.pack(">I", value)


def q(name: bytes, qtype: int, qclass: int = IN) -> bytes:
    return raw_question(name, qtype, qclass)


def rr(name: bytes, rtype: int, rdata: bytes, ttl: int = 300, rclass: int = IN) -> bytes:
    return raw_rr(name, rtype, rclass, ttl, rdata)


def msg(
    qid: int,
    flags: int,
    qd: Sequence[bytes] = (),
    an: Sequence[bytes] = (),
    ns: Sequence[bytes] = (),
    ar: Sequence[bytes] = (),
    *,
    counts: tuple[int, int, int, int] | None = None,
    tail: bytes = b"",
) -> bytes:
    """A message from raw sections; `counts` overrides the header counts, `tail` is appended."""
    real = (len(qd), len(an), len(ns), len(ar))
    header = struct.pack(">HH4H", qid, flags, *(counts or real))
    return header + b"".join([*qd, *an, *ns, *ar]) + tail


def a(addr: str) -> bytes:
    return socket.inet_aton(addr)


def aaaa(addr: str) -> bytes:
    return socket.inet_pton(socket.AF_INET6, addr)


def cstr(*texts: bytes) -> bytes:
    """<character-string>s (RFC 1035 3.3): one length byte each."""
    return b"".join(bytes([len(t)]) + t for t in texts)


def bitmap(*types: int) -> bytes:
    """An NSEC/NSEC3/CSYNC type bitmap (RFC 4034 4.1.2)."""
    windows: dict[int, bytearray] = {}
    for t in sorted(types):
        block = windows.setdefault(t >> 8, bytearray(32))
        block[(t & 0xFF) // 8] |= 0x80 >> (t % 8)
    out = b""
    for window, block in sorted(windows.items()):
        used = max(i for i, b in enumerate(block) if b) + 1
        out += bytes([window, used]) + bytes(block[:used])
    return out


def svc_params(*params: tuple[int, bytes]) -> bytes:
    return b"".join(u16(k) + u16(len(v)) + v for k, v in params)


def opt_rr(
    options: Sequence[tuple[int, bytes]] = (),
    *,
    size: int = 1232,
    ext_rcode: int = 0,
    version: int = 0,
    do: bool = False,
    owner: bytes = b"\0",
) -> bytes:
    ttl = (ext_rcode << 24) | (version << 16) | (0x8000 if do else 0)
    data = b"".join(u16(c) + u16(len(v)) + v for c, v in options)
    return raw_rr(owner, 41, size, ttl, data)


# ---------------------------------------------------------------------------- capture builder
class Capture:
    """Frames of one capture file on one link type; `wrap` puts an IP packet on that link."""

    def __init__(self, linktype: int = LINKTYPE_ETHERNET, wrap: Callable | None = None) -> None:
        self.linktype = linktype
        self.wrap = wrap or ether_wrap
        self.clock = Clock()
        self.frames: list[Frame] = []
        self.ip_id = 0x100

    def raw(self, data: bytes, *, iface: int = 0, orig_len: int | None = None) -> None:
        ts = self.clock.advance(ms=1)
        self.frames.append(Frame(ts, bytes(data), iface=iface, orig_len=orig_len))

    def ip(self, pkt: Packet | bytes, **kw) -> None:
        self.raw(self.wrap(bytes(pkt)), **kw)

    def udp(
        self,
        payload: bytes,
        *,
        sport: int = 33000,
        dport: int = 53,
        src: str = C4,
        dst: str = S4,
        **kw,
    ) -> None:
        self.ip_id += 1
        self.ip(udp_ip(src, dst, sport, dport, payload, self.ip_id), **kw)

    def exchange(self, query: bytes, response: bytes, *, port: int = 53, v6: bool = False) -> None:
        """A query from the client and its response from the server, over UDP."""
        client, server = (C6, S6) if v6 else (C4, S4)
        self.udp(query, sport=40000 + len(self.frames), dport=port, src=client, dst=server)
        self.udp(response, sport=port, dport=40000 + len(self.frames) - 1, src=server, dst=client)

    def pcap(self, **kw) -> bytes:
        return pcap_bytes(self.frames, self.linktype, **kw)


def udp_ip(src: str, dst: str, sport: int, dport: int, payload: bytes, ip_id: int = 1) -> Packet:
    udp = UDP(sport=sport, dport=dport) / Raw(payload)
    if ":" in src:
        return IPv6(src=src, dst=dst, hlim=64) / udp
    return IP(src=src, dst=dst, id=ip_id, ttl=64) / udp


def ether_wrap(data: bytes) -> bytes:
    kind = 0x86DD if data[0] >> 4 == 6 else 0x0800
    return bytes(Ether(src=CMAC, dst=SMAC, type=kind) / Raw(data))


def ethertype_of(data: bytes) -> int:
    return 0x86DD if data[0] >> 4 == 6 else 0x0800


# ------------------------------------------------------------------------------- RR type cases
OWNER = nm("www.example.com")
TARGET = nm("target.example.net")

RDATA: dict[str, tuple[int, bytes]] = {
    "A": (1, a("192.0.2.1")),
    "NS": (2, nm("ns1.example.com")),
    "CNAME": (5, nm("alias.example.org")),
    "SOA": (
        6,
        nm("ns1.example.com")
        + nm("hostmaster.example.com")
        + struct.pack(">5I", 2024050101, 7200, 3600, 1209600, 300),
    ),
    "NULL": (10, b"\x00\x01\x02binary"),
    "WKS": (11, a("192.0.2.2") + b"\x06" + b"\x00\x00\x00\x40"),
    "PTR": (12, nm("host.example.com")),
    "HINFO": (13, cstr(b"INTEL-386", b"Linux")),
    "MINFO": (14, nm("admin.example.com") + nm("errors.example.com")),
    "MX": (15, u16(10) + nm("mail.example.com")),
    "TXT": (16, cstr(b"v=spf1 -all", b"", b'with "quotes" and \\ back', b"\x00\xff\x7f")),
    "RP": (17, nm("admin.example.com") + nm("txt.example.com")),
    "AFSDB": (18, u16(1) + nm("afs.example.com")),
    "X25": (19, cstr(b"311061700956")),
    "ISDN": (20, cstr(b"150862028003217", b"004")),
    "AAAA": (28, aaaa("2001:db8::1")),
    "LOC": (29, bytes([0, 0x12, 0x16, 0x13]) + u32(0x89177D40) + u32(0x70BE15F0) + u32(0x00989680)),
    "NAPTR": (
        35,
        u16(100)
        + u16(10)
        + cstr(b"S", b"SIP+D2U", b"!^.*$!sip:info@example.com!")
        + nm("_sip._udp.example.com"),
    ),
    "KX": (36, u16(10) + nm("kx.example.com")),
    "CERT": (37, u16(1) + u16(12345) + b"\x08" + b"certificate-bytes"),
    "DNAME": (39, nm("example.net")),
    "APL": (
        42,
        u16(1)
        + b"\x18\x03"
        + bytes([192, 0, 2])
        + u16(2)
        + b"\x40\x04"
        + bytes([0x20, 0x01, 0x0D, 0xB8]),
    ),
    "DS": (43, u16(60485) + b"\x05\x01" + bytes(range(20))),
    "SSHFP": (44, b"\x01\x01" + bytes(range(20))),
    "IPSECKEY": (45, b"\x0a\x01\x02" + a("192.0.2.38") + b"\x01\x03\x51\x53\x79\x86\xed\x35"),
    "RRSIG": (
        46,
        u16(1)
        + b"\x08\x03"
        + u32(3600)
        + u32(1717200000)
        + u32(1714600000)
        + u16(12345)
        + nm("example.com")
        + bytes(range(64)),
    ),
    "NSEC": (47, nm("zzz.example.com") + bitmap(1, 2, 6, 15, 16, 28, 46, 47, 48, 257, 65534)),
    "DNSKEY": (48, u16(257) + b"\x03\x08" + bytes(range(1, 65))),
    "DHCID": (49, bytes(range(35))),
    "NSEC3": (
        50,
        b"\x01\x00"
        + u16(10)
        + b"\x04"
        + b"\xaa\xbb\xcc\xdd"
        + b"\x14"
        + bytes(range(20))
        + bitmap(1, 2, 6, 46),
    ),
    "NSEC3PARAM": (51, b"\x01\x00" + u16(0) + b"\x00"),
    "TLSA": (52, b"\x03\x01\x01" + bytes(range(32))),
    "SMIMEA": (53, b"\x03\x00\x01" + bytes(range(32))),
    "HIP": (55, b"\x10\x02" + u16(4) + bytes(16) + b"\x01\x02\x03\x04" + nm("rvs.example.com")),
    "CDS": (59, u16(60485) + b"\x05\x02" + bytes(range(32))),
    "CDNSKEY": (60, u16(257) + b"\x03\x0d" + bytes(range(64))),
    "OPENPGPKEY": (61, b"openpgp-key-bytes"),
    "CSYNC": (62, u32(66) + u16(3) + bitmap(1, 2, 28)),
    "ZONEMD": (63, u32(2024050101) + b"\x01\x01" + bytes(range(48))),
    "SVCB": (
        64,
        u16(1)
        + nm("svc.example.net")
        + svc_params(
            (0, u16(1) + u16(3)),  # mandatory: alpn, port
            (1, cstr(b"h2", b"h3", b"with,comma")),
            (2, b""),  # no-default-alpn
            (3, u16(8443)),
            (4, a("192.0.2.7") + a("192.0.2.8")),
            (5, b"ech-config-bytes"),
            (6, aaaa("2001:db8::7")),
            (7, b"/dns-query{?dns}"),  # dohpath
            (65000, b"private"),
        ),
    ),
    "HTTPS": (65, u16(1) + b"\0" + svc_params((1, cstr(b"h3")), (3, u16(443)))),
    "HTTPS-alias": (65, u16(0) + nm("pool.example.net")),
    "SPF": (99, cstr(b"v=spf1 include:example.net ~all")),
    "NID": (104, u16(10) + bytes(range(8))),
    "L32": (105, u16(10) + a("10.1.2.0")),
    "L64": (106, u16(10) + bytes(range(8))),
    "LP": (107, u16(10) + nm("l64-subnet.example.com")),
    "EUI48": (108, bytes([0x00, 0x00, 0x5E, 0x00, 0x53, 0x2A])),
    "EUI64": (109, bytes([0x00, 0x00, 0x5E, 0xEF, 0x10, 0x00, 0x00, 0x2A])),
    "TKEY": (
        249,
        nm("hmac-sha256") + u32(1) + u32(2) + u16(3) + u16(0) + u16(4) + b"key!" + u16(0),
    ),
    "TSIG": (
        250,
        nm("hmac-sha256")
        + b"\x00\x00"
        + u32(1714554000)
        + u16(300)
        + u16(4)
        + b"mac!"
        + u16(0x1234)
        + u16(0)
        + u16(0),
    ),
    "URI": (256, u16(10) + u16(1) + b"https://www.example.com/"),
    "CAA": (257, b"\x00\x05issue" + b"letsencrypt.org"),
    "CAA-critical": (257, b"\x80\x03tbs" + b"Unknown"),
    "CAA-iodef": (257, b"\x00\x05iodef" + b"mailto:security@example.com"),
    "AMTRELAY": (260, b"\x0a\x01" + a("203.0.113.15")),
    "TA": (32768, u16(60485) + b"\x05\x01" + bytes(range(20))),
    "DLV": (32769, u16(60485) + b"\x05\x01" + bytes(range(20))),
    "private-65280": (65280, b"private-use"),
    "reserved-65535": (65535, b"\x01\x02"),
    "type-0": (0, b"zero"),
    "unknown-empty": (4000, b""),
}


def rrtypes_family(cap: Capture) -> None:
    """Each type as the answer to its own question, then in authority and additional."""
    for i, (label, (rtype, rdata)) in enumerate(RDATA.items()):
        qid = 0x1000 + i
        question = q(OWNER, rtype)
        cap.exchange(
            msg(qid, QUERY, [question]),
            msg(qid, AA_RESPONSE, [question], [rr(OWNER, rtype, rdata, 600 + i)]),
        )
        elsewhere = rr(nm(f"{label.lower()}.example.com"), rtype, rdata, 60)
        cap.udp(
            msg(qid + 0x800, RESPONSE, [q(OWNER, 1)], [], [elsewhere], [elsewhere]),
            sport=53,
            dport=40000,
            src=S4,
            dst=C4,
        )
    # the same records in one message, compressed against the question
    many = [rr(b"\xc0\x0c", rtype, rdata, 30) for rtype, rdata in RDATA.values()]
    cap.udp(msg(0x1FFF, RESPONSE, [q(OWNER, 255)], many), sport=53, dport=40001, src=S4, dst=C4)


def txt_family(cap: Capture) -> None:
    cases = [
        cstr(b""),
        cstr(b"", b""),
        cstr(b"one"),
        cstr(b"a" * 255),
        cstr(*[bytes([65 + i]) * i for i in range(12)]),
        cstr(b"tab\there", b"new\nline", b"semi;colon", b"utf8 \xc3\xa9", b"\xff\xfe"),
        b"",  # empty RDATA: no string at all
        b"\x05abc",  # a string longer than the RDATA
    ]
    for i, rdata in enumerate(cases):
        cap.exchange(
            msg(0x2000 + i, QUERY, [q(OWNER, 16)]),
            msg(0x2000 + i, RESPONSE, [q(OWNER, 16)], [rr(b"\xc0\x0c", 16, rdata)]),
        )


def svcb_family(cap: Capture) -> None:
    params = [
        svc_params((1, cstr(b"h2")), (3, u16(443)), (4, a("192.0.2.1")), (6, aaaa("2001:db8::1"))),
        svc_params((0, u16(1)), (1, cstr(b"h3", b"h2", b"http/1.1")), (2, b"")),
        svc_params((5, bytes(range(40))), (65535, b"")),
        svc_params((1, b"\x05h3")),  # an alpn value cut short
        svc_params((4, b"\x01\x02\x03")),  # an ipv4hint of 3 bytes
        svc_params((3, u16(443)), (1, cstr(b"h2"))),  # keys out of order
        b"\x00\x01\x00",  # a parameter header cut short
    ]
    for i, p in enumerate(params):
        for rtype in (64, 65):
            qid = 0x2100 + 2 * i + (rtype == 65)
            question = q(nm(f"_dns.resolver{i}.example"), rtype)
            cap.exchange(
                msg(qid, QUERY, [question]),
                msg(qid, RESPONSE, [question], [rr(b"\xc0\x0c", rtype, u16(1) + b"\0" + p)]),
            )


def edns_family(cap: Capture) -> None:
    opts = [
        [(3, b"")],  # NSID request
        [(3, b"ns1.example")],  # NSID answer
        [(10, bytes(range(8)))],  # client cookie
        [(10, bytes(range(24)))],  # client + server cookie
        [(8, u16(1) + b"\x18\x00" + bytes([192, 0, 2]))],  # ECS
        [(8, u16(2) + b"\x38\x30" + bytes(7))],  # ECS IPv6
        [(12, bytes(100))],  # padding
        [(15, u16(18) + b"blocked by policy")],  # EDE
        [(15, u16(9))],
        [(9, u32(3600))],  # EXPIRE
        [(11, u16(300))],  # tcp-keepalive
        [(65001, b"local"), (5, b"\x08\x0d"), (6, b"\x01\x02"), (7, b"\x01")],
        [(8, b"\x00")],  # ECS cut short
    ]
    for i, options in enumerate(opts):
        qid = 0x2200 + i
        question = q(nm(f"edns{i}.example.com"), 1)
        cap.exchange(
            msg(qid, QUERY, [question], ar=[opt_rr(options, do=bool(i % 2))]),
            msg(
                qid,
                RESPONSE,
                [question],
                [rr(b"\xc0\x0c", 1, a("192.0.2.9"))],
                ar=[opt_rr(options, size=4096)],
            ),
        )
    # extended rcodes: BADVERS/BADSIG (16), BADCOOKIE (23), 4095, and rcode 3 + ext
    for i, (rcode, ext) in enumerate([(0, 1), (7, 1), (3, 0xFF), (15, 0xFF), (5, 0)]):
        qid = 0x2280 + i
        question = q(nm(f"ext{i}.example.com"), 1)
        cap.exchange(
            msg(qid, QUERY, [question], ar=[opt_rr(version=1 if i == 0 else 0)]),
            msg(qid, RESPONSE | rcode, [question], ar=[opt_rr(ext_rcode=ext)]),
        )
    question = q(nm("twoopt.example.com"), 1)
    # two OPT records, an OPT with a non-root owner, an OPT in the answer section
    cap.udp(
        msg(0x2290, RESPONSE, [question], ar=[opt_rr(ext_rcode=1), opt_rr(ext_rcode=2)]),
        sport=53,
        dport=40002,
        src=S4,
        dst=C4,
    )
    cap.udp(
        msg(0x2291, RESPONSE, [question], ar=[opt_rr(owner=nm("example.com"))]),
        sport=53,
        dport=40002,
        src=S4,
        dst=C4,
    )
    cap.udp(
        msg(0x2292, RESPONSE, [question], [opt_rr(ext_rcode=3)], [opt_rr()]),
        sport=53,
        dport=40002,
        src=S4,
        dst=C4,
    )
    cap.udp(
        msg(0x2293, RESPONSE | 2, [question], ar=[opt_rr([(3, b"x")] * 3, ext_rcode=0)]),
        sport=53,
        dport=40002,
        src=S4,
        dst=C4,
    )
    # an option whose length runs past the OPT RDATA
    cap.udp(
        msg(
            0x2294, RESPONSE, [question], ar=[raw_rr(b"\0", 41, 512, 0, u16(10) + u16(50) + b"abc")]
        ),
        sport=53,
        dport=40002,
        src=S4,
        dst=C4,
    )


def classes_family(cap: Capture) -> None:
    for i, (qname, qtype, qclass) in enumerate(
        [
            ("version.bind", 16, CH),
            ("hostname.bind", 16, CH),
            ("id.server", 16, CH),
            ("example.com", 1, HS),
            ("example.com", 1, ANY),
            ("example.com", 255, ANY),
            ("example.com", 1, NONE),
            ("example.com", 1, 0),
            ("example.com", 1, 0x8001),  # the top bit outside mDNS: a class number, not a flag
        ]
    ):
        question = q(nm(qname), qtype, qclass)
        cap.exchange(
            msg(0x2300 + i, QUERY, [question]),
            msg(
                0x2300 + i,
                AA_RESPONSE,
                [question],
                [rr(b"\xc0\x0c", qtype if qtype != 255 else 16, cstr(b"9.18.24"), 0, qclass)],
            ),
        )
    # ANY-type questions and the zone transfer types
    for i, qtype in enumerate((251, 252, 253, 254, 255)):
        cap.udp(msg(0x2380 + i, QUERY, [q(nm("example.com"), qtype)]))


def mdns_family(cap: Capture) -> None:
    host = nm("printer.local")
    service = nm("_ipp._tcp.local")
    instance = nm("Office Printer._ipp._tcp.local")
    for v6, (src, dst) in enumerate([(C4, MDNS4), (C6, MDNS6)]):
        # a one-shot query with the unicast-response bit, a known answer and a probe
        cap.udp(
            msg(0, 0, [q(service, 12, IN | 0x8000), q(host, 1, IN | 0x8000)]),
            sport=5353,
            dport=5353,
            src=src,
            dst=dst,
        )
        cap.udp(
            msg(0, 0, [q(service, 12)], [rr(service, 12, instance, 4500)]),
            sport=5353,
            dport=5353,
            src=src,
            dst=dst,
        )
        cap.udp(
            msg(0, 0, [q(host, 255, IN | 0x8000)], ns=[rr(host, 1, a("192.0.2.44"), 120)]),
            sport=5353,
            dport=5353,
            src=src,
            dst=dst,
        )
        # an announcement: cache-flush on unique records, shared PTR without it
        answer = [
            rr(service, 12, instance, 4500),
            rr(instance, 33, u16(0) + u16(0) + u16(631) + host, 120, IN | 0x8000),
            rr(instance, 16, cstr(b"txtvers=1", b"", b"rp=ipp/print"), 4500, IN | 0x8000),
            rr(host, 1, a("192.0.2.44"), 120, IN | 0x8000),
            rr(host, 28, aaaa("fe80::44"), 120, IN | 0x8000),
            rr(host, 47, host + bitmap(1, 28), 120, IN | 0x8000),
            rr(nm("44.2.0.192.in-addr.arpa"), 12, host, 120, IN | 0x8000),
        ]
        cap.udp(
            msg(0, 0x8400, [], answer, ar=[opt_rr([(4, b"\x00\x01" + bytes(6))])]),
            sport=5353,
            dport=5353,
            src=src,
            dst=dst,
        )
        # goodbye (TTL 0) and a legacy unicast query from a random port, answered to it
        cap.udp(
            msg(0, 0x8400, [], [rr(service, 12, instance, 0)]),
            sport=5353,
            dport=5353,
            src=src,
            dst=dst,
        )
        cap.udp(
            msg(0x77 + v6, QUERY, [q(host, 1)]),
            sport=50000,
            dport=5353,
            src=src,
            dst=S6 if v6 else S4,
        )
    # LLMNR (RFC 4795) query, response with the C bit, and a TC conflict message
    cap.udp(msg(0x3001, 0, [q(nm("fileserver"), 1)]), sport=50001, dport=5355, src=C4, dst=LLMNR4)
    cap.udp(
        msg(0x3001, 0x8000, [q(nm("fileserver"), 1)], [rr(b"\xc0\x0c", 1, a("192.0.2.60"), 30)]),
        sport=5355,
        dport=50001,
        src=S4,
        dst=C4,
    )
    cap.udp(
        msg(0x3002, 0x8400, [q(nm("wpad"), 28)], [rr(b"\xc0\x0c", 28, aaaa("2001:db8::60"), 30)]),
        sport=5355,
        dport=50001,
        src=S4,
        dst=C4,
    )
    cap.udp(msg(0x3003, 0x0200, [q(nm("dup"), 1)]), sport=50001, dport=5355, src=C4, dst=LLMNR4)


def names_family(cap: Capture) -> None:
    label63 = b"x" * 63
    names = [
        b"\0",  # the root
        nm("WWW.Example.COM"),
        encode_labels([b"a.b", b"example", b"com"]),  # a dot inside a label
        encode_labels([b"with space", b"example"]),
        encode_labels([b"back\\slash", b"ex"]),
        encode_labels([b'quote"paren()semi;at@dollar$', b"ex"]),
        encode_labels([b"\x00\x01\x1f\x7f", b"ex"]),
        encode_labels([b"caf\xc3\xa9", b"\xe4\xb8\xad\xe6\x96\x87"]),  # UTF-8
        encode_labels([b"\xff\xfe\x80", b"latin\xe9"]),  # not UTF-8
        encode_labels([b"-", b"_", b"*", b"xn--bcher-kva", b"example"]),
        encode_labels([label63, b"example"]),
        encode_labels([label63, label63, label63, b"y" * 61]),  # 255 octets: the limit
        encode_labels([label63, label63, label63, b"y" * 62]),  # 256 octets: one too many
        encode_labels([b"*", b"example", b"com"]),
        encode_labels([b"a"] * 127),  # 255 octets of one-letter labels
        encode_labels([b"\\065", b"example"]),  # a backslash and digits, not an escape
        encode_labels([b"1.2.3.4", b"in-addr", b"arpa"]),
    ]
    for i, name in enumerate(names):
        qid = 0x4000 + i
        question = q(name, 1)
        cap.exchange(
            msg(qid, QUERY, [question]),
            msg(qid, RESPONSE, [question], [rr(b"\xc0\x0c", 5, name), rr(name, 1, a("192.0.2.4"))]),
        )
    # a 64-byte label (length byte 0x40: an extended label type, RFC 6891 5) and 0x80
    for i, first in enumerate((0x40, 0x41, 0x80, 0xBF)):
        cap.udp(msg(0x4080 + i, QUERY, [bytes([first]) + b"x" * 8 + b"\0\0\x01\0\x01"]))


def compression_family(cap: Capture) -> None:
    """Pointers: back, forward, into a label, chains, loops, out of bounds, into the header."""
    question = nm("www.example.com") + u16(1) + u16(1)  # at 12; "example" at 16, "com" at 24
    cases: list[tuple[int, bytes]] = []

    def add(body: bytes, counts: tuple[int, int, int, int] = (1, 1, 0, 0)) -> None:
        cases.append((len(cases), struct.pack(">4H", *counts) + body))

    ans = u16(1) + u16(1) + u32(60) + u16(4) + a("192.0.2.5")
    add(question + b"\xc0\x0c" + ans)  # back to the question
    add(question + b"\xc0\x10" + ans)  # to "example.com"
    add(question + b"\x03sub\xc0\x10" + ans)  # labels then a pointer
    add(question + b"\xc0\x0d" + ans)  # into the middle of "www": "ww" read as a length
    add(question + b"\xc0\x11" + ans)  # into the middle of "example" (0x78 = 'x' as length)
    add(question + b"\xc0\x1c" + ans)  # at the root label of the question
    end_q = 12 + len(question)  # 33: where the answer's owner starts
    after_ans = end_q + 2 + len(ans)  # 49: where bytes after a pointer-owned answer start
    ptr = lambda off: bytes([0xC0 | off >> 8, off & 0xFF])  # noqa: E731
    # forward: the answer's owner points at the owner of the additional record after it
    later = nm("later.example") + u16(1) + u16(1) + u32(5) + u16(4) + a("192.0.2.6")
    add(question + ptr(after_ans) + ans + later, (1, 1, 0, 1))
    add(question + ptr(end_q) + ans)  # a self loop (the pointer's own offset)
    add(question + b"\x01a" + ptr(end_q + 4) + b"\x01b" + ptr(end_q) + ans)  # a <-> b
    add(question + b"\xff\xff" + ans)  # past the end
    add(question + b"\xc0\x00" + ans)  # into the header
    add(question + b"\xc0\x06" + ans)  # into the counts (a zero byte: the root)
    add(question + b"\xc0")  # a pointer cut in half at the end
    # a chain of 40 pointers after the answer, each to the one before, the first to the question
    chain, prev = b"", 12
    for _ in range(40):
        here = after_ans + len(chain)
        chain += ptr(prev)
        prev = here
    add(question + ptr(prev) + ans + chain)
    # a chain of labels and pointers: c -> b.(a -> question)
    links = b"\x01a" + ptr(12) + b"\x01b" + ptr(after_ans) + b"\x01c" + ptr(after_ans + 4)
    add(question + ptr(after_ans + 8) + ans + links)
    # a name growing past 255 octets through pointers to itself plus labels
    long_label = bytes([63]) + b"z" * 63
    grow = question + long_label * 3 + b"\xc0\x21" + ans
    add(grow)
    # a pointer to a pointer to a pointer (a legal chain) in RDATA: CNAME, MX, SOA
    rd_cname = u16(5) + u16(1) + u32(60) + u16(2) + b"\xc0\x10"
    add(question + b"\xc0\x0c" + rd_cname)
    rd_mx = u16(15) + u16(1) + u32(60) + u16(4) + u16(5) + b"\xc0\x0c"
    add(question + b"\xc0\x0c" + rd_mx)
    soa = b"\xc0\x0c\xc0\x10" + struct.pack(">5I", 1, 2, 3, 4, 5)
    add(question + b"\xc0\x0c" + u16(6) + u16(1) + u32(60) + u16(len(soa)) + soa)
    # RDATA whose name points past the RDATA but inside the message (legal)
    after = u16(5) + u16(1) + u32(60) + u16(2) + ptr(end_q + 14) + nm("tail.example")
    add(question + b"\xc0\x0c" + after + u16(16) + u16(1) + u32(1) + u16(1) + b"\0", (1, 1, 0, 1))
    # a CNAME whose RDATA name runs past its RDLENGTH
    add(question + b"\xc0\x0c" + u16(5) + u16(1) + u32(60) + u16(3) + b"\x05alias\x00")
    # lower-case pointer flag bits 0x40/0x80 (reserved label types) in the middle of a name
    add(question + b"\x03www\x40\x10" + ans)
    for i, body in cases:
        cap.udp(
            struct.pack(">HH", 0x5000 + i, RESPONSE) + body, sport=53, dport=40003, src=S4, dst=C4
        )


def header_family(cap: Capture) -> None:
    question = q(nm("hdr.example.com"), 1)
    answer = rr(b"\xc0\x0c", 1, a("192.0.2.12"))
    # no question; two and three questions; one question per type
    cap.udp(
        msg(0x6000, RESPONSE, [], [rr(nm("noq.example"), 1, a("192.0.2.1"))]),
        sport=53,
        dport=40004,
        src=S4,
        dst=C4,
    )
    cap.udp(msg(0x6001, QUERY, [question, q(nm("second.example"), 28)]))
    cap.udp(
        msg(0x6002, RESPONSE, [question, q(b"\xc0\x0c", 28), q(nm("third"), 16)], [answer]),
        sport=53,
        dport=40004,
        src=S4,
        dst=C4,
    )
    cap.udp(msg(0x6003, QUERY, []))  # header only
    # counts larger than what follows, in each section
    for i, counts in enumerate(
        [(2, 1, 0, 0), (1, 3, 0, 0), (1, 1, 2, 0), (1, 1, 0, 5), (65535, 65535, 65535, 65535)]
    ):
        cap.udp(
            msg(0x6010 + i, RESPONSE, [question], [answer], counts=counts),
            sport=53,
            dport=40004,
            src=S4,
            dst=C4,
        )
    # TC set: cut after the question, and in the middle of a record
    full = msg(0x6020, RESPONSE | 0x0200, [question], [answer, answer, answer])
    cap.udp(full[: 12 + len(question)], sport=53, dport=40004, src=S4, dst=C4)
    cap.udp(full[: len(full) - 7], sport=53, dport=40004, src=S4, dst=C4)
    for cut in (0, 1, 2, 5, 11, 12, 14, 20):
        cap.udp(
            msg(0x6030 + cut, RESPONSE, [question], [answer])[:cut] or b"",
            sport=53,
            dport=40004,
            src=S4,
            dst=C4,
        )
    # trailing bytes: garbage, zeros, a whole second message
    for i, tail in enumerate([b"garbage!", bytes(30), msg(0x6041, QUERY, [question])]):
        cap.udp(
            msg(0x6040 + i, RESPONSE, [question], [answer], tail=tail),
            sport=53,
            dport=40004,
            src=S4,
            dst=C4,
        )
    # every flag bit, the Z bit, opcodes 0..15 in queries, a query with an rcode
    cap.udp(
        msg(0x6050, 0xFFFF & ~0x7800, [question], [answer]), sport=53, dport=40004, src=S4, dst=C4
    )
    for opcode in range(16):
        cap.udp(msg(0x6060 + opcode, (opcode << 11) | 0x0100, [question]))
        cap.udp(
            msg(0x6060 + opcode, 0x8000 | (opcode << 11) | 3, [question]),
            sport=53,
            dport=40004,
            src=S4,
            dst=C4,
        )
    cap.udp(msg(0x6070, QUERY | 5, [question]))
    cap.udp(msg(0x6071, QUERY | 0x0040, [question]))  # Z bit
    # all response codes
    for rcode in range(16):
        cap.udp(
            msg(0x6080 + rcode, RESPONSE | rcode, [question]), sport=53, dport=40004, src=S4, dst=C4
        )


def update_family(cap: Capture) -> None:
    zone = nm("example.com")
    host = nm("host.example.com")
    soa = RDATA["SOA"][1]
    notify, update = 4 << 11, 5 << 11
    cap.exchange(
        msg(0x7000, notify | 0x0400, [q(zone, 6)], [rr(zone, 6, soa, 3600)]),
        msg(0x7000, 0x8000 | notify | 0x0400, [q(zone, 6)]),
    )
    prereq = [
        rr(host, 255, b"", 0, ANY),  # name in use
        rr(nm("free.example.com"), 255, b"", 0, NONE),  # name not in use
        rr(host, 1, b"", 0, ANY),  # RRset exists
        rr(host, 1, a("192.0.2.1"), 0, IN),  # RRset exists (value dependent)
    ]
    updates = [
        rr(host, 1, a("192.0.2.2"), 300),  # add
        rr(host, 28, b"", 0, ANY),  # delete an RRset
        rr(host, 255, b"", 0, ANY),  # delete all RRsets
        rr(host, 1, a("192.0.2.1"), 0, NONE),  # delete one RR
    ]
    tsig = rr(nm("key.example"), 250, RDATA["TSIG"][1], 0, ANY)
    cap.exchange(
        msg(0x7001, update, [q(zone, 6)], prereq, updates, [tsig]),
        msg(0x7001, 0x8000 | update, [q(zone, 6)], ar=[tsig]),
    )
    cap.exchange(
        msg(0x7002, update, [q(zone, 6)], [], updates[:1]),
        msg(0x7002, 0x8000 | update | 8, [q(zone, 6)]),
    )  # NOTZONE... 8 = YXRRSET
    cap.udp(msg(0x7003, update, [q(zone, 6), q(zone, 6)], [], updates))  # two zones: FORMERR
    # DSO (opcode 6, RFC 8490) carries TLVs after a header with zero counts
    cap.udp(msg(0x7004, 6 << 11, [], tail=u16(1) + u16(4) + u32(15000) + u32(0)))


def port_family(cap: Capture) -> None:
    question = q(nm("ports.example.com"), 1)
    query = msg(0x8000, QUERY, [question])
    resp = msg(0x8000, RESPONSE, [question], [rr(b"\xc0\x0c", 1, a("192.0.2.80"))])
    for i, (sport, dport) in enumerate(
        [
            (53, 53),
            (5353, 53),
            (53, 5353),
            (5355, 53),
            (5353, 5355),
            (33000, 5300),
            (5300, 33000),
            (33000, 853),
            (33000, 0),
            (0, 53),
        ]
    ):
        cap.udp(query[:0] + struct.pack(">H", 0x8000 + i) + query[2:], sport=sport, dport=dport)
        cap.udp(struct.pack(">H", 0x8000 + i) + resp[2:], sport=dport, dport=sport, src=S4, dst=C4)
    cap.exchange(query, resp, v6=True)
    # a UDP length that ends before the IP payload (the rest is padding) and one past it
    body = bytes(UDP(sport=33001, dport=53, len=8 + len(query)) / Raw(query + b"PADPADPAD"))
    cap.ip(IP(src=C4, dst=S4, id=7, proto=17) / Raw(body))
    body = bytes(UDP(sport=33001, dport=53, len=8 + len(query) + 20) / Raw(query))
    cap.ip(IP(src=C4, dst=S4, id=8, proto=17) / Raw(body))
    # Ethernet padding after a short IPv4 packet, and an IPv4 header with options
    short = msg(0x8020, QUERY, [q(b"\0", 2)])
    cap.raw(ether_wrap(bytes(udp_ip(C4, S4, 33002, 53, short))) + b"\0" * 20)
    opts = IP(src=C4, dst=S4, id=9, options=[b"\x94\x04\x00\x00"]) / UDP(sport=33003, dport=53)
    cap.ip(opts / Raw(msg(0x8021, QUERY, [question])))


def tcp_family(cap: Capture) -> None:
    def pair(qid: int, label: str) -> tuple[bytes, bytes]:
        question = q(nm(f"{label}.tcp.example"), 1)
        answer = [rr(b"\xc0\x0c", 1, a(f"192.0.2.{qid % 200 + 1}"))]
        return msg(qid, QUERY, [question]), msg(qid, RESPONSE, [question], answer)

    def flow(port: int, server_port: int = 53, v6: bool = False) -> TcpFlow:
        c, s = (C6, S6) if v6 else (C4, S4)
        return TcpFlow(c, s, port, server_port)

    # two messages in one segment, each way
    f = flow(41001)
    q1, r1 = pair(0x9001, "two-a")
    q2, r2 = pair(0x9002, "two-b")
    segs = [
        *f.handshake(),
        f.send("client", "PA", tcp_framed(q1) + tcp_framed(q2)),
        f.send("server", "PA", tcp_framed(r1) + tcp_framed(r2)),
        *f.close(),
    ]
    # one message across three segments, the length prefix split between the first two
    f2 = flow(41002)
    q3, r3 = pair(0x9003, "three-parts")
    framed = tcp_framed(r3 + bytes(0))
    segs += [
        *f2.handshake(),
        f2.send("client", "PA", tcp_framed(q3)),
        f2.send("server", "PA", framed[:1]),
        f2.send("server", "PA", framed[1:15]),
        f2.send("server", "PA", framed[15:]),
        *f2.close(),
    ]
    # out of order: the second half arrives first; then a retransmission of both
    f3 = flow(41003)
    q4, r4 = pair(0x9004, "out-of-order")
    framed = tcp_framed(r4)
    segs += [*f3.handshake(), f3.send("client", "PA", tcp_framed(q4))]
    first = f3.segment("server", "PA", framed[:20])
    second = f3.segment("server", "PA", framed[20:], seq=f3.server_seq + 20)
    f3.server_seq += len(framed)
    segs += [second, first, first, second]
    # a retransmitted query (same bytes twice) and an overlapping retransmission
    q5, r5 = pair(0x9005, "retransmitted")
    segs.append(f3.segment("client", "PA", tcp_framed(q5)))
    segs.append(f3.send("client", "PA", tcp_framed(q5)))
    framed = tcp_framed(r5)
    segs.append(f3.segment("server", "PA", framed[:30]))
    segs.append(f3.send("server", "PA", framed))
    segs += f3.close()
    # a length prefix split across segments in the query, DNS over TCP on IPv6
    f4 = flow(41004, v6=True)
    q6, r6 = pair(0x9006, "v6-split")
    framed_q = tcp_framed(q6)
    segs += [
        *f4.handshake(),
        f4.send("client", "PA", framed_q[:1]),
        f4.send("client", "PA", framed_q[1:]),
        f4.send("server", "PA", tcp_framed(r6)),
        *f4.close(),
    ]
    # a response with many records (larger than 512), pipelined with a zero-length message
    f5 = flow(41005)
    question = q(nm("big.tcp.example"), 16)
    big = msg(
        0x9007, RESPONSE, [question], [rr(b"\xc0\x0c", 16, cstr(b"t" * 200)) for _ in range(12)]
    )
    segs += [
        *f5.handshake(),
        f5.send("client", "PA", tcp_framed(msg(0x9007, QUERY, [question]))),
        f5.send("server", "PA", b"\x00\x00" + tcp_framed(big)[:900]),
        f5.send("server", "PA", tcp_framed(big)[900:]),
        *f5.close(),
    ]
    # a connection seen from the middle of a message, and a hole that never fills
    f6 = flow(41006)
    _, r7 = pair(0x9008, "midstream")
    q8, _ = pair(0x9009, "lost")
    q9, r9 = pair(0x900A, "after-hole")
    framed = tcp_framed(r7)
    f6.send("server", "PA", framed[:10])
    segs += [f6.send("server", "PA", framed[10:])]
    f6.send("client", "PA", tcp_framed(q8))
    segs += [f6.send("client", "PA", tcp_framed(q9)), f6.send("server", "PA", tcp_framed(r9))]
    # DNS over TCP on the mDNS and LLMNR ports
    for port, sport in ((5353, 41007), (5355, 41008)):
        f7 = flow(sport, port)
        qa, ra = pair(0x900B + port % 2, f"port{port}")
        segs += [
            *f7.handshake(),
            f7.send("client", "PA", tcp_framed(qa)),
            f7.send("server", "PA", tcp_framed(ra)),
            *f7.close(),
        ]
    # a message truncated at the FIN (its length prefix promises more)
    f8 = flow(41009)
    q10, _ = pair(0x900D, "cut-at-fin")
    segs += [*f8.handshake(), f8.send("client", "PA", tcp_framed(q10)[:-5]), *f8.close()]
    for seg in segs:
        cap.ip(seg)


class WrappingFlow(TcpFlow):
    """A TcpFlow whose sequence numbers wrap at 2^32 (RFC 9293 3.4)."""

    def segment(self, side: str, flags: str, payload: bytes = b"", *, seq: int | None = None):
        self.client_seq %= 2**32
        self.server_seq %= 2**32
        return super().segment(side, flags, payload, seq=None if seq is None else seq % 2**32)


def tcp_edges_family(cap: Capture) -> None:
    """TCP corner cases: data in the SYN (Fast Open), a sequence number wrapping past 2^32,
    keep-alives and zero-window probes, a FIN carrying the last message, an RST cutting one,
    a reused port pair, an overlap whose bytes differ, short segments with Ethernet padding."""

    def pair(qid: int, label: str) -> tuple[bytes, bytes]:
        question = q(nm(f"{label}.edge.example"), 1)
        return msg(qid, QUERY, [question]), msg(
            qid, RESPONSE, [question], [rr(b"\xc0\x0c", 1, a("192.0.2.111"))]
        )

    segs: list[Packet] = []
    # TCP Fast Open (RFC 7413): the query rides in the SYN
    f = WrappingFlow(C4, S4, 48001)
    q1, r1 = pair(0x9101, "tfo")
    syn = f.segment("client", "S", tcp_framed(q1))
    f.client_seq += 1 + len(tcp_framed(q1))
    segs += [syn, f.send("server", "SA"), f.send("client", "A")]
    segs += [f.send("server", "PA", tcp_framed(r1)), *f.close()]
    # sequence numbers wrapping: the response straddles 2^32
    f = WrappingFlow(C4, S4, 48002, client_seq=2**32 - 30, server_seq=2**32 - 20)
    q2, r2 = pair(0x9102, "wrap")
    framed = tcp_framed(r2)
    segs += [*f.handshake(), f.send("client", "PA", tcp_framed(q2))]
    segs += [f.send("server", "PA", framed[:12]), f.send("server", "PA", framed[12:])]
    # a keep-alive (one old byte at seq - 1) and a zero-window probe between two messages
    q3, r3 = pair(0x9103, "keepalive")
    segs.append(f.segment("client", "A", tcp_framed(q2)[-1:], seq=f.client_seq - 1))
    segs.append(f.send("client", "PA", tcp_framed(q3)[:1]))
    segs.append(f.segment("client", "A", tcp_framed(q3)[1:2]))
    segs += [f.send("client", "PA", tcp_framed(q3)[1:]), f.send("server", "FPA", tcp_framed(r3))]
    segs += [f.send("client", "FA"), f.send("server", "A")]
    # an RST in the middle of a response; then the same port pair again, new sequence numbers
    f = WrappingFlow(C4, S4, 48003)
    q4, r4 = pair(0x9104, "reset")
    segs += [*f.handshake(), f.send("client", "PA", tcp_framed(q4))]
    segs += [f.send("server", "PA", tcp_framed(r4)[:20]), f.send("server", "RA")]
    f = WrappingFlow(C4, S4, 48003, client_seq=7_000_000, server_seq=9_000_000)
    q5, r5 = pair(0x9105, "reused")
    segs += [*f.handshake(), f.send("client", "PA", tcp_framed(q5))]
    segs += [f.send("server", "PA", tcp_framed(r5)), *f.close()]
    # the same ports again with a new ISN while the old connection never closed in the capture
    f = WrappingFlow(C4, S4, 48006)
    q8, r8 = pair(0x9108, "abandoned")
    segs += [*f.handshake(), f.send("client", "PA", tcp_framed(q8))]
    segs.append(f.send("server", "PA", tcp_framed(r8)[:25]))
    f = WrappingFlow(C4, S4, 48006, client_seq=11_000_000, server_seq=12_000_000)
    q9, r9 = pair(0x9109, "new-isn")
    segs += [*f.handshake(), f.send("client", "PA", tcp_framed(q9))]
    segs += [f.send("server", "PA", tcp_framed(r9)), *f.close()]
    # a retransmission whose bytes differ from the first copy (the first copy wins in tshark)
    f = WrappingFlow(C4, S4, 48004)
    q6, r6 = pair(0x9106, "overlap")
    other = bytearray(tcp_framed(r6))
    other[2:4] = b"\x66\x66"
    segs += [*f.handshake(), f.send("client", "PA", tcp_framed(q6))]
    segs.append(f.segment("server", "PA", tcp_framed(r6)[:10]))
    segs += [f.send("server", "PA", bytes(other)), *f.close()]
    for seg in segs:
        cap.ip(seg)
    # short segments padded to the 60-byte Ethernet minimum
    f = WrappingFlow(C4, S4, 48005)
    q7, r7 = pair(0x9107, "padded")
    framed = tcp_framed(r7)
    parts = [*f.handshake(), f.send("client", "PA", tcp_framed(q7))]
    parts += [f.send("server", "PA", framed[:1]), f.send("server", "PA", framed[1:2])]
    parts += [f.send("server", "PA", framed[2:3]), f.send("server", "PA", framed[3:]), *f.close()]
    for seg in parts:
        frame = ether_wrap(bytes(seg))
        cap.raw(frame + b"\xee" * max(0, 60 - len(frame)))


def fragment_family(cap: Capture) -> None:
    question = q(nm("frag.example.com"), 16)
    texts = [rr(b"\xc0\x0c", 16, cstr(bytes([97 + i % 26]) * 200)) for i in range(10)]
    for i, order in enumerate(["in", "swapped", "three-shuffled"]):
        big = msg(0xA000 + i, RESPONSE, [question], texts)
        pkt = IP(src=S4, dst=C4, id=0x4000 + i, proto=17) / UDP(sport=53, dport=42000) / Raw(big)
        size = 1480 if order != "three-shuffled" else 800
        frags = fragment4(bytes(pkt), size)
        if order == "swapped":
            frags = frags[::-1]
        elif order == "three-shuffled":
            frags = [frags[1], frags[2], frags[0], *frags[3:]]
        for frag in frags:
            cap.ip(frag)
    # IPv6: hop-by-hop, destination options and a routing header, then fragments
    query = msg(0xA010, QUERY, [question])
    for i, ext in enumerate(
        [
            IPv6ExtHdrHopByHop(),
            IPv6ExtHdrDestOpt(),
            IPv6ExtHdrRouting(addresses=[], segleft=0),
            IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt(),
        ]
    ):
        cap.ip(
            IPv6(src=C6, dst=S6)
            / ext
            / UDP(sport=42001 + i, dport=53)
            / Raw(query[:1] + bytes([0x10 + i]) + query[2:])
        )
    for i, swap in enumerate((False, True)):
        big = msg(0xA020 + i, RESPONSE, [question], texts)
        pkt = (
            IPv6(src=S6, dst=C6)
            / IPv6ExtHdrFragment(id=0x777 + i)
            / UDP(sport=53, dport=42010)
            / Raw(big)
        )
        frags = fragment6(pkt, 1280)
        for frag in frags[::-1] if swap else frags:
            cap.ip(frag)


def tunnel_family(cap: Capture) -> None:
    """DNS inside tunnels: IP-in-IP, 6in4, GRE (plain, key+sequence, bridged), VXLAN, Geneve,
    Teredo, GTP-U, MPLS and PPPoE; and DNS quoted inside ICMP errors (not a message)."""
    i = 0

    def inner(v6: bool = False) -> bytes:
        nonlocal i
        i += 1
        question = q(nm(f"tunnel{i}.example.com"), 1)
        payload = msg(0xA100 + i, RESPONSE, [question], [rr(b"\xc0\x0c", 1, a("192.0.2.100"))])
        return bytes(udp_ip(S6 if v6 else S4, C6 if v6 else C4, 53, 45000 + i, payload))

    def outer(proto: int, data: bytes) -> bytes:
        return bytes(IP(src="198.51.100.1", dst="198.51.100.2", proto=proto) / Raw(data))

    def outer_udp(dport: int, data: bytes) -> bytes:
        return bytes(udp_ip("198.51.100.1", "198.51.100.2", 50000, dport, data))

    eth_inner = lambda v6=False: ether_wrap(inner(v6))  # noqa: E731
    cap.ip(outer(4, inner()))  # IP-in-IP
    cap.ip(outer(41, inner(True)))  # 6in4
    cap.ip(outer(47, u16(0) + u16(0x0800) + inner()))  # GRE
    cap.ip(outer(47, u16(0x3000) + u16(0x86DD) + u32(7) + u32(1) + inner(True)))  # key, seq
    cap.ip(outer(47, u16(0x8000) + u16(0x6558) + u32(0) + eth_inner()))  # checksum, bridged
    cap.ip(outer_udp(4789, b"\x08\0\0\0\0\0\x64\0" + eth_inner()))  # VXLAN
    cap.ip(outer_udp(6081, b"\0\0\x65\x58\0\0\x64\0" + eth_inner()))  # Geneve
    cap.ip(outer_udp(3544, inner(True)))  # Teredo
    gtp = inner()
    cap.ip(outer_udp(2152, b"\x30\xff" + u16(len(gtp)) + u32(0x1234) + gtp))  # GTP-U
    mpls = u32((100 << 12) | 0x100 | 64)  # one label, bottom of stack
    cap.raw(bytes(Ether(src=CMAC, dst=SMAC, type=0x8847) / Raw(mpls + inner())))
    ppp = b"\x11\x00\x00\x01" + u16(len(inner()) + 2) + u16(0x0021)
    cap.raw(bytes(Ether(src=CMAC, dst=SMAC, type=0x8864) / Raw(ppp + inner())))
    # ICMP port unreachable and time exceeded quoting a DNS query (RFC 792): not a message
    quoted = inner()
    icmp = b"\x03\x03\0\0\0\0\0\0" + quoted
    cap.ip(IP(src=C4, dst=S4, proto=1) / Raw(icmp))
    cap.ip(IP(src=C4, dst=S4, proto=1) / Raw(b"\x0b\x00\0\0\0\0\0\0" + quoted[: 28 + 30]))
    quoted6 = inner(True)
    cap.ip(IPv6(src=C6, dst=S6, nh=58) / Raw(b"\x01\x04\0\0\0\0\0\0" + quoted6))


def heuristic_family(cap: Capture) -> None:
    """DNS-looking datagrams on ports no one registered for DNS (tshark tries a heuristic)."""
    question = q(nm("heur.example.com"), 1)
    answer = rr(b"\xc0\x0c", 1, a("192.0.2.101"))
    shapes = [
        msg(0xA200, QUERY, [question]),
        msg(0xA201, RESPONSE, [question], [answer]),
        msg(0xA202, RESPONSE, [], [rr(nm("heur.example.com"), 1, a("192.0.2.101"))]),
        msg(0xA203, QUERY, [question, question]),
        msg(0xA204, QUERY, [question], ar=[opt_rr()]),
        msg(0xA205, QUERY, [question], [answer]),
        msg(0xA206, 4 << 11, [q(nm("example.com"), 6)]),  # NOTIFY
        msg(0xA207, RESPONSE | 3, [question], ns=[rr(nm("example.com"), 6, RDATA["SOA"][1])]),
        msg(0xA208, RESPONSE, [question], [answer], counts=(1, 2, 0, 0)),
        msg(0xA209, QUERY, [question], tail=b"junk"),
        msg(0xA20A, QUERY, [q(nm("x"), 1)]),
        b"\x12\x34\x01\x00\x00\x01" + bytes(11),  # a zero-filled message that looks right
    ]
    for i, shape in enumerate(shapes):
        for port in (5300, 1053, 8053, 443, 123, 137):
            cap.udp(shape, sport=46000 + i, dport=port)


def odd_rdlength_family(cap: Capture) -> None:
    """A and AAAA RDATA of the wrong length in class IN; names running past their RDLENGTH."""
    for i, (rtype, rdata) in enumerate(
        [
            (1, b""),
            (1, b"\x01\x02\x03"),
            (1, bytes(8)),
            (28, bytes(4)),
            (28, bytes(17)),
            (28, b""),
            (5, b""),
            (5, b"\x03abc"),
            (2, b"\x00\x00"),
            (15, b"\x00"),
            (6, b"\x00\x00"),
        ]
    ):
        question = q(nm(f"rdlen{i}.example.com"), rtype)
        cap.exchange(
            msg(0xA300 + i, QUERY, [question]),
            msg(
                0xA300 + i,
                RESPONSE,
                [question],
                [rr(b"\xc0\x0c", rtype, rdata), rr(b"\xc0\x0c", 1, a("192.0.2.102"))],
            ),
        )


def ip_oddities_family(cap: Capture) -> None:
    """Bad checksums, duplicated and overlapping fragments, a missing first fragment."""
    question = q(nm("ipodd.example.com"), 16)
    texts = [rr(b"\xc0\x0c", 16, cstr(bytes([97 + i]) * 200)) for i in range(6)]
    cap.ip(
        IP(src=C4, dst=S4, chksum=0x1234)
        / UDP(sport=47000, dport=53, chksum=0x4321)
        / Raw(msg(0xA400, QUERY, [question]))
    )
    cap.ip(
        IPv6(src=C6, dst=S6)
        / UDP(sport=47000, dport=53, chksum=0)
        / Raw(msg(0xA401, QUERY, [question]))
    )
    for i, how in enumerate(("duplicate", "missing-first", "overlap")):
        big = msg(0xA410 + i, RESPONSE, [question], texts)
        pkt = IP(src=S4, dst=C4, id=0x5000 + i, proto=17) / UDP(sport=53, dport=47001) / Raw(big)
        frags = fragment4(bytes(pkt), 496)
        if how == "duplicate":
            frags = [frags[0], frags[1], frags[1], *frags[2:]]
        elif how == "missing-first":
            frags = frags[1:]
        else:  # the second fragment again, shifted 8 bytes back over the first
            second = bytearray(frags[1])
            off = ((second[6] & 0x1F) << 8 | second[7]) - 1
            second[6:8] = u16(0x2000 | off)
            second[10:12] = b"\0\0"
            second[10:12] = u16(ip_checksum(bytes(second[:20])))
            frags = [frags[0], bytes(second[:20]) + frags[0][-8:] + second[20:], *frags[1:]]
        for frag in frags:
            cap.ip(frag)


def fragment4(packet: bytes, size: int) -> list[bytes]:
    """IPv4 fragments with payloads of `size` bytes (a multiple of 8)."""
    ihl = (packet[0] & 15) * 4
    header, payload = bytearray(packet[:ihl]), packet[ihl:]
    out = []
    for off in range(0, len(payload), size):
        part = payload[off : off + size]
        more = off + size < len(payload)
        h = bytearray(header)
        h[2:4] = u16(ihl + len(part))
        h[6:8] = u16((0x2000 if more else 0) | off // 8)
        h[10:12] = b"\0\0"
        h[10:12] = u16(ip_checksum(bytes(h)))
        out.append(bytes(h) + part)
    return out


def fragment6(pkt: Packet, mtu: int) -> list[bytes]:
    from scapy.layers.inet6 import fragment6 as scapy_fragment6

    return [bytes(f) for f in scapy_fragment6(pkt, mtu)]


def ip_checksum(header: bytes) -> int:
    total = sum(struct.unpack(f">{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def standard_exchanges(cap: Capture, base: int, label: str, *, v4_only: bool = False) -> None:
    """A few ordinary exchanges over IPv4 and IPv6 (for the link-type captures)."""
    for i, v6 in enumerate((False,) if v4_only else (False, True)):
        question = q(nm(f"{label}{i}.example.com"), 28 if v6 else 1)
        data = aaaa("2001:db8::99") if v6 else a("192.0.2.99")
        cap.exchange(
            msg(base + i, QUERY, [question]),
            msg(base + i, RESPONSE, [question], [rr(b"\xc0\x0c", 28 if v6 else 1, data)]),
            v6=v6,
        )


def vlan_wrap(tags: Sequence[tuple[int, int]]) -> Callable[[bytes], bytes]:
    """Ethernet with stacked tags: (TPID, VLAN id) pairs, outermost first."""

    def wrap(data: bytes) -> bytes:
        frame: Packet = Ether(src=CMAC, dst=SMAC, type=tags[0][0])
        for (_, vid), (tpid_next, _) in zip(
            tags, [*tags[1:], (ethertype_of(data), 0)], strict=True
        ):
            frame = frame / Dot1Q(vlan=vid, type=tpid_next)  # the TPID is the type before it
        return bytes(frame / Raw(data))

    return wrap


def sll_wrap(data: bytes) -> bytes:
    return (
        struct.pack(">HHH8sH", 0, 1, 6, bytes.fromhex("020000000010") + b"\0\0", ethertype_of(data))
        + data
    )


def sll2_wrap(data: bytes) -> bytes:
    return (
        struct.pack(
            ">HHIHBB8s", ethertype_of(data), 0, 2, 1, 0, 6, bytes.fromhex("020000000010") + b"\0\0"
        )
        + data
    )


def radiotap_wrap(data: bytes) -> bytes:
    """802.11 data in radiotap: QoS data frames with LLC/SNAP, the FCS kept at the end."""
    from scapy.layers.dot11 import Dot11, Dot11QoS, RadioTap
    from scapy.layers.l2 import LLC, SNAP

    header = RadioTap(present="Flags", Flags="FCS") / Dot11(
        type=2, subtype=8, FCfield="to_DS", addr1=SMAC, addr2=CMAC, addr3=SMAC
    )
    frame = header / Dot11QoS() / LLC(dsap=0xAA, ssap=0xAA, ctrl=3) / SNAP(code=ethertype_of(data))
    return bytes(frame / Raw(data)) + b"\xde\xad\xbe\xef"  # the FCS (not checked here)


def null_wrap(big_endian: bool) -> Callable[[bytes], bytes]:
    def wrap(data: bytes) -> bytes:
        family = 30 if data[0] >> 4 == 6 else 2  # AF_INET6 as macOS/FreeBSD number it
        return struct.pack(">I" if big_endian else "<I", family) + data

    return wrap


# ------------------------------------------------------------------------------- mutations
def mutation_family(cap: Capture, rng: random.Random) -> None:
    """Seeded random damage to valid messages: bit flips, cuts, inserted and copied bytes."""
    seeds = [rdata for _, rdata in RDATA.values()]
    for i in range(400):
        rtype, rdata = rng.choice(list(RDATA.values()))
        question = q(nm(f"m{i}.example.com"), rtype)
        base = bytearray(
            msg(
                0xB000 + i,
                RESPONSE,
                [question],
                [rr(b"\xc0\x0c", rtype, rdata), rr(b"\xc0\x0c", 1, a("192.0.2.3"))],
                ar=[opt_rr([(10, bytes(8))])],
            )
        )
        for _ in range(rng.randint(1, 4)):
            kind = rng.random()
            where = rng.randrange(2, len(base))
            if kind < 0.5:
                base[where] ^= 1 << rng.randrange(8)
            elif kind < 0.65:
                del base[where:]
            elif kind < 0.8:
                base[where:where] = bytes([rng.choice((0xC0, 0x3F, 0x00, 0xFF, 0x40))])
            elif kind < 0.9:
                base[where] = 0xC0
                if where + 1 < len(base):
                    base[where + 1] = rng.randrange(len(base) + 4)
            else:
                base += rng.choice(seeds)
            if len(base) < 4:
                break
        cap.udp(bytes(base), sport=53, dport=43000, src=S4, dst=C4)


LABEL_POOL = [b"www", b"example", b"com", b"a", b"MiXeD", b"x" * 63, b"with space", b"dot.ted",
              b"back\\slash", b"\xc3\xa9t\xc3\xa9", b"\xff", b"_tcp", b"_sip", b"*", b"-",
              b"xn--nxasmq6b", b"0", b"in-addr", b"arpa", b"local"]  # fmt: skip


class NameWriter:
    """Writes names into a message being built, compressing against the names written so far
    (to a name's start or to any of its suffixes), the way a server's compressor does."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.suffixes: dict[tuple[bytes, ...], int] = {}

    def name(self, labels: tuple[bytes, ...], at: int) -> bytes:
        out = b""
        for i in range(len(labels)):
            tail = labels[i:]
            where = self.suffixes.get(tail)
            if where is not None and self.rng.random() < 0.8:
                return out + bytes([0xC0 | where >> 8, where & 0xFF])
            if at + len(out) < 0x3FFF:
                self.suffixes.setdefault(tail, at + len(out))
            out += bytes([len(labels[i])]) + labels[i]
        return out + b"\0"

    def random_labels(self) -> tuple[bytes, ...]:
        count = self.rng.randint(0, 4)
        labels = tuple(self.rng.choice(LABEL_POOL) for _ in range(count))
        while sum(len(x) + 1 for x in labels) + 1 > 255:
            labels = labels[1:]
        return labels


def random_message(rng: random.Random, qid: int) -> bytes:
    """A well-formed message with random names (compressed), types, classes, TTLs and sections."""
    writer = NameWriter(rng)
    flags = rng.choice((QUERY, RESPONSE, AA_RESPONSE, RESPONSE | 3, 0x8400, 0)) | rng.choice(
        (0, 0x0010, 0x0020)
    )
    counts = [rng.choice((0, 1, 1, 1, 2)), rng.randint(0, 5), rng.randint(0, 3), rng.randint(0, 3)]
    body = b""
    for _ in range(counts[0]):
        labels = writer.random_labels()
        body += (
            writer.name(labels, 12 + len(body)) + u16(rng.choice((1, 28, 5, 16, 255, 65))) + u16(1)
        )
    pool = list(RDATA.values())
    for _ in range(sum(counts[1:])):
        labels = writer.random_labels()
        owner = writer.name(labels, 12 + len(body))
        rtype, rdata = rng.choice(pool)
        if rtype in (2, 5, 12, 39):  # a name as RDATA: compress it too
            rdata = writer.name(writer.random_labels(), 12 + len(body) + len(owner) + 10)
        elif rtype == 15:
            rdata = u16(rng.randint(0, 100)) + writer.name(
                writer.random_labels(), 12 + len(body) + len(owner) + 12
            )
        ttl = rng.choice((0, 1, 60, 3600, 86400, 2**31 - 1, 2**31, 2**32 - 1))
        rclass = rng.choice((IN, IN, IN, CH, ANY, IN | 0x8000))
        body += owner + struct.pack(">HHIH", rtype, rclass, ttl, len(rdata)) + rdata
    return struct.pack(">HH4H", qid, flags, *counts) + body


def random_family(cap: Capture, rng: random.Random) -> None:
    """Random well-formed messages over UDP 53 and 5353 and over TCP (several per segment)."""
    for i in range(600):
        port = rng.choice((53, 53, 5353, 5355))
        cap.udp(random_message(rng, i), sport=port, dport=44000 + i % 100, src=S4, dst=C4)
    flow = TcpFlow(C4, S4, 44999)
    segs = flow.handshake()
    stream = b"".join(tcp_framed(random_message(rng, 0x8000 + i)) for i in range(200))
    pos = 0
    while pos < len(stream):
        step = rng.choice((1, 2, 7, 100, 600, 1400))
        segs.append(flow.send("server", "PA", stream[pos : pos + step]))
        pos += step
    for seg in [*segs, *flow.close()]:
        cap.ip(seg)


def snaplen_family(cap: Capture) -> None:
    """Frames cut by a snapshot length: the DNS message is incomplete in the file."""
    question = q(nm("snap.example.com"), 16)
    resp = msg(0xC000, RESPONSE, [question], [rr(b"\xc0\x0c", 16, cstr(b"s" * 100))])
    frame = ether_wrap(bytes(udp_ip(S4, C4, 53, 43001, resp)))
    for i, keep in enumerate((14 + 20 + 8 + 6, 14 + 20 + 8 + 30, len(frame) - 40, 20)):
        cut = bytearray(frame[:keep])
        if len(cut) > 14 + 20 + 8 + 2:
            cut[14 + 28 + 1] = i
        cap.raw(bytes(cut), orig_len=len(frame))
    cap.udp(resp)  # and the whole message once


def ttl_family(cap: Capture) -> None:
    question = q(nm("ttl.example.com"), 1)
    for i, ttl in enumerate((0, 1, 2**31 - 1, 2**31, 2**32 - 1, 604800)):
        cap.exchange(
            msg(0xD000 + i, QUERY, [question]),
            msg(0xD000 + i, RESPONSE, [question], [rr(b"\xc0\x0c", 1, a("192.0.2.13"), ttl)]),
        )


def bulk_family(cap: Capture) -> None:
    """More questions and records than a brief keeps (32 and 256)."""
    questions = [q(nm(f"q{i}.bulk.example"), 1) for i in range(40)]
    cap.udp(msg(0xE000, QUERY, questions))
    answers = [
        rr(nm(f"r{i}.bulk.example"), 1, a(f"10.0.{i // 250}.{i % 250}"), i) for i in range(300)
    ]
    question = [q(nm("bulk.example"), 1)]
    payload = msg(0xE001, RESPONSE, question, answers[:150], answers[150:200], answers[200:])
    cap.ip(IP(src=S4, dst=C4, id=0x99) / UDP(sport=53, dport=43002) / Raw(payload))


# ---------------------------------------------------------------------------------- the files
def ethernet(builder: Callable[[Capture], None]) -> Callable[[], bytes]:
    def make() -> bytes:
        cap = Capture()
        builder(cap)
        return cap.pcap()

    return make


def linked(linktype: int, wrap: Callable[[bytes], bytes], label: str, **kw) -> Callable[[], bytes]:
    def make() -> bytes:
        cap = Capture(linktype, wrap)
        v4_only = linktype == LINKTYPE_IPV4  # IPv6 has a link type of its own
        standard_exchanges(cap, 0xF000 + linktype % 0x800, label, v4_only=v4_only)
        question = q(nm(f"{label}-tcp.example.com"), 1)
        f = TcpFlow(C4, S4, 44000)
        for seg in [
            *f.handshake(),
            f.send("client", "PA", tcp_framed(msg(0xF7FF, QUERY, [question]))),
            *f.close(),
        ]:
            cap.ip(seg)
        return cap.pcap(**kw)

    return make


def two_interfaces() -> bytes:
    """pcapng: an Ethernet interface in microseconds, a raw-IP one in nanoseconds."""
    cap = Capture()
    standard_exchanges(cap, 0xF100, "eth")
    raw = Capture(LINKTYPE_RAW, lambda d: d)
    standard_exchanges(raw, 0xF200, "rawip")
    frames = []
    for eth, ip in zip(cap.frames, raw.frames, strict=True):
        frames.append(eth)
        frames.append(Frame(eth.ts_ns + 123_457, ip.data, iface=1))
    return pcapng_bytes(
        [Interface(LINKTYPE_ETHERNET, 6, "eth0"), Interface(LINKTYPE_RAW, 9, "tun0")], frames
    )


def pcapng_blocks(custom_inside: bool) -> Callable[[], bytes]:
    """pcapng with every packet block kind (enhanced, simple, obsolete packet), blocks that
    hold no packet (name resolution, interface statistics, unknown) between them, and a second
    section in big-endian byte order whose interfaces restart from 0. Custom blocks (pcapng
    4.8) come between the packets (`custom_inside`) or after the last one: Wireshark numbers
    them as frames, so the frames after them are numbered one more there."""
    return lambda: _pcapng_blocks(custom_inside)


def _pcapng_blocks(custom_inside: bool) -> bytes:
    cap = Capture()
    standard_exchanges(cap, 0xF300, "blocks")
    frames = [f.data for f in cap.frames]

    def block(order: str, kind: int, body: bytes) -> bytes:
        body += b"\0" * (-len(body) % 4)
        return (
            struct.pack(order + "II", kind, 12 + len(body))
            + body
            + struct.pack(order + "I", 12 + len(body))
        )

    def section(order: str, snaplen: int) -> bytes:
        shb = struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1)
        idb = struct.pack(order + "HHI", LINKTYPE_ETHERNET, 0, snaplen)
        return block(order, 0x0A0D0D0A, shb) + block(order, 1, idb)

    def epb(order: str, data: bytes, usec: int) -> bytes:
        return block(
            order, 6, struct.pack(order + "IIIII", 0, 0, usec, len(data), len(data)) + data
        )

    t = 1_714_554_000 * 10**6
    little = section("<", 0) + epb("<", frames[0], t & 0xFFFFFFFF)
    little += block("<", 4, struct.pack("<HH", 1, 8) + a("192.0.2.53") + b"ns\0\0" + bytes(4))
    little += block("<", 3, struct.pack("<I", len(frames[1])) + frames[1])  # simple packet
    little += block("<", 5, struct.pack("<III", 0, 0, 0))  # interface statistics
    custom = block("<", 0xBAD, struct.pack("<I", 32473) + b"custom, not to be copied")
    little += block("<", 0x7FFF0001, b"a block type no one knows")
    little += custom if custom_inside else b""
    opb = struct.pack("<HHIIII", 0, 0, 0, 5000, len(frames[2]), len(frames[2])) + frames[2]
    little += block("<", 2, opb)  # the obsolete packet block
    big = section(">", 65535) + epb(">", frames[3], 6000)
    return little + big + (b"" if custom_inside else block(">", 0x40000BAD, custom[8:-4]))


def randoms() -> bytes:
    cap = Capture()
    random_family(cap, random.Random(SEED + 1))
    return cap.pcap()


def mutations() -> bytes:
    cap = Capture()
    mutation_family(cap, random.Random(SEED))
    return cap.pcap()


FILES: dict[str, Callable[[], bytes]] = {
    "01-rrtypes.pcap": ethernet(rrtypes_family),
    "02-txt.pcap": ethernet(txt_family),
    "03-svcb.pcap": ethernet(svcb_family),
    "04-edns.pcap": ethernet(edns_family),
    "05-classes.pcap": ethernet(classes_family),
    "06-mdns-llmnr.pcap": ethernet(mdns_family),
    "07-names.pcap": ethernet(names_family),
    "08-compression.pcap": ethernet(compression_family),
    "09-header.pcap": ethernet(header_family),
    "10-update-notify.pcap": ethernet(update_family),
    "11-ports.pcap": ethernet(port_family),
    "12-tcp.pcap": ethernet(tcp_family),
    "12b-tcp-edges.pcap": ethernet(tcp_edges_family),
    "13-fragments.pcap": ethernet(fragment_family),
    "14-ttl.pcap": ethernet(ttl_family),
    "15-bulk.pcap": ethernet(bulk_family),
    "16-snaplen.pcap": ethernet(snaplen_family),
    "17-mutations.pcap": mutations,
    "17b-random.pcap": randoms,
    "18-tunnels.pcap": ethernet(tunnel_family),
    "19-heuristic-ports.pcap": ethernet(heuristic_family),
    "31-odd-rdlength.pcap": ethernet(odd_rdlength_family),
    "32-ip-oddities.pcap": ethernet(ip_oddities_family),
    "20-vlan.pcap": linked(LINKTYPE_ETHERNET, vlan_wrap([(0x8100, 100)]), "vlan"),
    "21-qinq.pcap": linked(LINKTYPE_ETHERNET, vlan_wrap([(0x88A8, 200), (0x8100, 100)]), "qinq"),
    "22-qinq-9100.pcap": linked(
        LINKTYPE_ETHERNET, vlan_wrap([(0x9100, 300), (0x8100, 30), (0x8100, 3)]), "triple"
    ),
    "23-sll.pcap": linked(LINKTYPE_LINUX_SLL, sll_wrap, "sll"),
    "24-sll2.pcap": linked(LINKTYPE_LINUX_SLL2, sll2_wrap, "sll2"),
    "25-raw.pcap": linked(LINKTYPE_RAW, lambda d: d, "raw"),
    "26-null-le.pcap": linked(LINKTYPE_NULL, null_wrap(False), "nullle"),
    "27-null-be.pcap": linked(LINKTYPE_NULL, null_wrap(True), "nullbe", big_endian=True),
    "27b-radiotap.pcap": linked(127, radiotap_wrap, "radiotap"),
    "28-ipv4-nano.pcap": linked(LINKTYPE_IPV4, lambda d: d, "ipv4nano", nano=True),
    "29-two-interfaces.pcapng": two_interfaces,
    "29b-pcapng-blocks.pcapng": pcapng_blocks(custom_inside=False),
    "29c-pcapng-custom-block.pcapng": pcapng_blocks(custom_inside=True),
}


def write_all(out: Path, files: Iterable[str] | None = None) -> list[Path]:
    written = []
    for name, make in FILES.items():
        if files is not None and name not in files:
            continue
        written.append(write_file(out / name, make()))
    gz = out / "30-gzip.pcap.gz"
    written.append(write_file(gz, gzip_bytes((out / "01-rrtypes.pcap").read_bytes())))
    return written


def main() -> int:
    out = output_folder("dns", __doc__.splitlines()[0])
    for path in write_all(out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
