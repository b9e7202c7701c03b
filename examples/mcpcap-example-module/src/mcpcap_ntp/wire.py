"""The NTP header (RFC 5905, section 7.3) as the scan needs it.

`decode_datagram` runs in mcpcap's worker processes on every UDP datagram to or from port 123,
so it is a plain module-level function that keeps no state and returns a tuple `marshal` can
carry: `(MESSAGE, mode, version, stratum, reference_id, origin, receive, transmit)` with the
timestamps as raw 64-bit NTP numbers, `(OTHER, mode)` for modes that are not client/server, or
`(MALFORMED, reason)`.
"""

from __future__ import annotations

import socket
import struct
from typing import Any

NTP_EPOCH = 2_208_988_800  # seconds from 1900-01-01 (NTP's era 0) to 1970-01-01
HEADER = struct.Struct("!BBbbII4sQQQQ")  # 48 bytes; extension fields and MAC may follow
CLIENT, SERVER = 3, 4

MESSAGE, OTHER, MALFORMED = "message", "other", "malformed"


def decode_datagram(frame: int, ts: float, segment: Any) -> tuple:
    """The scan's decoder hook (`ProtocolModule.udp_decoder`)."""
    return decode(segment.payload)


def decode(payload: bytes) -> tuple:
    if not payload:
        return (MALFORMED, "empty datagram")
    version, mode = payload[0] >> 3 & 7, payload[0] & 7
    if mode not in (CLIENT, SERVER):
        return (OTHER, mode)  # symmetric, broadcast, control and private messages
    if len(payload) < HEADER.size:
        return (MALFORMED, "shorter than the 48-byte header")
    if not 1 <= version <= 4:
        return (MALFORMED, "unknown version")
    _, stratum, _, _, _, _, ref, _, origin, receive, transmit = HEADER.unpack_from(payload)
    return (MESSAGE, mode, version, stratum, reference_id(stratum, ref), origin, receive, transmit)


def reference_id(stratum: int, raw: bytes) -> str:
    """Stratum 0-1: four ASCII characters (a kiss code or a clock source such as GPS);
    above: the IPv4 address of the server's own source (for IPv6, a hash shown the same way)."""
    if stratum <= 1:
        return raw.rstrip(b"\0").decode("ascii", "replace")
    return socket.inet_ntoa(raw)


def unix_seconds(stamp: int) -> float:
    """A 64-bit NTP timestamp as epoch seconds."""
    return (stamp >> 32) - NTP_EPOCH + (stamp & 0xFFFFFFFF) / 2**32


def difference(later: int, earlier: int) -> float:
    """Seconds between two NTP timestamps, exact before the one rounding."""
    return (later - earlier) / 2**32
