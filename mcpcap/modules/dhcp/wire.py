"""DHCP (RFC 2131/2132, 3396, 4702, 3046, 3442) and DHCPv6 (RFC 8415) messages as the scan needs
them.

`decode_datagram` runs in mcpcap's worker processes on every UDP datagram to or from ports 67,
68, 546 and 547, so it is a module-level function that keeps no state and returns what `marshal`
carries: a dict with the message's fields and its options by name (`Message` below), or None for
a datagram that is no DHCP message at all (an empty one). Every length is checked against what is
left of the packet; a message that breaks a rule keeps what was read before it and says why in
`malformed`.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable, Iterator
from typing import Any

from mcpcap.core import fastpath

V4_PORTS = frozenset((67, 68, 4011))  # 4011: a PXE boot server (PXE 2.1, proxy DHCP)
V6_PORTS = frozenset((546, 547))
MAGIC_COOKIE = b"\x63\x82\x53\x63"
BOOTP_HEADER = 236  # op .. file; the magic cookie and the options follow
MAX_OPTION_BYTES = 1024  # a long option (RFC 3396) concatenated from its pieces, at most
MAX_RELAY_DEPTH = 8  # DHCPv6 relay messages nested in each other (RFC 8415 allows 32 hops)
MAX_LIST = 64  # items kept of a list option (addresses, routes, requested parameters)
MAX_NAME_JUMPS = 16  # compression pointers followed in one name (a loop ends there)
MAX_NAME_WIRE = 255  # a name's octets on the wire (RFC 1035 2.3.4)

Message = dict[str, Any]

V4_TYPES = {
    1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 4: "DECLINE", 5: "ACK", 6: "NAK", 7: "RELEASE",
    8: "INFORM", 9: "FORCERENEW", 10: "LEASEQUERY", 11: "LEASEUNASSIGNED", 12: "LEASEUNKNOWN",
    13: "LEASEACTIVE", 14: "BULKLEASEQUERY", 15: "LEASEQUERYDONE", 16: "ACTIVELEASEQUERY",
    17: "LEASEQUERYSTATUS", 18: "TLS",
}  # fmt: skip
V6_TYPES = {
    1: "SOLICIT", 2: "ADVERTISE", 3: "REQUEST", 4: "CONFIRM", 5: "RENEW", 6: "REBIND",
    7: "REPLY", 8: "RELEASE", 9: "DECLINE", 10: "RECONFIGURE", 11: "INFORMATION-REQUEST",
    12: "RELAY-FORW", 13: "RELAY-REPL", 14: "LEASEQUERY", 15: "LEASEQUERY-REPLY",
    16: "LEASEQUERY-DONE", 17: "LEASEQUERY-DATA",
}  # fmt: skip
V4_SERVER_TYPES = frozenset(("OFFER", "ACK", "NAK", "FORCERENEW"))
V6_SERVER_TYPES = frozenset(("ADVERTISE", "REPLY", "RECONFIGURE", "LEASEQUERY-REPLY"))
RELAY_FORW, RELAY_REPL = 12, 13

# code -> (name, how its value reads)
V4_OPTIONS = {
    1: ("subnet_mask", "ip"), 2: ("time_offset", "s32"), 3: ("router", "ips"),
    4: ("time_servers", "ips"), 6: ("dns_servers", "ips"), 12: ("host_name", "text"),
    15: ("domain_name", "text"), 26: ("interface_mtu", "u16"), 28: ("broadcast_address", "ip"),
    42: ("ntp_servers", "ips"), 43: ("vendor_specific", "hex"), 44: ("netbios_servers", "ips"),
    50: ("requested_addr", "ip"), 51: ("lease_time", "u32"), 52: ("overload", "u8"),
    53: ("message_type", "u8"), 54: ("server_id", "ip"), 55: ("parameter_request_list", "params"),
    56: ("message", "text"), 57: ("max_message_size", "u16"), 58: ("renewal_time", "u32"),
    59: ("rebinding_time", "u32"), 60: ("vendor_class", "text"), 61: ("client_id", "client_id"),
    66: ("tftp_server", "text"), 67: ("bootfile", "text"), 81: ("client_fqdn", "fqdn"),
    82: ("relay_agent_info", "relay"), 119: ("domain_search", "names"),
    121: ("classless_static_routes", "routes"), 150: ("tftp_servers", "ips"),
    249: ("ms_classless_static_routes", "routes"), 252: ("wpad", "text"),
}  # fmt: skip
RELAY_SUBOPTIONS = {1: "circuit_id", 2: "remote_id", 5: "link_selection", 6: "subscriber_id",
                    9: "vendor_specific", 11: "server_id_override", 12: "relay_id"}  # fmt: skip
V6_OPTIONS = {
    1: "client_id", 2: "server_id", 3: "ia_na", 4: "ia_ta", 5: "iaaddr", 6: "option_request",
    7: "preference", 8: "elapsed_time", 9: "relay_message", 11: "auth", 12: "unicast",
    13: "status_code", 14: "rapid_commit", 15: "user_class", 16: "vendor_class",
    17: "vendor_opts", 18: "interface_id", 19: "reconfigure_message", 20: "reconfigure_accept",
    21: "sip_domains", 22: "sip_servers", 23: "dns_servers", 24: "domain_list", 25: "ia_pd",
    26: "iaprefix", 31: "sntp_servers", 32: "information_refresh_time", 37: "remote_id",
    38: "subscriber_id", 39: "client_fqdn", 56: "ntp_server", 79: "client_linklayer_addr",
    82: "sol_max_rt", 83: "inf_max_rt",
}  # fmt: skip
V6_STATUS = {0: "Success", 1: "UnspecFail", 2: "NoAddrsAvail", 3: "NoBinding", 4: "NotOnLink",
             5: "UseMulticast", 6: "NoPrefixAvail"}  # fmt: skip


class Malformed(Exception):
    """A rule the message breaks; what was read before it stays."""


def decode_datagram(frame: int, ts: float, segment: Any) -> Message | None:
    """The scan's decoder hook (`ProtocolModule.udp_decoder`).

    The lower of the two ports names the service (as tshark decides too): a DNS query sent
    from port 68 to 53 is DNS, not a DHCP message, while a server's answer from 67 or 547 to
    a client's other port (a leasequery requestor's) is DHCP.
    """
    low = min(segment.sport, segment.dport)
    if low in V6_PORTS:
        return decode_v6(segment.payload)
    if low in V4_PORTS:
        return decode_v4(segment.payload)
    return None


def _message(family: str) -> Message:
    return {"family": family, "type": None, "from_server": False, "xid": None, "mac": None,
            "ciaddr": None, "yiaddr": None, "giaddr": None, "opts": {}, "duid": None,
            "relay": None, "malformed": None}  # fmt: skip


def _ip4(raw: bytes) -> str | None:
    """Dotted text; None for 0.0.0.0 (the field is unset)."""
    return None if raw == b"\0\0\0\0" else socket.inet_ntoa(raw)


def _ip6(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET6, raw)


def _text(raw: bytes) -> str:
    return raw.rstrip(b"\0").decode("utf-8", "replace")


def _hex(raw: bytes) -> str:
    return raw.hex(":")


def _mac(raw: bytes) -> str:
    return raw.hex(":")


# ------------------------------------------------------------------ DHCPv4
def python_decode_v4(payload: bytes) -> Message | None:
    """A DHCPv4 (or BOOTP) message; None for an empty payload. `decode_v4` is this, or its
    compiled twin (`_wire.c`) for a message that reads cleanly."""
    if not payload:
        return None
    msg = _message("dhcpv4")
    _read_v4_header(msg, payload)
    if len(payload) < BOOTP_HEADER:
        msg["malformed"] = "shorter than the BOOTP header"
        return msg
    cookie = payload[BOOTP_HEADER : BOOTP_HEADER + 4]
    if cookie != MAGIC_COOKIE:
        # RFC 951's vendor area may be absent or all zero: BOOTP, with no options to read
        msg["malformed"] = (
            "no magic cookie (BOOTP without options)"
            if not payload[BOOTP_HEADER:].strip(b"\0")
            else "wrong magic cookie"
        )
        return msg
    try:
        raw = _v4_options(payload)
    except Malformed as error:
        raw, msg["malformed"] = error.args[1], error.args[0]
    _read_v4_options(msg, raw)
    if msg["relay"] is None and msg["giaddr"]:
        msg["relay"] = {"giaddr": msg["giaddr"]}
    return msg


def _read_v4_header(msg: Message, payload: bytes) -> None:
    """The fixed fields the payload holds: a message cut short keeps those that are whole."""
    size = len(payload)
    if size < 8:
        return
    op, htype, hlen = payload[0], payload[1], payload[2]
    msg["from_server"] = op == 2
    msg["xid"] = int.from_bytes(payload[4:8], "big")
    for name, at in (("ciaddr", 12), ("yiaddr", 16), ("giaddr", 24)):
        if size >= at + 4:
            msg[name] = _ip4(payload[at : at + 4])
    width = min(hlen, 16)
    if size >= 28 + width:
        chaddr = payload[28 : 28 + width]
        msg["mac"] = _mac(chaddr) if htype in (1, 6) and hlen == 6 else (_hex(chaddr) or None)


def _option_area(
    data: bytes, start: int, end: int, found: dict[int, bytes], main: bool = True
) -> int | None:
    """Options between `start` and `end` into `found` (pieces of one code concatenated, RFC 3396);
    returns the overload option's value when this area holds one. Outside the main options
    field (`main` False) an overload option is skipped: it cannot send the reader anywhere."""
    overload = None
    pos = start
    while pos < end:
        code = data[pos]
        if code == 255:
            break
        if code == 0:
            pos += 1
            continue
        if pos + 1 >= end:
            raise Malformed(f"option {code} has no length", found)
        after = pos + 2 + data[pos + 1]
        if after > end:
            raise Malformed(f"option {code} runs past the end of its field", found)
        value = data[pos + 2 : after]
        pos = after
        if code == 52:
            if not main:
                continue
            overload = value[0] if len(value) == 1 else None
        before = found.get(code)
        # (one piece is at most 255 bytes: only pieces joined can pass the bound)
        found[code] = value if before is None else (before + value)[:MAX_OPTION_BYTES]
    return overload


def _v4_options(payload: bytes) -> dict[int, bytes]:
    """Every option, from the options field and, when option 52 says so, `file` and `sname`.

    Overload read inside `file` or `sname` is ignored: each field is read once, so a packet
    cannot send the reader around in circles.
    """
    found: dict[int, bytes] = {}
    overload = _option_area(payload, BOOTP_HEADER + 4, len(payload), found)
    if overload is not None:
        if overload & 1:
            _option_area(payload, 108, 236, found, main=False)
        if overload & 2:
            _option_area(payload, 44, 108, found, main=False)
    return found


def _read_v4_options(msg: Message, raw: dict[int, bytes]) -> None:
    opts = msg["opts"]
    decoders = _V4_DECODERS
    for code, value in raw.items():
        known = decoders.get(code)
        name, read = known if known is not None else (f"option_{code}", _hex)
        try:
            opts[name] = read(value)
        except (Malformed, ValueError, struct.error, IndexError, OSError):
            # kept as hex beside the typed options, never in their place: a lease time, an
            # address or the relay information read from the option is of its type or absent
            opts[f"{name}_malformed"] = _hex(value)
            msg["malformed"] = msg["malformed"] or f"option {code} ({name}) is malformed"
    kind = opts.pop("message_type", None)
    if kind is None and raw.get(53):
        # a type option of the wrong length (or repeated: RFC 3396 joins the pieces) is
        # malformed; its first byte still says what the sender meant the message to be
        kind = raw[53][0]
    if isinstance(kind, int):
        msg["type"] = V4_TYPES.get(kind, str(kind))
        msg["from_server"] = msg["type"] in V4_SERVER_TYPES
    relay = opts.get("relay_agent_info")
    relay = relay if isinstance(relay, dict) else {}
    if relay or msg["giaddr"]:
        msg["relay"] = {**({"giaddr": msg["giaddr"]} if msg["giaddr"] else {}), **relay}


def _ips(raw: bytes) -> list[str]:
    if len(raw) % 4:
        raise Malformed("address list length")
    return [socket.inet_ntoa(raw[i : i + 4]) for i in range(0, min(len(raw), 4 * MAX_LIST), 4)]


def _ip(raw: bytes) -> str:
    if len(raw) != 4:
        raise Malformed("address length")
    return socket.inet_ntoa(raw)


def _number(size: int, signed: bool = False):
    def read(raw: bytes) -> int:
        if len(raw) != size:
            raise Malformed("number length")
        return int.from_bytes(raw, "big", signed=signed)

    return read


def _params(raw: bytes) -> list[str]:
    return [_PARAMETER_NAMES[code] for code in raw[:MAX_LIST]]


def _client_id(raw: bytes) -> str:
    return _mac(raw[1:]) if len(raw) == 7 and raw[0] == 1 else _hex(raw)


def _fqdn_v4(raw: bytes) -> str:
    """Option 81 (RFC 4702): flags, two rcodes, then the name (DNS wire format if E is set)."""
    if len(raw) < 3:
        raise Malformed("client FQDN shorter than its header")
    if raw[0] & 0x04:
        names = _dns_names(raw[3:])
        return names[0] if names else ""
    return _text(raw[3:])


def _relay_suboptions(raw: bytes) -> dict[str, str]:
    """Option 82 (RFC 3046): sub-options, each code, length, value."""
    out: dict[str, str] = {}
    pos = 0
    while pos + 2 <= len(raw):
        code, length = raw[pos], raw[pos + 1]
        value = raw[pos + 2 : pos + 2 + length]
        if len(value) < length:
            raise Malformed("relay sub-option runs past the option")
        name = RELAY_SUBOPTIONS.get(code, f"suboption_{code}")
        if code == 5 and length == 4:
            out[name] = socket.inet_ntoa(value)
        elif value and all(32 <= b < 127 for b in value):
            out[name] = value.decode("ascii")
        else:
            out[name] = _hex(value)
        pos += 2 + length
    if pos != len(raw):
        raise Malformed("relay sub-option has no length")
    return out


def _classless_routes(raw: bytes) -> list[str]:
    """Option 121 (RFC 3442): `destination/width via router`, each destination in the octets
    its width needs."""
    routes = []
    pos = 0
    while pos < len(raw) and len(routes) < MAX_LIST:
        width = raw[pos]
        if width > 32:
            raise Malformed("route width over 32")
        octets = (width + 7) // 8
        end = pos + 1 + octets + 4
        if end > len(raw):
            raise Malformed("route runs past the option")
        dest = raw[pos + 1 : pos + 1 + octets] + b"\0" * (4 - octets)
        router = raw[pos + 1 + octets : end]
        routes.append(f"{socket.inet_ntoa(dest)}/{width} via {socket.inet_ntoa(router)}")
        pos = end
    return routes


def _dns_names(raw: bytes) -> list[str]:
    """DNS names one after the other (domain search lists, DHCPv6 domain lists, FQDN
    options), compression pointers followed: RFC 3397 section 2 lets option 119 point into
    the option's data as a whole."""
    names = []
    pos = 0
    while pos < len(raw) and len(names) < MAX_LIST:
        name, pos = _dns_name_at(raw, pos)
        names.append(name)
    return names


