"""Transaction pages and counts: every plan gives what the plain SQL query gives.

A synthetic store with the awkward values (NULL and negative rtt, an rtt equal to the key a NULL
sorts as, empty and NULL names, equal timestamps, IPv4, IPv6 and IPv4-mapped addresses) is paged
through with each plan forced, and compared with
one ORDER BY COALESCE(...) query over the per-row filter clauses. Every test runs on the store
with its query indexes and without them (a store that could not be written since its scan).
"""

from __future__ import annotations

import random
import sqlite3

import pytest

from mcpcap.core.errors import BadArgumentError
from mcpcap.core.indexes import present_indexes
from mcpcap.core.paging import encode_cursor, json_size, query_digest
from mcpcap.modules.dns import queries
from mcpcap.modules.dns.filters import build_filter, filter_sql, in_network
from mcpcap.modules.dns.queries import (
    SORTS,
    TX_COLUMNS,
    count_transactions,
    transaction_record,
    transactions_page,
)
from mcpcap.modules.dns.store_schema import QUERY_INDEXES, create_tables, pack_list

CLIENTS = ["10.0.0.1", "10.0.0.12", "10.0.0.2", "10.1.2.3", "192.0.2.7", "2001:db8::1",
           "2001:db8:0:1::5", "::ffff:10.0.0.1", "fe80::1"]  # fmt: skip
SERVERS = ["10.0.0.53", "10.0.0.54", "2001:db8::53", "224.0.0.251"]
NAMES = [None, "", "example.com", "www.example.com", "a.b.example.com", "badexample.com",
         "_ipp._tcp.local", "wiki.example.org", "x_y.net"]  # fmt: skip
RTTS = [None, None, -1.0, -2.5, 0.0, 1e300, 0.25, 0.5, 0.001, 1.5]
ANSWERS = ["192.0.2.1", "192.0.2.2", "2001:db8::80", "cname.example.com"]
FILTERS = [
    {},
    {"qname": "example.com"},
    {"qname_suffix": "example.com"},
    {"qname_contains": "_"},
    {"qtype": "AAAA"},
    {"rcode": "NXDOMAIN"},
    {"client": "10.0.0.0/24"},
    {"client": "2001:db8::/32"},
    {"client": "10.0.0.1"},
    {"server": "10.0.0.0/31"},
    {"answer": "192.0.2.1"},
    {"transport": "tcp"},
    {"protocol": "mdns"},
    {"answered": "false"},
    {"min_rtt": "0.1"},
    {"since": "1714564830", "until": "1714564900"},
    {"qname_suffix": "example.com", "rcode": "NOERROR"},
    {"client": "10.0.0.0/8", "qtype": "A", "min_rtt": "0"},
    {"answer": "192.0.2.2", "transport": "udp"},
    {"qname": "nothing.example", "protocol": "dns"},
]
PLANS = {  # constants that force one way to find a page (None: the planner's own choice)
    "chosen": None,
    "walk": {"DENSE": 10**9},
    "rank by scan": {"DENSE": 0, "DRIVE_BELOW": 10**9},
    "rank by index": {"DENSE": 0, "FEW": 10**9, "DRIVE_BELOW": 1},
}


def make_store(indexed: bool = True) -> sqlite3.Connection:
    rnd = random.Random(7)
    db = sqlite3.connect(":memory:")
    db.create_function("in_network", 2, in_network, deterministic=True)
    create_tables(db)
    rows, answers = [], []
    for i in range(1, 301):
        rtt = rnd.choice(RTTS)
        answered = rtt is not None or rnd.random() < 0.3
        query = rnd.choice(NAMES)
        values = rnd.sample(ANSWERS, rnd.randint(0, 2)) if answered else []
        answers += [(i, v) for v in values + values[:1]]  # a value twice in one answer
        rows.append({
            "id": i, "ts": 1714564800 + rnd.randint(0, 120) / 2, "query_frame": 2 * i,
            "response_frame": 2 * i + 1 if answered else None, "client": rnd.choice(CLIENTS),
            "client_port": 5000 + i, "server": rnd.choice(SERVERS),
            "server_port": 53, "transport": rnd.choice(["udp", "udp", "tcp"]),
            "protocol": rnd.choice(["dns", "dns", "mdns", "llmnr"]), "trans_id": i, "rtt": rtt,
            "query": query, "qname": query, "qclass": 1, "qtype": rnd.choice([1, 28, 65, None]),
            "rcode": rnd.choice([0, 0, 3, 2]) if answered else None,
            "answers": pack_list(values) if answered else None,
            "ttls": pack_list(["60"] * len(values)) if answered else None,
            "z": 0, "answered": int(answered), "retransmissions": 0,
        })  # fmt: skip
    columns = list(rows[0])
    db.executemany(
        f"INSERT INTO dns_transactions ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' * len(columns))})",
        [tuple(row[c] for c in columns) for row in rows],
    )
    db.executemany("INSERT INTO dns_answers VALUES (?, ?)", answers)
    if indexed:
        for index in QUERY_INDEXES:
            db.execute(index)
    return db


@pytest.fixture(scope="module", params=["indexed", "no indexes"])
def store(request):
    db = make_store(indexed=request.param == "indexed")
    assert bool(present_indexes(db)) == (request.param == "indexed")
    yield db
    db.close()


