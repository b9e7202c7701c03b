"""`StreamSide`'s skip over the segments of released connections, in C (`_parallel.c`'s
`first_kept`) against `streamwork.python_first_kept`, its reference.

Both walk the same items over equal connection tables: the indices they stop at, and the
table's order after (a dropped segment moves its connection to the recent end, as
`TcpReassembler.drops` does), must be equal.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpcap.core import streamwork
from mcpcap.core.tcpstream import TcpReassembler, _Connection
from tests.modules.conn.flowkit import ACK, SYN, tcp

pytestmark = pytest.mark.skipif(
    streamwork._COMPILED_FIRST_KEPT is None,
    reason="the compiled code is turned off (MCPCAP_PURE_PYTHON)",
)
ENDS = [("10.0.0.1", 40000), ("10.0.0.2", 443), ("10.0.0.3", 80), ("::1", 8080)]


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


def _walk(first_kept, reassembler: TcpReassembler, items: list) -> tuple[list, list]:
    stops, index = [], first_kept(items, 0)
    while index < len(items):
        stops.append(index)
        index = first_kept(items, index + 1)
    stops.append(first_kept(items, len(items) + 3))  # (past the end: the end)
    return stops, list(reassembler.connections)


def _python_walk(released: list[bool], items: list) -> tuple[list, list]:
    reassembler = _table(released)
    return _walk(
        lambda items, start: streamwork.python_first_kept(items, start, reassembler.drops),
        reassembler,
        items,
    )


def _compiled_walk(released: list[bool], items: list) -> tuple[list, list]:
    reassembler = _table(released)
    first_kept = streamwork._COMPILED_FIRST_KEPT(
        reassembler.connections, streamwork.python_first_kept, reassembler.drops
    )
    return _walk(first_kept, reassembler, items)


def _outcome(walk, released: list[bool], items: list) -> object:
    try:
        return walk(released, items)
    except Exception as error:  # (both must raise the same)
        return type(error)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.booleans(), min_size=6, max_size=6),
    st.lists(
        st.tuples(
            st.sampled_from(ENDS), st.sampled_from(ENDS), st.sampled_from([ACK, SYN, SYN | ACK])
        ),
        max_size=30,
    ),
)
def test_the_same_stops_and_the_same_table(released, segments):
    items = [(n, float(n), tuple(tcp(a, b, flags, n))) for n, (a, b, flags) in enumerate(segments)]
    assert _compiled_walk(released, items) == _python_walk(released, items)


def test_items_of_another_shape_go_to_the_python():
    """A flags field too big for C, a list for an item, a short segment: the Python takes them
    from there on, with its result or its error."""
    released = [True] * 6
    big = (*tcp(ENDS[0], ENDS[1], ACK, 1)[:7], 1 << 80, *tcp(ENDS[0], ENDS[1], ACK, 1)[8:])
    items = [(1, 1.0, tuple(tcp(ENDS[0], ENDS[1], ACK, 1))), (2, 2.0, big)]
    assert _compiled_walk(released, items) == _python_walk(released, items)
    assert _python_walk(released, items)[0] == [2]  # both dropped: `1 << 80` has no SYN bit
    for odd in ([[1, 1.0, tuple(tcp(ENDS[0], ENDS[1], ACK, 1))]], [(1, 1.0, ("tcp",))]):
        assert _outcome(_compiled_walk, released, odd) == _outcome(_python_walk, released, odd)
