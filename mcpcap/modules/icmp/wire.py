"""ICMP (RFC 792, 1812, 4884) and ICMPv6 (RFC 4443, neighbour discovery RFC 4861) messages.

`decode` runs in the worker processes on every ICMP message of a capture (the whole message,
from its type byte) and returns a tuple `marshal` carries (`Decoded` below): the header fields,
a dict of what the type adds (the flow an error quotes, the neighbour discovery target, link-layer
address and prefixes, a redirect's gateway, an MTU) and the reason when something in it is
malformed. Lengths are checked against what is left; nothing here loops over more than the
message holds.
"""

from __future__ import annotations

import socket
import struct
from typing import Any

# (type, code, icmp_id, seq, payload_len, extra, malformed)
Decoded = tuple[int, int, "int | None", "int | None", int, "dict[str, Any] | None", "str | None"]

V4_TYPES = {
    0: "echo-reply", 3: "destination-unreachable", 4: "source-quench", 5: "redirect",
    6: "alternate-host-address", 8: "echo-request", 9: "router-advertisement",
    10: "router-solicitation", 11: "time-exceeded", 12: "parameter-problem",
    13: "timestamp-request", 14: "timestamp-reply", 15: "information-request",
    16: "information-reply", 17: "address-mask-request", 18: "address-mask-reply",
    30: "traceroute", 40: "photuris", 42: "extended-echo-request", 43: "extended-echo-reply",
}  # fmt: skip
V4_CODES = {
    3: {0: "net-unreachable", 1: "host-unreachable", 2: "protocol-unreachable",
        3: "port-unreachable", 4: "fragmentation-needed", 5: "source-route-failed",
        6: "dest-network-unknown", 7: "dest-host-unknown", 8: "source-host-isolated",
        9: "net-prohibited", 10: "host-prohibited", 11: "net-unreachable-for-tos",
        12: "host-unreachable-for-tos", 13: "communication-prohibited",
        14: "host-precedence-violation", 15: "precedence-cutoff"},
    5: {0: "redirect-net", 1: "redirect-host", 2: "redirect-tos-net", 3: "redirect-tos-host"},
    11: {0: "ttl-exceeded", 1: "reassembly-time-exceeded"},
    12: {0: "pointer-indicates-error", 1: "missing-required-option", 2: "bad-length"},
}  # fmt: skip
V6_TYPES = {
    1: "destination-unreachable", 2: "packet-too-big", 3: "time-exceeded",
    4: "parameter-problem", 128: "echo-request", 129: "echo-reply", 130: "mld-query",
    131: "mld-report", 132: "mld-done", 133: "router-solicitation",
    134: "router-advertisement", 135: "neighbor-solicitation", 136: "neighbor-advertisement",
    137: "redirect", 138: "router-renumbering", 139: "node-information-query",
    140: "node-information-response", 141: "inverse-nd-solicitation",
    142: "inverse-nd-advertisement", 143: "mldv2-report", 144: "home-agent-discovery-request",
    145: "home-agent-discovery-reply", 146: "mobile-prefix-solicitation",
    147: "mobile-prefix-advertisement", 148: "certification-path-solicitation",
    149: "certification-path-advertisement", 151: "multicast-router-advertisement",
    152: "multicast-router-solicitation", 153: "multicast-router-termination",
    155: "rpl-control", 160: "extended-echo-request", 161: "extended-echo-reply",
}  # fmt: skip
V6_CODES = {
    1: {0: "no-route", 1: "admin-prohibited", 2: "beyond-scope", 3: "address-unreachable",
        4: "port-unreachable", 5: "source-policy-failed", 6: "reject-route",
        7: "source-routing-header-error"},
    3: {0: "hop-limit-exceeded", 1: "reassembly-time-exceeded"},
    4: {0: "erroneous-header-field", 1: "unrecognized-next-header",
        2: "unrecognized-ipv6-option", 3: "incomplete-first-fragment"},
}  # fmt: skip

