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
    """A scan's malformed items, written to the module's table in batches, capped in total.

    `ordered`: the items may come out of capture order (a module that notes them both in the
    scanning process and in its stream decoder); they wait in a temporary table and `finish()`
    stores them in frame order, so their ids do not depend on how the two interleaved.
    """

    def __init__(self, db: sqlite3.Connection, module: str, ordered: bool = False) -> None:
        self._db = db
        self._table = table_name(module)
        self._staging = f"temp.{self._table}_staging" if ordered else None
        if self._staging is not None:
            db.execute(f"CREATE TABLE {self._staging} AS SELECT * FROM {self._table} WHERE 0")
        self._insert = f"INSERT INTO {self._staging or self._table} VALUES (NULL,?,?,?,?,?,?,?,?)"
        self._rows: list[MalformedRow] = []
        self.stored = 0

    def finish(self) -> None:
        """The last items written; an ordered log's copied in frame order."""
        self.flush()
        if self._staging is None:
            return
        columns = "frame, ts, src, sport, dst, dport, transport, reason"
        self._db.execute(
            f"INSERT INTO {self._table} ({columns}) SELECT {columns} FROM {self._staging} "
            f"ORDER BY {columns}"
        )
        self._db.execute(f"DROP TABLE {self._staging}")
        self._staging = None

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