def expected(db: sqlite3.Connection, flt, sort: str) -> list[dict]:
    """The plain query: per-row clauses, ORDER BY the sort expression."""
    where, params = filter_sql(flt)
    expr, desc = SORTS[sort]
    order = "DESC" if desc else "ASC"
    sql = (
        f"SELECT {TX_COLUMNS} FROM dns_transactions t {'WHERE ' + where if where else ''} "
        f"ORDER BY {expr} {order}, t.id {order}"
    )
    return [transaction_record(row) for row in db.execute(sql, params)]


def walk(db: sqlite3.Connection, flt, sort: str, limit: int) -> tuple[list[dict], set[int]]:
    items, totals, cursor = [], set(), None
    while True:
        page = transactions_page(db, flt, sort=sort, limit=limit, cursor=cursor, budget=10**9)
        items += [item.model_dump(mode="json") for item in page.items]
        totals.add(page.total)
        if page.next_cursor is None:
            return items, totals
        cursor = page.next_cursor


@pytest.mark.parametrize("plan", PLANS)
@pytest.mark.parametrize("sort", SORTS)
def test_every_plan_pages_like_the_plain_query(store, plan, sort, monkeypatch):
    for name, value in (PLANS[plan] or {}).items():
        monkeypatch.setattr(queries, name, value)
    for filters in FILTERS:
        flt = build_filter(**filters)
        want = expected(store, flt, sort)
        got, totals = walk(store, flt, sort, limit=9)
        assert got == want, (filters, sort)
        assert totals == {len(want)}, (filters, sort)
        assert count_transactions(store, flt) == len(want)


def test_the_awkward_values_are_there(store):
    rtts = {r[0] for r in store.execute("SELECT DISTINCT rtt FROM dns_transactions")}
    assert {None, -1.0, 1e300} <= rtts  # the keys NULLs sort as, and a NULL, all present
    names = {r[0] for r in store.execute("SELECT DISTINCT qname FROM dns_transactions")}
    assert {None, ""} <= names
    ties = store.execute("SELECT count(*) - count(DISTINCT ts) FROM dns_transactions")
    assert ties.fetchone()[0] > 0


@pytest.mark.parametrize(
    ("sort", "position"),
    [("ts", ["x", 1]), ("rtt", [0.5]), ("qname", [1.5, 2]), ("-ts", [1.0, "2"]), ("ts", {})],
)
def test_a_forged_cursor_position_is_refused(store, sort, position):
    flt = build_filter()
    cursor = encode_cursor(position, query_digest({"f": {}, "s": sort}))
    with pytest.raises(BadArgumentError, match="cursor"):
        transactions_page(store, flt, sort=sort, cursor=cursor, budget=10**9)


def walk_ranking(db: sqlite3.Connection, flt, by: str, limit: int, budget: int) -> list[dict]:
    items, cursor = [], None
    while True:
        page = queries.ranking(db, flt, by=by, limit=limit, cursor=cursor, budget=budget)
        assert page.items or page.total_distinct == 0
        assert json_size(page.model_dump(mode="json")) <= budget
        items += [item.model_dump() for item in page.items]
        if page.next_cursor is None:
            return items
        cursor = page.next_cursor


@pytest.mark.parametrize("by", queries.RANK_BY)
def test_a_ranking_paged_by_limit_or_budget_is_the_whole_ranking(store, by):
    for filters in FILTERS[:8]:
        flt = build_filter(**filters)
        whole = queries.ranking(store, flt, by=by, limit=1000, budget=10**9)
        assert whole.next_cursor is None and len(whole.items) == whole.total_distinct
        want = [item.model_dump() for item in whole.items]
        assert walk_ranking(store, flt, by, limit=2, budget=10**9) == want, filters
        assert walk_ranking(store, flt, by, limit=1000, budget=320) == want, filters


def test_a_ranking_cursor_is_refused_for_another_ranking_or_a_forged_offset(store):
    flt = build_filter()
    # (the synthetic store has no scan tallies: rank what is grouped from the rows)
    cursor = queries.ranking(store, flt, by="answer", limit=2, budget=10**9).next_cursor
    assert cursor
    with pytest.raises(BadArgumentError, match="another query"):
        queries.ranking(store, flt, by="rcode", limit=2, cursor=cursor, budget=10**9)
    with pytest.raises(BadArgumentError, match="another query"):
        queries.ranking(store, build_filter(qtype="A"), by="answer", cursor=cursor, budget=10**9)
    digest = query_digest({"f": {}, "by": "answer"})
    for position in ([-1], ["2"], [True], [1, 2], {}):
        with pytest.raises(BadArgumentError, match="cursor"):
            queries.ranking(
                store, flt, by="answer", cursor=encode_cursor(position, digest), budget=10**9
            )


def test_a_cursor_names_the_capture_it_came_from():
    one, two = make_store(), make_store()
    for db, key in ((one, "k1"), (two, "k2")):
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("INSERT INTO meta VALUES ('key', ?), ('capture', '{}')", (key,))
    flt = build_filter()
    page = transactions_page(one, flt, limit=5, budget=10**9)
    top = queries.ranking(one, flt, by="rcode", limit=2, budget=10**9)
    assert page.next_cursor and top.next_cursor
    transactions_page(one, flt, limit=5, cursor=page.next_cursor, budget=10**9)
    with pytest.raises(BadArgumentError, match="another capture"):
        transactions_page(two, flt, limit=5, cursor=page.next_cursor, budget=10**9)
    with pytest.raises(BadArgumentError, match="another capture"):
        queries.ranking(two, flt, by="rcode", cursor=top.next_cursor, budget=10**9)
