"""Every record's `uid` names the conn connection it belongs to, also when conn splits one flow
into several connections (an inactivity timeout, a new SYN on the same ports): the uid is that of
the connection open at the record's time, in every module, as Zeek's logs join."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcpcap.core.config import build_settings
from mcpcap.core.export import flow_uid
from mcpcap.core.flowsplits import FlowSplits, move_stored_uids, write
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer

FIXTURES = Path(__file__).parents[1] / "fixtures"
CAPTURES = [
    FIXTURES.parent.parent / "example.pcap",
    FIXTURES / "dhcp_icmp" / "dhcp.pcap",
    FIXTURES / "dhcp_icmp" / "icmp.pcap",
    FIXTURES / "conn" / "conn.pcap",
    FIXTURES / "http" / "http_basic.pcap",
    FIXTURES / "tls" / "tls.pcap",
    FIXTURES / "captures" / "tcp_basic.pcap",
    FIXTURES / "captures" / "pairing.pcap",
]
SLACK = 1e-5  # seconds: records and connections round their times to microseconds


def uids_with_times(record: dict) -> Iterator[tuple[str, float]]:
    """The uids a record names, each with the time it names it at."""
    ts = record.get("ts")
    if ts is None:
        return
    if isinstance(record.get("uid"), str):
        yield record["uid"], ts
    for uid in record.get("uids") or ():  # an exchange's flows (DHCP): named at its end
        yield uid, ts + (record.get("duration") or 0.0)
    quoted = record.get("quoted")
    if isinstance(quoted, dict) and quoted.get("uid"):
        yield quoted["uid"], ts


@pytest.fixture(scope="module")
def joined() -> dict[str, tuple[dict, list[tuple[str, str, float]]]]:
    """Per capture: conn's connections by uid, and every (kind, uid, time) other kinds name."""
    out = {}
    for path in CAPTURES:
        with Analyzer(build_settings({"no_cache": True})).analyze(path, path.name) as analysis:
            connections = {c["uid"]: c for c in KindQuery(analysis, "conn.connections").iterate()}
            named = []
            for module in analysis.modules:
                for kind in module.kinds():
                    if kind.name.startswith("conn."):
                        continue
                    for record in KindQuery(analysis, kind.name).iterate():
                        named += [(kind.name, uid, ts) for uid, ts in uids_with_times(record)]
        out[path.name] = (connections, named)
    return out


@pytest.mark.parametrize("path", CAPTURES, ids=lambda path: path.name)
def test_a_uid_names_the_connection_open_at_the_records_time(joined, path):
    """Of the connections of the flow a uid names, the latest that started at or before the
    record's time (the first, for a record older than all of them)."""
    connections, named = joined[path.name]
    by_flow: dict[tuple, list[dict]] = {}
    for connection in connections.values():
        by_flow.setdefault(_flow(connection), []).append(connection)
    for kind, uid, ts in named:
        connection = connections.get(uid)
        if connection is None:
            continue  # a flow conn does not keep (a quoted packet's, a record of no flow)
        flow = sorted(by_flow[_flow(connection)], key=lambda c: c["ts"])
        started = [c for c in flow if c["ts"] <= ts + SLACK] or flow[:1]
        assert uid == started[-1]["uid"], (kind, uid, ts, [(c["uid"], c["ts"]) for c in flow])


@pytest.mark.parametrize("path", CAPTURES, ids=lambda path: path.name)
def test_an_exchanges_uids_name_connections_of_its_time(path):
    """Each uid a record of several flows names (a DHCP exchange's `uids`) is a connection that
    was open during the exchange: not one of the same ports from an exchange before it."""
    checked = 0
    with Analyzer(build_settings({"no_cache": True})).analyze(path, path.name) as analysis:
        connections = {c["uid"]: c for c in KindQuery(analysis, "conn.connections").iterate()}
        for module in analysis.modules:
            for kind in module.kinds():
                for record in KindQuery(analysis, kind.name).iterate():
                    start = record.get("ts")
                    end = (start or 0) + (record.get("duration") or 0)
                    for uid in record.get("uids") or ():
                        opened = connections[uid]["ts"]
                        closed = opened + (connections[uid]["duration"] or 0)
                        assert opened - SLACK <= end and start <= closed + SLACK
                        checked += 1
    assert checked or path.name != "dhcp.pcap"


def _flow(connection: dict) -> tuple:
    return tuple(connection[k] for k in ("client", "client_port", "server", "server_port",
                                         "transport"))  # fmt: skip


def test_the_captures_split_flows_that_other_modules_name(joined):
    """The property above is tried where it matters: a flow conn split, named by another
    module's records in its later connections."""
    later_named = 0
    for connections, named in joined.values():
        first_uids = {
            flow_uid(c["client"], c["client_port"], c["server"], c["server_port"], c["transport"])
            for c in connections.values()
        }
        later_named += sum(1 for _, uid, _ in named if uid in connections and uid not in first_uids)
    assert later_named > 0


def test_uid_at_takes_the_connection_open_at_a_time():
    db = sqlite3.connect(":memory:")
    write(db, [("C1", 100.0, "C1"), ("C1", 200.0, "C1b"), ("C1", 300.0, "C1c")])
    splits = FlowSplits(db)
    assert [splits.uid_at("C1", t) for t in (100.0, 150.0, 199.9999, 200.0, 350.0)] == [
        "C1", "C1", "C1", "C1b", "C1c"
    ]  # fmt: skip
    assert splits.uid_at("C1", 99.0) == "C1"  # before the first: the first
    assert splits.uid_at("C9", 250.0) == "C9"  # a flow never split keeps its uid
    assert splits.uids_at('["C1", "C9"]', 250.0) == '["C1b", "C9"]'


def test_stored_uids_move_and_a_store_without_splits_is_left_alone():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (uid TEXT, uids TEXT, ts REAL)")
    rows = [("C1", '["C1"]', 150.0), ("C1", '["C1"]', 250.0), ("C9", '["C9", "C1"]', 260.0),
            ("C9", '["C9"]', 270.0), (None, None, 280.0)]  # fmt: skip
    db.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    places = [("t", "uid", "ts", "uid"), ("t", "uids", "ts", "json")]
    move_stored_uids(db, places)  # no conn: no table, nothing moves
    assert db.execute("SELECT uid, uids, ts FROM t ORDER BY ts").fetchall() == rows
    write(db, [("C1", 100.0, "C1"), ("C1", 200.0, "C1b")])
    move_stored_uids(db, places)
    assert db.execute("SELECT uid, uids FROM t ORDER BY ts").fetchall() == [
        ("C1", '["C1"]'), ("C1b", '["C1b"]'), ("C9", '["C9", "C1b"]'), ("C9", '["C9"]'),
        (None, None),
    ]  # fmt: skip