V4_ERRORS = frozenset((3, 4, 5, 11, 12))
V6_ERRORS = frozenset((1, 2, 3, 4))
# request type -> reply type of the two-way messages (Zeek's ICMP4/6_counterpart, as the conn
# module keys ICMP flows): a request and its reply are one flow
V4_REPLIES = {8: 0, 13: 14, 15: 16, 17: 18, 10: 9}
V6_REPLIES = {128: 129, 133: 134, 135: 136, 130: 131, 139: 140, 144: 145}
V4_ECHO_LIKE = frozenset((0, 8, 13, 14, 15, 16, 17, 18))  # identifier and sequence number
V6_ECHO_LIKE = frozenset((128, 129))
PAIRED_V4 = {8: 0, 13: 14, 15: 16, 17: 18, 42: 43}  # request/reply pairs the scan matches
PAIRED_V6 = {128: 129, 160: 161}
EXTENDED_ECHO = frozenset((42, 43, 160, 161))  # RFC 8335: a 16-bit identifier, an 8-bit sequence
MAX_ND_OPTIONS = 32
MAX_EXT_HEADERS = 8
IPV6_EXT = frozenset((0, 43, 60, 51, 135, 139, 140, 253, 254))
PROTO_NAMES = {1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6", 132: "sctp"}


def type_name(v6: bool, kind: int) -> str:
    return (V6_TYPES if v6 else V4_TYPES).get(kind) or f"type-{kind}"


def code_name(v6: bool, kind: int, code: int) -> str | None:
    """The code's name; None where the type gives codes no meaning and the code is 0."""
    codes = (V6_CODES if v6 else V4_CODES).get(kind)
    if codes is None:
        return None if code == 0 else f"code-{code}"
    return codes.get(code) or f"code-{code}"


def flow_ports(v6: bool, kind: int, code: int) -> tuple[bool, int, int]:
    """Zeek's ICMP "ports" of a message: (sent by the responder?, originator port, responder
    port). A request and its reply share them (type, counterpart type); others are (type, code)."""
    replies = V6_REPLIES if v6 else V4_REPLIES
    if kind in replies:
        return False, kind, replies[kind]
    for request, reply in replies.items():
        if reply == kind:
            return True, request, reply
    return False, kind, code


def flow_port_pair(v6: bool, kind: int, code: int) -> tuple[int, int]:
    """The message's own (type, counterpart type or code): its flow's ports seen from it."""
    flipped, orig, resp = flow_ports(v6, kind, code)
    return (resp, orig) if flipped else (orig, resp)


def _ip6(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET6, raw)


def decode(data: bytes, v6: bool, data_len: int = 0) -> Decoded:
    """One ICMP message (from its type byte); `data_len` is its length as sent, when known."""
    length = data_len or len(data)
    if len(data) < 4:
        return (data[0] if data else -1, data[1] if len(data) > 1 else -1, None, None, 0, None,
                "shorter than the ICMP header")  # fmt: skip
    kind, code = data[0], data[1]
    payload_len = max(length - 8, 0)
    icmp_id = seq = None
    if len(data) >= 8 and kind in (V6_ECHO_LIKE if v6 else V4_ECHO_LIKE):
        icmp_id, seq = struct.unpack_from("!HH", data, 4)
    elif len(data) >= 8 and kind in EXTENDED_ECHO and (kind >= 160) == v6:
        icmp_id, seq = int.from_bytes(data[4:6], "big"), data[6]
    try:
        extra = (_v6_extra if v6 else _v4_extra)(data, kind)
    except _Malformed as error:
        return kind, code, icmp_id, seq, payload_len, error.args[1], error.args[0]
    malformed = None
    if len(data) < 8:
        malformed = "shorter than the 8-byte ICMP header"
    return kind, code, icmp_id, seq, payload_len, extra, malformed


class _Malformed(Exception):
    """(reason, what was read before it)."""


def _v4_extra(data: bytes, kind: int) -> dict[str, Any] | None:
    extra: dict[str, Any] = {}
    if kind == 5 and len(data) >= 8:
        extra["gateway"] = socket.inet_ntoa(data[4:8])
    if kind == 3 and data[1] == 4 and len(data) >= 8:
        extra["mtu"] = int.from_bytes(data[6:8], "big")
    if kind == 12 and len(data) >= 8:
        extra["pointer"] = data[4]
    if kind in V4_ERRORS:
        _quote(data[8:], extra)
    return extra or None


def _v6_extra(data: bytes, kind: int) -> dict[str, Any] | None:
    extra: dict[str, Any] = {}
    if kind == 2 and len(data) >= 8:
        extra["mtu"] = int.from_bytes(data[4:8], "big")
    elif kind == 4 and len(data) >= 8:
        extra["pointer"] = int.from_bytes(data[4:8], "big")
    if kind in V6_ERRORS:
        _quote(data[8:], extra)
    elif kind in (133, 134, 135, 136, 137):
        _neighbour_discovery(data, kind, extra)
    return extra or None


def _need(data: bytes, size: int, what: str, extra: dict[str, Any]) -> None:
    if len(data) < size:
        raise _Malformed(f"{what} is cut short", extra or None)


def _quote(quoted: bytes, extra: dict[str, Any]) -> None:
    """The quoted packet's flow: its IP header's addresses and, when the first 8 bytes of its
    transport header are there, its ports (for quoted ICMP: its type and code, as flow ports).

    A quoted header cut short keeps the fields that are whole (the rest None) and makes the
    message malformed; a header whose length field is impossible gives no fields.
    """
    if not quoted:
        raise _Malformed("quotes no packet", extra or None)
    version = quoted[0] >> 4
    if version not in (4, 6):
        raise _Malformed("quoted packet is not IPv4 or IPv6", extra or None)
    flow: dict[str, Any] = {"transport": None, "src": None, "dst": None, "sport": None,
                            "dport": None}  # fmt: skip
    extra["quoted"] = flow
    if version == 4:
        proto, transport = _quoted_v4(quoted, flow, extra)
    else:
        proto, transport = _quoted_v6(quoted, flow, extra)
    _quoted_ports(flow, proto, transport, version == 6, extra)


def _quoted_v4(
    quoted: bytes, flow: dict[str, Any], extra: dict[str, Any]
) -> tuple[int, bytes | None]:
    header = (quoted[0] & 15) * 4
    if header < 20:
        raise _Malformed("quoted IPv4 header length is under 20 bytes", extra)
    if len(quoted) > 9:
        flow["transport"] = PROTO_NAMES.get(quoted[9], str(quoted[9]))
    if len(quoted) >= 16:
        flow["src"] = socket.inet_ntoa(quoted[12:16])
    if len(quoted) >= 20:
        flow["dst"] = socket.inet_ntoa(quoted[16:20])
    _need(quoted, header, "quoted IPv4 header", extra)
    later_fragment = int.from_bytes(quoted[6:8], "big") & 0x1FFF
    return quoted[9], quoted[header:] if not later_fragment else None


def _quoted_v6(
    quoted: bytes, flow: dict[str, Any], extra: dict[str, Any]
) -> tuple[int, bytes | None]:
    if len(quoted) > 6 and quoted[6] not in IPV6_EXT and quoted[6] != 44:
        flow["transport"] = PROTO_NAMES.get(quoted[6], str(quoted[6]))
    if len(quoted) >= 24:
        flow["src"] = _ip6(quoted[8:24])
    _need(quoted, 40, "quoted IPv6 header", extra)
    flow["dst"] = _ip6(quoted[24:40])
    proto, offset = _skip_ext_headers(quoted, quoted[6], 40)
    if proto is None:
        raise _Malformed("quoted IPv6 extension headers are cut short", extra)
    flow["transport"] = PROTO_NAMES.get(proto, str(proto))
    return proto, quoted[offset:] if offset is not None else None


def _quoted_ports(
    flow: dict[str, Any], proto: int, transport: bytes | None, v6: bool, extra: dict[str, Any]
) -> None:
    """The quoted transport header's ports (`transport` None: a later fragment, which has
    none). A quote must hold them: RFC 792 quotes 64 bits past the IP header, RFC 4443 as
    much as fits. For quoted ICMP they are its own flow ports (its type, and its counterpart's
    type or its code), and `type` and `code` are kept for the flow's `uid`."""
    if transport is None:
        return
    wanted = 4 if proto in (6, 17, 132) else 2 if proto in (1, 58) else 0
    if len(transport) < wanted:
        raise _Malformed(f"quoted {flow['transport']} header is cut short", extra)
    if proto in (6, 17, 132):
        flow["sport"], flow["dport"] = struct.unpack_from("!HH", transport)
    elif proto in (1, 58):
        kind, code = transport[0], transport[1]
        flow["sport"], flow["dport"] = flow_port_pair(proto == 58, kind, code)
        flow["type"], flow["code"] = kind, code
        if kind in (V6_ERRORS if proto == 58 else V4_ERRORS):
            raise _Malformed("an ICMP error about an ICMP error", extra)


def _skip_ext_headers(
    packet: bytes, next_header: int, offset: int
) -> tuple[int | None, int | None]:
    """The transport protocol after IPv6 extension headers, and where its header starts (None
    when it lies past the quote or behind a later fragment). The protocol is None when the
    headers are cut short before naming it."""
    for _ in range(MAX_EXT_HEADERS):
        if next_header not in IPV6_EXT and next_header != 44:
            return next_header, offset
        if offset + 8 > len(packet):
            following = packet[offset] if offset < len(packet) else None
            if following is None or following in IPV6_EXT or following == 44:
                return None, None
            return following, len(packet)  # its header starts past the quote's end
        if next_header == 44:  # fragment: only the first one holds the transport header
            if int.from_bytes(packet[offset + 2 : offset + 4], "big") & 0xFFF8:
                return packet[offset], None
            next_header, offset = packet[offset], offset + 8
        elif next_header == 51:
            next_header, offset = packet[offset], offset + (packet[offset + 1] + 2) * 4
        else:
            next_header, offset = packet[offset], offset + (packet[offset + 1] + 1) * 8
    return next_header, None


ND_OFFSETS = {133: 8, 134: 16, 135: 24, 136: 24, 137: 40}


def _neighbour_discovery(data: bytes, kind: int, extra: dict[str, Any]) -> None:
    start = ND_OFFSETS[kind]
    _need(data, start, "neighbour discovery message", extra)
    if kind in (135, 136, 137):
        extra["nd_target"] = _ip6(data[8:24])
    if kind == 137:
        extra["destination"] = _ip6(data[24:40])
    if kind == 134:
        extra["router_lifetime"] = int.from_bytes(data[6:8], "big")
    if kind == 136:
        flags = data[4]
        extra["flags"] = "".join(f for f, bit in (("R", 0x80), ("S", 0x40), ("O", 0x20))
                                 if flags & bit)  # fmt: skip
    pos = start
    for _ in range(MAX_ND_OPTIONS):
        if pos >= len(data):
            return
        _need(data, pos + 2, "neighbour discovery option", extra)
        option, units = data[pos], data[pos + 1]
        if units == 0:
            raise _Malformed("neighbour discovery option of length 0", extra)
        end = pos + units * 8
        _need(data, end, f"neighbour discovery option {option}", extra)
        _nd_option(option, data[pos:end], extra)
        pos = end
    if pos < len(data):
        raise _Malformed(f"more than {MAX_ND_OPTIONS} neighbour discovery options", extra)


def _nd_option(option: int, body: bytes, extra: dict[str, Any]) -> None:
    if option in (1, 2):
        address = body[2:8] if len(body) == 8 else body[2:].rstrip(b"\0")
        extra["lladdr"] = address.hex(":")
    elif option == 3 and len(body) == 32:
        width, flags = body[2], body[3]
        valid, preferred = struct.unpack_from("!II", body, 4)
        prefixes = extra.setdefault("prefixes", [])
        prefixes.append(
            {"prefix": f"{_ip6(body[16:32])}/{width}", "on_link": bool(flags & 0x80),
             "autonomous": bool(flags & 0x40), "valid": valid, "preferred": preferred}
        )  # fmt: skip
    elif option == 4 and len(body) > 8:
        _quote(body[8:], extra)
    elif option == 5 and len(body) == 8:
        extra["mtu"] = int.from_bytes(body[4:8], "big")
    elif option == 25 and len(body) >= 24:
        addresses = [_ip6(body[i : i + 16]) for i in range(8, len(body) - 15, 16)]
        extra.setdefault("rdnss", []).extend(addresses)
