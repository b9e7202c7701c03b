"""A span's stream segments as the stream worker receives them: records of bytes, not objects.

Three in four of the segments span workers send to the stream side belong to connections it
has already let go of (TLS after its handshake), and it drops them unread. Sent as tuples,
each of them was still made, marshalled, unmarshalled and freed (about 1.6 µs); as a record,
the stream side finds its connection from a few fixed fields (`next_kept`) and makes a
segment only for a record it reads (`record_at`).

A packed span is `marshal.dumps((addresses, records, odd))`: the span's addresses, each once;
its records, one after the other, in frame order; and the segment items no record can hold (a
field of another type or out of a record's range: never one of the decapsulator's TCP
segments), each named by an `ODD` record. A record is `HEAD` (its kind, TCP flags, ports,
the indices of its addresses, sequence and acknowledgement numbers, frame and timestamp), then
for `INLINE` the payload's length and bytes, for `REFERENCE` where the payload lies in the
capture file (offset, length). A record makes the segment fields `STREAM_FIELDS` names.

`pack`, `python_next_kept` and `python_record_at` are the Python; where it was built their C
twins (`_parallel.c`) do the same (tests/core/test_streampack_compiled.py holds them to it).
"""

from __future__ import annotations

import marshal
import struct
from collections.abc import Callable
from typing import Any

from mcpcap.core import fastpath
from mcpcap.core.decap import Segment
from mcpcap.core.tcpstream import TCP_SYN

# one stream segment as span workers send it: (frame, ts, the first STREAM_FIELDS fields of a
# Segment), where the payload may be a reference, (offset in the capture file, length)
SegmentItem = tuple[int, float, tuple]
# what the stream side reads of a segment (transport to ack); the packet details after them
# (window, lengths, VLAN, layers ...) would cross two pipes for nothing: a segment made again
# from these has their defaults
STREAM_FIELDS = Segment._fields.index("ack") + 1
_SRC, _DST, _FLAGS = (Segment._fields.index(name) for name in ("src", "dst", "tcp_flags"))
Drops = Callable[[tuple[str, int], tuple[str, int]], bool]

INLINE, REFERENCE, ODD = 0, 1, 2
# kind, flags, sport, dport, src index, dst index, seq, ack, frame, ts (native order: a packed
# span never leaves the machine)
HEAD = struct.Struct("=BHHHIIIIQd")
INLINE_LENGTH = struct.Struct("=I")
PLACE = struct.Struct("=QI")  # a REFERENCE's offset and length
ODD_RECORD = struct.Struct("=BI")  # ODD, its index in `odd`
_U16, _U32, _U64 = 0xFFFF, 0xFFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFF
_PAST_END = "a packed stream record runs past the end of its span"


def pack(items: list[SegmentItem]) -> bytes:
    """The packed form of a span's stream items (in their order)."""
    addresses: dict[str, int] = {}
    records = bytearray()
    odd: list[SegmentItem] = []
    for item in items:
        record = _record(item, addresses)
        if record is None:
            records += ODD_RECORD.pack(ODD, len(odd))
            odd.append(item)
        else:
            records += record
    return marshal.dumps((list(addresses), bytes(records), odd))


def _record(item: Any, addresses: dict[str, int]) -> bytes | None:
    """An item's record (its addresses indexed in `addresses`), or None for an ODD one."""
    if type(item) is not tuple or len(item) != 3:
        return None
    frame, ts, fields = item
    if type(fields) is not tuple or len(fields) != STREAM_FIELDS:
        return None
    transport, src, sport, dst, dport, payload, seq, flags, ack = fields
    if (
        type(transport) is not str or transport != "tcp"
        or type(src) is not str or type(dst) is not str
        or not _within(sport, _U16) or not _within(dport, _U16) or not _within(flags, _U16)
        or not _within(seq, _U32) or not _within(ack, _U32)
        or not _within(frame, _U64) or type(ts) is not float
    ):  # fmt: skip
        return None
    if type(payload) is bytes and len(payload) <= _U32:
        kind, tail = INLINE, INLINE_LENGTH.pack(len(payload)) + payload
    elif (
        type(payload) is tuple and len(payload) == 2
        and _within(payload[0], _U64) and _within(payload[1], _U32)
    ):  # fmt: skip
        kind, tail = REFERENCE, PLACE.pack(*payload)
    else:
        return None
    src_index = addresses.setdefault(src, len(addresses))
    dst_index = addresses.setdefault(dst, len(addresses))
    return HEAD.pack(kind, flags, sport, dport, src_index, dst_index, seq, ack, frame, ts) + tail