def _dns_name_at(raw: bytes, pos: int) -> tuple[str, int]:
    """The name at `pos` and where the next one starts. A name may end without its root
    label at the end of the data (RFC 4704 allows a partial name)."""
    labels: list[str] = []
    size = 0
    jumps = 0
    after = None  # where the name ends in place: after its first pointer, or its root label
    while pos < len(raw):
        length = raw[pos]
        if length == 0:
            return ".".join(labels), pos + 1 if after is None else after
        if length >= 0xC0:
            if pos + 1 >= len(raw):
                raise Malformed("name pointer runs past the option")
            jumps += 1
            if jumps > MAX_NAME_JUMPS:
                raise Malformed("name pointers loop")
            after = pos + 2 if after is None else after
            pos = ((length & 0x3F) << 8) | raw[pos + 1]
            continue
        size += length + 1
        if length > 63 or pos + 1 + length > len(raw) or size > MAX_NAME_WIRE:
            raise Malformed("name label runs past the option")
        labels.append(raw[pos + 1 : pos + 1 + length].decode("ascii", "replace"))
        pos += 1 + length
    if after is not None:
        raise Malformed("name pointer points past the option")
    return ".".join(labels), pos


V4_READERS = {
    "text": _text, "ip": _ip, "ips": _ips, "u8": _number(1), "u16": _number(2),
    "u32": _number(4), "s32": _number(4, signed=True), "params": _params,
    "client_id": _client_id, "fqdn": _fqdn_v4, "relay": _relay_suboptions,
    "routes": _classless_routes, "names": _dns_names,
}  # fmt: skip
# code -> (name, reader): what `_read_v4_options` looks up once per option
_V4_DECODERS = {code: (name, V4_READERS.get(how, _hex)) for code, (name, how) in V4_OPTIONS.items()}
_PARAMETER_NAMES = [V4_OPTIONS.get(code, (str(code),))[0] for code in range(256)]


