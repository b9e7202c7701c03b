"""Record kinds over SQLite tables: pages, cursors, filters, rankings and the reply budget."""

from __future__ import annotations

import ipaddress
import random
import sqlite3
from collections import Counter
from typing import Any

import pytest
from pydantic import BaseModel

from mcpcap.core.errors import BadArgumentError, NotFoundError
from mcpcap.core.filtering import parse_and_bind
from mcpcap.core.modules.kinds import FieldSpec, RankSpec, RecordKind
from mcpcap.core.modules.tables import (
    KindTable,
    RankColumn,
    TableResults,
    address_filter,
    flag_filter,
    number_filter,
    text_filter,
)
from mcpcap.core.paging import decode_cursor, encode_cursor, json_size

COLORS = ("red", "green", "blue")


class Flow(BaseModel):
    id: int
    ts: float
    host: str
    color: str
    size: int
    packets: int
    offset: float | None
    done: bool


KIND = RecordKind(
    name="test.flows",
    title="Flows",
    description="rows for the tests",
    model=Flow,
    fields=(FieldSpec("ts", "ts"), FieldSpec("host", "host")),
    filters=(
        address_filter("host", "host", "the host"),
        text_filter("color", "color", "a colour", choices=COLORS),
        number_filter("size", "size", "bytes", integer=True),
        number_filter("offset", "offset", "seconds"),
        flag_filter("done", "done", "finished"),
    ),
    sorts=("ts", "-ts", "offset", "-offset", "color", "-color"),
    default_sort="ts",
    rank_by=(
        RankSpec("color", weights=("count", "packets", "bytes")),
        RankSpec("host", weights=("count", "packets")),
        RankSpec("size"),
    ),
)


def _record(row: tuple) -> dict[str, Any]:
    id_, ts, host, color, size, packets, offset, done = row
    return {"id": id_, "ts": ts, "host": host, "color": color, "size": size,
            "packets": packets, "offset": offset, "done": bool(done)}  # fmt: skip


TABLE = KindTable(
    kind="test.flows",
    source="flows",
    id_column="id",
    columns=("id", "ts", "host", "color", "size", "packets", "offset", "done"),
    to_record=_record,
    sorts={"ts": "ts", "offset": "offset", "color": "color"},
    rank={"color": "color", "host": "host", "size": RankColumn("size", lambda v: f"{v} B")},
    weights={"packets": "packets", "bytes": "size"},
)


def make_rows(count: int, seed: int) -> list[dict[str, Any]]:
    """Rows with many ties in every sort and NULL offsets."""
    rnd = random.Random(seed)
    return [
        {
            "id": i,
            "ts": float(rnd.randrange(5)),
            "host": f"10.0.{rnd.randrange(2)}.{rnd.randrange(3)}",
            "color": rnd.choice(COLORS),
            "size": rnd.choice((0, 10, 10, 500, 2000)),
            "packets": rnd.randrange(1, 4),
            "offset": rnd.choice((None, -0.5, 0.0, 0.25, 0.25, 3.0)),
            "done": rnd.random() < 0.6,
        }
        for i in range(1, count + 1)
    ]


def make_results(rows: list[dict[str, Any]], budget: int = 100_000) -> TableResults:
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE TABLE flows (id INTEGER PRIMARY KEY, ts REAL, host TEXT, color TEXT, "
        "size INTEGER, packets INTEGER, offset REAL, done INTEGER)"
    )
    db.executemany(
        "INSERT INTO flows VALUES (:id, :ts, :host, :color, :size, :packets, :offset, :done)", rows
    )
    return TableResults(db, [TABLE], budget)


def flt(text: str = ""):
    return parse_and_bind(text, KIND.filters)


def all_pages(results: TableResults, text: str, sort: str | None, limit: int) -> list[dict]:
    seen: list[dict] = []
    cursor = None
    while True:
        page = results.records(KIND, flt(text), sort=sort, limit=limit, cursor=cursor)
        seen.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return seen


def expected_order(rows: list[dict], sort: str | None) -> list[int]:
    """Nulls last; ties by id in the sort's direction."""
    name = (sort or "id").lstrip("-")
    desc = bool(sort) and sort.startswith("-")
    present = [r for r in rows if r[name] is not None]
    nulls = [r for r in rows if r[name] is None]
    present.sort(key=lambda r: (r[name], r["id"]), reverse=desc)
    nulls.sort(key=lambda r: r["id"], reverse=desc)
    return [r["id"] for r in present + nulls]


