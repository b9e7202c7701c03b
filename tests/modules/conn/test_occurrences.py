"""The later connections of a split flow get their own uids (`occurrences`), found from the
uids noted as rows were written, whatever else the notes let through."""

from __future__ import annotations

import random
import sqlite3

import pytest

from mcpcap.core.export import flow_uid
from mcpcap.modules.conn import occurrences
from mcpcap.modules.conn.module import ConnModule
from mcpcap.modules.conn.occurrences import RepeatedUids, number_occurrences
from mcpcap.modules.conn.scan import COLUMNS, INSERT


def _row(id_: int, client: str, client_port: int, server: str, ts: float) -> tuple:
    values = dict.fromkeys(COLUMNS, 0)
    values |= {
        "uid": flow_uid(client, client_port, server, 53, "udp"), "ts": ts, "last_ts": ts,
        "client": client, "client_port": client_port, "server": server, "server_port": 53,
        "transport": "udp", "service": "dns", "conn_state": "SF", "history": "Dd",
        "syn_rtt": None, "vlan": None, "tunnel_parents": None, "community_id": "1:x",
    }  # fmt: skip
    return (id_, *(values[c] for c in COLUMNS))


def test_every_repeated_uid_is_a_candidate_even_when_hashes_collide(monkeypatch):
    monkeypatch.setattr(occurrences, "SEEN_BITS", 64)  # most uids share a bit with another
    rng = random.Random(3)
    uids = [f"C{n:017d}" for n in range(300)]
    rows = [(0, rng.choice(uids)) for _ in range(500)]
    repeats = RepeatedUids()
    repeats.add(rows[:200], 1)
    repeats.add(rows[200:], 1)
    seen_twice = {uid for uid in uids if sum(row[1] == uid for row in rows) > 1}
    assert seen_twice <= repeats.candidates
    assert repeats.candidates - seen_twice  # collisions did let others through


def test_only_the_flows_that_split_are_renamed_and_listed():
    db = sqlite3.connect(":memory:")
    ConnModule().create_tables(db)
    rows = [
        _row(1, "10.0.0.1", 5000, "10.0.0.53", 1.0),  # flow A, first connection
        _row(2, "10.0.0.2", 5001, "10.0.0.53", 2.0),  # B: one connection, yet a candidate
        _row(3, "10.0.0.1", 5000, "10.0.0.53", 70.0),  # A again, after a timeout
        _row(4, "10.0.0.3", 5002, "10.0.0.53", 71.0),  # C: one connection
        _row(5, "10.0.0.1", 5000, "10.0.0.53", 140.0),  # A a third time
    ]
    db.executemany(INSERT, rows)
    repeats = RepeatedUids()
    repeats.add(rows, 1)
    base_a, base_b = rows[0][1], rows[1][1]
    assert repeats.candidates == {base_a}
    number_occurrences(db, [base_a, base_b])
    got = dict(db.execute("SELECT id, uid FROM conn_connections"))
    a = ("10.0.0.1", 5000, "10.0.0.53", 53, "udp")
    assert got == {
        1: base_a, 2: base_b, 3: flow_uid(*a, 1), 4: rows[3][1], 5: flow_uid(*a, 2)
    }  # fmt: skip
    assert db.execute("SELECT * FROM flow_splits ORDER BY start").fetchall() == [
        (base_a, 1.0, base_a), (base_a, 70.0, flow_uid(*a, 1)), (base_a, 140.0, flow_uid(*a, 2))
    ]  # fmt: skip
    temp = db.execute("SELECT name FROM sqlite_temp_master").fetchall()
    assert temp == []  # its working tables are gone


@pytest.mark.parametrize("candidates", [[], ["Cnothing"]])
def test_no_split_flow_leaves_every_uid_and_an_empty_list(candidates):
    db = sqlite3.connect(":memory:")
    ConnModule().create_tables(db)
    rows = [_row(1, "10.0.0.1", 5000, "10.0.0.53", 1.0), _row(2, "10.0.0.2", 1, "10.0.0.9", 2.0)]
    db.executemany(INSERT, rows)
    number_occurrences(db, candidates)
    assert db.execute("SELECT id, uid FROM conn_connections").fetchall() == [
        (1, rows[0][1]), (2, rows[1][1])
    ]  # fmt: skip
    assert db.execute("SELECT count(*) FROM flow_splits").fetchone() == (0,)
