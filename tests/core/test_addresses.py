"""The SQL address function a store's filters call: registered once, safe to ask for again."""

from __future__ import annotations

import sqlite3

from mcpcap.core import addresses


def test_registering_again_while_a_statement_runs_is_fine():
    db = sqlite3.connect(":memory:")
    addresses.register(db)
    db.execute("CREATE TABLE t (a TEXT)")
    db.executemany("INSERT INTO t VALUES (?)", [("10.0.0.1",), ("192.0.2.1",)])
    rows = db.execute(f"SELECT a FROM t WHERE {addresses.SQL_FUNCTION}(a, '10.0.0.0/8')")
    assert rows.fetchone() == ("10.0.0.1",)  # a statement is still running on `db`
    addresses.register(db)  # SQLite refuses to create it now; it is there, so that is fine
    assert rows.fetchone() is None


def test_a_connection_without_it_still_says_so_when_busy():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (a TEXT)")
    db.executemany("INSERT INTO t VALUES (?)", [("a",), ("b",)])
    rows = db.execute("SELECT a FROM t")
    rows.fetchone()
    try:
        addresses.register(db)
    except sqlite3.OperationalError:
        pass  # refused, and the function is not there: the error stands
    else:  # this SQLite build allows it while busy: then it must work
        assert db.execute(
            f"SELECT {addresses.SQL_FUNCTION}('10.0.0.1', '10.0.0.0/8')"
        ).fetchone() == (1,)


HAMMER = """
import sqlite3, sys, threading, time
from mcpcap.core import addresses
db = sqlite3.connect(":memory:", check_same_thread=False, factory=addresses.FunctionsConnection)
addresses.register(db)  # as `store.connect` does when a store's connection opens
db.execute("CREATE TABLE t (a TEXT)")
db.executemany("INSERT INTO t VALUES (?)", [(f"10.0.{i // 256}.{i % 256}",) for i in range(5000)])
done = threading.Event()
def query():
    for _ in range(10):
        db.execute("SELECT count(*) FROM t WHERE in_network(a, '10.0.0.0/20')").fetchone()
    done.set()
reader = threading.Thread(target=query)
reader.start()
asked = 0
while not done.is_set():
    addresses.register(db)  # what every results object does when it opens
    asked += 1
    time.sleep(0.0005)
reader.join()
print(asked)
"""


def test_asking_for_it_while_another_thread_calls_it_never_hangs():
    """Creating the function while another thread's statement calls it can deadlock (the
    creator waits for the connection holding the interpreter lock, the caller for the lock)."""
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-c", HAMMER], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert int(run.stdout) > 0