def _compiled_decode_v4() -> Callable[[bytes], Message | None]:
    """`python_decode_v4`, in C where `_wire.c` was built, reading this module's tables: each
    option code's name and kind (an index of the C's `KINDS`). A kind the C does not read (the
    structured ones: FQDN, relay information, routes, domain lists) is its "python" kind, and so
    is overload (option 52), which sends the reader into other fields."""
    compiled = fastpath.compiled("mcpcap.modules.dhcp._wire")
    if compiled is None:
        return python_decode_v4
    kinds = compiled.KINDS
    options = []
    for code in range(256):
        name, how = V4_OPTIONS.get(code, (f"option_{code}", "hex"))
        options.append((name, kinds.index(how if how in kinds and code != 52 else "python")))
    types = tuple(V4_TYPES.get(code, str(code)) for code in range(256))
    from_server = bytes(name in V4_SERVER_TYPES for name in types)
    return compiled.bind(
        python_decode_v4, tuple(options), types, from_server, tuple(_PARAMETER_NAMES), MAX_LIST
    )


decode_v4 = _compiled_decode_v4()


# ------------------------------------------------------------------ DHCPv6
def decode_v6(payload: bytes) -> Message | None:
    if not payload:
        return None
    msg = _message("dhcpv6")
    relays: list[dict[str, Any]] = []
    problems: list[str] = []  # the relays'
    ended = None
    try:
        inner = _unwrap_relays(payload, relays, problems)
        if len(inner) < 4:
            raise Malformed("shorter than the DHCPv6 header")
        kind = inner[0]
        msg["type"] = V6_TYPES.get(kind, str(kind))
        msg["xid"] = int.from_bytes(inner[1:4], "big")
        msg["from_server"] = msg["type"] in V6_SERVER_TYPES
        _read_v6_options(msg, inner[4:], msg["opts"], 0)
    except Malformed as error:
        ended = error.args[0]
    # the first defect in the packet: a relay's, an option of the message's own, what ended it
    msg["malformed"] = next((p for p in (*problems, msg["malformed"], ended) if p), None)
    if relays:
        # the relay next to the client: its peer address is the client's, and the client's
        # link-layer address it adds (RFC 6939) is the one the client sent from
        msg["relay"] = relays[-1] if len(relays) == 1 else {**relays[-1], "hops": len(relays)}
        msg["mac"] = relays[-1].get(V6_OPTIONS[79]) or msg["mac"]
        msg["relay_type"] = V6_TYPES[payload[0]]
    return msg


