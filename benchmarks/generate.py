"""Write a deterministic synthetic capture (classic pcap, Ethernet) and its ground truth.

    python benchmarks/generate.py --packets 100000 --seed 1 --out benchmarks/data/bench-100k.pcap

The mix imitates a small office link seen from a mirror port: about 30% DNS (UDP/53 over IPv4
and IPv6, some DNS over TCP/53 with handshakes and length framing, truncated UDP answers
retried over TCP, NXDOMAIN, SERVFAIL, unanswered queries, retransmissions, EDNS, name
compression), TLS over TCP/443, QUIC v1 (Initials protected as RFC 9001 says, carrying real
ClientHellos and ServerHellos), HTTP/1.1 on TCP/80, DHCPv4, NTP, ARP, ICMP/ICMPv6 (echoes and
port unreachables) and a little mDNS.  Frames are built from byte templates with ``struct``
(no scapy), so a million packets take seconds.  The QUIC Initials need ``cryptography``.

The ground truth (``*.truth.json`` next to the capture) comes from the generator's own
bookkeeping of what it wrote, never from parsing the file.  Definitions are in
``benchmarks/README.md``.  ``generate(path, packets, seed)`` is importable for tests.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
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
from functools import cache, partial
from itertools import accumulate
from pathlib import Path
from typing import BinaryIO

try:  # QUIC Initial protection (RFC 9001) and certificates; the test extra installs it
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, hmac, serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
    from cryptography.x509.oid import NameOID
except ImportError:  # pragma: no cover - reported by generate()
    AESGCM = None  # type: ignore[assignment,misc]

GENERATOR_VERSION = 2
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


# Version 2 traffic takes the frames of some version-1 conversations (see Generator.build):
# this share of HTTPS connections becomes HTTP on TCP/80, and this one DHCP exchanges.
HTTP_SLOT_SHARE = 0.10
DHCP_SLOT_SHARE = 0.05


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


USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Microsoft-CryptoAPI/10.0",
    "Microsoft NCSI",
    "curl/8.5.0",
    "Debian APT-HTTP/1.3 (2.6.1)",
    "python-requests/2.31.0",
)
HTTP_URIS = (
    "/",
    "/index.html",
    "/favicon.ico",
    "/connecttest.txt",
    "/generate_204",
    "/api/v1/items?id={n}",
    "/static/app.{n}.js",
    "/images/logo.png",
    "/downloads/update-{n}.bin",
    "/debian/dists/bookworm/InRelease",
    "/search?q=item{n}",
    "/login",
)
# frames a response takes with the client's ACKs (1 = one segment, no ACK seen)
HTTP_FRAMES_PER_REPLY = (1, 2, 2, 2, 2, 3, 4, 6, 9, 15, 30)
HTTP_REASONS = {200: "OK", 301: "Moved Permanently", 404: "Not Found", 500: "Internal Server Error"}
HTML_FILLER = b"<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>\n"
TRACEROUTE_PAYLOAD = bytes(range(0x40, 0x60))  # what Linux traceroute sends: "@ABC...^_"
DHCP_DISCOVER, DHCP_OFFER, DHCP_REQUEST, DHCP_ACK, DHCP_NAK = 1, 2, 3, 5, 6
DHCP_LEASE = 86_400
DHCP_HOST_PREFIXES = ("LAPTOP", "DESKTOP", "iPhone", "Galaxy-S23", "printer", "MacBook-Pro")


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
DHCP_BROADCAST = make_host("255.255.255.255", BROADCAST_MAC)
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

    def icmp_error(self, src: Host, dst: Host, quoted: bytes) -> bytes:
        """Port unreachable (ICMP 3/3 or ICMPv6 1/4) quoting the offending IP packet."""
        if src.v6:
            msg = struct.pack("!BBHI", 1, 4, 0, 0) + quoted[:1232]
            csum = l4_checksum(src.ip, dst.ip, PROTO_ICMPV6, msg)
            proto = PROTO_ICMPV6
        else:
            msg = struct.pack("!BBHI", 3, 3, 0, 0) + quoted[:548]
            csum = ip_checksum(msg)
            proto = PROTO_ICMP
        return self.ip(src, dst, proto, msg[:2] + struct.pack("!H", csum) + msg[4:], 57)

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


# --------------------------------------------------------------------------- TLS and QUIC

QUIC_V1 = 1
QUIC_V1_SALT = bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")  # RFC 9001 5.2
QUIC_DATAGRAM = 1200  # client Initials (and the server's) are padded to this UDP payload
TLS13_CIPHERS = {0x1301: "TLS_AES_128_GCM_SHA256", 0x1302: "TLS_AES_256_GCM_SHA384"}
TLS12_CIPHERS = {0xC02B: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"}


def varint(value: int) -> bytes:
    """QUIC variable-length integer (RFC 9000 16), shortest form."""
    if value < 0x40:
        return bytes((value,))
    if value < 0x4000:
        return struct.pack("!H", 0x4000 | value)
    if value < 0x40000000:
        return struct.pack("!I", 0x80000000 | value)
    return struct.pack("!Q", 0xC000000000000000 | value)


def tls_ext(ext_type: int, body: bytes) -> bytes:
    return struct.pack("!HH", ext_type, len(body)) + body


def sni_ext(host: str) -> bytes:
    raw = host.encode("ascii")
    return tls_ext(0, struct.pack("!HBH", len(raw) + 3, 0, len(raw)) + raw)


def alpn_ext(protocols: tuple[str, ...]) -> bytes:
    body = b"".join(_label(p) for p in protocols)
    return tls_ext(16, struct.pack("!H", len(body)) + body)


def handshake(msg_type: int, body: bytes) -> bytes:
    return bytes((msg_type,)) + len(body).to_bytes(3, "big") + body


def tls_record(content_type: int, body: bytes, version: int = 0x0303) -> bytes:
    return struct.pack("!BHH", content_type, version, len(body)) + body


def quic_transport_parameters(scid: bytes) -> bytes:
    """A browser-like quic_transport_parameters extension (RFC 9000 18.2)."""
    params = [
        (0x01, varint(30_000)),  # max_idle_timeout
        (0x03, varint(1472)),  # max_udp_payload_size
        (0x04, varint(15_728_640)),  # initial_max_data
        (0x05, varint(6_291_456)),  # initial_max_stream_data_bidi_local
        (0x06, varint(6_291_456)),  # initial_max_stream_data_bidi_remote
        (0x07, varint(6_291_456)),  # initial_max_stream_data_uni
        (0x08, varint(100)),  # initial_max_streams_bidi
        (0x09, varint(103)),  # initial_max_streams_uni
        (0x0F, scid),  # initial_source_connection_id
    ]
    body = b"".join(varint(pid) + varint(len(value)) + value for pid, value in params)
    return tls_ext(0x39, body)


def quic_client_hello(random32: bytes, key_share: bytes, sni: str, scid: bytes) -> bytes:
    """A TLS 1.3 ClientHello as a QUIC client sends it in its first Initial (RFC 9001 8)."""
    exts = sni_ext(sni)
    exts += bytes.fromhex("000a00080006001d00170018")  # supported_groups x25519, P-256, P-384
    exts += bytes.fromhex("000d0012001004030804040105030805050108060601")  # signature_algorithms
    exts += bytes.fromhex("002b0003020304")  # supported_versions: TLS 1.3 only
    exts += alpn_ext(("h3",))
    exts += bytes.fromhex("002d00020101")  # psk_key_exchange_modes
    exts += tls_ext(51, struct.pack("!HHH", 36, 0x001D, 32) + key_share)  # key_share x25519
    exts += quic_transport_parameters(scid)
    body = b"\x03\x03" + random32 + b"\x00" + bytes.fromhex("0006130113021303") + b"\x01\x00"
    return handshake(1, body + struct.pack("!H", len(exts)) + exts)


def tls13_server_hello(random32: bytes, session_id: bytes, key_share: bytes, cipher: int) -> bytes:
    exts = bytes.fromhex("002b00020304") + tls_ext(51, struct.pack("!HH", 0x001D, 32) + key_share)
    body = b"\x03\x03" + random32 + _label_bytes(session_id) + struct.pack("!HB", cipher, 0)
    return handshake(2, body + struct.pack("!H", len(exts)) + exts)


def _label_bytes(raw: bytes) -> bytes:
    return bytes((len(raw),)) + raw


def hkdf_expand_label(secret: bytes, label: str, length: int) -> bytes:
    """TLS 1.3 HKDF-Expand-Label with an empty context (RFC 8446 7.1)."""
    full = b"tls13 " + label.encode("ascii")
    info = struct.pack("!HB", length, len(full)) + full + b"\x00"
    return HKDFExpand(hashes.SHA256(), length, info).derive(secret)


def quic_initial_secrets(dcid: bytes) -> tuple[bytes, bytes]:
    """(client, server) Initial secrets every observer derives from the client's first DCID."""
    extract = hmac.HMAC(QUIC_V1_SALT, hashes.SHA256())
    extract.update(dcid)
    initial = extract.finalize()
    return (
        hkdf_expand_label(initial, "client in", 32),
        hkdf_expand_label(initial, "server in", 32),
    )


