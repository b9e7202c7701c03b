"""The merge's C twins (`_merge.c`) against their Python references: `ConnTracker.add_span`
(with the expiry and the rows of lone pieces, `scan.piece_row`) and `ConnTallies.add`.

Two conn scans get the same span partials, one with the compiled add_span and tallies, one
with the Python methods; their rows, their tallies and their trackers' numbers must be equal.
The partials are the ones workers make: from `FlowDecoder`s over the fixture captures and over
random flows, flushed at random span ends. Edge pieces (times that go back, a piece that ends
before it begins, a full table, tunnels, flows without a uid) come on top.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpcap.modules.conn import scan as conn_scan
from mcpcap.modules.conn import tallies as conn_tallies
from mcpcap.modules.conn.flows import FlowDecoder
from mcpcap.modules.conn.module import ConnModule
from tests.modules.conn.flowkit import ACK, SYN, icmp, tcp, udp
from tests.twins import captures, segments

pytestmark = pytest.mark.skipif(
    conn_scan._COMPILED_BIND is None or conn_tallies._COMPILED is None,
    reason="the compiled code is turned off (MCPCAP_PURE_PYTHON)",
)


class _Twins:
    """A conn scan with the compiled merge and one with the Python's, fed alike."""

    def __init__(self, max_active: int | None = None) -> None:
        self.compiled = self._scan(max_active)
        self.python = self._scan(max_active)
        del self.python.tracker.add_span  # the class's: the Python method
        self.python._tallies.add = self.python._tallies.python_add
        assert self.python.tracker.add_span == self.python.tracker.python_add_span
        assert self.compiled.tracker.add_span != self.compiled.tracker.python_add_span

    @staticmethod
    def _scan(max_active: int | None) -> conn_scan.ConnScan:
        db = sqlite3.connect(":memory:")
        ConnModule().create_tables(db)
        return conn_scan.ConnScan(db, max_active)

    def feed(self, partials: list[tuple]) -> None:
        for partial in partials:
            # each its own copy: the tracker appends a number to a lone piece it keeps
            for scan in (self.python, self.compiled):
                scan.on_worker_flush(_copy(partial))
            self.check()

    def finish(self) -> None:
        for scan in (self.python, self.compiled):
            scan.finish(scan._db)
        self.check()
        tables = ("conn_connections", "conn_tallies", "conn_timeline", "flow_splits")
        for table in tables:
            ours, theirs = (
                s._db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
                for s in (self.compiled, self.python)
            )
            assert ours == theirs, table

    def check(self) -> None:
        python, compiled = self.python.tracker, self.compiled.tracker
        for name in ("created", "connections", "evicted", "in_order", "_tcp", "_other"):
            assert _plain(getattr(compiled, name)) == _plain(getattr(python, name)), name
        assert compiled._last is not None or python._last is None
        assert self.compiled._rows == self.python._rows
        assert self.compiled._tallies._groups == self.python._tallies._groups


def _plain(value):
    """A tracker's table as comparable values (a `Conn` by its slots)."""
    if isinstance(value, dict):
        return [(key, _plain(entry)) for key, entry in value.items()]
    if isinstance(value, conn_scan.Conn):
        return [getattr(value, name) for name in conn_scan.Conn.__slots__]
    return value


def _copy(partial: tuple) -> tuple:
    pieces, *rest = partial
    return ([(key, list(piece)) for key, piece in pieces], *rest)


def _partials(packets: list, flush_every: int) -> list[tuple]:
    """The flushes of one worker's decoder over these packets, a flush every `flush_every`
    (those of spans that had nothing: None, as a scan skips them)."""
    decoder = FlowDecoder()
    partials = []
    for count, (frame, ts, seg) in enumerate(packets, start=1):
        decoder.packet(frame, ts, seg)
        if flush_every and count % flush_every == 0:
            partials.append(decoder.flush())
    partials.append(decoder.flush())
    return [partial for partial in partials if partial is not None]


@pytest.fixture(scope="module")
def capture_packets(tmp_path_factory) -> list[list]:
    folder = tmp_path_factory.mktemp("generated")
    paths = captures(folder, ("captures", "conn", "tls", "http", "dhcp_icmp", "gaps"), seed=4,
                     packets=5000)  # fmt: skip
    return [found for found in (segments(path, packets=True) for path in paths) if found]


@pytest.mark.parametrize("flush_every", [0, 1, 97, 1000])
def test_the_same_connections_on_every_capture(capture_packets, flush_every):
    lone = 0
    for packets in capture_packets:
        twins = _Twins()
        partials = _partials(packets, flush_every)
        twins.feed(partials)
        twins.finish()
        lone += sum(1 for p in partials for key, _ in p[0] if key[0] != "tcp")
    assert lone > 500  # the compiled path had work