def _unwrap_relays(payload: bytes, relays: list[dict[str, Any]], problems: list[str]) -> bytes:
    """The client or server message inside any RELAY-FORW / RELAY-REPL, outermost relay first.
    A relay's option cut short after its relayed message is noted in `problems`, and the
    message inside is still read."""
    data = payload
    while data and data[0] in (RELAY_FORW, RELAY_REPL):
        if len(relays) >= MAX_RELAY_DEPTH:
            raise Malformed(f"relay messages nested deeper than {MAX_RELAY_DEPTH}")
        if len(data) < 34:
            raise Malformed("relay message shorter than its header")
        relay: dict[str, Any] = {
            "link_address": _ip6(data[2:18]),
            "peer_address": _ip6(data[18:34]),
        }
        relays.append(relay)
        inner = None
        try:
            for code, value in _v6_options(data[34:]):
                if code == 9:
                    inner = value
                elif code in (18, 37, 38):
                    relay[V6_OPTIONS[code]] = _printable(value)
                elif code == 79 and len(value) > 2:  # RFC 6939: the client's, relays only
                    relay[V6_OPTIONS[code]] = _mac(value[2:])
        except Malformed as error:
            if inner is None:
                raise
            problems.append(error.args[0])
        if inner is None:
            raise Malformed("relay message without a relayed message")
        data = inner
    return data


