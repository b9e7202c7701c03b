"""Whether an address lies in a network: the test every module's address filters share.

Registered on a store's connection as the SQL function `in_network(address, network)`, so a
filter condition and a Python check of the same value always decide alike.
"""

from __future__ import annotations

import ipaddress
import sqlite3
from functools import lru_cache

SQL_FUNCTION = "in_network"


@lru_cache(maxsize=4096)
def in_network(address: str | None, network: str) -> int:
    """1 when `address` lies in `network` (an address is a network of one), else 0."""
    if address is None:
        return 0
    try:
        return int(ipaddress.ip_address(address) in ipaddress.ip_network(network))
    except ValueError:
        return 0


def register(db: sqlite3.Connection) -> None:
    """Make `in_network` callable from SQL on `db` (again is fine).

    On a plain connection, SQLite refuses to create a function while another statement runs
    on it: that is fine when the function is already there.
    """
    try:
        make_function(db, SQL_FUNCTION, 2, in_network)
    except sqlite3.OperationalError:
        db.execute(f"SELECT {SQL_FUNCTION}(NULL, '0.0.0.0/0')").fetchone()  # raises if missing


class FunctionsConnection(sqlite3.Connection):
    """A connection that remembers the SQL functions made on it (`store.connect` opens these).

    Creating a function while another thread's statement runs on the same connection can
    deadlock: `create_function` waits for the connection with the interpreter lock held, while
    that statement may be calling a Python function and waiting for the lock. So a function is
    made once, when the connection opens, and asking for it again does not touch SQLite.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.functions: set[str] = set()


def make_function(db: sqlite3.Connection, name: str, arity: int, function) -> None:
    """`db.create_function(name, arity, function)` unless `db` remembers having it."""
    made = getattr(db, "functions", None)
    if made is not None and name in made:
        return
    db.create_function(name, arity, function, deterministic=True)
    if made is not None:
        made.add(name)
