"""The SNI filters find a name sent with a trailing dot (`www.example.com.` is the same host,
and its registered domain already ignores the dot)."""

from __future__ import annotations

import sqlite3

import pytest

from mcpcap.core.filtering import compile_sql, parse_and_bind
from mcpcap.modules.tls.kinds import FILTERS

NAMES = ["WWW.Example.COM.", "www.example.com", "example.com.evil.net", "notexample.com"]


def matching(text: str) -> set[str]:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (server_name TEXT)")
    db.executemany("INSERT INTO t VALUES (?)", [(n,) for n in NAMES])
    where, params = compile_sql(parse_and_bind(text, FILTERS))
    return {row[0] for row in db.execute(f"SELECT server_name FROM t WHERE {where}", params)}


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("server_name:www.example.com", {"WWW.Example.COM.", "www.example.com"}),
        ("server_name:WWW.Example.COM.", {"WWW.Example.COM.", "www.example.com"}),
        ("server_name_suffix:example.com", {"WWW.Example.COM.", "www.example.com"}),
    ],
)
def test_sni_filters(text, names):
    assert matching(text) == names
