"""Write a deterministic synthetic capture (classic pcap, Ethernet) and its ground truth.

    python benchmarks/generate.py --packets 100000 --seed 1 --out benchmarks/data/bench-100k.pcap

The mix imitates a small office link seen from a mirror port: about 30% DNS (UDP/53 over IPv4
and IPv6, some DNS over TCP/53 with handshakes and length framing, truncated UDP answers
retried over TCP, NXDOMAIN, SERVFAIL, unanswered queries, retransmissions, EDNS, name
compression), TLS over TCP/443, QUIC, NTP, ARP, ICMP/ICMPv6 and a little mDNS.  Frames are
built from byte templates with ``struct`` (no scapy), so a million packets take seconds.

The ground truth (``*.truth.json`` next to the capture) comes from the generator's own
bookkeeping of what it wrote, never from parsing the file.  Definitions are in
``benchmarks/README.md``.  ``generate(path, packets, seed)`` is importable for tests.
"""

from __future__ import annotations

import argparse
import heapq
import ipaddress
import json
import random
import struct
import sys
import time
from bisect import bisect
from collections import Counter
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import BinaryIO

GENERATOR_VERSION = 1
START_US = 1_714_564_800 * 1_000_000  # 2024-05-01T12:00:00Z
MEAN_GAP_US = 6_000  # 100k packets span about ten minutes
MIN_FRAME = 60  # frames are zero-padded to the Ethernet minimum, as on the wire
LINKTYPE_ETHERNET = 1

ETH_IPV4, ETH_IPV6, ETH_ARP = 0x0800, 0x86DD, 0x0806
PROTO_ICMP, PROTO_TCP, PROTO_UDP, PROTO_ICMPV6 = 1, 6, 17, 58
FIN, SYN, PSH, ACK = 0x01, 0x02, 0x08, 0x10

