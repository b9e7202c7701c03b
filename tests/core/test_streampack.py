"""A span's stream segments as records (`mcpcap.core.streampack`), as the scan uses them (the
compiled twins where they were built, else the Python)."""

from __future__ import annotations

import marshal

from mcpcap.core import streampack
from mcpcap.core.tcpstream import TcpReassembler, _Connection

A, B = ("10.0.0.1", 40000), ("10.0.0.2", 443)


def _fields(src, dst, flags: int, payload) -> tuple:
    return ("tcp", src[0], src[1], dst[0], dst[1], payload, 1000, flags, 2000)


def test_a_span_packs_into_records_smaller_than_its_tuples_and_reads_back_whole():
    items = [(n, n / 10, _fields(A, B, 0x10, (n * 1500, 1400))) for n in range(1, 200)]
    items.append((200, 20.0, _fields(B, A, 0x18, b"a short payload")))
    packed = streampack.pack_items(items)
    assert streampack.unpack(packed) == items
    assert len(packed) < len(marshal.dumps(items))
    addresses, records, odd = marshal.loads(packed)
    assert addresses == [A[0], B[0]] and odd == []
    assert len(records) == 199 * (streampack.HEAD.size + streampack.PLACE.size) + (
        streampack.HEAD.size + streampack.INLINE_LENGTH.size + len(b"a short payload")
    )


def test_the_walk_skips_the_records_of_released_connections_and_stops_at_a_syn():
    reassembler = TcpReassembler()
    released = _Connection()
    released.released = True
    reassembler.connections[(A, B)] = released
    next_kept = streampack.next_kept_over(reassembler.connections, reassembler.drops)
    items = [
        (1, 1.0, _fields(A, B, 0x10, b"x")),  # released: skipped
        (2, 2.0, _fields(B, A, 0x10, (0, 1400))),  # released: skipped
        (3, 3.0, _fields(A, B, 0x02, b"")),  # a SYN: a new connection may start here
        (4, 4.0, _fields(A, ("10.0.0.9", 80), 0x10, b"y")),  # a connection not released
    ]
    addresses, records, odd = marshal.loads(streampack.pack_items(items))
    first = next_kept(records, addresses, odd, 0)
    item, after = streampack.record_at(records, addresses, odd, first)
    assert item == items[2]
    second = next_kept(records, addresses, odd, after)
    assert streampack.record_at(records, addresses, odd, second) == (items[3], len(records))
