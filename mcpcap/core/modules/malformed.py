"""Where a module keeps what it could not decode: one table per module, capped per scan.

Every module offers a `<module>.malformed` kind (`malformed_kind`): its scan adds what fails to
decode to a `MalformedLog` (in the scanning process, or in a worker that hands its rows over at
a span's end). Beyond `MAX_STORED` items only the module's counts grow.
"""

from __future__ import annotations

import sqlite3

MAX_STORED = 100_000  # malformed items one scan stores per module
BATCH = 5_000

# (frame, ts, src, sport, dst, dport, transport, reason): what a scan or a worker notes
MalformedRow = tuple[int, float, str, int, str, int, str, str]


def table_name(module: str) -> str:
    return f"{module}_malformed"


def create_table(db: sqlite3.Connection, module: str) -> None:
    db.execute(
        f"CREATE TABLE IF NOT EXISTS {table_name(module)} (id INTEGER PRIMARY KEY, "
        "frame INTEGER NOT NULL, ts REAL NOT NULL, src TEXT, sport INTEGER, dst TEXT, "
        "dport INTEGER, transport TEXT, reason TEXT NOT NULL)"
    )


class MalformedLog:
    """A scan's malformed items, written to the module's table in batches, capped in total."""

    def __init__(self, db: sqlite3.Connection, module: str) -> None:
        self._db = db
        self._insert = f"INSERT INTO {table_name(module)} VALUES (NULL,?,?,?,?,?,?,?,?)"
        self._rows: list[MalformedRow] = []
        self.stored = 0

    def add(self, row: MalformedRow) -> None:
        if self.stored + len(self._rows) >= MAX_STORED:
            return
        self._rows.append(row)
        if len(self._rows) >= BATCH:
            self.flush()

    def extend(self, rows: list) -> None:
        for row in rows:
            self.add(tuple(row))

    def flush(self) -> None:
        if self._rows:
            self._db.executemany(self._insert, self._rows)
            self.stored += len(self._rows)
            self._rows.clear()
