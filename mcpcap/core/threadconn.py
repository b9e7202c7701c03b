"""One finished store read by many threads, each through a connection of its own.

Threads sharing one SQLite connection can deadlock once a statement calls a Python SQL
function (a network filter's `in_network`, the hunt's zone functions): SQLite holds the
connection while the function waits for the interpreter lock, and another thread holds that
lock while it waits for the connection (CPython binds parameters and reads columns with the
lock held). An MCP server answering two calls on one capture at once, or the TUI loading a
table while a summary runs, would hang for good. A `ThreadConnections` looks like the one
connection it was made from, and hands each thread its own to the same file.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Callable
from typing import Any

Opener = Callable[[], sqlite3.Connection]


def database_file(db: sqlite3.Connection) -> str | None:
    """The file of the connection's main database (None in memory)."""
    for _, name, path in db.execute("PRAGMA database_list"):
        if name == "main":
            return path or None
    return None


class ThreadConnections:
    """The connection of the thread that asks: the first one for the thread that opened it,
    a new one from `opener` for any other. A connection closes at `close()`, or once its
    thread has ended and another thread opens one (so threads that come and go, as the
    TUI's workers do, leave no connections behind)."""

    def __init__(self, first: sqlite3.Connection, opener: Opener) -> None:
        self._opener = opener
        self._local = threading.local()
        self._local.db = first
        self._first = (weakref.ref(threading.current_thread()), first)
        self._others: list[tuple[weakref.ref[threading.Thread], sqlite3.Connection]] = []
        self._guard = threading.Lock()
        self._closed = False

    def mine(self) -> sqlite3.Connection:
        if self._closed:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._open()
        return db

    def _open(self) -> sqlite3.Connection:
        with self._guard:
            if self._closed:
                raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
            ended = [db for thread, db in self._others if not _alive(thread)]
            self._others = [(t, db) for t, db in self._others if _alive(t)]
            db = self._opener()
            self._others.append((weakref.ref(threading.current_thread()), db))
        for old in ended:
            old.close()
        return db

    def execute(self, sql: str, parameters: Any = ()) -> sqlite3.Cursor:
        return self.mine().execute(sql, parameters)

    def cursor(self) -> sqlite3.Cursor:
        return self.mine().cursor()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.mine(), name)

    def close(self) -> None:
        """Close each connection no other live thread may be using. Closing one while its
        thread runs a statement on it crashes the interpreter (the TUI quitting while a worker
        still loads a summary did): such a connection's statement is interrupted instead (it
        stops with an error), and the connection closes with its thread's data, when the
        thread ends or this object is dropped. Later calls from any thread raise."""
        with self._guard:
            self._closed = True
            others, self._others = self._others, []
        me = threading.current_thread()
        for thread, db in (self._first, *others):
            owner = thread()
            if owner is not None and owner is not me and owner.is_alive():
                db.interrupt()
            else:
                db.close()


def _alive(thread: weakref.ref[threading.Thread]) -> bool:
    found = thread()
    return found is not None and found.is_alive()


def per_thread(db: sqlite3.Connection, opener: Callable[[str], sqlite3.Connection]) -> Any:
    """`db` for every thread: a `ThreadConnections` when it reads a file (`opener(path)` opens
    the others), else `db` itself (a store in memory has no second connection)."""
    path = database_file(db)
    if path is None:
        return db
    return ThreadConnections(db, lambda: opener(path))
