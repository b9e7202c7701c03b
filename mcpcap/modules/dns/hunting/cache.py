"""Findings written once into the capture's store, read by every face afterwards.

The scan hunts once the store is complete (the stored DNS summary holds the best findings) and
writes the rows through the connection that builds the store. Faces read a store through a
read-only connection, so a store whose findings are missing or stale is hunted on the first ask
and written through a connection of the hunt's own, in one transaction that first checks
whether another process got there first. The meta row `dns_findings_key` names the hunting
version, thresholds and allowlist (`hunt_allow`) the rows were made with; a store holding
another key is hunted again. A store that cannot be written (a
read-only cache, a lock held too long) keeps the findings in memory for this analysis instead.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
from collections.abc import Iterable
from urllib.parse import quote

from mcpcap.core.threadconn import database_file
from mcpcap.modules.dns.hunting import Finding, hunt
from mcpcap.modules.dns.hunting.key import META_KEY, findings_key, stored_key
from mcpcap.modules.dns.hunting.kind import COLUMNS, TABLE
from mcpcap.modules.dns.hunting.thresholds import REPORT

WRITE_TIMEOUT = 2.0  # seconds to wait for readers of the store before keeping rows in memory
TABLES = f"""
CREATE TABLE {TABLE} (
    id INTEGER PRIMARY KEY, category TEXT NOT NULL, subject TEXT NOT NULL, score REAL NOT NULL,
    evidence TEXT NOT NULL, metrics TEXT NOT NULL, first_ts REAL, last_ts REAL,
    clients TEXT NOT NULL, client_count INTEGER NOT NULL, transactions INTEGER NOT NULL,
    examples TEXT NOT NULL, filter TEXT NOT NULL
);
CREATE TABLE dns_finding_clients (finding_id INTEGER NOT NULL, client TEXT NOT NULL);
CREATE INDEX dns_finding_clients_id ON dns_finding_clients(finding_id);
"""
DROP = f"DROP TABLE IF EXISTS {TABLE}; DROP TABLE IF EXISTS dns_finding_clients;"
__all__ = ["META_KEY", "findings_key", "open_findings", "stored_key"]
log = logging.getLogger(__name__)
_locks: dict[str, threading.Lock] = {}  # one per store path
_locks_guard = threading.Lock()


def open_findings(db: sqlite3.Connection, allow_extra: Iterable[str] = ()) -> sqlite3.Connection:
    """A connection whose `dns_findings` table holds this store's findings: the store's own
    (computed and written on the first ask) or, when the store cannot be written, one in
    memory. Threads asking at once for one store wait for the first, then read its rows."""
    allow_extra = tuple(allow_extra)
    key = findings_key(allow_extra)
    if stored_key(db) == key or _hunt_in_place(db, key, allow_extra):
        return db
    path = database_file(db)
    with _lock_for(path):
        if stored_key(db) == key:  # another thread wrote them while this one waited
            return db
        findings = _hunt(db, path, allow_extra)
        if path is not None:
            with contextlib.suppress(sqlite3.Error):
                _write_store(path, key, findings)
                if stored_key(db) == key:
                    return db
            log.info("the store cannot hold the findings; they are kept in memory")
    memory = sqlite3.connect(":memory:", check_same_thread=False)
    memory.executescript(TABLES)
    _insert(memory, findings)
    return memory


def _hunt_in_place(db: sqlite3.Connection, key: str, allow_extra: tuple[str, ...]) -> bool:
    """Hunt and write through `db` itself when it can be written: the connection that builds
    the store (the scan stores the summary, which holds the best findings). Every face's
    connection is read-only: SQLite refuses the first statement, which changes nothing."""
    try:
        _replace_tables(db)
    except sqlite3.OperationalError:
        return False
    _insert(db, hunt(db, allow_extra))
    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (META_KEY, key))
    return True


def _lock_for(path: str | None) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(path or "", threading.Lock())


def _hunt(db: sqlite3.Connection, path: str | None, allow_extra: tuple[str, ...]) -> list:
    """The findings, read through a connection of the hunt's own (its SQL functions and
    long reads then never meet the statements other threads run on the shared one)."""
    if path is None:
        return hunt(db, allow_extra)
    try:
        reader = sqlite3.connect(f"file:{quote(path, safe='/')}?mode=ro", uri=True)
    except sqlite3.Error:
        return hunt(db, allow_extra)
    try:
        return hunt(reader, allow_extra)
    finally:
        reader.close()


def _write_store(path: str, key: str, findings: list[Finding]) -> None:
    writer = sqlite3.connect(path, timeout=WRITE_TIMEOUT, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        try:
            if stored_key(writer) != key:  # no other process wrote them meanwhile
                _replace_tables(writer)
                _insert(writer, findings)
                writer.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (META_KEY, key))
            writer.execute("COMMIT")
        except BaseException:
            writer.execute("ROLLBACK")
            raise
    finally:
        writer.close()


def _replace_tables(db: sqlite3.Connection) -> None:
    for statement in (*DROP.split(";"), *TABLES.split(";")):
        if statement.strip():
            db.execute(statement)


def _insert(db: sqlite3.Connection, findings: list[Finding]) -> None:
    rows, clients = [], []
    for rank, f in enumerate(findings, start=1):
        shown = json.dumps(f.clients[: REPORT.clients])
        rows.append(
            (rank, f.category, f.subject, f.score, f.evidence, json.dumps(f.metrics),
             f.first_ts, f.last_ts, shown, f.client_count, f.transactions,
             json.dumps(f.examples), f.filter)
        )  # fmt: skip
        clients += [(rank, client) for client in f.clients]
    marks = ",".join("?" * len(COLUMNS))
    db.executemany(f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({marks})", rows)
    db.executemany("INSERT INTO dns_finding_clients VALUES (?, ?)", clients)
