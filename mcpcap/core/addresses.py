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
    """Make `in_network` callable from SQL on `db`, unless it already is.

    Creating a function while another thread's statement runs on the same connection can
    deadlock: `create_function` waits for the connection with the interpreter lock held, while
    that statement may be calling a Python function of its own and waiting for the lock. So a
    connection gets it once, when it opens (`store.connect`), and later calls only look.
    """
    if has_function(db, f"{SQL_FUNCTION}(NULL, '0.0.0.0/0')"):
        return
    db.create_function(SQL_FUNCTION, 2, in_network, deterministic=True)


def has_function(db: sqlite3.Connection, call: str) -> bool:
    """Whether `SELECT call` runs on `db` (a statement waits its turn without the lock held)."""
    try:
        db.execute(f"SELECT {call}").fetchone()
    except sqlite3.OperationalError:
        return False
    return True
