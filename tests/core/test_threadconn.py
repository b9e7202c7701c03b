"""Threads reading one analysis each read through a connection of their own: a statement that
calls a Python SQL function (a network filter) on a connection another thread is using would
otherwise deadlock the process."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mcpcap.core.threadconn import ThreadConnections, database_file, per_thread

EXAMPLE = Path(__file__).parents[2] / "example.pcap"


def _store(tmp_path: Path) -> Path:
    path = tmp_path / "store.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (a TEXT)")
    db.executemany("INSERT INTO t VALUES (?)", [("x",), ("y",)])
    db.commit()
    db.close()
    return path


def _in_thread(function):
    box = []
    thread = threading.Thread(target=lambda: box.append(function()))
    thread.start()
    thread.join()
    return box[0]


def test_each_thread_reads_through_its_own_connection(tmp_path):
    path = _store(tmp_path)
    first = sqlite3.connect(path)
    opened: list[sqlite3.Connection] = []

    def opener() -> sqlite3.Connection:
        opened.append(sqlite3.connect(path, check_same_thread=False))
        return opened[-1]

    db = ThreadConnections(first, opener)
    assert db.mine() is first and db.execute("SELECT count(*) FROM t").fetchone() == (2,)
    other = _in_thread(lambda: (db.mine(), db.execute("SELECT a FROM t").fetchall()))
    assert other[0] is opened[0] and other[0] is not first and other[1] == [("x",), ("y",)]
    assert _in_thread(db.mine) is opened[1]  # a new thread, a new connection
    db.close()
    for connection in (first, *opened):
        try:
            connection.execute("SELECT 1")
        except sqlite3.ProgrammingError:
            continue  # closed
        raise AssertionError("a connection outlived close()")


def test_a_finished_threads_connection_closes_when_another_opens(tmp_path):
    path = _store(tmp_path)
    opened: list[sqlite3.Connection] = []

    def opener() -> sqlite3.Connection:
        opened.append(sqlite3.connect(path, check_same_thread=False))
        return opened[-1]

    db = ThreadConnections(sqlite3.connect(path), opener)
    for _ in range(5):
        _in_thread(lambda: db.execute("SELECT 1").fetchone())
    assert len(opened) == 5 and len(db._others) == 1  # only the last thread's is kept
    for connection in opened[:-1]:
        with pytest.raises(sqlite3.ProgrammingError):
            connection.execute("SELECT 1")
    db.close()


def test_a_store_in_memory_stays_one_connection():
    db = sqlite3.connect(":memory:")
    assert database_file(db) is None
    assert per_thread(db, lambda path: sqlite3.connect(path)) is db


HAMMER = """
import sys, threading, time
from pathlib import Path
from mcpcap.core.config import build_settings
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer

capture = Path(sys.argv[1])
counts = {"filtered": 0, "plain": 0}
with Analyzer(build_settings({"no_cache": True})).analyze(capture, capture.name) as analysis:
    query = KindQuery(analysis, "conn.connections")
    network = next(query.iterate())["client"].rsplit(".", 1)[0] + ".0/24"
    stop = time.monotonic() + 3

    def filtered():  # every row's client passes through the Python SQL function
        while time.monotonic() < stop:
            counts["filtered"] += sum(1 for _ in query.iterate(f"client:{network}"))

    def plain():  # reads rows (columns fetched with the interpreter lock held)
        while time.monotonic() < stop:
            counts["plain"] += sum(1 for _ in query.iterate())
            analysis.module("dns").summary()

    threads = [threading.Thread(target=f) for f in (filtered, plain, filtered, plain)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
print(counts["filtered"], counts["plain"])
"""


def test_threads_filtering_by_network_and_reading_one_analysis_never_hang():
    root = str(EXAMPLE.parent)  # the tree under test, whatever is installed
    env = {**os.environ, "PYTHONPATH": root}
    run = subprocess.run(
        [sys.executable, "-c", HAMMER, str(EXAMPLE)],
        capture_output=True, text=True, timeout=60, cwd=root, env=env,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    filtered, plain = map(int, run.stdout.split())
    assert filtered > 0 and plain > 0


CLOSE_WHILE_READING = """
import sqlite3, sys, threading, time
from mcpcap.core.threadconn import ThreadConnections

path = sys.argv[1]
db = sqlite3.connect(path, check_same_thread=False)
db.execute("CREATE TABLE t (x)")
db.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(3000)])
db.commit()
conns = ThreadConnections(db, lambda: sqlite3.connect(path, check_same_thread=False))
outcome = []

def reader():
    try:  # billions of rows: runs until something stops it
        conns.execute("SELECT count(*) FROM t a, t b, t c").fetchone()
        outcome.append("finished")
    except sqlite3.OperationalError as error:
        outcome.append(str(error))
    try:
        conns.execute("SELECT 1")
    except sqlite3.ProgrammingError as error:
        outcome.append(str(error))

thread = threading.Thread(target=reader)
thread.start()
time.sleep(0.3)
conns.close()  # the reader's statement is running on its connection
thread.join(30)
print(outcome, thread.is_alive())
"""


def test_closing_while_another_thread_reads_interrupts_it_and_never_crashes(tmp_path):
    """The TUI quitting (the workspace closing an analysis) while a worker still ran a query
    crashed the interpreter (a segmentation fault) in 3 of 8 runs: closing a connection
    another thread is using. That thread's statement is interrupted instead, and its next call
    is refused, as with any closed connection."""
    done = subprocess.run(
        [sys.executable, "-c", CLOSE_WHILE_READING, str(tmp_path / "store.sqlite")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "['interrupted', 'Cannot operate on a closed database.'] False"
    ), done.stdout