class QuicInitialKeys:
    """Packet and header protection of one side's Initial packets (RFC 9001 5)."""

    def __init__(self, secret: bytes) -> None:
        self.key = hkdf_expand_label(secret, "quic key", 16)
        self.iv = hkdf_expand_label(secret, "quic iv", 12)
        self.hp = hkdf_expand_label(secret, "quic hp", 16)
        self._aead = AESGCM(self.key)
        self._mask = Cipher(algorithms.AES(self.hp), modes.ECB()).encryptor()

    @classmethod
    def for_connection(cls, dcid: bytes) -> tuple[QuicInitialKeys, QuicInitialKeys]:
        client, server = quic_initial_secrets(dcid)
        return cls(client), cls(server)

    def protect(self, header: bytes, pn: int, pn_len: int, payload: bytes) -> bytes:
        """``header`` ends with the packet number (``pn_len`` bytes) in clear."""
        nonce = (int.from_bytes(self.iv, "big") ^ pn).to_bytes(12, "big")
        sealed = self._aead.encrypt(nonce, payload, header)
        mask = self._mask.update(sealed[4 - pn_len : 20 - pn_len])
        pn_at = len(header) - pn_len
        first = bytes((header[0] ^ (mask[0] & 0x0F),))
        clear = int.from_bytes(header[pn_at:], "big") ^ int.from_bytes(mask[1 : 1 + pn_len], "big")
        number = clear.to_bytes(pn_len, "big")
        return first + header[1:pn_at] + number + sealed


def quic_initial(
    keys: QuicInitialKeys, dcid: bytes, scid: bytes, pn: int, frames: bytes, size: int
) -> bytes:
    """A protected Initial packet of exactly ``size`` bytes (frames padded with PADDING)."""
    pn_len = 2
    fixed = 1 + 4 + 1 + len(dcid) + 1 + len(scid) + 1 + 2 + pn_len
    payload = frames.ljust(size - fixed - 16, b"\0")
    header = bytes((0xC0 | (pn_len - 1),)) + struct.pack("!I", QUIC_V1)
    header += _label_bytes(dcid) + _label_bytes(scid) + varint(0)
    header += struct.pack("!H", 0x4000 | (pn_len + len(payload) + 16)) + pn.to_bytes(pn_len, "big")
    return keys.protect(header, pn, pn_len, payload)


def crypto_frame(data: bytes, offset: int = 0) -> bytes:
    return b"\x06" + varint(offset) + varint(len(data)) + data


# --------------------------------------------------------------------------- TLS 1.2 certificates

TLS12_SHARE = 0.25  # of the HTTPS connections that stay HTTPS
CERT_PROBLEMS = (("expired_at_capture_time", 0.05), ("self_signed", 0.03), ("name_mismatch", 0.03))
PADDING_OID = "2.16.840.1.113730.1.13"  # Netscape comment (an IA5String): fills to size
DOWNGRADE_TLS12 = bytes.fromhex("444f574e47524401")  # RFC 8446 4.1.3, a 1.3 server doing 1.2


