"""Filter parsing (the TUI's tokens), round trips and SQL edge cases."""

from __future__ import annotations

import ipaddress
import sqlite3

import pytest

from mcpcap.core.errors import BadArgumentError
from mcpcap.modules.dns.filters import (
    build_filter,
    filter_sql,
    filter_terms,
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
    [
        ("qname", "field:value"),
        ("colour:red", "filters are"),
        ('qname:"open', "unclosed double quote"),
    ],
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


ADDRESSES = [
    *("10.0.0.1", "10.0.1.9", "10.1.0.1", "10.1.1.10", "10.1.1.100", "10.1.1.15", "10.1.1.2"),
    *("192.0.2.7", "2001:db8::1", "2001:db8:0:1::5", "2001:db8:10::106", "2001:db9::1"),
    *("::ffff:10.0.0.1", "::ffff:a00:2", "fe80::1", "ff02::fb", "224.0.0.251", "::1"),
]
NETWORKS = [
    *("10.0.0.0/16", "10.0.0.0/8", "10.1.1.0/28", "10.1.1.0/24", "10.1.1.15", "0.0.0.0/0"),
    *("172.16.0.0/12", "2001:db8::/32", "2001:db8::/48", "2001:db8:10::/64", "::/0"),
    *("::ffff:0:0/96", "::ffff:10.0.0.1", "fe80::/10", "ff00::/8", "224.0.0.0/4", "::1"),
]


@pytest.mark.parametrize("side", ["client", "server"])
def test_cidr_as_address_ranges_equals_the_per_row_function_and_ipaddress(side):
    db = sqlite3.connect(":memory:")
    db.create_function("in_network", 2, in_network)
    db.execute("CREATE TABLE dns_transactions (id INTEGER PRIMARY KEY, client TEXT, server TEXT)")
    rows = [(a, a) for a in ADDRESSES * 2] + [(None, None)]
    db.executemany("INSERT INTO dns_transactions (client, server) VALUES (?, ?)", rows)

    def ids(flt, with_db):
        where, params = filter_sql(flt, db if with_db else None)
        sql = f"SELECT id FROM dns_transactions t WHERE {where} ORDER BY id"
        return [r[0] for r in db.execute(sql, params)]

    for network in NETWORKS:
        flt = build_filter(**{side: network})
        net = ipaddress.ip_network(network)
        expected = [
            i for i, (address, _) in enumerate(rows, 1)
            if address is not None and ipaddress.ip_address(address) in net
        ]  # fmt: skip
        assert ids(flt, True) == ids(flt, False) == expected, network
    where, _ = filter_sql(build_filter(**{side: "10.0.0.0/8"}), db)
    assert where == f"t.{side} BETWEEN ? AND ?"  # one run of the sorted addresses: a range
    where, _ = filter_sql(build_filter(**{side: "10.1.1.0/28"}), db)
    assert "json_each" in where  # 10.1.1.100 sorts between 10.1.1.10 and 10.1.1.15
    assert filter_sql(build_filter(**{side: "198.51.100.0/24"}), db)[0] == "0"


def test_name_lists_equal_the_per_row_patterns():
    names = [
        *("example.com", "www.example.com", "a.b.example.com", "badexample.com", "com"),
        *("_ipp._tcp.local", "x_ipp._tcp.local", "aipp.xtcp.local", "a.%", "a.b", "wiki.x.org"),
        *("ex%ample.com", "ex_ample.com", "back\\slash.net", "ünïcode.example", "."),
    ]
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE dns_transactions (id INTEGER PRIMARY KEY, qname TEXT)")
    db.executemany("INSERT INTO dns_transactions (qname) VALUES (?)", [(n,) for n in names])
    db.execute("INSERT INTO dns_transactions (qname) VALUES (NULL)")

    def ids(flt, with_db):
        terms = filter_terms(flt, db if with_db else None, names=True)
        where = " AND ".join(sql for _, sql, _ in terms)
        sql = f"SELECT id FROM dns_transactions t WHERE {where} ORDER BY id"
        return [r[0] for r in db.execute(sql, [p for _, _, ps in terms for p in ps])]

    values = ["example.com", "com", "_tcp.local", "%", "_", "b", "x", "slash.net", "\\", "."]
    values += ["ünïcode.example", "example", "nothing.here"]
    for value in values:
        for name in ("qname_suffix", "qname_contains"):
            flt = build_filter(**{name: value})
            assert ids(flt, True) == ids(flt, False), (name, value)
    assert len(ids(build_filter(qname_suffix="example.com"), True)) == 3
    terms = filter_terms(build_filter(qname_suffix="example.com"), db, names=True)
    assert "json_each" in terms[0][1]  # a name list, for the qname index
    assert filter_sql(build_filter(qname_suffix="example.com"), db) == filter_sql(
        build_filter(qname_suffix="example.com")
    )  # testing rows read anyway: the pattern


def test_a_column_with_too_many_values_keeps_the_per_row_clause(monkeypatch):
    from mcpcap.modules.dns import filters

    db = sqlite3.connect(":memory:")
    db.create_function("in_network", 2, in_network)
    db.execute("CREATE TABLE dns_transactions (id INTEGER PRIMARY KEY, client TEXT, qname TEXT)")
    db.executemany(
        "INSERT INTO dns_transactions (client, qname) VALUES (?, ?)",
        [("10.0.0.1", "a.example.com"), ("10.0.0.2", "b.example.org"), ("10.0.1.1", "c.com")],
    )
    monkeypatch.setattr(filters, "MAX_LISTED", 2)
    flt = build_filter(client="10.0.0.0/24", qname_suffix="com")
    assert filter_terms(flt, db, names=True) == filter_terms(flt)
    where, params = filter_sql(flt, db)
    assert db.execute(f"SELECT id FROM dns_transactions t WHERE {where}", params).fetchall() == [
        (1,)
    ]
