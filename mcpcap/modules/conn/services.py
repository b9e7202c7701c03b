"""Which application protocol a connection carries, told from its ports and its first bytes.

A module cannot see what the other modules recognised, so `conn` names services itself, from
the first payload of each direction: DNS on 53, 5353 (mDNS) and 5355 (LLMNR) or a datagram
shaped like a DNS query, HTTP by its request or status line, TLS by its record header, QUIC by
its long header, DHCP by its ports and magic cookie, SSH by its banner. The result is Zeek's
`service` field in spirit: what the payload showed, not what the port promised.
"""

from __future__ import annotations

DNS_PORTS = frozenset((53, 5353, 5355))
DNS_HEADER = 12  # a DNS message's fixed header: a shorter payload on a DNS port is not DNS
DHCP_PORTS = frozenset((67, 68, 546, 547))
HTTP_METHODS = (b"GET ", b"POST ", b"HEAD ", b"PUT ", b"DELETE ", b"OPTIONS ", b"CONNECT ",
                b"PATCH ", b"TRACE ", b"PROPFIND ")  # fmt: skip
QUIC_VERSIONS = frozenset((b"\x00\x00\x00\x01", b"\x6b\x33\x43\xcf"))
DHCP_COOKIE = b"\x63\x82\x53\x63"


def tcp_service(sport: int, dport: int, payload: bytes) -> str:
    """The service a first TCP payload shows ('' when none)."""
    if payload.startswith(HTTP_METHODS) or payload.startswith(b"HTTP/1."):
        return "http"
    if len(payload) >= 5 and payload[0] in (0x16, 0x17, 0x15) and payload[1] == 3:
        return "ssl"
    if payload.startswith(b"SSH-"):
        return "ssh"
    if (sport in DNS_PORTS or dport in DNS_PORTS) and len(payload) >= 2 + DNS_HEADER:
        return "dns"
    return ""


def udp_service(sport: int, dport: int, payload: bytes) -> str:
    """The service a first UDP payload shows ('' when none)."""
    if sport in DNS_PORTS or dport in DNS_PORTS:
        return "dns" if len(payload) >= DNS_HEADER else ""
    if sport in DHCP_PORTS or dport in DHCP_PORTS:
        if len(payload) >= 240 and payload[236:240] == DHCP_COOKIE:
            return "dhcp"
        return "dhcp" if sport in (546, 547) or dport in (546, 547) else ""
    if len(payload) >= 7 and payload[0] & 0xC0 == 0xC0 and _quic_version(payload[1:5]):
        return "quic"
    if _dns_query(payload):
        return "dns"
    return ""


def _quic_version(version: bytes) -> bool:
    """QUIC v1, v2 or an IETF draft (a long header's version field)."""
    return version in QUIC_VERSIONS or version[:3] == b"\xff\x00\x00"


def _dns_query(payload: bytes) -> bool:
    """A DNS query on another port: one question, a standard query opcode, no answers."""
    return (
        len(payload) >= 17
        and payload[2] & 0xF8 == 0
        and payload[4:6] == b"\x00\x01"
        and payload[6:8] == b"\x00\x00"
    )