QTYPE_NAMES = {1: "A", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA"}
QTYPE_NAMES |= {33: "SRV", 41: "OPT", 65: "HTTPS"}
T_A, T_CNAME, T_SOA, T_PTR, T_MX, T_TXT = 1, 5, 6, 12, 15, 16
T_AAAA, T_SRV, T_OPT, T_HTTPS = 28, 33, 41, 65
RCODE_NAMES = {0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN"}

# Conversation kinds and their relative start rates (tuned so that packet shares come out at
# roughly 30% DNS, 45% TLS, 17% QUIC, a few percent NTP/ARP/ICMP, ~1% mDNS).
KIND_WEIGHTS: dict[str, float] = {
    "dns": 9.3,
    "dns_tcp": 0.037,
    "dns_tc": 0.032,
    "mdns": 0.45,
    "tls": 0.58,
    "quic": 0.68,
    "ntp": 1.0,
    "arp": 1.5,
    "icmp": 0.45,
}


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


DOMAINS = _words(
    "example.com example.net example.org contoso.com fabrikam.com wingtiptoys.com "
    "northwind.io adventure-works.com tailspin.dev litware.net proseware.com fourthcoffee.com "
    "woodgrove.bank lucernepublishing.com margiestravel.com alpineskihouse.com treyresearch.net "
    "cohovineyard.com cohowinery.com blueyonderairlines.com humongousinsurance.com "
    "graphicdesigninstitute.com schoolofart.org wideworldimporters.com relecloud.com "
    "firstupconsultants.com consolidatedmessenger.com southridgevideo.com "
    "videocdn.example.net static-assets.example.org telemetry.example.com "
    "mail-provider.example push-service.example maps-tiles.example fonts-cdn.example "
    "social-feed.example news-portal.example weather-data.example shop-front.example "
    "payments-gw.example auth-sso.example package-mirror.example os-updates.example "
    "antivirus-sigs.example chat-relay.example video-meet.example music-stream.example "
    "code-host.example ci-runner.example docs-site.example search-engine.example "
    "ads-network.example analytics-tag.example captcha-service.example cdn-edge.example"
)
SUBDOMAINS = _words(
    "www api cdn static img images login auth accounts mail smtp imap m app assets media "
    "edge update updates telemetry push ws files docs blog shop store pay status support help "
    "portal admin dev beta v2 graph gateway events metrics logs tiles fonts video audio"
)
CNAME_TARGETS = ("edgekey.example", "cloudfront.example", "fastly-edge.example", "akadns.example")
LOCAL_ZONE = "corp.example.lan"
NX_HOSTS = _words(
    "wpad isatap printer-2f nas-old fileserver intranet-old jira-legacy vpn-test proxy "
    "_ldap._tcp.dc._msdcs kms._tcp old-dc01 scanner3 camera-lobby tv-meeting-room"
)
MDNS_SERVICES = (
    "_googlecast._tcp.local",
    "_airplay._tcp.local",
    "_raop._tcp.local",
    "_spotify-connect._tcp.local",
    "_ipp._tcp.local",
    "_services._dns-sd._udp.local",
    "_companion-link._tcp.local",
    "_hap._tcp.local",
)
MDNS_DEVICES = ("Living-Room-TV", "Office-Printer", "Kitchen-Speaker", "Meeting-Room-Display")


# --------------------------------------------------------------------------- checksums


def _fold(total: int) -> int:
    """Internet checksum of a value that is congruent to the 16-bit word sum mod 0xFFFF."""
    rest = total % 0xFFFF
    return 0xFFFF - rest if rest else 0


def ip_checksum(data: bytes) -> int:
    """RFC 1071 checksum (the big-integer value is congruent to the word sum mod 0xFFFF)."""
    if len(data) & 1:
        data += b"\0"
    return _fold(int.from_bytes(data, "big"))


def l4_checksum(src: bytes, dst: bytes, proto: int, segment: bytes) -> int:
    """TCP/UDP/ICMPv6 checksum including the IPv4 or IPv6 pseudo-header."""
    if len(src) == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, proto, len(segment))
    else:
        pseudo = src + dst + struct.pack("!I3xB", len(segment), proto)
    if len(segment) & 1:
        segment += b"\0"
    return _fold(int.from_bytes(pseudo, "big") + int.from_bytes(segment, "big"))


# --------------------------------------------------------------------------- hosts and frames


@dataclass(frozen=True, slots=True)
class Host:
    """An endpoint; hosts off the LAN are reached through the gateway's MAC address."""

    addr: str
    ip: bytes
    mac: bytes
    local: bool = True

    @property
    def v6(self) -> bool:
        return len(self.ip) == 16


def make_host(addr: str, mac: bytes, local: bool = True) -> Host:
    return Host(addr, ipaddress.ip_address(addr).packed, mac, local)


GATEWAY_MAC = bytes.fromhex("00005e0001fe")
GATEWAY = make_host("10.1.0.1", GATEWAY_MAC)
MDNS_V4 = make_host("224.0.0.251", bytes.fromhex("01005e0000fb"))
MDNS_V6 = make_host("ff02::fb", bytes.fromhex("3333000000fb"))
BROADCAST_MAC = b"\xff" * 6
ARP_HEAD = struct.pack("!HHBB", 1, ETH_IPV4, 6, 4)


class FrameBuilder:
    """Ethernet/IP/UDP/TCP/ICMP frames from byte templates, with valid checksums."""

    def __init__(self) -> None:
        self.ip_id = 0

    @staticmethod
    def l2_addr(host: Host) -> bytes:
        return host.mac if host.local else GATEWAY_MAC

    def ip(self, src: Host, dst: Host, proto: int, l4: bytes, ttl: int) -> bytes:
        eth_dst = self.l2_addr(dst)
        eth_src = self.l2_addr(src)
        if src.v6:
            hdr = struct.pack("!IHBB", 0x60000000, len(l4), proto, ttl) + src.ip + dst.ip
            return eth_dst + eth_src + b"\x86\xdd" + hdr + l4
        self.ip_id = (self.ip_id + 1) & 0xFFFF
        head = struct.pack("!BBHHHBB", 0x45, 0, 20 + len(l4), self.ip_id, 0x4000, ttl, proto)
        addrs = src.ip + dst.ip
        csum = ip_checksum(head + b"\0\0" + addrs)
        return eth_dst + eth_src + b"\x08\x00" + head + struct.pack("!H", csum) + addrs + l4

    def udp(
        self, src: Host, dst: Host, sport: int, dport: int, payload: bytes, ttl: int = 64
    ) -> bytes:
        seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        csum = l4_checksum(src.ip, dst.ip, PROTO_UDP, seg) or 0xFFFF
        return self.ip(src, dst, PROTO_UDP, seg[:6] + struct.pack("!H", csum) + seg[8:], ttl)

    def tcp(
        self,
        src: Host,
        dst: Host,
        ports: tuple[int, int],
        seq_ack: tuple[int, int],
        flags: int,
        payload: bytes = b"",
        ttl: int = 64,
    ) -> bytes:
        options = b"\x02\x04\x05\xb4\x01\x01\x04\x02\x01\x03\x03\x07" if flags & SYN else b""
        offset = (20 + len(options)) // 4 << 12
        window = 64240 if flags & SYN else 502
        head = struct.pack("!HHIIH", ports[0], ports[1], seq_ack[0], seq_ack[1], offset | flags)
        seg = head + struct.pack("!HHH", window, 0, 0) + options + payload
        csum = l4_checksum(src.ip, dst.ip, PROTO_TCP, seg)
        return self.ip(src, dst, PROTO_TCP, seg[:16] + struct.pack("!H", csum) + seg[18:], ttl)

    def icmp_echo(
        self, src: Host, dst: Host, reply: bool, ident: int, seq: int, data: bytes
    ) -> bytes:
        if src.v6:
            msg = struct.pack("!BBHHH", 129 if reply else 128, 0, 0, ident, seq) + data
            csum = l4_checksum(src.ip, dst.ip, PROTO_ICMPV6, msg)
            proto = PROTO_ICMPV6
        else:
            msg = struct.pack("!BBHHH", 0 if reply else 8, 0, 0, ident, seq) + data
            csum = ip_checksum(msg)
            proto = PROTO_ICMP
        msg = msg[:2] + struct.pack("!H", csum) + msg[4:]
        return self.ip(src, dst, proto, msg, 64 if not reply else 57)

    @staticmethod
    def arp(asker: Host, target: Host, reply: bool) -> bytes:
        """Who-has ``target`` from ``asker`` (broadcast), or the target's unicast reply."""
        if reply:
            head = asker.mac + target.mac + b"\x08\x06" + ARP_HEAD + b"\x00\x02"
            return head + target.mac + target.ip + asker.mac + asker.ip
        head = BROADCAST_MAC + asker.mac + b"\x08\x06" + ARP_HEAD + b"\x00\x01"
        return head + asker.mac + asker.ip + bytes(6) + target.ip


# --------------------------------------------------------------------------- DNS wire format


def encode_name(name: str) -> bytes:
    """Uncompressed wire form of a dotted name."""
    out = bytearray()
    for label in name.split("."):
        raw = label.encode("ascii")
        out.append(len(raw))
        out += raw
    out.append(0)
    return bytes(out)


def compress_names(names: list[str], base: int, gap: int = 0) -> list[bytes]:
    """Encode names laid out from message offset ``base`` (``gap`` bytes after each one),
    pointing repeated suffixes back to their first occurrence."""
    seen: dict[str, int] = {}
    out: list[bytes] = []
    offset = base
    for name in names:
        labels = name.split(".")
        wire = bytearray()
        for i in range(len(labels)):
            suffix = ".".join(labels[i:]).lower()
            if suffix in seen:
                wire += struct.pack("!H", 0xC000 | seen[suffix])
                break
            seen[suffix] = offset + len(wire)
            raw = labels[i].encode("ascii")
            wire.append(len(raw))
            wire += raw
        else:
            wire.append(0)
        out.append(bytes(wire))
        offset += len(wire) + gap
    return out


@dataclass(slots=True)
class Name:
    """A name the resolvers know about (or answer NXDOMAIN for), with its canned data."""

    text: str
    wire: bytes
    zone_off: int  # offset inside ``wire`` of the zone apex (for SOA/MX pointers)
    exists: bool = True
    v4: tuple[bytes, ...] = ()
    v6: tuple[bytes, ...] = ()
    cname: bytes | None = None
    https: bool = False
    mx: tuple[str, ...] = ()
    txt: tuple[bytes, ...] = ()
    big_txt: tuple[bytes, ...] = ()


def _label(text: str) -> bytes:
    raw = text.encode("ascii")
    return bytes((len(raw),)) + raw


def zone_offset(name: str, zone_labels: int = 2) -> int:
    labels = name.split(".")
    keep = max(len(labels) - zone_labels, 0)
    return sum(len(label) + 1 for label in labels[:keep])


def rr(owner: bytes, rtype: int, ttl: int, rdata: bytes) -> bytes:
    return owner + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def pointer(offset: int) -> bytes:
    return struct.pack("!H", 0xC000 | offset)


OPT_PLAIN = b"\0" + struct.pack("!HHIH", T_OPT, 1232, 0, 0)


def opt_record(cookie: bytes | None) -> bytes:
    if cookie is None:
        return OPT_PLAIN
    option = struct.pack("!HH", 10, len(cookie)) + cookie
    return b"\0" + struct.pack("!HHIH", T_OPT, 1232, 0, len(option)) + option


def dns_query(ident: int, name: Name, qtype: int, flags: int, opt: bytes | None) -> bytes:
    head = struct.pack("!HHHHHH", ident, flags, 1, 0, 0, 1 if opt else 0)
    return head + name.wire + struct.pack("!HH", qtype, 1) + (opt or b"")


def soa_rr(name: Name) -> bytes:
    zone = pointer(12 + name.zone_off)
    rdata = b"\x03ns1" + zone + b"\x0ahostmaster" + zone
    rdata += struct.pack("!IIIII", 2024050101, 7200, 3600, 1209600, 300)
    return rr(zone, T_SOA, 300, rdata)


def answer_records(name: Name, qtype: int, ttl: int) -> list[bytes]:
    """Answer section for a NOERROR response; empty means NODATA."""
    offset = 12 + len(name.wire) + 4
    owner = b"\xc0\x0c"
    records: list[bytes] = []
    if name.cname is not None and qtype in (T_A, T_AAAA) and (name.v4 if qtype == T_A else name.v6):
        records.append(rr(owner, T_CNAME, ttl, name.cname))
        owner = pointer(offset + 12)
        ttl = min(ttl, 60)
    if qtype == T_A:
        records += [rr(owner, T_A, ttl, ip) for ip in name.v4]
    elif qtype == T_AAAA:
        records += [rr(owner, T_AAAA, ttl, ip) for ip in name.v6]
    elif qtype == T_HTTPS and name.https:
        params = struct.pack("!HH", 1, 6) + b"\x02h2\x02h3"
        if name.v4:
            params += struct.pack("!HH", 4, 4 * len(name.v4)) + b"".join(name.v4)
        records.append(rr(owner, T_HTTPS, ttl, b"\x00\x01\x00" + params))
    elif qtype == T_MX:
        zone = pointer(12 + name.zone_off)
        for pref, host in enumerate(name.mx):
            label = host.encode("ascii")
            rdata = struct.pack("!HB", 10 * (pref + 1), len(label)) + label + zone
            records.append(rr(owner, T_MX, ttl, rdata))
    elif qtype == T_TXT:
        records += [rr(owner, T_TXT, ttl, bytes([len(s)]) + s) for s in name.txt]
    return records


def dns_response(
    query: bytes, name: Name, rcode: int, answers: list[bytes], opt: bytes | None, tc: bool = False
) -> bytes:
    """Response echoing ``query``'s id and question; SOA authority for NXDOMAIN/NODATA."""
    ident = query[:2]
    authority = [soa_rr(name)] if rcode == 3 or (rcode == 0 and not answers and not tc) else []
    flags = 0x8180 | rcode | (0x0200 if tc else 0)
    counts = struct.pack("!HHHH", 1, len(answers), len(authority), 1 if opt else 0)
    question = query[12 : 12 + len(name.wire) + 4]
    body = b"".join(answers) + b"".join(authority) + (opt or b"")
    return ident + struct.pack("!H", flags) + counts + question + body


# --------------------------------------------------------------------------- bookkeeping


@dataclass(slots=True)
class DnsMessage:
    """What the generator wrote for one DNS message (the source of the ground truth)."""

    protocol: str  # dns | mdns
    transport: str  # udp | tcp
    ip_version: int
    response: bool
    rcode: int
    questions: tuple[tuple[str, int], ...]
    client: str | None  # the querier's address, for queries
    retransmission: bool = False
    truncated: bool = False


@dataclass(slots=True)
class Conversation:
    """Frames (with times and kinds) plus the DNS facts they carry."""

    frames: list[tuple[int, bytes, str]] = field(default_factory=list)
    messages: list[DnsMessage] = field(default_factory=list)
    transactions: list[tuple[str, bool]] = field(default_factory=list)  # (transport, answered)

    def add(self, t: int, frame: bytes, kind: str) -> None:
        self.frames.append((t, frame, kind))


class Truth:
    """Counters over everything committed to the capture."""

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()
        self.messages = 0
        self.queries = 0
        self.responses = 0
        self.frames_with_dns = 0
        self.by_transport: dict[str, Counter[str]] = {"udp": Counter(), "tcp": Counter()}
        self.by_protocol: dict[str, Counter[str]] = {"dns": Counter(), "mdns": Counter()}
        self.by_ip: dict[str, Counter[str]] = {"4": Counter(), "6": Counter()}
        self.rcodes: Counter[str] = Counter()
        self.qtypes: Counter[str] = Counter()
        self.qnames: Counter[str] = Counter()
        self.clients: dict[str, set[str]] = {"dns": set(), "mdns": set()}
        self.transactions: Counter[str] = Counter()
        self.answered = 0
        self.unanswered = 0
        self.retransmissions = 0
        self.truncated = 0

    def commit(self, conv: Conversation) -> None:
        for _t, _frame, kind in conv.frames:
            self.kinds[kind] += 1
        for msg in conv.messages:
            self.add_message(msg)
        for transport, answered in conv.transactions:
            self.transactions[transport] += 1
            if answered:
                self.answered += 1
            else:
                self.unanswered += 1

    def add_message(self, msg: DnsMessage) -> None:
        role = "responses" if msg.response else "queries"
        self.messages += 1
        self.frames_with_dns += 1
        for bucket in (
            self.by_transport[msg.transport],
            self.by_protocol[msg.protocol],
            self.by_ip[str(msg.ip_version)],
        ):
            bucket["messages"] += 1
            bucket[role] += 1
        if msg.response:
            self.responses += 1
            self.rcodes[RCODE_NAMES.get(msg.rcode, str(msg.rcode))] += 1
            self.truncated += msg.truncated
            return
        self.queries += 1
        self.retransmissions += msg.retransmission
        if msg.client is not None:
            self.clients[msg.protocol].add(msg.client)
        for qname, qtype in msg.questions:
            self.qnames[qname] += 1
            self.qtypes[QTYPE_NAMES.get(qtype, str(qtype))] += 1

    def to_dict(self, meta: dict[str, object]) -> dict[str, object]:
        top = sorted(self.qnames.items(), key=lambda item: (-item[1], item[0]))[:10]
        all_clients = self.clients["dns"] | self.clients["mdns"]
        return {
            **meta,
            "packets_by_kind": dict(sorted(self.kinds.items())),
            "dns_messages": self.messages,
            "dns_frames": self.frames_with_dns,
            "queries": self.queries,
            "responses": self.responses,
            "by_transport": {k: _counts(v) for k, v in self.by_transport.items()},
            "by_protocol": {k: _counts(v) for k, v in self.by_protocol.items()},
            "by_ip_version": {k: _counts(v) for k, v in self.by_ip.items()},
            "rcodes": dict(sorted(self.rcodes.items())),
            "qtypes": dict(sorted(self.qtypes.items())),
            "transactions": dict(sorted(self.transactions.items())),
            "answered_queries": self.answered,
            "unanswered_queries": self.unanswered,
            "retransmissions": self.retransmissions,
            "truncated_responses": self.truncated,
            "distinct_qnames": len(self.qnames),
            "top_qnames": [{"qname": q, "count": c} for q, c in top],
            "distinct_clients": len(all_clients),
            "distinct_clients_by_protocol": {k: len(v) for k, v in self.clients.items()},
        }


def _counts(counter: Counter[str]) -> dict[str, int]:
    return {key: counter[key] for key in ("messages", "queries", "responses")}


# --------------------------------------------------------------------------- the world


class World:
    """Hosts, names and canned data, all drawn from one seeded RNG."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.blob = rng.randbytes(1 << 20)
        self.servers: dict[bytes, Host] = {}
        self.clients_v4 = [self._client(f"10.1.{1 + i // 200}.{10 + i % 200}") for i in range(240)]
        self.clients_v6 = [self._client(f"2001:db8:10::{0x100 + i:x}") for i in range(60)]
        self.clients = self.clients_v4 + self.clients_v6
        self.client_cum = list(accumulate(1.0 / (i + 1) ** 0.8 for i in range(len(self.clients))))
        rng.shuffle(self.clients)
        self.resolvers_v4 = [
            make_host("10.1.0.53", bytes.fromhex("0050560a0035")),
            make_host("10.1.0.54", bytes.fromhex("0050560a0036")),
        ]
        self.resolver_v6 = make_host("2001:db8:10::53", bytes.fromhex("0050560a0035"))
        self.ntp_servers = [self.server("198.18.200.1"), self.server("198.18.200.2")]
        self.ntp_servers.append(self.server("2001:db8:ff::123"))
        self.mdns_queriers = rng.sample(self.clients_v4, 30) + rng.sample(self.clients_v6, 8)
        self.mdns_devices = [
            (self._client(f"10.1.9.{20 + i}"), device) for i, device in enumerate(MDNS_DEVICES)
        ]
        self.names, self.apexes, self.nx_names = self._build_names()
        self.name_cum = _zipf_cum(len(self.names), 1.0)
        self.apex_cum = _zipf_cum(len(self.apexes), 1.0)
        self.big_txt_apexes = [apex for apex in self.apexes if apex.big_txt]

    def _client(self, addr: str) -> Host:
        mac = b"\x02\x00" + self.rng.randbytes(4)
        return make_host(addr, mac)

    def server(self, addr: str) -> Host:
        host = make_host(addr, GATEWAY_MAC, local=False)
        return self.servers.setdefault(host.ip, host)

    def _addresses(self, v6: bool, count: int) -> tuple[bytes, ...]:
        rng = self.rng
        if v6:
            return tuple(
                ipaddress.IPv6Address(0x20010DB8_00FF_0000 << 64 | rng.getrandbits(20)).packed
                for _ in range(count)
            )
        return tuple(
            bytes((198, 18 + rng.getrandbits(1), rng.randrange(256), rng.randrange(1, 255)))
            for _ in range(count)
        )

    def _build_names(self) -> tuple[list[Name], list[Name], list[Name]]:
        rng = self.rng
        names: list[Name] = []
        apexes: list[Name] = []
        for domain in DOMAINS:
            apex = self._name(domain)
            apex.mx = tuple(f"mx{i + 1}" for i in range(rng.randrange(1, 4)))
            apex.txt = (b"v=spf1 include:_spf." + domain.encode() + b" ~all",)
            if rng.random() < 0.3:
                apex.big_txt = tuple(self._token(rng.randrange(60, 110)) for _ in range(10))
            apexes.append(apex)
            names.append(apex)
            names += [self._name(f"{sub}.{domain}") for sub in rng.sample(SUBDOMAINS, 30)]
        for i in range(900):
            shard = f"r{i % 20 + 1}---sn-{self._word(4)}{self._word(2)}"
            names.append(self._name(f"{shard}.{rng.choice(DOMAINS[-12:])}"))
        rng.shuffle(names)
        rng.shuffle(apexes)
        nx = [self._nx_name(f"{host}.{LOCAL_ZONE}", 3) for host in NX_HOSTS]
        nx += [self._nx_name(f"{self._word(8)}.{rng.choice(DOMAINS)}", 2) for _ in range(250)]
        nx += [self._nx_name(f"{self._typo(rng.choice(DOMAINS))}", 1) for _ in range(80)]
        return names, apexes, nx

    def _name(self, text: str) -> Name:
        rng = self.rng
        name = Name(text, encode_name(text), zone_offset(text))
        name.v4 = self._addresses(False, rng.choice((1, 1, 1, 2, 4)))
        if rng.random() < 0.7:
            name.v6 = self._addresses(True, rng.choice((1, 1, 2)))
        if rng.random() < 0.3:
            target = f"e{rng.randrange(100000)}.a.{rng.choice(CNAME_TARGETS)}"
            name.cname = encode_name(target)
        name.https = rng.random() < 0.4
        for ip in name.v4 + name.v6:
            self.server(str(ipaddress.ip_address(ip)))
        return name

    def _nx_name(self, text: str, zone_labels: int) -> Name:
        return Name(text, encode_name(text), zone_offset(text, zone_labels), exists=False)

    def _word(self, length: int) -> str:
        return "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(length))

    def _token(self, length: int) -> bytes:
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        return ("site-verification=" + "".join(self.rng.choices(alphabet, k=length))).encode()

    def _typo(self, domain: str) -> str:
        label, _, tld = domain.partition(".")
        i = self.rng.randrange(1, len(label))
        return f"{label[:i]}{label[i + 1 :]}.{tld}" if len(label) > 3 else f"{label}x.{tld}"

    def pick_client(self) -> Host:
        return self.clients[bisect(self.client_cum, self.rng.random() * self.client_cum[-1])]

    def pick_name(self) -> Name:
        return self.names[bisect(self.name_cum, self.rng.random() * self.name_cum[-1])]

    def pick_apex(self) -> Name:
        return self.apexes[bisect(self.apex_cum, self.rng.random() * self.apex_cum[-1])]

    def resolver_for(self, client: Host) -> Host:
        if client.v6:
            return self.resolver_v6
        return self.resolvers_v4[0 if self.rng.random() < 0.75 else 1]

    def random_bytes(self, size: int) -> bytes:
        start = self.rng.randrange(len(self.blob) - size)
        return self.blob[start : start + size]

    def server_for(self, name: Name, v6: bool) -> Host:
        ip = self.rng.choice(name.v6 if v6 else name.v4)
        return self.servers[ip]


def _zipf_cum(count: int, exponent: float) -> list[float]:
    return list(accumulate(1.0 / (i + 1) ** exponent for i in range(count)))


# --------------------------------------------------------------------------- TCP helper


class TcpConn:
    """Sequence/ack bookkeeping for one TCP connection; each call returns one frame."""

    def __init__(
        self,
        fb: FrameBuilder,
        client: Host,
        server: Host,
        ports: tuple[int, int],
        rng: random.Random,
    ) -> None:
        self.fb, self.client, self.server = fb, client, server
        self.cport, self.sport = ports
        self.seq = {True: rng.getrandbits(32), False: rng.getrandbits(32)}
        self.server_ttl = 64 if server.local else 57

    def send(self, from_client: bool, flags: int, payload: bytes = b"") -> bytes:
        seq, ack = self.seq[from_client], self.seq[not from_client]
        if not flags & ACK:
            ack = 0
        if from_client:
            src, dst, ports, ttl = self.client, self.server, (self.cport, self.sport), 64
        else:
            src, dst, ports, ttl = (
                self.server,
                self.client,
                (self.sport, self.cport),
                self.server_ttl,
            )
        frame = self.fb.tcp(src, dst, ports, (seq, ack), flags, payload, ttl)
        step = len(payload) + (1 if flags & (SYN | FIN) else 0)
        self.seq[from_client] = (seq + step) & 0xFFFFFFFF
        return frame


# --------------------------------------------------------------------------- conversations


class Generator:
    """Builds conversations; each returns its frames and the DNS facts they carry."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.world = World(self.rng)
        self.fb = FrameBuilder()
        self.kinds = list(KIND_WEIGHTS)
        self.kind_cum = list(accumulate(KIND_WEIGHTS.values()))

    def pick_kind(self) -> str:
        return self.kinds[bisect(self.kind_cum, self.rng.random() * self.kind_cum[-1])]

    def build(self, kind: str, t: int) -> Conversation:
        return getattr(self, f"conv_{kind}")(t)

    # ---- DNS over UDP

    def _query_flags_opt(self) -> tuple[int, bytes | None]:
        rng = self.rng
        flags = 0x0120 if rng.random() < 0.3 else 0x0100
        roll = rng.random()
        if roll < 0.15:
            return flags, None
        return flags, opt_record(self.world.random_bytes(8) if roll < 0.35 else None)

    def _resolve_delay(self) -> int:
        rng = self.rng
        if rng.random() < 0.7:
            return rng.randrange(150, 2_000)
        return rng.randrange(8_000, 150_000)

    def conv_dns(self, t: int) -> Conversation:
        """One stub lookup: A, A+AAAA, HTTPS+A+AAAA, MX or TXT; some NX, SERVFAIL, lost."""
        rng, world = self.rng, self.world
        conv = Conversation()
        client = world.pick_client()
        server = world.resolver_for(client)
        roll = rng.random()
        if roll < 0.05:
            name = rng.choice(world.nx_names)
            qtypes = rng.choice(((T_A,), (T_A, T_AAAA), (T_AAAA,)))
        elif roll < 0.08:
            name, qtypes = world.pick_apex(), (T_MX,)
        elif roll < 0.12:
            name, qtypes = world.pick_apex(), (T_TXT,)
        else:
            name = world.pick_name()
            qtypes = rng.choices(
                ((T_A, T_AAAA), (T_A,), (T_AAAA,), (T_HTTPS, T_A, T_AAAA), (T_HTTPS,)),
                weights=(40, 32, 9, 12, 4),
            )[0]
        sport = rng.randrange(1024, 65536)
        for i, qtype in enumerate(qtypes):
            self._udp_transaction(conv, t + 40 * i, client, server, sport, name, qtype)
        return conv

    def _udp_transaction(
        self,
        conv: Conversation,
        t: int,
        client: Host,
        server: Host,
        sport: int,
        name: Name,
        qtype: int,
    ) -> None:
        rng, fb = self.rng, self.fb
        flags, opt = self._query_flags_opt()
        query = dns_query(rng.getrandbits(16), name, qtype, flags, opt)
        ipv = 6 if client.v6 else 4
        qframe = fb.udp(client, server, sport, 53, query)
        questions = ((name.text, qtype),)
        roll = rng.random()
        sends = 1
        if roll < 0.015:  # lost: 1-3 copies, never answered
            sends = rng.randrange(1, 4)
        elif roll < 0.04:  # answered after one retransmission
            sends = 2
        for i in range(sends):
            conv.add(t + i * 1_000_000, qframe, "dns_udp")
            conv.messages.append(
                DnsMessage("dns", "udp", ipv, False, 0, questions, client.addr, i > 0)
            )
        answered = roll >= 0.015
        conv.transactions.append(("udp", answered))
        if not answered:
            return
        rcode, answers = 0, []
        if rng.random() < 0.012:
            rcode = 2
        elif not name.exists:
            rcode = 3
        else:
            answers = answer_records(name, qtype, rng.choice((60, 300, 300, 3600, 86400)))
        resp = dns_response(query, name, rcode, answers, OPT_PLAIN if opt else None)
        t_resp = t + (sends - 1) * 1_000_000 + self._resolve_delay()
        conv.add(t_resp, fb.udp(server, client, 53, sport, resp), "dns_udp")
        conv.messages.append(DnsMessage("dns", "udp", ipv, True, rcode, questions, None))

    # ---- DNS over TCP

    def conv_dns_tcp(self, t: int) -> Conversation:
        """A TCP/53 session with one to three queries (zone tools, large answers)."""
        rng, world = self.rng, self.world
        conv = Conversation()
        client = world.pick_client()
        lookups = [
            (world.pick_name(), rng.choice((T_A, T_AAAA)))
            if rng.random() < 0.7
            else (world.pick_apex(), T_MX)
            for _ in range(rng.randrange(1, 4))
        ]
        self._tcp_session(conv, t, client, world.resolver_for(client), lookups)
        return conv

    def conv_dns_tc(self, t: int) -> Conversation:
        """A TXT query answered with TC=1 over UDP, then retried over TCP."""
        rng, world, fb = self.rng, self.world, self.fb
        conv = Conversation()
        client = rng.choice(world.clients_v4)
        server = world.resolver_for(client)
        if not world.big_txt_apexes:
            return self.conv_dns(t)
        name = rng.choice(world.big_txt_apexes)
        sport = rng.randrange(1024, 65536)
        query = dns_query(rng.getrandbits(16), name, T_TXT, 0x0100, None)
        questions = ((name.text, T_TXT),)
        conv.add(t, fb.udp(client, server, sport, 53, query), "dns_udp")
        conv.messages.append(DnsMessage("dns", "udp", 4, False, 0, questions, client.addr))
        resp = dns_response(query, name, 0, [], None, tc=True)
        t += self._resolve_delay()
        conv.add(t, fb.udp(server, client, 53, sport, resp), "dns_udp")
        conv.messages.append(DnsMessage("dns", "udp", 4, True, 0, questions, None, truncated=True))
        conv.transactions.append(("udp", True))
        self._tcp_session(conv, t + 300, client, server, [(name, T_TXT)], big=True)
        return conv

    def _tcp_session(
        self,
        conv: Conversation,
        t: int,
        client: Host,
        server: Host,
        lookups: list[tuple[Name, int]],
        big: bool = False,
    ) -> None:
        rng = self.rng
        conn = TcpConn(self.fb, client, server, (rng.randrange(1024, 65536), 53), rng)
        ipv = 6 if client.v6 else 4
        rtt = rng.randrange(100, 800)
        t = self._handshake(conv, conn, t, rtt, "dns_tcp")
        for name, qtype in lookups:
            flags, opt = self._query_flags_opt()
            query = dns_query(rng.getrandbits(16), name, qtype, flags, opt)
            questions = ((name.text, qtype),)
            t += rng.randrange(50, 300)
            conv.add(
                t, conn.send(True, PSH | ACK, struct.pack("!H", len(query)) + query), "dns_tcp"
            )
            conv.messages.append(DnsMessage("dns", "tcp", ipv, False, 0, questions, client.addr))
            if big:
                answers = [rr(b"\xc0\x0c", T_TXT, 3600, bytes([len(s)]) + s) for s in name.big_txt]
            else:
                answers = answer_records(name, qtype, 300)
            resp = dns_response(query, name, 0, answers, OPT_PLAIN if opt else None)
            t += self._resolve_delay()
            conv.add(t, conn.send(False, PSH | ACK, struct.pack("!H", len(resp)) + resp), "dns_tcp")
            conv.messages.append(DnsMessage("dns", "tcp", ipv, True, 0, questions, None))
            conv.transactions.append(("tcp", True))
            t += rtt // 2
            conv.add(t, conn.send(True, ACK), "dns_tcp")
        self._close(conv, conn, t + 200, rtt, "dns_tcp")

    def _handshake(self, conv: Conversation, conn: TcpConn, t: int, rtt: int, kind: str) -> int:
        conv.add(t, conn.send(True, SYN), kind)
        t += rtt
        conv.add(t, conn.send(False, SYN | ACK), kind)
        t += 30
        conv.add(t, conn.send(True, ACK), kind)
        return t

    def _close(self, conv: Conversation, conn: TcpConn, t: int, rtt: int, kind: str) -> None:
        conv.add(t, conn.send(True, FIN | ACK), kind)
        conv.add(t + rtt, conn.send(False, FIN | ACK), kind)
        conv.add(t + rtt + 30, conn.send(True, ACK), kind)

    # ---- mDNS

    def conv_mdns(self, t: int) -> Conversation:
        """A multicast PTR query (1-3 questions) and 0-2 unsolicited-style answers."""
        rng, world, fb = self.rng, self.world, self.fb
        conv = Conversation()
        querier = rng.choice(world.mdns_queriers)
        group = MDNS_V6 if querier.v6 else MDNS_V4
        ipv = 6 if querier.v6 else 4
        services = rng.sample(MDNS_SERVICES, rng.randrange(1, 4))
        qclass = 0x8001 if rng.random() < 0.2 else 1
        wires = compress_names(services, 12, gap=4)
        body = b"".join(w + struct.pack("!HH", T_PTR, qclass) for w in wires)
        query = struct.pack("!HHHHHH", 0, 0, len(services), 0, 0, 0) + body
        conv.add(t, fb.udp(querier, group, 5353, 5353, query, ttl=255), "mdns")
        questions = tuple((s, T_PTR) for s in services)
        conv.messages.append(DnsMessage("mdns", "udp", ipv, False, 0, questions, querier.addr))
        for device, label in rng.sample(world.mdns_devices, rng.randrange(0, 3)):
            if device.v6 != querier.v6:
                continue
            t += rng.randrange(20_000, 120_000)
            resp = self._mdns_answer(services[0], device, label)
            conv.add(t, fb.udp(device, group, 5353, 5353, resp, ttl=255), "mdns")
            conv.messages.append(DnsMessage("mdns", "udp", ipv, True, 0, (), None))
        return conv

    @staticmethod
    def _mdns_answer(service: str, device: Host, label: str) -> bytes:
        # PTR owner (the service) at 12, its rdata (the instance) 10 bytes after it, the SRV
        # target host inside the SRV rdata; later names point back at earlier labels.
        w_service = encode_name(service)
        local_off = 12 + len(w_service) - 7  # b"\x05local\x00" ends the service name
        w_instance = _label(label) + pointer(12)
        w_host = _label(label) + pointer(local_off)
        ptr = w_service + struct.pack("!HHIH", T_PTR, 1, 4500, len(w_instance)) + w_instance
        inst_off = 12 + len(w_service) + 10
        host_off = inst_off + len(w_instance) + 2 + 10 + 6  # SRV owner, header, fields
        srv_rdata = struct.pack("!HHH", 0, 0, 8009) + w_host
        srv = pointer(inst_off) + struct.pack("!HHIH", T_SRV, 0x8001, 120, len(srv_rdata))
        txt = rr(pointer(inst_off), T_TXT, 4500, _label(f"fn={label}"))
        a = pointer(host_off) + struct.pack("!HHIH", T_A, 0x8001, 120, 4) + device.ip
        head = struct.pack("!HHHHHH", 0, 0x8400, 0, 4, 0, 0)
        return head + ptr + srv + srv_rdata + txt + a

    # ---- other traffic

    def conv_tls(self, t: int) -> Conversation:
        """An HTTPS connection: handshake records, then request/response rounds."""
        rng, world = self.rng, self.world
        conv = Conversation()
        name = world.pick_name()
        client = world.pick_client()
        if client.v6 and not name.v6:
            client = rng.choice(world.clients_v4)
        server = world.server_for(name, client.v6)
        mss = 1440 if client.v6 else 1460
        conn = TcpConn(self.fb, client, server, (rng.randrange(32768, 61000), 443), rng)
        rtt = rng.randrange(5_000, 60_000)
        t = self._handshake(conv, conn, t, rtt, "tls")
        conv.add(t + 100, conn.send(True, PSH | ACK, self._client_hello(name.text)), "tls")
        t += rtt + 100
        flight = self._server_hello() + self._app_records(rng.randrange(2500, 5200), mss)
        t = self._server_send(conv, conn, t, flight, mss)
        t += rtt // 2
        conv.add(t, conn.send(True, PSH | ACK, self._finished()), "tls")
        for _ in range(rng.choice((1, 1, 2, 3, 5))):
            t += rng.randrange(1_000, 400_000)
            request = self._app_records(rng.randrange(80, 700), mss)
            conv.add(t, conn.send(True, PSH | ACK, request), "tls")
            t += rtt
            size = rng.choice((900, 3000, 12000, 40000, 90000, 150000))
            t = self._server_send(conv, conn, t, self._app_records(rng.randrange(size), mss), mss)
        if rng.random() < 0.7:
            self._close(conv, conn, t + rng.randrange(1_000, 2_000_000), rtt, "tls")
        return conv

    def _server_send(self, conv: Conversation, conn: TcpConn, t: int, data: bytes, mss: int) -> int:
        """Server segments (full MSS, one TLS record each) with a client ACK every two."""
        segments = [data[i : i + mss] for i in range(0, len(data), mss)]
        for i, segment in enumerate(segments):
            t += self.rng.randrange(20, 400)
            conv.add(
                t, conn.send(False, PSH | ACK if i == len(segments) - 1 else ACK, segment), "tls"
            )
            if i % 2 == 1 or i == len(segments) - 1:
                conv.add(t + 40, conn.send(True, ACK), "tls")
        return t + 40

    def _app_records(self, size: int, mss: int) -> bytes:
        """Application data records cut so that every TCP segment holds whole records."""
        out = []
        while size > 0:
            body = min(size, mss - 5)
            out.append(b"\x17\x03\x03" + struct.pack("!H", body) + self.world.random_bytes(body))
            size -= body
        return b"".join(out)

    def _client_hello(self, sni: str) -> bytes:
        rnd = self.world.random_bytes
        host = sni.encode()
        sni_ext = struct.pack("!HHHBH", 0, len(host) + 5, len(host) + 3, 0, len(host)) + host
        exts = sni_ext + bytes.fromhex("000a000800060017001d0018")  # supported_groups
        exts += bytes.fromhex("000d000e000c040305030603080408050806")  # signature_algorithms
        exts += bytes.fromhex("002b00050403040303")  # supported_versions 1.3, 1.2
        exts += bytes.fromhex("0010000e000c02683208687474702f312e31")  # ALPN h2, http/1.1
        exts += bytes.fromhex("002d00020101")  # psk_key_exchange_modes
        exts += struct.pack("!HHHHH", 51, 38, 36, 0x001D, 32) + rnd(32)  # key_share x25519
        pad = max(0, 400 - len(exts))  # padding extension, as browsers send (RFC 7685)
        exts += struct.pack("!HH", 21, pad) + bytes(pad)
        body = b"\x03\x03" + rnd(32) + b"\x20" + rnd(32)
        body += bytes.fromhex("0008130113021303c02b") + b"\x01\x00"
        body += struct.pack("!H", len(exts)) + exts
        hs = b"\x01" + len(body).to_bytes(3, "big") + body
        return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs

    def _server_hello(self) -> bytes:
        rnd = self.world.random_bytes
        exts = bytes.fromhex("002b00020304") + struct.pack("!HHHH", 51, 36, 0x001D, 32) + rnd(32)
        body = b"\x03\x03" + rnd(32) + b"\x20" + rnd(32) + b"\x13\x01\x00"
        body += struct.pack("!H", len(exts)) + exts
        hs = b"\x02" + len(body).to_bytes(3, "big") + body
        return b"\x16\x03\x03" + struct.pack("!H", len(hs)) + hs + b"\x14\x03\x03\x00\x01\x01"

    def _finished(self) -> bytes:
        body = self.world.random_bytes(53)
        return b"\x14\x03\x03\x00\x01\x01\x17\x03\x03" + struct.pack("!H", len(body)) + body

    def conv_quic(self, t: int) -> Conversation:
        """A QUIC connection: padded Initials, then short-header packets both ways."""
        rng, world, fb = self.rng, self.world, self.fb
        conv = Conversation()
        name = world.pick_name()
        client = world.pick_client()
        if client.v6 and not name.v6:
            client = rng.choice(world.clients_v4)
        server = world.server_for(name, client.v6)
        cport = rng.randrange(32768, 61000)
        dcid, scid = world.random_bytes(8), world.random_bytes(8)
        rtt = rng.randrange(5_000, 60_000)

        def send(from_client: bool, payload: bytes) -> None:
            if from_client:
                conv.add(t, fb.udp(client, server, cport, 443, payload), "quic")
            else:
                conv.add(t, fb.udp(server, client, 443, cport, payload, ttl=57), "quic")

        send(True, self._quic_long(0xC3, dcid, b"", 1250))
        t += rtt
        send(False, self._quic_long(0xC3, scid, dcid, 1200))
        t += 200
        send(False, self._quic_long(0xE3, scid, dcid, rng.randrange(900, 1200)))
        t += 300
        send(True, self._quic_long(0xE3, dcid, scid, 90))
        for _ in range(rng.randrange(3, 40)):
            t += rng.randrange(100, 30_000)
            from_client = rng.random() < 0.35
            size = rng.randrange(30, 90) if from_client else self._quic_size()
            send(from_client, bytes((0x40 | rng.getrandbits(6),)) + dcid + world.random_bytes(size))
        return conv

    def _quic_size(self) -> int:
        return 1_230 if self.rng.random() < 0.75 else self.rng.randrange(200, 1_300)

    def _quic_long(self, first: int, dcid: bytes, scid: bytes, total: int) -> bytes:
        head = bytes((first,)) + b"\x00\x00\x00\x01" + bytes((len(dcid),)) + dcid
        head += bytes((len(scid),)) + scid + (b"\x00" if first == 0xC3 else b"")
        rest = max(total - len(head) - 2, 24)
        return head + struct.pack("!H", 0x4000 | rest) + self.world.random_bytes(rest)

    def conv_ntp(self, t: int) -> Conversation:
        """An NTPv4 client request and the server's reply."""
        rng, world, fb = self.rng, self.world, self.fb
        conv = Conversation()
        client = world.pick_client()
        server = world.ntp_servers[2] if client.v6 else rng.choice(world.ntp_servers[:2])
        sport = 123 if rng.random() < 0.3 else rng.randrange(32768, 61000)
        xmit = _ntp_time(t)
        request = struct.pack("!BBbb", 0x23, 0, 6, -20) + bytes(40) + xmit
        conv.add(t, fb.udp(client, server, sport, 123, request), "ntp")
        t2 = t + rng.randrange(2_000, 40_000)
        reply = struct.pack("!BBbb", 0x24, 2, 6, -23) + struct.pack("!II", 0x1A2, 0x3F1)
        reply += (
            server.ip[:4] + _ntp_time(t - 60_000_000) + xmit + _ntp_time(t2 - 50) + _ntp_time(t2)
        )
        conv.add(t2, fb.udp(server, client, 123, sport, reply, ttl=57), "ntp")
        return conv

    def conv_arp(self, t: int) -> Conversation:
        """Who-has for the gateway (or a neighbour), usually answered."""
        rng, world = self.rng, self.world
        conv = Conversation()
        asker = rng.choice(world.clients_v4)
        target = GATEWAY if rng.random() < 0.6 else rng.choice(world.clients_v4)
        conv.add(t, self.fb.arp(asker, target, reply=False), "arp")
        if rng.random() < 0.8 and target is not asker:
            conv.add(t + rng.randrange(50, 900), self.fb.arp(asker, target, reply=True), "arp")
        return conv

    def conv_arp_probe(self, t: int) -> Conversation:
        """A single unanswered ARP request (used to fill the last few packets exactly)."""
        conv = Conversation()
        conv.add(t, self.fb.arp(self.rng.choice(self.world.clients_v4), GATEWAY, False), "arp")
        return conv

    def conv_icmp(self, t: int) -> Conversation:
        """One to four pings, one a second (ICMP echo or ICMPv6 echo)."""
        rng, world, fb = self.rng, self.world, self.fb
        conv = Conversation()
        client = world.pick_client()
        name = world.pick_name()
        if client.v6 and not name.v6:
            client = rng.choice(world.clients_v4)
        server = world.server_for(name, client.v6)
        ident = rng.getrandbits(16)
        for seq in range(1, rng.randrange(2, 6)):
            data = _ntp_time(t)[:8] + bytes(range(0x10, 0x40))
            conv.add(t, fb.icmp_echo(client, server, False, ident, seq, data), "icmp")
            if rng.random() < 0.95:
                reply_t = t + rng.randrange(5_000, 60_000)
                conv.add(reply_t, fb.icmp_echo(server, client, True, ident, seq, data), "icmp")
            t += 1_000_000
        return conv


def _ntp_time(t_us: int) -> bytes:
    seconds, micros = divmod(t_us, 1_000_000)
    return struct.pack("!II", seconds + 2_208_988_800, (micros << 32) // 1_000_000)


# --------------------------------------------------------------------------- writing


class PcapWriter:
    """Classic microsecond pcap; a heap keeps interleaved conversations in time order."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.heap: list[tuple[int, int, bytes]] = []
        self.seq = 0
        self.count = 0
        self.bytes = 0
        self.first_ts: int | None = None
        self.last_ts = 0
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPE_ETHERNET))

    def schedule(self, t: int, frame: bytes) -> None:
        if len(frame) < MIN_FRAME:
            frame += bytes(MIN_FRAME - len(frame))
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, frame))

    def flush_until(self, t: int) -> None:
        heap, write, pop = self.heap, self.fh.write, heapq.heappop
        while heap and heap[0][0] <= t:
            ts, _seq, frame = pop(heap)
            size = len(frame)
            write(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, size, size))
            write(frame)
            self.count += 1
            self.bytes += size
            self.last_ts = ts
            if self.first_ts is None:
                self.first_ts = ts

    def close(self) -> None:
        if self.heap:
            self.flush_until(self.heap[-1][0] + 10**12)


def generate(path: str | Path, packets: int, seed: int, write_truth: bool = True) -> dict:
    """Write ``packets`` frames to ``path`` (and ``*.truth.json``); return the truth."""
    if packets < 1:
        raise ValueError("packets must be positive")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    gen = Generator(seed)
    truth = Truth()
    t = START_US
    scheduled = 0
    with open(path, "wb", buffering=1 << 22) as fh:
        writer = PcapWriter(fh)
        while scheduled < packets:
            conv = gen.build(gen.pick_kind(), t)
            if len(conv.frames) > packets - scheduled:
                conv = gen.conv_arp_probe(t)
            writer.flush_until(t)
            for ts, frame, _kind in conv.frames:
                writer.schedule(ts, frame)
            truth.commit(conv)
            scheduled += len(conv.frames)
            t += 1 + int(gen.rng.expovariate(1.0) * len(conv.frames) * MEAN_GAP_US)
        writer.close()
    if writer.count != packets:
        raise AssertionError(f"wrote {writer.count} packets, wanted {packets}")
    meta = {
        "generator": f"mcpcap-benchmarks/{GENERATOR_VERSION}",
        "seed": seed,
        "capture": path.name,
        "packets": writer.count,
        "bytes": path.stat().st_size,
        "link_type": LINKTYPE_ETHERNET,
        "first_ts": (writer.first_ts or 0) / 1e6,
        "last_ts": writer.last_ts / 1e6,
    }
    result = truth.to_dict(meta)
    if write_truth:
        truth_path(path).write_text(json.dumps(result, indent=2) + "\n")
    return result


def truth_path(capture: str | Path) -> Path:
    """``bench-10k.pcap`` -> ``bench-10k.truth.json``."""
    capture = Path(capture)
    return capture.with_name(capture.stem + ".truth.json")


def parse_count(text: str) -> int:
    """``10k`` -> 10000, ``1m`` -> 1000000, ``2500`` -> 2500."""
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=parse_count, default=100_000, help="e.g. 10k, 1m")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="capture to write (.pcap)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    truth = generate(args.out, args.packets, args.seed)
    elapsed = time.perf_counter() - started
    print(
        f"{args.out}: {truth['packets']} packets, {truth['bytes'] / 2**20:.1f} MiB, "
        f"{truth['dns_messages']} DNS messages, {elapsed:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
