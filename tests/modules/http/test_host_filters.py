"""The host filters on the Host header as sent: a name on any port, names below it on a label
boundary only (a look-alike domain is never "below" the one asked for)."""

from __future__ import annotations

import sqlite3

import pytest

from mcpcap.core.filtering import compile_sql, parse_and_bind
from mcpcap.modules.http.kinds import FILTERS

HOSTS = [
    "example.com", "WWW.Example.com", "www.example.com:8080", "[2001:db8::1]:80",
    "[2001:db8::1]", "login.example.com.evil.net", "www.example.community", "notexample.com",
    "a_b.example.com", "axb.example.com",
]  # fmt: skip


def matching(text: str) -> set[str]:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (host TEXT)")
    db.executemany("INSERT INTO t VALUES (?)", [(h,) for h in HOSTS])
    where, params = compile_sql(parse_and_bind(text, FILTERS))
    return {row[0] for row in db.execute(f"SELECT host FROM t WHERE {where}", params)}


@pytest.mark.parametrize(
    ("text", "hosts"),
    [
        ("host_suffix:example.com", {"example.com", "WWW.Example.com", "www.example.com:8080",
                                     "a_b.example.com", "axb.example.com"}),
        ("host:www.example.com", {"WWW.Example.com", "www.example.com:8080"}),
        ("host:[2001:db8::1]", {"[2001:db8::1]:80", "[2001:db8::1]"}),
        ("host_suffix:a_b.example.com", {"a_b.example.com"}),  # `_` is no wildcard
    ],
)  # fmt: skip
def test_host_filters(text, hosts):
    assert matching(text) == hosts
