"""Which connection of a flow a record belongs to, when one flow is several connections.

Every module names a record's connection by `connection_uid` of its endpoints: the uid of the
flow's first connection. The `conn` module sees where a flow splits (an inactivity timeout, a
new SYN on the same ports) and numbers the later connections (`flow_uid(..., n)`). It writes
each split flow's connections to `flow_splits` (first uid, start time, uid); the scan then moves
the uids other modules stored (`ProtocolModule.stored_uids`) to the connection their record's
time falls in, and a module that makes uids when a record is read asks `FlowSplits.uid_at`.
Without `conn` there is no table and every uid stays its flow's first.
"""

from __future__ import annotations

import json
import sqlite3
import weakref
from bisect import bisect_right
from collections.abc import Iterable

CREATE = (
    "CREATE TABLE IF NOT EXISTS flow_splits (base TEXT NOT NULL, start REAL NOT NULL, "
    "uid TEXT NOT NULL)"
)
# a record made in its connection's first packet may carry that time rounded to microseconds
SLACK = 1e-6


def write(db: sqlite3.Connection, rows: Iterable[tuple[str, float, str]]) -> None:
    """(first connection's uid, start time, uid) of every connection of each split flow."""
    db.execute(CREATE)
    db.executemany("INSERT INTO flow_splits VALUES (?, ?, ?)", rows)


class FlowSplits:
    """The split flows of one store, by their first connection's uid."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._flows: dict[str, tuple[list[float], list[str]]] = {}
        try:
            rows = db.execute("SELECT base, start, uid FROM flow_splits ORDER BY base, start")
        except sqlite3.OperationalError:  # no conn module in this scan
            return
        for base, start, uid in rows:
            starts, uids = self._flows.setdefault(base, ([], []))
            starts.append(start)
            uids.append(uid)

    def __bool__(self) -> bool:
        return bool(self._flows)

    def uid_at(self, uid: str | None, ts: float | None) -> str | None:
        """The uid of the connection of `uid`'s flow that was open at `ts`."""
        flow = self._flows.get(uid) if uid is not None else None
        if flow is None or ts is None:
            return uid
        starts, uids = flow
        return uids[max(bisect_right(starts, ts + SLACK) - 1, 0)]

    def uids_at(self, packed: str | None, ts: float | None) -> str | None:
        """`uid_at` of each uid of a JSON list."""
        if not packed or not self._flows:
            return packed
        return json.dumps([self.uid_at(uid, ts) for uid in json.loads(packed)])


_of_connection: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def splits_of(db: sqlite3.Connection) -> FlowSplits:
    """The store's split flows, read once per connection (a store never changes once built)."""
    try:
        splits = _of_connection.get(db)
        if splits is None:
            splits = _of_connection[db] = FlowSplits(db)
    except TypeError:  # a plain sqlite3 connection takes no weak reference: read it again
        splits = FlowSplits(db)
    return splits


def move_stored_uids(db: sqlite3.Connection, stored: Iterable[tuple[str, str, str, str]]) -> None:
    """Move each (table, uid column, time column, form) to the connection open at its time;
    form is "uid" (one uid) or "json" (a JSON list of uids)."""
    splits = FlowSplits(db)
    if not splits:
        return
    db.create_function("flow_uid_at", 2, splits.uid_at, deterministic=True)
    db.create_function("flow_uids_at", 2, splits.uids_at, deterministic=True)
    for table, column, ts_column, form in stored:
        if form == "json":  # (only the rows that name a split flow are written again)
            db.execute(
                f"UPDATE {table} SET {column} = flow_uids_at({column}, {ts_column}) "
                f"WHERE EXISTS (SELECT 1 FROM json_each({column}) "
                "WHERE value IN (SELECT base FROM flow_splits))"
            )
        else:
            db.execute(
                f"UPDATE {table} SET {column} = flow_uid_at({column}, {ts_column}) "
                f"WHERE {column} IN (SELECT base FROM flow_splits)"
            )
