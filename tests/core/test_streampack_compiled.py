"""A span's stream segments as records: the C twins (`_parallel.c`'s `pack_stream_items`,
`stream_record_at` and `next_kept`) against `mcpcap.core.streampack`'s Python, their reference.

Both pack the same items into the same records; both read every record back as the item it was
made from (but for a record's fields: the first STREAM_FIELDS); and both walk the same records
over equal connection tables to the same stops, leaving the table in the same order (a dropped
segment moves its connection to the recent end, as `TcpReassembler.drops` does).
"""

from __future__ import annotations

import marshal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpcap.core import streampack
from mcpcap.core.tcpstream import TcpReassembler, _Connection
from tests.modules.conn.flowkit import ACK, SYN, tcp

pytestmark = pytest.mark.skipif(
    streampack._COMPILED_BIND_NEXT_KEPT is None,
    reason="the compiled code is turned off (MCPCAP_PURE_PYTHON)",
)
ENDS = [("10.0.0.1", 40000), ("10.0.0.2", 443), ("10.0.0.3", 80), ("::1", 8080)]
KEPT = streampack.STREAM_FIELDS


def _table(released: list[bool]) -> TcpReassembler:
    """A reassembler whose table holds a connection between each pair of ends, the nth
    released as `released[n]` says."""
    reassembler = TcpReassembler()
    pairs = [(a, b) for i, a in enumerate(ENDS) for b in ENDS[i + 1 :]]
    for (a, b), flag in zip(pairs, released, strict=False):
        conn = _Connection()
        conn.released = flag
        reassembler.connections[(a, b) if a <= b else (b, a)] = conn
    return reassembler


def _walk(released: list[bool], packed: bytes, compiled: bool) -> tuple[list, list]:
    """Every stop of a walk over the records, and the table's order after it."""
    reassembler = _table(released)
    if compiled:
        next_kept = streampack.next_kept_over(reassembler.connections, reassembler.drops)
    else:

        def next_kept(*args):
            return streampack.python_next_kept(*args, reassembler.drops)

    addresses, records, odd = marshal.loads(packed)
    stops, pos = [], next_kept(records, addresses, odd, 0)
    while pos < len(records):
        stops.append(pos)
        _, after = streampack.python_record_at(records, addresses, odd, pos)
        pos = next_kept(records, addresses, odd, after)
    return stops, list(reassembler.connections)


def _outcome(call, *args) -> object:
    try:
        return call(*args)
    except Exception as error:  # (both must raise the same)
        return type(error)


def _item(n: int, a, b, flags: int, payload=b"", seq: int = 0) -> tuple:
    fields = tuple(tcp(a, b, flags, seq or n, ack=7 * n, data=b""))[:KEPT]
    return (n, float(n) / 3, (*fields[:5], payload, *fields[6:]))


PAYLOADS = st.one_of(
    st.binary(max_size=40),
    st.tuples(st.integers(0, 2**64 - 1), st.integers(0, 2**32 - 1)),
    # values no record holds: the item goes whole, as an ODD one
    st.tuples(st.integers(-5, -1), st.integers(0, 9)),
    st.just(None),
)
ITEMS = st.lists(
    st.tuples(
        st.sampled_from(ENDS),
        st.sampled_from(ENDS),
        st.sampled_from([ACK, SYN, SYN | ACK, 0x1FF, 1 << 16]),
        PAYLOADS,
        st.integers(0, 2**32),
    ),
    max_size=30,
)


def _items(drawn: list) -> list:
    return [_item(n, a, b, flags, payload, seq) for n, (a, b, flags, payload, seq) in
            enumerate(drawn)]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(ITEMS)
def test_the_same_records_and_every_item_read_back(drawn):
    items = _items(drawn)
    packed = streampack.pack_items(items)
    assert marshal.loads(packed) == marshal.loads(streampack.pack(items))
    assert streampack.unpack(packed) == items  # (through the C's record_at)
    addresses, records, odd = marshal.loads(packed)
    pos = 0
    while pos < len(records):
        python = streampack.python_record_at(records, addresses, odd, pos)
        assert streampack.record_at(records, addresses, odd, pos) == python
        pos = python[1]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.booleans(), min_size=6, max_size=6), ITEMS)
def test_the_same_stops_and_the_same_table(released, drawn):
    packed = streampack.pack(_items(drawn))
    python = _outcome(_walk, released, packed, False)
    assert _outcome(_walk, released, packed, True) == python


def test_an_item_of_another_shape_travels_whole_and_the_python_walks_it():
    items = [
        _item(1, ENDS[0], ENDS[1], ACK),
        (2, 2.0, tuple(tcp(ENDS[0], ENDS[1], ACK, 2))),  # a whole Segment's fields
        [3, 3.0, _item(3, ENDS[0], ENDS[1], ACK)[2]],  # a list
        (4, 4, _item(4, ENDS[0], ENDS[1], ACK)[2]),  # an int for its time
        _item(5, ENDS[1], ENDS[0], ACK),
    ]
    addresses, _, odd = marshal.loads(streampack.pack_items(items))
    assert odd == items[1:4] and addresses == [ENDS[0][0], ENDS[1][0]]
    assert streampack.unpack(streampack.pack_items(items)) == items
    for released in ([True] * 6, [False] * 6):  # every record dropped; none
        walked = _walk(released, streampack.pack(items), True)
        assert walked == _walk(released, streampack.pack(items), False)
        assert (walked[0] == []) is released[0]


def test_records_that_lie_raise_a_clear_error_in_both():
    packed = streampack.pack([_item(1, ENDS[0], ENDS[1], ACK, b"payload")])
    addresses, records, odd = marshal.loads(packed)
    for bad in (records[:-3], records[:10], b"\x07" + records[1:]):
        for read in (streampack.python_record_at, streampack.record_at):
            with pytest.raises(ValueError, match="packed stream record"):
                read(bad, addresses, odd, 0)
        lying = marshal.dumps((addresses, bad, odd))
        for compiled in (True, False):
            assert _outcome(_walk, [True] * 6, lying, compiled) is ValueError
    with pytest.raises(IndexError):  # an address the table does not have
        streampack.record_at(records, [], odd, 0)
