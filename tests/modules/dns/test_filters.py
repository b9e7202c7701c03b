"""Filter parsing (the TUI's tokens), round trips and SQL edge cases."""

from __future__ import annotations

import sqlite3

import pytest

from mcpcap.core.errors import BadArgumentError
from mcpcap.modules.dns.filters import (
    build_filter,
    filter_sql,
    filter_text,
    in_network,
    parse_filter_text,
)


def test_tokens_parse_to_the_same_filter_as_arguments():
    text = "qname_suffix:Example.COM. rcode:nxdomain qtype:28 client:10.0.0.0/8 answered:no"
    assert parse_filter_text(text) == build_filter(
        qname_suffix="example.com", rcode="NXDOMAIN", qtype="AAAA", client="10.0.0.0/8",
        answered=False,
    )  # fmt: skip


def test_filter_text_round_trips():
    flt = build_filter(qname_contains="a b", min_rtt="0.5", since="2024-05-01T09:00:00Z")
    assert parse_filter_text(filter_text(flt)) == flt


@pytest.mark.parametrize(
    ("text", "hint"),
    [("qname", "name:value"), ("colour:red", "filters are"), ('qname:"open', "cannot read")],
)
def test_bad_tokens_say_why(text, hint):
    with pytest.raises(BadArgumentError, match=hint):
        parse_filter_text(text)


def _matches(flt, names):
    db = sqlite3.connect(":memory:")
    db.create_function("in_network", 2, in_network)
    db.execute("CREATE TABLE dns_transactions (id INTEGER PRIMARY KEY, qname TEXT)")
    db.executemany("INSERT INTO dns_transactions (qname) VALUES (?)", [(n,) for n in names])
    where, params = filter_sql(flt)
    sql = f"SELECT qname FROM dns_transactions t WHERE {where} ORDER BY id"
    return [row[0] for row in db.execute(sql, params)]


def test_suffix_is_label_aligned_and_like_wildcards_are_literal():
    names = ["_ipp._tcp.local", "x_ipp._tcp.local", "aipp.xtcp.local", "tcp.local", "x.local"]
    assert _matches(build_filter(qname_suffix="_tcp.local"), names) == [
        "_ipp._tcp.local",
        "x_ipp._tcp.local",
    ]
    assert _matches(build_filter(qname_suffix="ipp._tcp.local"), names) == []
    assert _matches(build_filter(qname_suffix="%"), ["a.%", "a.b"]) == ["a.%"]


def test_cidr_as_an_address_list_equals_the_per_row_function(monkeypatch):
    from mcpcap.modules.dns import filters

    db = sqlite3.connect(":memory:")
    db.create_function("in_network", 2, in_network)
    db.execute("CREATE TABLE dns_transactions (id INTEGER PRIMARY KEY, client TEXT, server TEXT)")
    clients = ["10.0.0.1", "10.0.1.9", "10.1.0.1", "192.0.2.7", "2001:db8::1", "2001:db9::1"]
    db.executemany(
        "INSERT INTO dns_transactions (client, server) VALUES (?, '192.0.2.53')",
        [(c,) for c in clients * 3],
    )

    def ids(flt, with_db):
        where, params = filter_sql(flt, db if with_db else None)
        return [
            r[0] for r in db.execute(f"SELECT id FROM dns_transactions t WHERE {where}", params)
        ]

    for network in ("10.0.0.0/16", "10.0.0.0/8", "2001:db8::/32", "0.0.0.0/0", "172.16.0.0/12"):
        flt = build_filter(client=network)
        assert ids(flt, True) == ids(flt, False)
    assert len(ids(build_filter(client="10.0.0.0/8"), True)) == 9
    monkeypatch.setattr(filters, "MAX_LISTED_ADDRESSES", 1)  # too many: the function decides
    assert filter_sql(build_filter(client="10.0.0.0/8"), db)[0] == "in_network(t.client, ?)"
