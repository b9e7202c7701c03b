"""A span's message rows, appended one at a time to a chunk (`store_schema.add_row`): the chunk
must read back (`chunk_rows`) as the list of those rows, in their order, byte for byte what
`marshal` makes of that list, whatever the rows hold."""

from __future__ import annotations

import marshal

from hypothesis import given
from hypothesis import strategies as st

from mcpcap.modules.dns import store_schema

# the `dns_messages` layout: frame, index, ts, src, sport, dst, dport, transport, protocol, qr,
# id, raw bytes (and a frame past 2^31, text beyond ASCII, which marshal writes otherwise)
rows = st.tuples(
    st.integers(1, 2**40),
    st.integers(0, 300),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.integers(0, 65535),
    st.text(max_size=40),
    st.integers(0, 65535),
    st.sampled_from(["udp", "tcp"]),
    st.sampled_from(["dns", "mdns", "llmnr"]),
    st.integers(0, 1),
    st.integers(0, 65535),
    st.binary(max_size=600),
)


@given(st.lists(rows, min_size=1, max_size=30))
def test_rows_added_one_at_a_time_read_back_as_their_list(added):
    chunk = store_schema.new_chunk()
    for row in added:
        store_schema.add_row(chunk, row)
    assert store_schema.chunk_length(chunk) == len(added)
    first, last, packed = store_schema.message_chunk(added[0][0], added[-1][0], chunk)
    assert (first, last) == (added[0][0], added[-1][0])
    assert store_schema.chunk_rows(packed) == added
    assert packed == marshal.dumps(added, store_schema.ROW_VERSION)


def test_an_empty_chunk_holds_no_row():
    chunk = store_schema.new_chunk()
    assert store_schema.chunk_length(chunk) == 0
    assert store_schema.chunk_rows(bytes(chunk)) == []