def _printable(value: bytes) -> str:
    return value.decode("ascii") if value and all(32 <= b < 127 for b in value) else _hex(value)


def _v6_options(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Each (code, value), in order; `Malformed` at the first that runs past the data, after
    the ones before it (a message keeps what was read before its defect)."""
    pos = 0
    while pos < len(data):
        if pos + 4 > len(data):
            raise Malformed("option header runs past the message")
        code, length = struct.unpack_from("!HH", data, pos)
        if pos + 4 + length > len(data):
            raise Malformed(f"option {code} runs past the end of the message")
        yield code, data[pos + 4 : pos + 4 + length]
        pos += 4 + length


def duid_mac(duid: bytes) -> str | None:
    """The Ethernet address inside a DUID-LLT (1) or DUID-LL (3), when it holds one."""
    if len(duid) >= 4 and duid[2:4] == b"\0\1":
        kind = duid[1] if duid[0] == 0 else None
        if kind == 1 and len(duid) == 14:
            return _mac(duid[8:14])
        if kind == 3 and len(duid) == 10:
            return _mac(duid[4:10])
    return None


def _read_v6_options(msg: Message, data: bytes, opts: dict[str, Any], depth: int) -> None:
    """Options into `opts` by name; IA_NA/IA_PD contents go into the message's `addresses`."""
    for code, value in _v6_options(data):
        name = V6_OPTIONS.get(code, f"option_{code}")
        if code in (1, 2):
            opts[name] = _hex(value)
            if code == 1:
                msg["duid"] = opts[name]
                msg["mac"] = msg["mac"] or duid_mac(value)
        elif code in (3, 4, 25) and depth == 0:
            _read_ia(msg, code, value, opts)
        elif code == 6:
            codes = [int.from_bytes(value[i : i + 2], "big") for i in range(0, len(value) - 1, 2)]
            opts[name] = [V6_OPTIONS.get(c, str(c)) for c in codes[:MAX_LIST]]
        elif code == 7 and len(value) == 1:
            opts[name] = value[0]
        elif code == 8 and len(value) == 2:
            opts[name] = int.from_bytes(value, "big") / 100  # hundredths of a second
        elif code == 13 and len(value) >= 2:
            status = int.from_bytes(value[:2], "big")
            opts[name] = V6_STATUS.get(status, str(status))
            if value[2:]:
                opts["status_message"] = _text(value[2:])
        elif code in (23, 22, 31):
            if len(value) % 16:
                raise Malformed(f"option {code} is not a list of addresses")
            last = min(len(value), 16 * MAX_LIST)
            opts[name] = [_ip6(value[i : i + 16]) for i in range(0, last, 16)]
        elif code in (21, 24):
            opts[name] = _dns_names(value)
        elif code == 39 and value:
            names = _dns_names(value[1:])
            opts[name] = names[0] if names else ""
        elif code == 16 and len(value) >= 4:
            opts[name] = _vendor_class_v6(value)
        elif code == 79 and len(value) > 2:
            opts[name] = _mac(value[2:])
            msg["mac"] = msg["mac"] or opts[name]
        elif code == 32 and len(value) == 4:
            opts[name] = int.from_bytes(value, "big")
        elif code in _TYPED_V6:  # of its type or absent: the bytes go beside it, as hex
            opts[f"{name}_malformed"] = _hex(value)
            msg["malformed"] = msg["malformed"] or f"option {code} ({name}) is malformed"
        else:
            opts[name] = _hex(value) if value else ""


# the DHCPv6 options read above into a value of their own type when well formed
_TYPED_V6 = frozenset((7, 8, 13, 16, 32, 39, 79))


def _vendor_class_v6(value: bytes) -> str:
    """Option 16: an enterprise number, then class data items each with a 2-byte length."""
    enterprise = int.from_bytes(value[:4], "big")
    items = []
    pos = 4
    while pos + 2 <= len(value) and len(items) < MAX_LIST:
        length = int.from_bytes(value[pos : pos + 2], "big")
        items.append(_printable(value[pos + 2 : pos + 2 + length]))
        pos += 2 + length
    return f"{enterprise}:" + ",".join(items)


def _read_ia(msg: Message, code: int, value: bytes, opts: dict[str, Any]) -> None:
    """IA_NA / IA_TA / IA_PD: their addresses (or prefixes) with lifetimes, and their status."""
    header = 4 if code == 4 else 12
    if len(value) < header:
        raise Malformed(f"option {code} shorter than its header")
    kept = opts.setdefault(V6_OPTIONS[code], [])
    for inner_code, inner in _v6_options(value[header:]):
        if inner_code == 5 and len(inner) >= 24:
            preferred, valid = struct.unpack_from("!II", inner, 16)
            entry = {"address": _ip6(inner[:16]), "preferred": preferred, "valid": valid}
        elif inner_code == 26 and len(inner) >= 25:
            preferred, valid, width = struct.unpack_from("!IIB", inner, 0)
            entry = {"prefix": f"{_ip6(inner[9:25])}/{width}", "preferred": preferred,
                     "valid": valid}  # fmt: skip
        elif inner_code == 13 and len(inner) >= 2:
            status = int.from_bytes(inner[:2], "big")
            entry = {"status": V6_STATUS.get(status, str(status))}
        else:
            continue
        if len(kept) < MAX_LIST:
            kept.append(entry)