@pytest.mark.parametrize("sort", [None, *KIND.sorts])
@pytest.mark.parametrize("limit", [1, 3, 7, 50])
def test_paging_visits_every_row_once_in_order(sort, limit):
    rows = make_rows(60, seed=limit)
    results = make_results(rows)
    ids = [item["id"] for item in all_pages(results, "", sort, limit)]
    assert ids == expected_order(rows, sort)
    streamed = [r["id"] for r in results.iter_records(KIND, flt(), sort=sort)]
    assert streamed == ids


FILTERS = {
    "color:red": lambda r: r["color"] == "red",
    "color:red,blue": lambda r: r["color"] in ("red", "blue"),
    "-color:red": lambda r: r["color"] != "red",
    "size>=500": lambda r: r["size"] >= 500,
    "size<10": lambda r: r["size"] < 10,
    "size:10,2000": lambda r: r["size"] in (10, 2000),
    "offset>0": lambda r: r["offset"] is not None and r["offset"] > 0,
    "-offset>0": lambda r: not (r["offset"] is not None and r["offset"] > 0),
    "offset<=0.25 done:yes": lambda r: (
        r["offset"] is not None and r["offset"] <= 0.25 and r["done"]
    ),
    "done:false": lambda r: not r["done"],
    "host:10.0.1.0/24": lambda r: (
        ipaddress.ip_address(r["host"]) in ipaddress.ip_network("10.0.1.0/24")
    ),
    "host:10.0.0.2 -color:green,blue": lambda r: r["host"] == "10.0.0.2" and r["color"] == "red",
}


@pytest.mark.parametrize("text", list(FILTERS))
@pytest.mark.parametrize("sort", ["ts", "-offset"])
def test_filters_page_exactly_the_matching_rows(text, sort):
    rows = make_rows(80, seed=3)
    results = make_results(rows)
    matching = [r for r in rows if FILTERS[text](r)]
    assert matching, "the fixture rows should match every filter"
    first = results.records(KIND, flt(text), sort=sort, limit=5)
    assert first.total == len(matching)
    assert first.filter == flt(text).text()
    ids = [item["id"] for item in all_pages(results, text, sort, 5)]
    assert ids == expected_order(matching, sort)


def test_a_bad_filter_value_is_one_sentence():
    with pytest.raises(BadArgumentError, match="color takes one of red, green, blue"):
        flt("color:rde")
    with pytest.raises(BadArgumentError, match="done takes"):
        flt("done:maybe")
    with pytest.raises(BadArgumentError, match="host takes"):
        flt("host:not-an-address")


@pytest.mark.parametrize(
    ("by", "weight", "value"),
    [
        ("color", "count", lambda r: 1),
        ("color", "packets", lambda r: r["packets"]),
        ("color", "bytes", lambda r: r["size"]),
        ("host", "packets", lambda r: r["packets"]),
        ("size", "count", lambda r: 1),
    ],
)
def test_rankings_sum_their_weight_per_key(by, weight, value):
    rows = make_rows(70, seed=9)
    results = make_results(rows)
    label = (lambda v: f"{v} B") if by == "size" else str
    counts = Counter()
    for row in rows:
        counts[label(row[by])] += value(row)
    ranking = results.top(KIND, flt(), by=by, weight=weight, limit=2)
    expected = sorted(counts.items(), key=lambda kv: -kv[1])
    assert [item.count for item in ranking.items] == [n for _, n in expected[:2]]
    assert {item.key: item.count for item in ranking.items}.items() <= counts.items()
    assert ranking.total_distinct == len(counts)
    assert ranking.others == sum(counts.values()) - sum(i.count for i in ranking.items)
    assert ranking.counts == ("test.flows records" if weight == "count" else weight)
    # the offset cursor walks every key once
    keys, cursor = [i.key for i in ranking.items], ranking.next_cursor
    while cursor:
        more = results.top(KIND, flt(), by=by, weight=weight, limit=2, cursor=cursor)
        keys += [i.key for i in more.items]
        cursor = more.next_cursor
    assert sorted(keys) == sorted(counts)


def test_a_filtered_ranking_counts_only_matching_rows():
    rows = make_rows(70, seed=11)
    results = make_results(rows)
    ranking = results.top(KIND, flt("-color:red size>0"), by="color", limit=10)
    counts = Counter(r["color"] for r in rows if r["color"] != "red" and r["size"] > 0)
    assert {i.key: i.count for i in ranking.items} == dict(counts)
    assert ranking.next_cursor is None and ranking.others == 0


