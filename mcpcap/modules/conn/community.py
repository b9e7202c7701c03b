"""Community ID v1 flow hashes (corelight/community-id-spec).

The hash input, in network byte order: the 2-byte seed, the two addresses, the IP protocol,
one zero byte of padding, then (for TCP, UDP, SCTP, ICMP and ICMPv6) the two ports. The
endpoints are ordered so that the smaller address (then port) comes first; ICMP's "ports" are
its type and the counterpart type (or the code for one-way messages, which are not reordered).
The ID is "1:" and the base64 of the SHA1 digest.
"""

from __future__ import annotations

import binascii
import hashlib
import socket
import struct
from collections.abc import Callable

from mcpcap.core import fastpath

PORTED = frozenset((1, 6, 17, 58, 132))

# Zeek's ICMP4_counterpart / ICMP6_counterpart: request and reply types of two-way messages
ICMP4_PAIRS = {8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 10: 9, 17: 18, 18: 17}
ICMP6_PAIRS = {128: 129, 129: 128, 133: 134, 134: 133, 135: 136, 136: 135,
               130: 131, 131: 130, 139: 140, 140: 139, 144: 145, 145: 144}  # fmt: skip


def icmp_ports(icmpv6: bool, icmp_type: int, code: int) -> tuple[int, int, bool]:
    """(type, counterpart type or code, one-way) for an ICMP message, as Zeek keys it."""
    pairs = ICMP6_PAIRS if icmpv6 else ICMP4_PAIRS
    other = pairs.get(icmp_type)
    if other is None:
        return icmp_type, code, True
    return icmp_type, other, False


def _packed(address: str) -> bytes:
    """The address's bytes, remembered: a capture's flows share few addresses."""
    packed = _PACKED.get(address)
    if packed is None:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        packed = socket.inet_pton(family, address)
        if len(_PACKED) >= MAX_PACKED:
            _PACKED.clear()
        _PACKED[address] = packed
    return packed


MAX_PACKED = 65_536
_PACKED: dict[str, bytes] = {}
_PORTS = struct.Struct("!HH")
_PROTO_PAD = tuple(bytes((proto, 0)) for proto in range(256))  # the protocol and the padding
_sha1 = hashlib.sha1
_base64 = binascii.b2a_base64


def python_community_id(
    src: str, sport: int, dst: str, dport: int, proto: int, *, one_way: bool = False, seed: int = 0
) -> str:
    """The Community ID v1 of a flow; '' for addresses it cannot read (`community_id`: in C
    where `_flowhash.c` was built)."""
    try:
        a = _PACKED.get(src) or _packed(src)
        b = _PACKED.get(dst) or _packed(dst)
    except (OSError, ValueError):
        return ""
    ported = proto in PORTED
    if not one_way and (b < a or (a == b and ported and dport < sport)):
        a, b, sport, dport = b, a, dport, sport
    data = (struct.pack("!H", seed) if seed else b"\0\0") + a + b + _PROTO_PAD[proto & 0xFF]
    if ported:
        data += _PORTS.pack(sport & 0xFFFF, dport & 0xFFFF)
    return "1:" + _base64(_sha1(data).digest(), newline=False).decode("ascii")


def _compiled_community_id() -> Callable[..., str]:
    compiled = fastpath.compiled("mcpcap.core._flowhash")
    if compiled is None:
        return python_community_id
    return compiled.bind_community_id(python_community_id, _sha1)


community_id = _compiled_community_id()