def test_the_same_connections_on_the_corpus(corpus):
    paths = sorted(path for path in corpus.rglob("*") if ".pcap" in path.name)
    assert paths
    rng = random.Random(5)
    for path in paths:
        packets = segments(Path(path), packets=True)
        if packets:
            twins = _Twins(max_active=rng.choice((None, 50)))
            twins.feed(_partials(packets, rng.choice((0, 64, 4096))))
            twins.finish()


def test_a_full_table_and_times_that_go_back():
    """More flows than the table holds (the least recently active are evicted), pieces whose
    flows begin before the last one made (numbered by the Python, which then renumbers), and
    a piece that ends before it begins."""
    packets = []
    for i in range(60):
        ts = 100.0 - i if i % 7 == 0 else 100.0 + i
        packets.append((i + 1, ts, udp(("10.0.0.1", 1000 + i), ("10.0.0.2", 53), b"q")))
        packets.append((i + 1, ts + 0.5, icmp("10.0.0.1", "10.0.0.3", 8, data=b"\0\1\0\1" * 2)))
    twins = _Twins(max_active=10)
    partials = _partials(packets, 9)
    backwards = partials[0][0][0][1]
    backwards[1] = backwards[0] - 1.0  # LAST_TS before FIRST_TS
    twins.feed(partials)
    assert twins.compiled.tracker.evicted > 0
    assert not twins.compiled.tracker.in_order
    twins.finish()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 5),  # which flow
            st.booleans(),  # direction
            st.sampled_from([b"", b"q", bytes(12), bytes([0xC3]) + bytes(30)]),
            st.sampled_from([0.0, 0.4, 30.0, 60.0, 60.5, 301.0]),  # gap in seconds
            st.sampled_from([None, 7]),  # VLAN
            st.booleans(),  # tunnelled
        ),
        max_size=50,
    ),
    st.sampled_from([0, 2, 9]),
    st.sampled_from([None, 3]),
)
def test_random_flows(steps, flush_every, max_active):
    """UDP on server and client ports, ICMP, another IP protocol and TCP, with timeouts,
    tunnels and VLANs, in spans of a few packets."""
    ends = [
        (("10.0.0.1", 40000), ("10.0.0.2", 53)),
        (("10.0.0.2", 53), ("10.0.0.1", 40001)),  # a server's port first
        (("10.0.0.5", 5000), ("10.0.0.6", 6000)),
        (("fe80::1", 5353), ("ff02::fb", 5353)),
    ]
    tunnel = (17, "192.0.2.1", 4789, "192.0.2.2", 4789)
    ts = 1.0
    packets = []
    for frame, (flow, back, payload, gap, vlan, tunnelled) in enumerate(steps, start=1):
        ts += gap
        if flow == 4:
            seg = icmp("10.0.0.7", "10.0.0.8", 0 if back else 8, data=b"\0\7\0\1" * 2)
        elif flow == 5:
            src, dst = ("10.0.0.1", 40002), ("10.0.0.2", 80)
            src, dst = (dst, src) if back else (src, dst)
            seg = tcp(src, dst, SYN | ACK if back else SYN, 100 + frame, data=b"")
        else:
            src, dst = ends[flow][::-1] if back else ends[flow]
            seg = udp(src, dst, payload)
        seg = seg._replace(vlan=vlan, outer=tunnel if tunnelled else None)
        packets.append((frame, ts, seg))
    twins = _Twins(max_active)
    twins.feed(_partials(packets, flush_every))
    twins.finish()


def test_rows_of_a_lone_piece_side_by_side():
    """`piece_row` and the C's row of the same lone piece, one by one, for the shapes of its
    service, history and state (through a tracker that expires it at once)."""
    rows = []
    for service, other, first, packets in [
        ("dns", None, 0, (1, 1)), (None, "dns", 1, (1, 0)), ("", "", 0, (0, 2)),
        ("quic", "dns", 0, (2, 2)), ("dns", "dns", 1, (0, 1)), (None, None, 0, (3, 0)),
    ]:  # fmt: skip
        piece = [1.0, 2.5, 1, 2, first, 0, *packets, 40, 60, 10, 20, service, other, None,
                 ((17, "192.0.2.1", 4789, "192.0.2.2", 4789),), None, None]  # fmt: skip
        udp_key, other_key = ("udp", "10.0.0.1", 40000, "10.0.0.2", 53), ("47", "a", 0, "b", 9)
        for key in (udp_key, other_key):
            expected = conn_scan.piece_row(key, [*piece, 1])
            db = sqlite3.connect(":memory:")
            ConnModule().create_tables(db)
            scan = conn_scan.ConnScan(db)
            scan.tracker.add_span([(key, list(piece))], 1000.0)
            assert scan._rows == [expected]
            rows.append(expected)
    assert {row[18] for row in rows} == {"D", "Dd", "^d", "^dD", ""}  # the histories