def _within(value: Any, bound: int) -> bool:
    return type(value) is int and 0 <= value <= bound


def opened(packed: bytes) -> tuple[list[str], bytes, list[SegmentItem]]:
    """A packed span's (addresses, records, odd items), for `record_at` and `next_kept`."""
    return marshal.loads(packed)


def unpack(packed: bytes) -> list[SegmentItem]:
    """Every item of a packed span, in order (what `pack` was given, but for a record's
    fields: `STREAM_FIELDS` of them, as a tuple)."""
    addresses, records, odd = opened(packed)
    items, pos = [], 0
    while pos < len(records):
        item, pos = record_at(records, addresses, odd, pos)
        items.append(item)
    return items


def python_record_at(
    records: bytes, addresses: list[str], odd: list[SegmentItem], pos: int
) -> tuple[SegmentItem, int]:
    """The item of the record at `pos`, and where the next record starts."""
    try:
        return _record_at(records, addresses, odd, pos)
    except struct.error:
        raise ValueError(_PAST_END) from None


def _record_at(
    records: bytes, addresses: list[str], odd: list[SegmentItem], pos: int
) -> tuple[SegmentItem, int]:
    kind = _kind(records, pos)
    if kind == ODD:
        _, index = ODD_RECORD.unpack_from(records, pos)
        return odd[index], pos + ODD_RECORD.size
    _, flags, sport, dport, src, dst, seq, ack, frame, ts = HEAD.unpack_from(records, pos)
    pos += HEAD.size
    if kind == INLINE:
        (size,) = INLINE_LENGTH.unpack_from(records, pos)
        start = pos + INLINE_LENGTH.size
        payload: bytes | tuple[int, int] = records[start : start + size]
        if len(payload) != size:
            raise ValueError(_PAST_END)
        pos = start + size
    else:
        payload = PLACE.unpack_from(records, pos)
        pos += PLACE.size
    fields = ("tcp", addresses[src], sport, addresses[dst], dport, payload, seq, flags, ack)
    return (frame, ts, fields), pos


def python_next_kept(
    records: bytes, addresses: list[str], odd: list[SegmentItem], pos: int, drops: Drops
) -> int:
    """Where the first record from `pos` on that the stream side reads starts (len(records):
    none). A record without SYN that `drops` (a `TcpReassembler`'s) drops is skipped, as
    `drops` takes it: most records of a capture are those of released connections."""
    while pos < len(records):
        (_, _, fields), after = python_record_at(records, addresses, odd, pos)
        ends = (fields[_SRC], fields[_SRC + 1]), (fields[_DST], fields[_DST + 1])
        if fields[_FLAGS] & TCP_SYN or not drops(*ends):
            return pos
        pos = after
    return len(records)


def _kind(records: bytes, pos: int) -> int:
    if not 0 <= pos < len(records):
        raise ValueError(_PAST_END)
    kind = records[pos]
    if kind not in (INLINE, REFERENCE, ODD):
        raise ValueError(f"a packed stream record of an unknown kind ({kind})")
    return kind


def _compiled() -> tuple[Callable[..., bytes], Callable[..., tuple[SegmentItem, int]], Any]:
    """(`pack`, `record_at`, `bind_next_kept` or None): compiled where it was built."""
    module = fastpath.compiled("mcpcap.core._parallel")
    if module is None:
        return pack, python_record_at, None
    return module.pack_stream_items, module.stream_record_at, module.bind_next_kept


pack_items, record_at, _COMPILED_BIND_NEXT_KEPT = _compiled()


def next_kept_over(connections: dict, drops: Drops) -> Callable[..., int]:
    """`python_next_kept` with `drops` bound, compiled where it was built (over the connection
    table `drops` reads): `next_kept(records, addresses, odd, pos)`."""
    if _COMPILED_BIND_NEXT_KEPT is None:
        return lambda records, addresses, odd, pos: python_next_kept(
            records, addresses, odd, pos, drops
        )
    return _COMPILED_BIND_NEXT_KEPT(connections, python_next_kept, drops)
