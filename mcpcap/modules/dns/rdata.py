"""RDATA in presentation format (RFC 1035 zone-file syntax, as dig prints it).

`rdata_text` formats one record's RDATA from the whole message (names inside RDATA may be
compressed). A formatter raises `BadRdata` (or a struct/index error) when the bytes do not fit
the type; the decoder then keeps the record with its RFC 3597 form (`\\# <len> <hex>`).
Types without a formatter always use the RFC 3597 form.
"""

from __future__ import annotations

import base64
import socket
import struct
import time
from collections.abc import Callable

from mcpcap.modules.dns.names import NameCache, read_name
from mcpcap.modules.dns.registry import (
    EDE_CODES,
    edns_option_name,
    svc_param_key_name,
    tsig_rcode_name,
    type_name,
)

_U16 = struct.Struct("!H")
_inet_ntop = socket.inet_ntop
_AF_INET6 = socket.AF_INET6
_inet_ntoa = socket.inet_ntoa


class BadRdata(ValueError):
    """RDATA that does not parse for its type."""


Formatter = Callable[[bytes, int, int, NameCache], str]


def generic(buf: bytes, start: int, end: int) -> str:
    """RFC 3597 generic RDATA: `\\# <len> <hex>` (`\\# 0` when empty)."""
    if end <= start:
        return "\\# 0"
    return f"\\# {end - start} {buf[start:end].hex().upper()}"


def rdata_text(buf: bytes, start: int, end: int, rtype: int, cache: NameCache) -> str:
    """Presentation form of the RDATA in buf[start:end]; raises on RDATA that does not parse."""
    fmt = FORMATTERS.get(rtype)
    if fmt is None:
        return generic(buf, start, end)
    return fmt(buf, start, end, cache)


# ----------------------------------------------------------------------------- building blocks
_STRING_ESCAPES: tuple[str, ...] = tuple(
    ("\\" + chr(c)) if c in b'"\\' else chr(c) if 0x20 <= c <= 0x7E else f"\\{c:03d}"
    for c in range(256)
)
_PLAIN_STRING = bytes(c for c in range(0x20, 0x7F) if c not in b'"\\')


def quoted(raw: bytes) -> str:
    """A character-string in double quotes, `"` and `\\` escaped, other bytes as `\\DDD`."""
    if not raw.translate(None, _PLAIN_STRING):
        return '"' + raw.decode("ascii") + '"'
    return '"' + "".join([_STRING_ESCAPES[c] for c in raw]) + '"'


def _string_at(buf: bytes, pos: int, end: int) -> tuple[bytes, int]:
    """A <character-string> (length byte + bytes) that must end by `end`."""
    if pos >= end:
        raise BadRdata("missing character-string")
    q = pos + 1 + buf[pos]
    if q > end:
        raise BadRdata("character-string overruns rdata")
    return buf[pos + 1 : q], q


def _name_at(buf: bytes, pos: int, end: int, cache: NameCache) -> tuple[str, int]:
    """A (possibly compressed) name whose inline part must end by `end`."""
    text, after = read_name(buf, pos, cache)
    if after > end:
        raise BadRdata("name overruns rdata")
    return text, after


def _exact(pos: int, end: int) -> None:
    if pos != end:
        raise BadRdata("rdata length does not match its content")


def _need(pos: int, size: int, end: int) -> None:
    if pos + size > end:
        raise BadRdata("rdata too short")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii") if raw else "-"


def _timestamp(value: int) -> str:
    """RRSIG/TKEY time as YYYYMMDDHHMMSS (RFC 4034 3.2)."""
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(value))


def type_bitmap(buf: bytes, pos: int, end: int) -> str:
    """RFC 4034 4.1.2 type bitmap windows as space-separated type names."""
    names: list[str] = []
    while pos < end:
        _need(pos, 2, end)
        window, length = buf[pos], buf[pos + 1]
        if not 1 <= length <= 32:
            raise BadRdata("bad type bitmap length")
        pos += 2
        _need(pos, length, end)
        base = window << 8
        for i in range(length):
            octet = buf[pos + i]
            if octet:
                for bit in range(8):
                    if octet & (0x80 >> bit):
                        names.append(type_name(base + i * 8 + bit))
        pos += length
    return " ".join(names)


