"""One column's values in a table of their own, and the ones a kind's filter text selects:
what a filter's SQL does, checked without a capture."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from mcpcap.core.filtering import FilterSpec, compile_sql, parse_and_bind


def matching(filters: Sequence[FilterSpec], column: str, values: Sequence[str], text: str) -> set:
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE TABLE t ({column} TEXT)")
    db.executemany("INSERT INTO t VALUES (?)", [(value,) for value in values])
    where, params = compile_sql(parse_and_bind(text, filters))
    return {row[0] for row in db.execute(f"SELECT {column} FROM t WHERE {where}", params)}
