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

    SQLite refuses to create a function while another statement runs on the connection (another
    thread's read, another module's results): that is fine when the function is already there.
    """
    try:
        db.create_function(SQL_FUNCTION, 2, in_network, deterministic=True)
    except sqlite3.OperationalError:
        db.execute(f"SELECT {SQL_FUNCTION}(NULL, '0.0.0.0/0')").fetchone()  # raises if missing