def test_a_weight_the_field_does_not_take_is_refused():
    results = make_results(make_rows(5, seed=1))
    with pytest.raises(BadArgumentError, match="weighted by count, not 'bytes'"):
        results.top(KIND, flt(), by="size", weight="bytes")
    with pytest.raises(BadArgumentError, match="ranks by color, host, size, not 'colour'"):
        results.top(KIND, flt(), by="colour")


@pytest.mark.parametrize("budget", [600, 900, 2000])
def test_budget_cuts_pages_and_the_cursor_continues_after_the_last_item_shown(budget):
    rows = make_rows(40, seed=5)
    results = make_results(rows, budget=budget)
    first = results.records(KIND, flt(), sort="-offset", limit=40)
    assert first.truncated and 0 < len(first.items) < 40
    assert json_size(first.model_dump(mode="json")) <= budget
    seen: list[dict] = []
    page = first
    while True:
        seen += page.items
        assert json_size(page.model_dump(mode="json")) <= budget
        if page.next_cursor is None:
            break
        page = results.records(KIND, flt(), sort="-offset", limit=40, cursor=page.next_cursor)
    assert [item["id"] for item in seen] == expected_order(rows, "-offset")


def test_a_ranking_cut_by_the_budget_says_so_and_continues():
    rows = make_rows(200, seed=6)
    results = make_results(rows, budget=300)
    ranking = results.top(KIND, flt(), by="host", limit=6)
    assert ranking.truncated and len(ranking.items) < 6
    assert json_size(ranking.model_dump(mode="json")) <= 300
    rest = results.top(KIND, flt(), by="host", limit=6, cursor=ranking.next_cursor)
    assert not {i.key for i in rest.items} & {i.key for i in ranking.items}


def test_one_record_larger_than_the_budget_still_moves_the_page_on():
    rows = make_rows(3, seed=2)
    results = make_results(rows, budget=50)
    page = results.records(KIND, flt(), limit=3)
    assert page.truncated and [i["id"] for i in page.items] == [1]
    page = results.records(KIND, flt(), limit=3, cursor=page.next_cursor)
    assert [i["id"] for i in page.items] == [2]


def test_one_record_by_id_and_a_missing_one():
    rows = make_rows(10, seed=4)
    results = make_results(rows)
    assert results.record(KIND, "7") == {**rows[6], "done": bool(rows[6]["done"])}
    Flow(**results.record(KIND, "7"))
    with pytest.raises(NotFoundError, match=r"^test.flows has no record with id '11'$"):
        results.record(KIND, "11")
    with pytest.raises(NotFoundError, match="no record with id 'seven'"):
        results.record(KIND, "seven")


def test_bad_cursors_are_one_sentence():
    results = make_results(make_rows(20, seed=8))
    page = results.records(KIND, flt(), sort="ts", limit=5)
    with pytest.raises(BadArgumentError, match="not one mcpcap gave out"):
        results.records(KIND, flt(), sort="ts", cursor="%%%not base64")
    with pytest.raises(BadArgumentError, match="belongs to another query"):
        results.records(KIND, flt(), sort="-ts", cursor=page.next_cursor)
    with pytest.raises(BadArgumentError, match="belongs to another query"):
        results.records(KIND, flt("color:red"), sort="ts", cursor=page.next_cursor)
    with pytest.raises(BadArgumentError, match="belongs to another query"):
        results.top(KIND, flt(), by="color", cursor=page.next_cursor)
    assert decode_cursor(page.next_cursor, _digest_of(page.next_cursor)) is not None
    for forged in ([0, {"a": 1}, 3], [2, 1.0, 3], [0, 1.0], "x", [1, 5.0, 2], [0, True, 1]):
        cursor = encode_cursor(forged, _digest_of(page.next_cursor))
        with pytest.raises(BadArgumentError, match="not one mcpcap gave out"):
            results.records(KIND, flt(), sort="ts", cursor=cursor)
    ranking = results.top(KIND, flt(), by="host", limit=1)
    for forged in ([-1], ["1"], [1, 2], {"o": 1}):
        cursor = encode_cursor(forged, _digest_of(ranking.next_cursor))
        with pytest.raises(BadArgumentError, match="not one mcpcap gave out"):
            results.top(KIND, flt(), by="host", limit=1, cursor=cursor)


def _digest_of(cursor: str) -> str:
    """The query digest a cursor carries (the tests forge positions for the same query)."""
    import base64
    import json

    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["q"]


def test_iter_records_streams_rows_without_reading_them_all():
    results = make_results(make_rows(50, seed=12))
    stream = results.iter_records(KIND, flt("done:true"), sort="-ts")
    first = next(stream)
    assert first["done"] is True
    assert sum(1 for _ in stream) == results.count(KIND, flt("done:true")) - 1
