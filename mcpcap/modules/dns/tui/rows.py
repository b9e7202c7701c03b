"""Random access to the transactions of one filter and sort, for the virtual table.

The core pages forward with keyset cursors; a viewport also jumps (End on a million rows, go to
frame). `RowOrder` holds the ordered row ids of the view (8 bytes a row, built once in a worker
with the core's WHERE clause and ORDER BY) and fetches any page of records by primary key, with
an LRU cache of pages. No Textual here.
"""

from __future__ import annotations

import sqlite3
import threading
from array import array
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mcpcap.core import addresses, store
from mcpcap.core.flowsplits import splits_of
from mcpcap.modules.dns.filters import TransactionFilter
from mcpcap.modules.dns.queries import (
    SORTS,
    TX_COLUMNS,
    check_sort,
    message_rows,
    transaction_record,
    where_clause,
)

PAGE_ROWS = 200
CACHED_PAGES = 64
FETCH_CHUNK = 20_000


class Cancelled(Exception):
    """The build was cancelled (a newer filter or sort replaced it)."""


def reader(db: sqlite3.Connection) -> sqlite3.Connection:
    """A read-only connection of its own to the store behind `db` (for worker threads)."""
    path = next((row[2] for row in db.execute("PRAGMA database_list") if row[1] == "main"), "")
    if not path:
        return db  # an in-memory store has no second door
    conn = store.connect(path, readonly=True)
    addresses.register(conn)
    return conn


@contextmanager
def read_connection(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """`reader(db)` for one piece of work, closed afterwards (unless it is `db` itself)."""
    conn = reader(db)
    try:
        yield conn
    finally:
        if conn is not db:
            conn.close()


def order_by(sort: str) -> str:
    """The core's ORDER BY for a sort key (with the id tie-break)."""
    expr, desc = SORTS[check_sort(sort)]
    direction = "DESC" if desc else "ASC"
    return f" ORDER BY {expr} {direction}, t.id {direction}"


class RowOrder:
    """The ordered ids of one view, and the records at any position."""

    def __init__(
        self, db: sqlite3.Connection, flt: TransactionFilter, sort: str, ids: array
    ) -> None:
        self.db = db
        self.filter = flt
        self.sort = sort
        self.ids = ids
        self._pages: OrderedDict[int, list[dict[str, Any]]] = OrderedDict()

    @classmethod
    def build(
        cls,
        db: sqlite3.Connection,
        flt: TransactionFilter,
        sort: str,
        conn: sqlite3.Connection | None = None,
        cancel: threading.Event | None = None,
    ) -> RowOrder:
        """Run the view's query once (on `conn`, default `db`) and keep its ids in order."""
        conn = conn or db
        where, params = where_clause(conn, flt)
        cursor = conn.execute(f"SELECT t.id FROM dns_transactions t{where}{order_by(sort)}", params)
        ids = array("q")
        while chunk := cursor.fetchmany(FETCH_CHUNK):
            if cancel is not None and cancel.is_set():
                raise Cancelled
            ids.extend(row[0] for row in chunk)
        return cls(db, flt, sort, ids)

    def __len__(self) -> int:
        return len(self.ids)

    def record(self, position: int) -> dict[str, Any] | None:
        """The transaction record at `position` (0-based), or None outside the view."""
        if not 0 <= position < len(self.ids):
            return None
        number, offset = divmod(position, PAGE_ROWS)
        page = self._pages.get(number)
        if page is None:
            page = self._fetch(number)
            self._pages[number] = page
            while len(self._pages) > CACHED_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(number)
        return page[offset]

    def records(self, start: int, count: int) -> list[dict[str, Any]]:
        end = min(start + count, len(self.ids))
        return [rec for i in range(max(start, 0), end) if (rec := self.record(i)) is not None]

    def _fetch(self, number: int) -> list[dict[str, Any]]:
        ids = self.ids[number * PAGE_ROWS : (number + 1) * PAGE_ROWS].tolist()
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"SELECT {TX_COLUMNS} FROM dns_transactions t WHERE t.id IN ({marks})", ids
        ).fetchall()
        by_id = {row[0]: row for row in rows}
        splits = splits_of(self.db)
        return [transaction_record(by_id[i], splits) for i in ids]

    def position_of(self, row_id: int) -> int | None:
        try:
            return self.ids.index(row_id)
        except ValueError:
            return None

    def row_id(self, position: int) -> int | None:
        return self.ids[position] if 0 <= position < len(self.ids) else None

    def _matching_ids(self, conn: sqlite3.Connection, extra: str, params: list[Any]) -> set[int]:
        where, base = where_clause(conn, self.filter, extra)
        return {row[0] for row in conn.execute(f"SELECT t.id FROM dns_transactions t{where}",
                                               [*base, *params])}  # fmt: skip

    def find(
        self, text: str, start: int, conn: sqlite3.Connection | None = None, backward: bool = False
    ) -> int | None:
        """The next position after `start` (wrapping) whose question name contains `text`."""
        needle = text.strip().lower()
        if not needle or not self.ids:
            return None
        matches = self._matching_ids(conn or self.db, "instr(t.qname, ?) > 0", [needle])
        if not matches:
            return None
        n = len(self.ids)
        step = -1 if backward else 1
        for i in range(1, n + 1):
            position = (start + step * i) % n
            if self.ids[position] in matches:
                return position
        return None

    def frame_position(self, frame: int, conn: sqlite3.Connection | None = None) -> int | None:
        """The first position whose query or response is in `frame`."""
        matches = self._matching_ids(
            conn or self.db, "(t.query_frame = ? OR t.response_frame = ?)", [frame, frame]
        )
        positions = [p for p in map(self.position_of, matches) if p is not None]
        return min(positions) if positions else None

    def time_position(self, ts: float, conn: sqlite3.Connection | None = None) -> int | None:
        """The first position, in the view's order, of a transaction at `ts` or later."""
        conn = conn or self.db
        where, params = where_clause(conn, self.filter, "t.ts >= ?")
        row = conn.execute(
            f"SELECT t.id FROM dns_transactions t{where}{order_by(self.sort)} LIMIT 1",
            [*params, ts],
        ).fetchone()
        return None if row is None else self.position_of(row[0])


def frame_exists(db: sqlite3.Connection, frame: int) -> bool:
    """Whether any transaction of the capture (whatever the filter) has a message in `frame`."""
    row = db.execute(
        "SELECT 1 FROM dns_transactions WHERE query_frame = ? OR response_frame = ? LIMIT 1",
        (frame, frame),
    ).fetchone()
    return row is not None


def message_index(db: sqlite3.Connection, frame: int, trans_id: int, response: bool) -> int:
    """Which message of `frame` is the transaction's query (or response); 0 when unsure."""
    for row in message_rows(db, frame):  # (frame, idx, ..., qr, id, raw)
        if row[9] == int(response) and row[10] == trans_id:
            return row[1]
    return 0
