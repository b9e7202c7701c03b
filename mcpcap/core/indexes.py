"""A module's query indexes, made on a store's first use for records rather than by the scan.

A scan's summary reads counters and small tallies, never an index over the record tables; the
indexes serve what faces ask afterwards (pages, filters, sorts, look-ups). Building them is
the longest serial step at the end of a scan (about 0.4 s for DNS at 1M packets, with the
worker processes already done), so a scan leaves them out, and `ensure_query_indexes` makes
a module's the first time its results are opened (`Analysis.module`). `mcpcap analyze` of the
summary alone, cold or warm, never builds them; the TUI and the MCP server build them once,
off their event loops, on the way to a capture's first screen or answer.

Faces read a store through read-only connections, so the indexes are written through a
connection of their own, in one transaction that first checks whether another process got
there first (the meta row `query_indexes_<module>`). A store that cannot be written (a
read-only cache, readers holding it longer than `WRITE_TIMEOUT`) is read without them: a
module's queries must give the same rows either way, only slower.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from urllib.parse import quote

from mcpcap.core.threadconn import database_file

WRITE_TIMEOUT = 5.0  # seconds to wait for readers of the store before going on without
# SQLite sorts an index's keys with helper threads only when they overflow its page cache, in
# pieces that are then merged: a small cache lets a second core sort half of the keys.
SORT_THREADS = 2
SORT_CACHE_KIB = 2000

log = logging.getLogger(__name__)
_locks: dict[str, threading.Lock] = {}  # one per store file: its threads build once
_locks_guard = threading.Lock()


def meta_key(module: str) -> str:
    return f"query_indexes_{module}"


def ensure_query_indexes(db: sqlite3.Connection, module: str, statements: tuple[str, ...]) -> bool:
    """Make `module`'s query indexes in the store `db` reads, once; whether the store has them.

    `statements` are `CREATE INDEX IF NOT EXISTS` statements. `db` may be read-only: a store
    on disk is written through a connection of this function's own.
    """
    if not statements:
        return True
    path = database_file(db)
    if path is None:  # a store in memory: its one connection writes
        return _build(db, module, statements)
    # (asked of the store each time: a rebuilt store is a new file at the same path)
    if _has_them(db, module):
        return True
    with _lock_for(path):
        if _has_them(db, module):  # another thread made them while this one waited
            return True
        try:
            # mode=rw: a store removed meanwhile is not made again, empty
            uri = f"file:{quote(path, safe='/')}?mode=rw"
            writer = sqlite3.connect(uri, uri=True, timeout=WRITE_TIMEOUT, isolation_level=None)
        except sqlite3.Error as exc:
            _cannot(module, exc)
            return False
        try:
            return _build(writer, module, statements)
        finally:
            writer.close()


def _has_them(db: sqlite3.Connection, module: str) -> bool:
    try:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (meta_key(module),)).fetchone()
    except sqlite3.Error:
        return False
    return row is not None


def _build(db: sqlite3.Connection, module: str, statements: tuple[str, ...]) -> bool:
    """The indexes and their meta row in one transaction (none of it if anything fails)."""
    (cache,) = db.execute("PRAGMA cache_size").fetchone()
    try:
        db.execute(f"PRAGMA threads = {SORT_THREADS}")
        db.execute(f"PRAGMA cache_size = -{SORT_CACHE_KIB}")
        if db.in_transaction:  # a store in memory, still being written: its transaction
            _create(db, module, statements)
            return True
        db.execute("BEGIN IMMEDIATE")
        try:
            if not _has_them(db, module):  # no other process made them meanwhile
                _create(db, module, statements)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        _cannot(module, exc)
        return False
    finally:
        db.execute(f"PRAGMA cache_size = {cache}")
        db.execute("PRAGMA threads = 0")
    return True


def _create(db: sqlite3.Connection, module: str, statements: tuple[str, ...]) -> None:
    for statement in statements:
        db.execute(statement)
    db.execute("INSERT OR REPLACE INTO meta VALUES (?, '1')", (meta_key(module),))


def present_indexes(db: sqlite3.Connection) -> frozenset[str]:
    """The names of the indexes the store holds (a query names one only when it is there)."""
    rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
    return frozenset(name for (name,) in rows)


def _cannot(module: str, error: sqlite3.Error) -> None:
    log.info("the store cannot take %s's query indexes (%s): it is read without", module, error)


def _lock_for(path: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(path, threading.Lock())