class Certificates:
    """Deterministic X.509 chains for the TLS 1.2 servers (Ed25519 signatures are
    deterministic, so the capture stays byte-identical for a seed)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        root_key = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
        self.ca_key = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
        self.leaf_key = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
        root = _x509_name("Example Root CA")
        self.ca_name = _x509_name("Example Issuing CA 1")
        start = _utc(START_US) - datetime.timedelta(days=700)
        builder = self._builder(self.ca_name, root, self.ca_key.public_key(), 1, start, 3650)
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
        self.ca_der = builder.sign(root_key, None).public_bytes(serialization.Encoding.DER)

    @staticmethod
    def _builder(
        subject: x509.Name, issuer: x509.Name, key: object, serial: int, start: object, days: int
    ) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key)  # type: ignore[arg-type]
            .serial_number(serial)
            .not_valid_before(start)  # type: ignore[arg-type]
            .not_valid_after(start + datetime.timedelta(days=days))  # type: ignore[operator]
        )

    def chain(self, sni: str, size: int) -> tuple[bytes, dict[str, object]]:
        """A Certificate handshake message of exactly ``size`` bytes for a server named by
        ``sni`` (padded with a private extension), and its truth."""
        rng = self.rng
        problems = [p for p, share in CERT_PROBLEMS if rng.random() < share]
        apex = ".".join(sni.split(".")[-2:])
        if "name_mismatch" in problems:
            apex = rng.choice([d for d in DOMAINS if not sni.endswith(d)])
            sans = [apex, f"*.{apex}"]
        else:
            sans = [sni, f"*.{apex}"] if sni != apex else [apex, f"www.{apex}"]
        sans += [f"{rng.choice(SUBDOMAINS)}.{apex}" for _ in range(rng.randrange(0, 6))]
        sans = list(dict.fromkeys(sans))
        days_ago = rng.randrange(180, 400) if "expired_at_capture_time" in problems else 30
        start = _utc(START_US) - datetime.timedelta(days=days_ago, seconds=rng.randrange(86400))
        subject = _x509_name(sans[0])
        self_signed = "self_signed" in problems
        issuer = subject if self_signed else self.ca_name
        signer = self.leaf_key if self_signed else self.ca_key
        builder = self._builder(
            subject, issuer, self.leaf_key.public_key(), rng.getrandbits(63), start, 90
        ).add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), False)
        cas = [] if self_signed else [self.ca_der]
        pad = 0
        for _ in range(6):  # DER lengths grow in steps: converge on the exact size
            comment = _der_ia5(b"padding to the flight's size " + b"." * pad)
            padding = x509.UnrecognizedExtension(x509.ObjectIdentifier(PADDING_OID), comment)
            leaf = builder.add_extension(padding, False).sign(signer, None)
            der = leaf.public_bytes(serialization.Encoding.DER)
            message = _certificate_message([der, *cas])
            if len(message) == size or pad + size - len(message) < 0:
                break
            pad += size - len(message)
        fact = {
            "cert_subject": leaf.subject.rfc4514_string(),
            "cert_issuer": leaf.issuer.rfc4514_string(),
            "cert_not_before": _iso(leaf.not_valid_before_utc),
            "cert_not_after": _iso(leaf.not_valid_after_utc),
            "cert_san_dns": sans,
            "cert_sha256": hashlib.sha256(der).hexdigest(),
            "cert_chain_length": 1 + len(cas),
            "cert_problems": problems,
        }
        return message, fact


def _der_ia5(text: bytes) -> bytes:
    """DER IA5String (definite length, short or long form)."""
    size = len(text)
    if size < 0x80:
        return b"\x16" + bytes((size,)) + text
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return b"\x16" + bytes((0x80 | len(raw),)) + raw + text


def _x509_name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Trust Services"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _utc(t_us: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(t_us // 1_000_000, tz=datetime.timezone.utc)


def _iso(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _certificate_message(ders: list[bytes]) -> bytes:
    body = b"".join(len(d).to_bytes(3, "big") + d for d in ders)
    return handshake(11, len(body).to_bytes(3, "big") + body)


def tls12_server_hello(random32: bytes, session_id: bytes, alpn: str) -> bytes:
    """An ECDHE-ECDSA ServerHello from a TLS 1.3 server that settled for TLS 1.2."""
    exts = bytes.fromhex("ff0100010000170000000b00020100")  # reneg. info, EMS, point formats
    exts += alpn_ext((alpn,))
    body = b"\x03\x03" + random32[:24] + DOWNGRADE_TLS12 + _label_bytes(session_id)
    body += struct.pack("!HBH", 0xC02B, 0, len(exts)) + exts
    return handshake(2, body)


def tls12_key_exchange_done(key_share: bytes, signature: bytes) -> bytes:
    """ServerKeyExchange (x25519, an Ed25519 signature) and ServerHelloDone."""
    params = struct.pack("!BHB", 3, 0x001D, 32) + key_share
    signed = params + struct.pack("!HH", 0x0807, len(signature)) + signature
    return handshake(12, signed) + handshake(14, b"")


def tls12_change_cipher_finished(finished: bytes) -> bytes:
    """ChangeCipherSpec and the encrypted Finished (a 40-byte AES-GCM record)."""
    return tls_record(20, b"\x01") + tls_record(22, finished)


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


@dataclass(frozen=True, slots=True)
class Slot:
    """Start, endpoints and name of a version-1 conversation that may be replaced."""

    t: int
    client: Host
    server: Host
    client_port: int
    name: Name


@dataclass(slots=True)
class Conversation:
    """Frames (with times and kinds) plus the DNS facts they carry."""

    frames: list[tuple[int, bytes, str]] = field(default_factory=list)
    slot: Slot | None = None  # who and when, for a replacement of the same size
    messages: list[DnsMessage] = field(default_factory=list)
    facts: list[tuple[str, dict]] = field(default_factory=list)  # (protocol, record) for truth
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
        self.facts: dict[str, list[dict]] = {kind: [] for kind in FACT_KINDS}
        self.flows = FlowTally()

    def commit(self, conv: Conversation) -> None:
        for _t, _frame, kind in conv.frames:
            self.kinds[kind] += 1
        for kind, fact in conv.facts:
            self.facts[kind].append(fact)
        self.flows.add(conv.frames)
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
            "tls": _handshake_truth(self.facts["tls"]),
            "quic": _handshake_truth(self.facts["quic"]),
            "http": _http_truth(self.facts["http"]),
            "dhcp": _dhcp_truth(self.facts["dhcp"]),
            "icmp": _icmp_truth(self.facts["icmp_echo"], self.facts["icmp_unreachable"]),
            "conn": self.flows.to_dict(),
        }


def _counts(counter: Counter[str]) -> dict[str, int]:
    return {key: counter[key] for key in ("messages", "queries", "responses")}


FACT_KINDS = ("tls", "quic", "http", "dhcp", "icmp_echo", "icmp_unreachable")


def _by_time(facts: list[dict]) -> list[dict]:
    return sorted(facts, key=lambda fact: fact["ts"])


def _tally(values: object) -> dict[str, int]:
    """Counts by value, most frequent first, then by value."""
    counts = Counter(str(v) for v in values)  # type: ignore[attr-defined]
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _top(values: object, n: int = 10) -> list[dict[str, object]]:
    return [{"value": k, "count": c} for k, c in list(_tally(values).items())[:n]]


def _handshake_truth(facts: list[dict]) -> dict[str, object]:
    return {
        "handshakes": len(facts),
        "by_version": _tally(f.get("tls_version", f["version"]) for f in facts),
        "by_cipher": _tally(f["cipher"] for f in facts),
        "cert_problems": _tally(p for f in facts for p in f.get("cert_problems", ())),
        "distinct_server_names": len({f["server_name"] for f in facts}),
        "top_server_names": _top(f["server_name"] for f in facts),
        "connections": _by_time(facts),
    }


def _http_truth(facts: list[dict]) -> dict[str, object]:
    return {
        "requests": len(facts),
        "connections": sum(f["trans_depth"] == 1 for f in facts),
        "by_method": _tally(f["method"] for f in facts),
        "by_status": _tally(f["status_code"] for f in facts),
        "chunked_responses": sum(f["chunked"] for f in facts),
        "request_body_bytes": sum(f["request_body_len"] for f in facts),
        "response_body_bytes": sum(f["response_body_len"] for f in facts),
        "distinct_hosts": len({f["host"] for f in facts}),
        "top_hosts": _top(f["host"] for f in facts),
        "user_agents": _tally(f["user_agent"] for f in facts),
        "requests_list": _by_time(facts),
    }


def _dhcp_truth(facts: list[dict]) -> dict[str, object]:
    assigned = {(f["assigned_addr"], f["mac"], f["host_name"]) for f in facts if f["assigned_addr"]}
    return {
        "exchanges": len(facts),
        "by_msg_types": _tally(",".join(f["msg_types"]) for f in facts),
        "messages_by_type": _tally(t for f in facts for t in f["msg_types"]),
        "acks": sum(f["msg_types"][-1] == "ACK" for f in facts),
        "naks": sum(f["msg_types"][-1] == "NAK" for f in facts),
        "distinct_macs": len({f["mac"] for f in facts}),
        "assignments": [
            {"assigned_addr": a, "mac": m, "host_name": h} for a, m, h in sorted(assigned)
        ],
        "exchanges_list": _by_time(facts),
    }


def _icmp_truth(echoes: list[dict], unreachables: list[dict]) -> dict[str, object]:
    by_family = {}
    for family in ("icmp", "icmpv6"):
        mine = [e for e in echoes if e["family"] == family]
        answered = sum(e["answered"] for e in mine)
        by_family[family] = {
            "echo_requests": len(mine),
            "echo_replies": answered,
            "unanswered": len(mine) - answered,
            "unreachables": sum(u["family"] == family for u in unreachables),
        }
    answered = sum(e["answered"] for e in echoes)
    return {
        "messages": len(echoes) + answered + len(unreachables),
        "echo_requests": len(echoes),
        "echo_replies": answered,
        "answered": answered,
        "unanswered": len(echoes) - answered,
        "unreachables": len(unreachables),
        "by_family": by_family,
        "unreachables_list": _by_time(unreachables),
    }


def frame_flow(frame: bytes) -> tuple[str, tuple, int, int] | None:
    """(transport, (src, sport, dst, dport), IP bytes, payload bytes) of an IP frame.

    ICMP echoes use the identifier as both ports (a request and its reply are one flow);
    ICMP errors are one flow per (type, code) between the two hosts.
    """
    etype = frame[12:14]
    if etype == b"\x08\x00":
        head = (frame[14] & 0x0F) * 4
        ip_len, proto = int.from_bytes(frame[16:18], "big"), frame[23]
        src, dst = _addr(frame[26:30]), _addr(frame[30:34])
    elif etype == b"\x86\xdd":
        head, ip_len, proto = 40, 40 + int.from_bytes(frame[18:20], "big"), frame[20]
        src, dst = _addr(frame[22:38]), _addr(frame[38:54])
    else:
        return None
    l4 = 14 + head
    if proto in (PROTO_TCP, PROTO_UDP):
        sport, dport = struct.unpack_from("!HH", frame, l4)
        l4_head = (frame[l4 + 12] >> 4) * 4 if proto == PROTO_TCP else 8
        transport = "tcp" if proto == PROTO_TCP else "udp"
    else:
        icmp_type, code = frame[l4], frame[l4 + 1]
        if icmp_type in (0, 8, 128, 129):
            sport = dport = int.from_bytes(frame[l4 + 4 : l4 + 6], "big")
        else:
            sport = dport = 0x10000 | icmp_type << 8 | code
        l4_head = 8
        transport = "icmpv6" if proto == PROTO_ICMPV6 else "icmp"
    return transport, (src, sport, dst, dport), ip_len, ip_len - head - l4_head


class FlowTally:
    """Connections as the generator made them: each flow of one conversation (one 5-tuple,
    either direction) is one connection whose client sent its first frame."""

    def __init__(self) -> None:
        self.totals: dict[str, Counter[str]] = {}
        self.tcp: list[dict[str, object]] = []

    def add(self, frames: list[tuple[int, bytes, str]]) -> None:
        flows: dict[tuple, dict[str, object]] = {}
        for ts, frame, kind in frames:
            parsed = frame_flow(frame)
            if parsed is None:
                continue
            transport, (src, sport, dst, dport), ip_bytes, payload = parsed
            key = (transport, src, sport, dst, dport)
            side = "client"
            record = flows.get(key)
            if record is None:
                record = flows.get((transport, dst, dport, src, sport))
                side = "server"
            if record is None:
                side = "client"
                record = flows[key] = {"ts": ts / 1e6, "transport": transport, "service": kind}
                record |= {"client": src, "client_port": sport, "server": dst, "server_port": dport}
                record |= dict.fromkeys(CONN_COUNTERS, 0)
            record[f"{side}_packets"] += 1  # type: ignore[operator]
            record[f"{side}_ip_bytes"] += ip_bytes  # type: ignore[operator]
            record[f"{side}_bytes"] += payload  # type: ignore[operator]
        for record in flows.values():
            totals = self.totals.setdefault(str(record["transport"]), Counter())
            totals["connections"] += 1
            for counter in CONN_COUNTERS:
                totals[counter] += record[counter]  # type: ignore[assignment]
            if record["transport"] == "tcp":
                self.tcp.append(record)

    def to_dict(self) -> dict[str, object]:
        return {
            "by_transport": {
                name: {key: totals[key] for key in ("connections", *CONN_COUNTERS)}
                for name, totals in sorted(self.totals.items())
            },
            "tcp_connections": _by_time(self.tcp),
        }


CONN_COUNTERS = tuple(
    f"{side}_{what}" for side in ("client", "server") for what in ("packets", "ip_bytes", "bytes")
)


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
        self.dhcp_server = make_host("10.1.0.2", bytes.fromhex("0050560a0002"))
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

    def random_bytes(self, size: int, rng: random.Random | None = None) -> bytes:
        start = (rng or self.rng).randrange(len(self.blob) - size)
        return self.blob[start : start + size]

    def dhcp_client(self, rng: random.Random) -> tuple[bytes, bytes, str]:
        """(MAC, address, host name): a known IPv4 client (it gets its own address back) or,
        one time in five, one of forty guest devices with addresses from 10.1.8.0/24."""
        if rng.random() < 0.8:
            host = rng.choice(self.clients_v4)
            return host.mac, host.ip, self._host_name(host.mac, host.ip)
        index = rng.randrange(40)
        mac = b"\x02\x9e" + struct.pack("!I", 0x00C0FFEE + index)
        ip = bytes((10, 1, 8, 10 + index))
        return mac, ip, self._host_name(mac, ip)

    @staticmethod
    def _host_name(mac: bytes, ip: bytes) -> str:
        prefix = DHCP_HOST_PREFIXES[mac[-1] % len(DHCP_HOST_PREFIXES)]
        return f"{prefix}-{ip[2]:02d}{ip[3]:03d}"

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
        # Contents added in version 2 (QUIC handshakes, HTTP, DHCP, ICMP errors) draw from a
        # second stream, so the main one, and with it every DNS message, is as in version 1.
        self.side = random.Random(f"mcpcap-benchmarks-side-{seed}")
        self.certs = Certificates(self.side)
        self.fb = FrameBuilder()
        self.kinds = list(KIND_WEIGHTS)
        self.kind_cum = list(accumulate(KIND_WEIGHTS.values()))

    def pick_kind(self) -> str:
        return self.kinds[bisect(self.kind_cum, self.rng.random() * self.kind_cum[-1])]

    def build(self, kind: str, t: int) -> Conversation:
        """The conversation version 1 built; some are then replaced by version 2's traffic.

        A replacement fills the same number of frames from the side RNG (HTTP or DHCP in the
        place of an HTTPS connection, new ICMP in the place of the old pings), so the main
        RNG, the conversation times and the packet budget go exactly as in version 1.
        """
        conv = getattr(self, f"conv_{kind}")(t)
        if kind == "tls":
            roll = self.side.random()
            if roll < HTTP_SLOT_SHARE:
                return self.slot_http(conv)
            if roll < HTTP_SLOT_SHARE + DHCP_SLOT_SHARE:
                return self.slot_dhcp(conv)
        elif kind == "icmp":
            return self.slot_icmp(conv)
        return conv

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
        """An HTTPS connection: handshake records, then request/response rounds.

        A quarter negotiate TLS 1.2 (ServerHello, Certificate, ServerKeyExchange,
        ServerHelloDone; the client's key exchange and Finished; the server's Finished before
        its first response): every TCP segment keeps the length it has in TLS 1.3, so the
        main RNG's draws, and every other conversation, stay as in version 1.
        """
        rng, world = self.rng, self.world
        tls12 = self.side.random() < TLS12_SHARE
        conv = Conversation()
        name = world.pick_name()
        client = world.pick_client()
        if client.v6 and not name.v6:
            client = rng.choice(world.clients_v4)
        server = world.server_for(name, client.v6)
        mss = 1440 if client.v6 else 1460
        conn = TcpConn(self.fb, client, server, (rng.randrange(32768, 61000), 443), rng)
        conv.slot = Slot(t, client, server, conn.cport, name)
        conv.facts.append(
            (
                "tls",
                {
                    "ts": t / 1e6,
                    **_endpoints(client, conn.cport, server, 443),
                    "server_name": name.text,
                    "alpn": ["h2", "http/1.1"],
                    "alpn_selected": None,  # in TLS 1.3 it is encrypted
                    "version": "TLSv13",
                    "cipher": TLS13_CIPHERS[0x1301],
                },
            )
        )
        rtt = rng.randrange(5_000, 60_000)
        t = self._handshake(conv, conn, t, rtt, "tls")
        conv.add(t + 100, conn.send(True, PSH | ACK, self._client_hello(name.text)), "tls")
        t += rtt + 100
        flight = self._server_hello() + self._app_records(rng.randrange(2500, 5200), mss)
        if tls12:
            flight = self._tls12_flight(conv.facts[-1][1], name.text, len(flight))
        t = self._server_send(conv, conn, t, flight, mss)
        t += rtt // 2
        finished = self._finished()
        if tls12:
            exchange = handshake(16, b"\x20" + self.side.randbytes(32))
            finished = tls_record(22, exchange) + tls12_change_cipher_finished(
                self.side.randbytes(40)
            )
        conv.add(t, conn.send(True, PSH | ACK, finished), "tls")
        server_finished_due = tls12
        for _ in range(rng.choice((1, 1, 2, 3, 5))):
            t += rng.randrange(1_000, 400_000)
            request = self._app_records(rng.randrange(80, 700), mss)
            conv.add(t, conn.send(True, PSH | ACK, request), "tls")
            t += rtt
            size = rng.choice((900, 3000, 12000, 40000, 90000, 150000))
            response = self._app_records(rng.randrange(size), mss)
            if server_finished_due and response:  # the first non-empty response
                response = self._with_server_finished(response)
                server_finished_due = False
            t = self._server_send(conv, conn, t, response, mss)
        if rng.random() < 0.7:
            self._close(conv, conn, t + rng.randrange(1_000, 2_000_000), rtt, "tls")
        return conv

    def _tls12_flight(self, fact: dict[str, object], sni: str, size: int) -> bytes:
        """The TLS 1.2 server's first flight in one record of exactly ``size`` bytes."""
        side = self.side
        alpn = "h2" if side.random() < 0.8 else "http/1.1"
        hello = tls12_server_hello(side.randbytes(32), side.randbytes(32), alpn)
        tail = tls12_key_exchange_done(side.randbytes(32), side.randbytes(64))
        certificate, cert_fact = self.certs.chain(sni, size - 5 - len(hello) - len(tail))
        fact |= {"version": "TLSv12", "cipher": TLS12_CIPHERS[0xC02B], "alpn_selected": alpn}
        fact |= cert_fact
        flight = tls_record(22, hello + certificate + tail)
        assert len(flight) == size, "the certificate did not fill the flight exactly"
        return flight

    def _with_server_finished(self, response: bytes) -> bytes:
        """The server's ChangeCipherSpec and Finished in the place of the first 51 bytes of
        its first application-data record (the response keeps its length, so its segments)."""
        done = tls12_change_cipher_finished(self.side.randbytes(40))
        body = struct.unpack_from("!H", response, 3)[0]
        if body <= len(done):
            return done + response
        rest = body - len(done)
        return done + b"\x17\x03\x03" + struct.pack("!H", rest) + response[5 + len(done) :]

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
        """A QUIC v1 connection: protected Initials carrying a ClientHello (SNI, ALPN h3) and
        a ServerHello, opaque Handshake packets, then short-header (1-RTT) packets both ways.

        The main RNG is drawn exactly as generator version 1 drew it (so every other
        conversation, DNS included, is unchanged); the TLS contents come from ``self.side``.
        """
        rng, world, fb, side = self.rng, self.world, self.fb, self.side
        conv = Conversation()
        name = world.pick_name()
        client = world.pick_client()
        if client.v6 and not name.v6:
            client = rng.choice(world.clients_v4)
        server = world.server_for(name, client.v6)
        cport = rng.randrange(32768, 61000)
        world.random_bytes(8), world.random_bytes(8)  # version 1's IDs: slices of the blob
        dcid, client_cid, server_cid = side.randbytes(8), side.randbytes(8), side.randbytes(8)
        start = t
        rtt = rng.randrange(5_000, 60_000)
        client_keys, server_keys = QuicInitialKeys.for_connection(dcid)

        def send(from_client: bool, payload: bytes) -> None:
            if from_client:
                conv.add(t, fb.udp(client, server, cport, 443, payload), "quic")
            else:
                conv.add(t, fb.udp(server, client, 443, cport, payload, ttl=57), "quic")

        self._quic_long(0xC3, dcid, b"", 1250)  # version 1's draws, content unused
        hello = quic_client_hello(side.randbytes(32), side.randbytes(32), name.text, client_cid)
        send(True, quic_initial(client_keys, dcid, client_cid, 0, crypto_frame(hello), 1200))
        t += rtt
        self._quic_long(0xC3, client_cid, dcid, 1200)
        cipher = 0x1301 if side.random() < 0.8 else 0x1302
        reply = tls13_server_hello(side.randbytes(32), b"", side.randbytes(32), cipher)
        frames = b"\x02\x00\x00\x00\x00" + crypto_frame(reply)  # ACK of packet 0, ServerHello
        send(False, quic_initial(server_keys, client_cid, server_cid, 0, frames, 1200))
        t += 200
        send(False, self._quic_long(0xE3, client_cid, server_cid, rng.randrange(900, 1200)))
        t += 300
        send(True, self._quic_long(0xE3, server_cid, client_cid, 90))
        for _ in range(rng.randrange(3, 40)):
            t += rng.randrange(100, 30_000)
            from_client = rng.random() < 0.35
            size = rng.randrange(30, 90) if from_client else self._quic_size()
            cid = server_cid if from_client else client_cid
            send(from_client, bytes((0x40 | rng.getrandbits(6),)) + cid + world.random_bytes(size))
        conv.facts.append(
            (
                "quic",
                {
                    "ts": start / 1e6,
                    **_endpoints(client, cport, server, 443),
                    "version": QUIC_V1,
                    "dcid": dcid.hex(),
                    "server_name": name.text,
                    "alpn": ["h3"],
                    "tls_version": "TLSv13",
                    "cipher": TLS13_CIPHERS[cipher],
                },
            )
        )
        return conv

    def _quic_size(self) -> int:
        return 1_230 if self.rng.random() < 0.75 else self.rng.randrange(200, 1_300)

    def _quic_long(self, first: int, dcid: bytes, scid: bytes, total: int) -> bytes:
        """A long-header packet of opaque bytes (a Handshake packet: its keys are secret)."""
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
        conv.slot = Slot(t, client, server, 0, name)
        ident = rng.getrandbits(16)
        for seq in range(1, rng.randrange(2, 6)):
            data = _ntp_time(t)[:8] + bytes(range(0x10, 0x40))
            conv.add(t, fb.icmp_echo(client, server, False, ident, seq, data), "icmp")
            if rng.random() < 0.95:
                reply_t = t + rng.randrange(5_000, 60_000)
                conv.add(reply_t, fb.icmp_echo(server, client, True, ident, seq, data), "icmp")
            t += 1_000_000
        return conv

    # ---- version 2: HTTP, DHCP and ICMP in the frames of version-1 conversations

    def slot_http(self, slot_conv: Conversation) -> Conversation:
        """HTTP/1.1 keep-alive connections on TCP/80 (1-3 requests each, closed with FINs)
        from one client, in as many frames as the HTTPS connection whose place they take."""
        side, slot, remaining = self.side, slot_conv.slot, len(slot_conv.frames)
        if slot is None or remaining < 8:
            return slot_conv
        conv = Conversation(slot=slot)
        t, port = slot.t, slot.client_port
        while remaining:
            budgets = [side.choice(HTTP_FRAMES_PER_REPLY) for _ in range(side.choice((1, 1, 2, 3)))]
            size = 6 + len(budgets) + sum(budgets)
            if remaining - size < 8:  # the last connection takes what is left
                requests = min(len(budgets), (remaining - 6) // 2)
                budgets = _split(side, remaining - 6 - requests, requests)
                size = remaining
            self._http_connection(conv, t, port, budgets)
            remaining -= size
            t += side.randrange(20_000, 3_000_000)
            port = port + 1 if port < 65535 else 32768
        return conv

    def _http_connection(self, conv: Conversation, t: int, port: int, budgets: list[int]) -> None:
        """Handshake, one request per budget (frames for the response and its ACKs), close."""
        side, slot = self.side, conv.slot
        assert slot is not None
        client, server, host = slot.client, slot.server, slot.name.text
        mss = 1440 if client.v6 else 1460
        conn = TcpConn(self.fb, client, server, (port, 80), side)
        rtt = side.randrange(5_000, 60_000)
        t = self._handshake(conv, conn, t, rtt, "http")
        agent = side.choice(USER_AGENTS)
        for depth, budget in enumerate(budgets, 1):
            t += side.randrange(1_000, 300_000) if depth > 1 else 300
            segments, skip_last_ack = _segments_for(budget)
            method, uri, request, request_body = self._http_request(host, agent, segments)
            conv.add(t, conn.send(True, PSH | ACK, request), "http")
            fact = {"ts": t / 1e6, **_endpoints(client, port, server, 80), "trans_depth": depth}
            t += rtt
            status, response, body_len, chunked = self._http_response(
                method, host + uri, segments, mss
            )
            t = self._send_segments(conv, conn, t, response, mss, skip_last_ack)
            fact |= {"method": method, "host": host, "uri": uri, "version": "1.1"}
            fact |= {"user_agent": agent, "status_code": status, "status_msg": HTTP_REASONS[status]}
            fact |= {"request_body_len": request_body, "response_body_len": body_len}
            conv.facts.append(("http", fact | {"chunked": chunked}))
        self._close(conv, conn, t + side.randrange(1_000, 500_000), rtt, "http")

    def _http_request(self, host: str, agent: str, segments: int) -> tuple[str, str, bytes, int]:
        side = self.side
        uri = side.choice(HTTP_URIS).replace("{n}", str(side.randrange(1, 5000)))
        roll = side.random()
        method = "POST" if roll < 0.12 else "HEAD" if roll < 0.18 and segments == 1 else "GET"
        body = f"id={side.randrange(10**6)}&state=ok".encode() if method == "POST" else b""
        head = f"{method} {uri} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {agent}\r\n"
        head += "Accept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n"
        if body:
            head += "Content-Type: application/x-www-form-urlencoded\r\n"
            head += f"Content-Length: {len(body)}\r\n"
        return method, uri, (head + "\r\n").encode() + body, len(body)

    def _http_response(
        self, method: str, url: str, segments: int, mss: int
    ) -> tuple[int, bytes, int, bool]:
        """(status, response bytes filling ``segments`` segments, body length, chunked)."""
        side = self.side
        if segments > 1:
            status = 200
            size = side.randrange((segments - 1) * mss + 64, segments * mss - 64)
        else:
            status = side.choices((200, 301, 404, 500), weights=(70, 10, 15, 5))[0]
            size = side.randrange(300, mss - 64)
        chunked = status == 200 and method == "GET" and side.random() < 0.25
        ctype = "application/octet-stream" if segments > 1 else "text/html; charset=utf-8"
        head = f"HTTP/1.1 {status} {HTTP_REASONS[status]}\r\nServer: nginx\r\n"
        head += f"Content-Type: {ctype}\r\n"
        if status == 301:
            head += f"Location: https://{url}\r\n"
        if chunked:
            head += "Transfer-Encoding: chunked\r\n\r\n"
            body, body_len = _chunked(self._body(ctype, size - len(head)), size - len(head))
            return status, head.encode() + body, body_len, True
        room = size - len(head) - len("Content-Length: \r\n\r\n")
        body_len = max(room - len(str(room)), 0)
        head += f"Content-Length: {body_len}\r\n\r\n"
        if method == "HEAD":
            return status, head.encode(), 0, False
        return status, head.encode() + self._body(ctype, body_len), body_len, False

    def _body(self, ctype: str, size: int) -> bytes:
        if ctype.startswith("text/"):
            return (HTML_FILLER * (size // len(HTML_FILLER) + 1))[:size]
        return self.world.random_bytes(size, self.side)

    def _send_segments(
        self, conv: Conversation, conn: TcpConn, t: int, data: bytes, mss: int, skip_last_ack: bool
    ) -> int:
        """Server segments with a client ACK after every second one and after the last."""
        segments = [data[i : i + mss] for i in range(0, len(data), mss)]
        last = len(segments) - 1
        for i, segment in enumerate(segments):
            t += self.side.randrange(20, 400)
            conv.add(t, conn.send(False, PSH | ACK if i == last else ACK, segment), "http")
            if (i % 2 == 1 or i == last) and not (skip_last_ack and i == last):
                conv.add(t + 40, conn.send(True, ACK), "http")
        return t + 40

    def slot_dhcp(self, slot_conv: Conversation) -> Conversation:
        """DHCPv4 exchanges spread over the next minute, as many frames as the HTTPS
        connection whose place they take: DISCOVER/OFFER/REQUEST/ACK, some with retransmitted
        DISCOVERs, some after an INIT-REBOOT REQUEST that was NAKed."""
        side, slot = self.side, slot_conv.slot
        if slot is None:
            return slot_conv
        conv = Conversation(slot=slot)
        remaining = len(slot_conv.frames)
        while remaining:
            nak = remaining >= 6 and side.random() < 0.1
            left = remaining - (6 if nak else 4)
            extra = left if left < 4 else int(left >= 5 and side.random() < 0.1)
            remaining = left - extra
            self._dhcp_exchange(conv, slot.t + side.randrange(60_000_000), nak, extra)
        return conv

    def _dhcp_exchange(self, conv: Conversation, t: int, nak: bool, extra: int) -> None:
        """One client's DORA (``extra`` retransmitted DISCOVERs first), after a NAKed
        INIT-REBOOT REQUEST for an address from another network if ``nak``."""
        side = self.side
        mac, assigned, host_name = self.world.dhcp_client(side)
        send = partial(self._dhcp_send, conv, mac=mac, host_name=host_name)
        if nak:
            xid = side.getrandbits(32)
            stale = bytes((192, 168, 1, side.randrange(2, 250)))
            send(t, xid, DHCP_REQUEST, requested=stale)
            conv.facts.append(("dhcp", _dhcp_fact(t, xid, mac, host_name, ["REQUEST", "NAK"])))
            conv.facts[-1][1]["requested_addr"] = _addr(stale)
            t += side.randrange(500, 5_000)
            send(t, xid, DHCP_NAK)
            t += side.randrange(100_000, 1_000_000)
        xid = side.getrandbits(32)
        types = ["DISCOVER"] * (1 + extra) + ["OFFER", "REQUEST", "ACK"]
        fact = _dhcp_fact(t, xid, mac, host_name, types)
        fact |= {"requested_addr": _addr(assigned), "assigned_addr": _addr(assigned)}
        conv.facts.append(("dhcp", fact | {"lease_time": DHCP_LEASE}))
        for retry in range(1 + extra):
            send(t, xid, DHCP_DISCOVER, secs=4 * retry, requested=assigned)
            t += 4_000_000 if retry < extra else side.randrange(2_000, 800_000)
        send(t, xid, DHCP_OFFER, yiaddr=assigned)
        t += side.randrange(1_000, 20_000)
        send(t, xid, DHCP_REQUEST, requested=assigned)
        t += side.randrange(1_000, 10_000)
        send(t, xid, DHCP_ACK, yiaddr=assigned)

    def _dhcp_send(
        self,
        conv: Conversation,
        t: int,
        xid: int,
        msg_type: int,
        *,
        mac: bytes,
        host_name: str,
        secs: int = 0,
        yiaddr: bytes = bytes(4),
        requested: bytes | None = None,
    ) -> None:
        server = self.world.dhcp_server
        options: list[tuple[int, bytes]] = [(53, bytes((msg_type,)))]
        if msg_type in (DHCP_DISCOVER, DHCP_REQUEST):
            options.append((61, b"\x01" + mac))
            if requested is not None:
                options.append((50, requested))
            if msg_type == DHCP_REQUEST and requested is not None and requested[0] == 10:
                options.append((54, server.ip))
            options += [(12, host_name.encode()), (55, bytes((1, 3, 6, 15, 51, 54)))]
            client = make_host("0.0.0.0", mac)
            payload = dhcp_message(1, xid, secs, bytes(4), mac, options)
            conv.add(t, self.fb.udp(client, DHCP_BROADCAST, 68, 67, payload, ttl=64), "dhcp")
            return
        options.append((54, server.ip))
        if msg_type == DHCP_NAK:
            options.append((56, b"requested address not on this network"))
        else:
            options += [(51, struct.pack("!I", DHCP_LEASE)), (1, bytes((255, 255, 0, 0)))]
            options += [(3, GATEWAY.ip), (6, b"".join(r.ip for r in self.world.resolvers_v4))]
            options.append((15, LOCAL_ZONE.encode()))
        payload = dhcp_message(2, xid, 0, yiaddr, mac, options)
        conv.add(t, self.fb.udp(server, DHCP_BROADCAST, 67, 68, payload, ttl=64), "dhcp")

    def slot_icmp(self, slot_conv: Conversation) -> Conversation:
        """Pings (IPv4 or ICMPv6, about one in ten unanswered), some after a UDP probe to a
        closed port that the server answers with a port unreachable; the same frame count."""
        side, slot = self.side, slot_conv.slot
        if slot is None:
            return slot_conv
        conv = Conversation(slot=slot)
        client, server, t = slot.client, slot.server, slot.t
        remaining = len(slot_conv.frames)
        if remaining >= 2 and side.random() < 0.3:
            self._port_unreachable(conv, t, client, server)
            remaining -= 2
            t += side.randrange(200_000, 1_000_000)
        ident, seq = side.getrandbits(16), 1
        while remaining:
            answered = remaining >= 2 and side.random() < 0.9
            data = _ntp_time(t)[:8] + bytes(range(0x10, 0x40))
            conv.add(t, self.fb.icmp_echo(client, server, False, ident, seq, data), "icmp")
            rtt = side.randrange(5_000, 60_000)
            if answered:
                conv.add(t + rtt, self.fb.icmp_echo(server, client, True, ident, seq, data), "icmp")
            fact = {"ts": t / 1e6, "family": "icmpv6" if client.v6 else "icmp"}
            fact["client"] = client.addr
            fact |= {"server": server.addr, "ident": ident, "seq": seq, "answered": answered}
            conv.facts.append(("icmp_echo", fact | {"rtt": rtt / 1e6 if answered else None}))
            remaining -= 1 + answered
            t += 1_000_000
            seq += 1
        return conv

    def _port_unreachable(self, conv: Conversation, t: int, client: Host, server: Host) -> None:
        """A traceroute-style UDP probe and the server's port unreachable quoting it."""
        sport, dport = self.side.randrange(33000, 61000), 33434 + self.side.randrange(30)
        probe = self.fb.udp(client, server, sport, dport, TRACEROUTE_PAYLOAD)
        conv.add(t, probe, "udp_other")
        quoted = probe[14:]
        t += self.side.randrange(5_000, 60_000)
        conv.add(t, self.fb.icmp_error(server, client, quoted), "icmp")
        family = "icmpv6" if client.v6 else "icmp"
        type_code = (1, 4) if client.v6 else (3, 3)
        fact = {"ts": t / 1e6, "family": family, "src": server.addr, "dst": client.addr}
        fact |= {"type": type_code[0], "code": type_code[1]}
        quote = {"transport": "udp", "src": client.addr, "sport": sport}
        quote |= {"dst": server.addr, "dport": dport}
        conv.facts.append(("icmp_unreachable", fact | {"quoted": quote}))


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """``total`` cut into ``parts`` positive pieces at random."""
    cuts = sorted(rng.sample(range(1, total), parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


def _segments_for(frames: int) -> tuple[int, bool]:
    """Server segments (with a client ACK after every second one and after the last) that
    make ``frames`` frames, and whether the last ACK is left out to get there."""
    segments = 1
    while segments + (segments + 1) // 2 < frames:
        segments += 1
    return segments, segments + (segments + 1) // 2 > frames


def _chunked(body: bytes, size: int) -> tuple[bytes, int]:
    """``body`` in the chunked transfer coding, cut so the result is about ``size`` bytes;
    returns the encoding and the decoded length."""
    out, decoded, room = [], 0, size - 5  # "0\r\n\r\n" ends it
    while room > 10:
        take = min(4096, room - 4 - len(f"{min(4096, room):x}"))
        out.append(f"{take:x}\r\n".encode() + body[decoded : decoded + take] + b"\r\n")
        decoded += take
        room -= len(out[-1])
    return b"".join(out) + b"0\r\n\r\n", decoded


def dhcp_message(
    op: int, xid: int, secs: int, yiaddr: bytes, mac: bytes, options: list[tuple[int, bytes]]
) -> bytes:
    """A BOOTP/DHCP message (RFC 2131) with the broadcast flag, padded to 300 bytes."""
    head = struct.pack("!BBBBIHH", op, 1, 6, 0, xid, secs, 0x8000) + bytes(4) + yiaddr
    head += bytes(8) + mac + bytes(10 + 64 + 128) + b"\x63\x82\x53\x63"
    opts = b"".join(bytes((code, len(value))) + value for code, value in options)
    return (head + opts + b"\xff").ljust(300, b"\0")


def _dhcp_fact(t: int, xid: int, mac: bytes, host_name: str, types: list[str]) -> dict:
    return {
        "ts": t / 1e6,
        "trans_id": xid,
        "mac": ":".join(f"{b:02x}" for b in mac),
        "host_name": host_name,
        "msg_types": types,
        "requested_addr": None,
        "assigned_addr": None,
        "server": "10.1.0.2",
        "lease_time": None,
    }


@cache
def _addr(packed: bytes) -> str:
    """Text form of a packed address (cached: the capture has a few thousand of them)."""
    return str(ipaddress.ip_address(packed))


def _endpoints(client: Host, cport: int, server: Host, sport: int) -> dict[str, object]:
    return {
        "client": client.addr,
        "client_port": cport,
        "server": server.addr,
        "server_port": sport,
    }


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


class MissingDependency(RuntimeError):
    """A package the generator needs is not installed."""


def generate(path: str | Path, packets: int, seed: int, write_truth: bool = True) -> dict:
    """Write ``packets`` frames to ``path`` (and ``*.truth.json``); return the truth."""
    if packets < 1:
        raise ValueError("packets must be positive")
    if AESGCM is None:
        raise MissingDependency(
            "benchmarks/generate.py needs the 'cryptography' package to protect QUIC Initial "
            "packets: pip install cryptography (or pip install -e '.[test]')"
        )
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
    try:
        truth = generate(args.out, args.packets, args.seed)
    except MissingDependency as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    print(
        f"{args.out}: {truth['packets']} packets, {truth['bytes'] / 2**20:.1f} MiB, "
        f"{truth['dns_messages']} DNS messages, {elapsed:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