# ----------------------------------------------------------------------------- formatters
def _a(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    if end - start != 4:
        raise BadRdata("A rdata must be 4 octets")
    return _inet_ntoa(buf[start:end])


def _aaaa(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    if end - start != 16:
        raise BadRdata("AAAA rdata must be 16 octets")
    return _inet_ntop(_AF_INET6, buf[start:end])


def _one_name(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    text, after = read_name(buf, start, cache)
    if after != end:
        raise BadRdata("rdata length does not match the name")
    return text


def _two_names(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    first, pos = _name_at(buf, start, end, cache)
    second, pos = _name_at(buf, pos, end, cache)
    _exact(pos, end)
    return f"{first} {second}"


def _u16_name(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    _need(start, 2, end)
    text, pos = _name_at(buf, start + 2, end, cache)
    _exact(pos, end)
    return f"{_U16.unpack_from(buf, start)[0]} {text}"


def _px(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    _need(start, 2, end)
    first, pos = _name_at(buf, start + 2, end, cache)
    second, pos = _name_at(buf, pos, end, cache)
    _exact(pos, end)
    return f"{_U16.unpack_from(buf, start)[0]} {first} {second}"


def _soa(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    mname, pos = _name_at(buf, start, end, cache)
    rname, pos = _name_at(buf, pos, end, cache)
    _need(pos, 20, end)
    _exact(pos + 20, end)
    serial, refresh, retry, expire, minimum = struct.unpack_from("!5I", buf, pos)
    return f"{mname} {rname} {serial} {refresh} {retry} {expire} {minimum}"


def _strings(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    if start == end:  # RFC 1035 3.3.14: "one or more <character-string>s"
        raise BadRdata("no character-string")
    parts = []
    pos = start
    while pos < end:
        raw, pos = _string_at(buf, pos, end)
        parts.append(quoted(raw))
    return " ".join(parts)


def _hinfo(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    cpu, pos = _string_at(buf, start, end)
    os_, pos = _string_at(buf, pos, end)
    _exact(pos, end)
    return f"{quoted(cpu)} {quoted(os_)}"


def _srv(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    _need(start, 6, end)
    prio, weight, port = struct.unpack_from("!3H", buf, start)
    target, pos = _name_at(buf, start + 6, end, cache)
    _exact(pos, end)
    return f"{prio} {weight} {port} {target}"


def _naptr(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    _need(start, 4, end)
    order, pref = struct.unpack_from("!2H", buf, start)
    flags, pos = _string_at(buf, start + 4, end)
    services, pos = _string_at(buf, pos, end)
    regexp, pos = _string_at(buf, pos, end)
    replacement, pos = _name_at(buf, pos, end, cache)
    _exact(pos, end)
    return f"{order} {pref} {quoted(flags)} {quoted(services)} {quoted(regexp)} {replacement}"


def _caa(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    _need(start, 2, end)
    flags, tag_len = buf[start], buf[start + 1]
    if tag_len == 0:
        raise BadRdata("empty CAA tag")
    _need(start + 2, tag_len, end)
    tag = buf[start + 2 : start + 2 + tag_len]
    if not tag.isalnum():
        raise BadRdata("CAA tag must be alphanumeric")
    value = buf[start + 2 + tag_len : end]
    return f"{flags} {tag.decode('ascii')} {quoted(value)}"


def _ds(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    _need(start, 5, end)
    keytag = _U16.unpack_from(buf, start)[0]
    digest = buf[start + 4 : end].hex().upper() or "-"
    return f"{keytag} {buf[start + 2]} {buf[start + 3]} {digest}"


def _dnskey(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    _need(start, 4, end)
    flags = _U16.unpack_from(buf, start)[0]
    return f"{flags} {buf[start + 2]} {buf[start + 3]} {_b64(buf[start + 4 : end])}"


def _rrsig(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    _need(start, 18, end)
    covered, alg, labels, ttl, expires, incepted, keytag = struct.unpack_from(
        "!HBBIIIH", buf, start
    )
    signer, pos = _name_at(buf, start + 18, end, cache)
    signature = _b64(buf[pos:end])
    return (
        f"{type_name(covered)} {alg} {labels} {ttl} {_timestamp(expires)} "
        f"{_timestamp(incepted)} {keytag} {signer} {signature}"
    )


def _nsec(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    after, pos = _name_at(buf, start, end, cache)
    types = type_bitmap(buf, pos, end)
    return f"{after} {types}" if types else after


def _nsec3_head(buf: bytes, start: int, end: int) -> tuple[str, int]:
    _need(start, 5, end)
    alg, flags, iterations, salt_len = struct.unpack_from("!BBHB", buf, start)
    pos = start + 5
    _need(pos, salt_len, end)
    salt = buf[pos : pos + salt_len].hex().upper() or "-"
    return f"{alg} {flags} {iterations} {salt}", pos + salt_len


def _nsec3(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    head, pos = _nsec3_head(buf, start, end)
    _need(pos, 1, end)
    hash_len = buf[pos]
    pos += 1
    _need(pos, hash_len, end)
    hashed = base64.b32hexencode(buf[pos : pos + hash_len]).decode("ascii").rstrip("=")
    types = type_bitmap(buf, pos + hash_len, end)
    return f"{head} {hashed} {types}" if types else f"{head} {hashed}"


def _nsec3param(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    head, pos = _nsec3_head(buf, start, end)
    _exact(pos, end)
    return head


def _three_bytes_hex(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    """TLSA/SMIMEA: usage selector matching-type HEX (RFC 6698 2.2)."""
    _need(start, 3, end)
    data = buf[start + 3 : end].hex().upper() or "-"
    return f"{buf[start]} {buf[start + 1]} {buf[start + 2]} {data}"


def _sshfp(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    _need(start, 2, end)
    return f"{buf[start]} {buf[start + 1]} {buf[start + 2 : end].hex().upper() or '-'}"


def _uri(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    _need(start, 4, end)
    prio, weight = struct.unpack_from("!2H", buf, start)
    return f"{prio} {weight} {quoted(buf[start + 4 : end])}"


def _base64_only(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    if start == end:
        raise BadRdata("empty rdata")
    return _b64(buf[start:end])


def _cert(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    _need(start, 5, end)
    ctype, keytag, alg = struct.unpack_from("!HHB", buf, start)
    return f"{ctype} {keytag} {alg} {_b64(buf[start + 5 : end])}"


def _zonemd(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    _need(start, 7, end)
    serial, scheme, alg = struct.unpack_from("!IBB", buf, start)
    return f"{serial} {scheme} {alg} {buf[start + 6 : end].hex().upper()}"


def _csync(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    _need(start, 6, end)
    serial, flags = struct.unpack_from("!IH", buf, start)
    types = type_bitmap(buf, start + 6, end)
    return f"{serial} {flags} {types}" if types else f"{serial} {flags}"


def _eui_sized(size: int) -> Formatter:
    """EUI48 (6 octets) / EUI64 (8 octets), RFC 7043: hex pairs joined by hyphens."""

    def fmt(buf: bytes, start: int, end: int, cache: NameCache) -> str:
        if end - start != size:
            raise BadRdata(f"rdata must be {size} octets")
        return buf[start:end].hex("-")

    return fmt


def _nid_l64(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    """NID/L64 (RFC 6742): preference and a 64-bit value as four colon-separated groups."""
    if end - start != 10:
        raise BadRdata("NID/L64 rdata must be 10 octets")
    pref, *groups = struct.unpack_from("!5H", buf, start)
    return f"{pref} " + ":".join(f"{g:04x}" for g in groups)


def _l32(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    if end - start != 6:
        raise BadRdata("L32 rdata must be 6 octets")
    return f"{_U16.unpack_from(buf, start)[0]} {_inet_ntoa(buf[start + 2 : end])}"


def _wks(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    _need(start, 5, end)
    address = _inet_ntoa(buf[start : start + 4])
    ports = [
        str(i * 8 + bit)
        for i, octet in enumerate(buf[start + 5 : end])
        for bit in range(8)
        if octet & (0x80 >> bit)
    ]
    return " ".join([address, str(buf[start + 4]), *ports])


def _tsig(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    """RFC 8945: algorithm time fudge mac origid error otherlen [other]."""
    alg, pos = _name_at(buf, start, end, cache)
    _need(pos, 10, end)
    signed = int.from_bytes(buf[pos : pos + 6], "big")
    fudge, mac_len = struct.unpack_from("!HH", buf, pos + 6)
    pos += 10
    _need(pos, mac_len + 6, end)
    mac = buf[pos : pos + mac_len]
    pos += mac_len
    orig_id, error, other_len = struct.unpack_from("!3H", buf, pos)
    pos += 6
    _exact(pos + other_len, end)
    text = f"{alg} {signed} {fudge} {_b64(mac)} {orig_id} {tsig_rcode_name(error)} {other_len}"
    return f"{text} {_b64(buf[pos:end])}" if other_len else text


def _tkey(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    """RFC 2930: algorithm inception expiration mode error key otherlen [other]."""
    alg, pos = _name_at(buf, start, end, cache)
    _need(pos, 14, end)
    inception, expiration, mode, error, key_len = struct.unpack_from("!IIHHH", buf, pos)
    pos += 14
    _need(pos, key_len + 2, end)
    key = buf[pos : pos + key_len]
    pos += key_len
    other_len = _U16.unpack_from(buf, pos)[0]
    pos += 2
    _exact(pos + other_len, end)
    text = (
        f"{alg} {_timestamp(inception)} {_timestamp(expiration)} {mode} "
        f"{tsig_rcode_name(error)} {_b64(key)} {other_len}"
    )
    return f"{text} {_b64(buf[pos:end])}" if other_len else text


def _loc_size(octet: int) -> str:
    """RFC 1876 size/precision: mantissa and power of ten in centimetres, shown in metres."""
    mantissa, exponent = octet >> 4, octet & 0x0F
    if mantissa > 9 or exponent > 9:
        raise BadRdata("bad LOC size")
    if exponent >= 2:
        return f"{mantissa * 10 ** (exponent - 2)}m"
    return f"0.{mantissa * 10**exponent:02d}m"


def _loc_angle(value: int, positive: str, negative: str) -> str:
    offset = value - 2**31
    hemisphere = positive if offset >= 0 else negative
    offset = abs(offset)
    millis, offset = offset % 1000, offset // 1000
    seconds, offset = offset % 60, offset // 60
    return f"{offset // 60} {offset % 60} {seconds}.{millis:03d} {hemisphere}"


def _loc(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    """RFC 1876 LOC, version 0 (other versions use the generic form)."""
    if end - start != 16 or buf[start] != 0:
        return generic(buf, start, end)
    size, horizontal, vertical = buf[start + 1], buf[start + 2], buf[start + 3]
    latitude, longitude, altitude = struct.unpack_from("!3I", buf, start + 4)
    cm = altitude - 10_000_000
    sign = "-" if cm < 0 else ""
    return (
        f"{_loc_angle(latitude, 'N', 'S')} {_loc_angle(longitude, 'E', 'W')} "
        f"{sign}{abs(cm) // 100}.{abs(cm) % 100:02d}m {_loc_size(size)} "
        f"{_loc_size(horizontal)} {_loc_size(vertical)}"
    )


def _apl(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    """RFC 3123: [!]family:address/prefix items."""
    items = []
    pos = start
    while pos < end:
        _need(pos, 4, end)
        family, prefix, length = struct.unpack_from("!HBB", buf, pos)
        negate, length = length >> 7, length & 0x7F
        pos += 4
        _need(pos, length, end)
        raw = buf[pos : pos + length]
        pos += length
        if family == 1 and length <= 4:
            address = _inet_ntoa(raw.ljust(4, b"\0"))
        elif family == 2 and length <= 16:
            address = _inet_ntop(_AF_INET6, raw.ljust(16, b"\0"))
        else:
            raise BadRdata("bad APL item")
        items.append(f"{'!' if negate else ''}{family}:{address}/{prefix}")
    return " ".join(items)


def _ipseckey(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    """RFC 4025: precedence gateway-type algorithm gateway public-key."""
    _need(start, 3, end)
    precedence, gw_type, alg = buf[start], buf[start + 1], buf[start + 2]
    pos = start + 3
    if gw_type == 0:
        gateway = "."
    elif gw_type == 1:
        _need(pos, 4, end)
        gateway, pos = _inet_ntoa(buf[pos : pos + 4]), pos + 4
    elif gw_type == 2:
        _need(pos, 16, end)
        gateway, pos = _inet_ntop(_AF_INET6, buf[pos : pos + 16]), pos + 16
    elif gw_type == 3:
        gateway, pos = _name_at(buf, pos, end, cache)
    else:
        raise BadRdata("bad gateway type")
    return f"{precedence} {gw_type} {alg} {gateway} {_b64(buf[pos:end])}"


# ----------------------------------------------------------------------------- SVCB / HTTPS
_SVC_ESCAPES: tuple[str, ...] = tuple(
    ("\\" + chr(c)) if c in b',"\\' else chr(c) if 0x21 <= c <= 0x7E else f"\\{c:03d}"
    for c in range(256)
)
_CHAR_STRING_ESCAPES = tuple(  # a character-string's own: a comma is no separator there
    "," if c == 0x2C else escaped for c, escaped in enumerate(_SVC_ESCAPES)
)


def _svc_string(raw: bytes) -> str:
    return "".join([_SVC_ESCAPES[c] for c in raw])


def _alpn_id(raw: bytes) -> str:
    """One alpn-id of a value-list, escaped twice (RFC 9460 appendix A.1): a comma or a
    backslash in it gets a backslash, then the item is written as a character-string, whose
    backslashes are doubled (`h3,x` is `h3\\\\,x`)."""
    item = raw.replace(b"\\", b"\\\\").replace(b",", b"\\,")
    return "".join([_CHAR_STRING_ESCAPES[c] for c in item])


def _svc_value(key: int, raw: bytes) -> str | None:
    """RFC 9460 7.x presentation of one SvcParamValue (None: a key without a value)."""
    if key == 0:
        if not raw or len(raw) % 2:
            raise BadRdata("bad mandatory list")
        return ",".join(svc_param_key_name(k) for (k,) in struct.iter_unpack("!H", raw))
    if key == 1:
        ids = []
        pos = 0
        while pos < len(raw):
            ident, pos = _string_at(raw, pos, len(raw))
            ids.append(_alpn_id(ident))
        if not ids:
            raise BadRdata("empty alpn")
        return ",".join(ids)
    if key in (2, 8):
        if raw:
            raise BadRdata("key takes no value")
        return None
    if key == 3:
        if len(raw) != 2:
            raise BadRdata("bad port")
        return str(_U16.unpack(raw)[0])
    if key == 4:
        if not raw or len(raw) % 4:
            raise BadRdata("bad ipv4hint")
        return ",".join(_inet_ntoa(raw[i : i + 4]) for i in range(0, len(raw), 4))
    if key == 5:
        return base64.b64encode(raw).decode("ascii")
    if key == 6:
        if not raw or len(raw) % 16:
            raise BadRdata("bad ipv6hint")
        return ",".join(_inet_ntop(_AF_INET6, raw[i : i + 16]) for i in range(0, len(raw), 16))
    if key == 9:
        if len(raw) % 2:
            raise BadRdata("bad group list")
        return ",".join(str(g) for (g,) in struct.iter_unpack("!H", raw))
    return _svc_string(raw) if raw else None


def _svcb(buf: bytes, start: int, end: int, cache: NameCache) -> str:
    _need(start, 2, end)
    priority = _U16.unpack_from(buf, start)[0]
    target, pos = _name_at(buf, start + 2, end, cache)
    parts = [str(priority), target]
    previous = -1
    while pos < end:
        _need(pos, 4, end)
        key, length = struct.unpack_from("!2H", buf, pos)
        if key <= previous:  # RFC 9460 2.2: strictly increasing, else the RR is malformed
            raise BadRdata("SvcParamKeys out of order")
        previous = key
        pos += 4
        _need(pos, length, end)
        value = _svc_value(key, buf[pos : pos + length])
        pos += length
        name = svc_param_key_name(key)
        parts.append(name if value is None else f"{name}={value}")
    return " ".join(parts)


FORMATTERS: dict[int, Formatter] = {
    1: _a,
    2: _one_name,
    3: _one_name,
    4: _one_name,
    5: _one_name,
    6: _soa,
    7: _one_name,
    8: _one_name,
    9: _one_name,
    11: _wks,
    12: _one_name,
    13: _hinfo,
    14: _two_names,
    15: _u16_name,
    16: _strings,
    17: _two_names,
    18: _u16_name,
    19: _strings,
    20: _strings,
    21: _u16_name,
    24: _rrsig,
    25: _dnskey,
    26: _px,
    29: _loc,
    28: _aaaa,
    33: _srv,
    35: _naptr,
    36: _u16_name,
    37: _cert,
    39: _one_name,
    42: _apl,
    43: _ds,
    44: _sshfp,
    45: _ipseckey,
    46: _rrsig,
    47: _nsec,
    48: _dnskey,
    49: _base64_only,
    50: _nsec3,
    51: _nsec3param,
    52: _three_bytes_hex,
    53: _three_bytes_hex,
    59: _ds,
    60: _dnskey,
    61: _base64_only,
    62: _csync,
    63: _zonemd,
    64: _svcb,
    65: _svcb,
    99: _strings,
    104: _nid_l64,
    105: _l32,
    106: _nid_l64,
    107: _u16_name,
    108: _eui_sized(6),
    109: _eui_sized(8),
    249: _tkey,
    250: _tsig,
    256: _uri,
    257: _caa,
    258: _strings,
    261: _strings,
    262: _strings,
    32768: _ds,
    32769: _ds,
}


# ----------------------------------------------------------------------------- EDNS (OPT)
def parse_opt(buf: bytes, start: int, end: int, udp_size: int, ttl: int) -> tuple[dict, str, bool]:
    """RFC 6891 OPT pseudo-RR: (edns dict, summary text for the record's data, parsed ok).

    The TTL field carries the extended rcode (upper 8 bits), the version and the flags (DO is
    the top bit); the class field carries the requester's UDP payload size.
    """
    ext_rcode, version, flags = ttl >> 24, (ttl >> 16) & 0xFF, ttl & 0xFFFF
    do = flags >= 0x8000
    options, ok = _edns_options(buf, start, end) if start < end else ([], True)
    edns = {
        "version": version,
        "udp_size": udp_size,
        "do": do,
        "flags": flags,
        "ext_rcode": ext_rcode,
        "options": options,
    }
    summary = f"version={version} udp={udp_size} do" if do else f"version={version} udp={udp_size}"
    if options:
        words = (f"{o['name']}={o['data']}" if o["data"] else o["name"] for o in options)
        summary += " " + " ".join(words)
    return edns, summary, ok


def _edns_options(buf: bytes, pos: int, end: int) -> tuple[list[dict], bool]:
    """The options up to `end`; False when the last one overruns the OPT RDATA."""
    options: list[dict] = []
    while pos < end:
        if pos + 4 > end:
            return options, False
        code, length = struct.unpack_from("!2H", buf, pos)
        pos += 4
        if pos + length > end:
            return options, False
        options.append(edns_option(code, buf[pos : pos + length]))
        pos += length
    return options, True


def edns_option(code: int, raw: bytes) -> dict:
    """One EDNS option: code, name, data (presentation) and per-option fields when it parses."""
    option: dict = {"code": code, "name": edns_option_name(code), "data": raw.hex()}
    parse = _OPTION_PARSERS.get(code)
    if parse is not None:
        try:
            parse(raw, option)
        except Exception:  # an option that does not parse keeps its bytes, nothing more
            return {"code": code, "name": edns_option_name(code), "data": raw.hex()}
    return option


def _opt_ecs(raw: bytes, option: dict) -> None:
    """RFC 7871 client subnet: FAMILY SOURCE SCOPE ADDRESS (address truncated to its prefix)."""
    family, source, scope = struct.unpack_from("!HBB", raw)
    addr = raw[4:]
    if family == 1 and len(addr) <= 4:
        address = _inet_ntoa(addr.ljust(4, b"\0"))
    elif family == 2 and len(addr) <= 16:
        address = _inet_ntop(_AF_INET6, addr.ljust(16, b"\0"))
    else:
        address = addr.hex()
    option.update(
        family=family,
        source_prefix=source,
        scope_prefix=scope,
        address=address,
        data=f"{address}/{source}/{scope}",
    )


def _opt_cookie(raw: bytes, option: dict) -> None:
    """RFC 7873: 8-byte client cookie, optional 8..32-byte server cookie."""
    if len(raw) != 8 and not 16 <= len(raw) <= 40:
        raise BadRdata("bad cookie length")
    option.update(client=raw[:8].hex(), server=raw[8:].hex() or None)


def _opt_nsid(raw: bytes, option: dict) -> None:
    option.update(hex=raw.hex(), text=quoted(raw)[1:-1])


def _opt_padding(raw: bytes, option: dict) -> None:
    option.update(length=len(raw), data=str(len(raw)))


def _opt_ede(raw: bytes, option: dict) -> None:
    """RFC 8914: INFO-CODE and optional UTF-8 EXTRA-TEXT."""
    info = _U16.unpack_from(raw)[0]
    text = raw[2:].decode("utf-8", errors="replace").rstrip("\0")
    label = EDE_CODES.get(info, "Unknown")
    data = f"{info} ({label})" + (f" {quoted(text.encode('utf-8'))}" if text else "")
    option.update(info_code=info, extra_text=text, data=data)


def _opt_u8_list(raw: bytes, option: dict) -> None:
    option["data"] = " ".join(str(b) for b in raw)


def _opt_key_tags(raw: bytes, option: dict) -> None:
    option["data"] = " ".join(str(t) for (t,) in struct.iter_unpack("!H", raw))


def _opt_seconds(raw: bytes, option: dict) -> None:
    """EXPIRE (4 octets, RFC 7314) or TCP-KEEPALIVE (2 octets, 100 ms units, RFC 7828)."""
    if raw and len(raw) not in (2, 4):
        raise BadRdata("bad length")
    option["data"] = str(int.from_bytes(raw, "big")) if raw else ""


def _opt_name(raw: bytes, option: dict) -> None:
    """CHAIN (RFC 7901) and REPORT-CHANNEL (RFC 9567) carry one uncompressed name."""
    name, after = read_name(raw, 0, {})
    if after != len(raw):
        raise BadRdata("trailing bytes after name")
    option["data"] = name


_OPTION_PARSERS: dict[int, Callable[[bytes, dict], None]] = {
    3: _opt_nsid,
    5: _opt_u8_list,
    6: _opt_u8_list,
    7: _opt_u8_list,
    8: _opt_ecs,
    9: _opt_seconds,
    10: _opt_cookie,
    11: _opt_seconds,
    12: _opt_padding,
    13: _opt_name,
    14: _opt_key_tags,
    15: _opt_ede,
    18: _opt_name,
}
