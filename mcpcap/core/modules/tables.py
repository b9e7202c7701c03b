"""Record kinds stored as SQLite tables: the `ModuleResults` record methods, written once.

A module that keeps each kind's records in a table declares, per kind, where they lie
(`KindTable`: the table, its id column, the columns a record is made from, the SQL expression of
each sort, of each ranking field and of each weight) and gets from `TableResults` every record
question a face asks: pages with exact totals, keyset cursors and the reply budget (`records`),
a stream for exports (`iter_records`), one record by id (`record`) and rankings (`top`). Filters
are the kind's `FilterSpec`s compiled to SQL (`filtering.compile_sql`); the helpers below make
the usual ones (an address or network, a number, a flag, a word) in one line each.
"""

from __future__ import annotations

import ipaddress
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mcpcap.core import addresses
from mcpcap.core.errors import BadArgumentError, NotFoundError
from mcpcap.core.filtering import Filter, FilterSpec, compile_sql, sql_integer
from mcpcap.core.flowsplits import FlowSplits
from mcpcap.core.models import Ranking, RankingItem
from mcpcap.core.modules.kinds import RecordKind, RecordPage
from mcpcap.core.paging import (
    capture_identity,
    check_limit,
    decode_cursor,
    echoed_filter,
    encode_cursor,
    fit_items,
    json_size,
    query_digest,
)

TOP_DEFAULT = 10
ENVELOPE_SLACK = 8  # characters for a page's flags and cursor changing from their defaults
BAD_CURSOR = "cursor is not one mcpcap gave out; pass next_cursor from the previous page unchanged"
ADDRESS_FUNCTION = addresses.SQL_FUNCTION  # the SQL function `address_filter` conditions call


@dataclass(frozen=True)
class RankColumn:
    """What a ranking groups by: an SQL expression, and how its values read as keys."""

    expr: str
    label: Callable[[Any], str] = str


@dataclass(frozen=True)
class KindTable:
    """Where one kind's records lie and how a row becomes a record.

    `columns` are the SQL expressions `to_record` receives, in order; `sorts` maps each of the
    kind's sorts (without a leading `-`, which reverses it) to the SQL expression it orders by;
    `rank` maps each ranking field to what it groups by; `weights` maps a weight other than
    `count` to the SQL expression summed for it (`packets`: `"packets"`). Filters' SQL, sorts
    and rankings are all written over the columns of `source`.
    """

    kind: str
    source: str
    id_column: str
    columns: tuple[str, ...]
    to_record: Callable[[tuple], dict[str, Any]]
    sorts: Mapping[str, str] = field(default_factory=dict)
    rank: Mapping[str, RankColumn | str] = field(default_factory=dict)
    weights: Mapping[str, str] = field(default_factory=dict)
    parse_id: Callable[[str], Any] = sql_integer


class TableResults:
    """The record methods of `ModuleResults` over one table per kind.

    A module's results class inherits this and adds `summary()`; `count()` and `db` are there
    for its summary's own queries.
    """

    def __init__(self, db: sqlite3.Connection, tables: Iterable[KindTable], budget: int) -> None:
        self.db = db
        self.budget = budget
        self._tables = {table.kind: table for table in tables}
        self._splits: FlowSplits | None = None
        self._cursor_capture: str | None = None
        addresses.register(db)

    @property
    def cursor_capture(self) -> str:
        """The `capture_identity` its cursors carry: a cursor given out for another capture, or
        for this one before its file changed, is refused (a store never changes once built)."""
        if self._cursor_capture is None:
            self._cursor_capture = capture_identity(self.db)
        return self._cursor_capture

    def table(self, kind: RecordKind) -> KindTable:
        try:
            return self._tables[kind.name]
        except KeyError:
            raise BadArgumentError(f"{kind.name} is not one of this module's kinds") from None

    def count(self, kind: RecordKind, flt: Filter | None = None) -> int:
        """How many records of `kind` match `flt` (all of them without one)."""
        table = self.table(kind)
        where, params = _where(flt)
        return self.db.execute(f"SELECT count(*) FROM {table.source}{where}", params).fetchone()[0]

    # ------------------------------------------------------------------ records
    def records(
        self,
        kind: RecordKind,
        flt: Filter,
        *,
        sort: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> RecordPage:
        table = self.table(kind)
        limit = check_limit(limit)
        order = _Order(table, sort)
        digest = query_digest({"kind": kind.name, "filter": flt.text(), "sort": sort})
        position = decode_cursor(cursor, digest, self.cursor_capture)
        after = order.after(_check_position(position)) if position is not None else ("", [])
        where, params = _where(flt, after)
        total = self.count(kind, flt)
        rows = self.db.execute(
            f"SELECT {', '.join(table.columns)}, {order.key_columns} FROM {table.source}"
            f"{where} ORDER BY {order.order_by} LIMIT ?",
            [*params, limit + 1],
        ).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        width = len(table.columns)
        items = [self._split_aware_record(table, row[:width]) for row in rows]
        cursors = [encode_cursor(list(row[width:]), digest, self.cursor_capture) for row in rows]
        shown = echoed_filter(flt.text(), self.budget)
        page = RecordPage(kind=kind.name, filter=shown, sort=sort, total=total, items=[])
        cursor_room = max(map(len, cursors), default=0) + ENVELOPE_SLACK
        envelope = json_size(page.model_dump(mode="json")) + cursor_room
        kept, cut = _fit(items, self.budget, envelope)
        page.items = kept
        page.truncated = cut
        if kept and (more or len(kept) < len(items)):
            page.next_cursor = cursors[len(kept) - 1]
        return page

    def iter_records(
        self, kind: RecordKind, flt: Filter, *, sort: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every matching record in sort order, one row at a time (memory stays flat)."""
        table = self.table(kind)
        order = _Order(table, sort)
        where, params = _where(flt)
        rows = self.db.execute(
            f"SELECT {', '.join(table.columns)} FROM {table.source}{where} "
            f"ORDER BY {order.order_by}",
            params,
        )
        return (self._split_aware_record(table, row) for row in rows)

    def record(self, kind: RecordKind, record_id: str) -> dict[str, Any]:
        table = self.table(kind)
        try:
            key = table.parse_id(record_id)
        except (TypeError, ValueError, OverflowError):
            key = None
        row = None
        if key is not None:
            row = self.db.execute(
                f"SELECT {', '.join(table.columns)} FROM {table.source} "
                f"WHERE {table.id_column} = ?",
                (key,),
            ).fetchone()
        if row is None:
            raise NotFoundError(f"{kind.name} has no record with id {str(record_id)[:60]!r}")
        return self._split_aware_record(table, row)

    def _split_aware_record(self, table: KindTable, row: tuple) -> dict[str, Any]:
        """`to_record`, its `uid` taken to the connection open at its time when the flow is
        several connections (see `flowsplits`: a module may make the uid from the ends)."""
        record = table.to_record(row)
        if self._splits is None:
            self._splits = FlowSplits(self.db)
        if self._splits and "uid" in record:
            record["uid"] = self._splits.uid_at(record["uid"], record.get("ts"))
        return record

    # ------------------------------------------------------------------ rankings
    def top(
        self,
        kind: RecordKind,
        flt: Filter,
        *,
        by: str | None = None,
        weight: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Ranking:
        table = self.table(kind)
        spec = kind.rank_spec(by)
        weight = kind.check_weight(spec, weight)
        limit = check_limit(limit, default=TOP_DEFAULT)
        column = _rank_column(table, spec.name)
        digest = query_digest(
            {"kind": kind.name, "filter": flt.text(), "by": spec.name, "weight": weight}
        )
        offset = _check_offset(decode_cursor(cursor, digest, self.cursor_capture))
        total_weight = "count(*)" if weight == "count" else f"sum({_weight(table, weight)})"
        where, params = _where(flt, (f"({column.expr}) IS NOT NULL", []))
        grouped = (
            f"SELECT ({column.expr}) AS k, {total_weight} AS n FROM {table.source}{where} "
            "GROUP BY k"
        )
        distinct, total = self.db.execute(
            f"SELECT count(*), coalesce(sum(n), 0) FROM ({grouped})", params
        ).fetchone()
        rows = self.db.execute(
            f"{grouped} ORDER BY n DESC, k ASC LIMIT ? OFFSET ?", [*params, limit, offset]
        ).fetchall()
        items = [{"key": column.label(key), "count": n or 0} for key, n in rows]
        ranking = Ranking(
            by=spec.name,
            counts=f"{kind.name} records" if weight == "count" else weight,
            total_distinct=distinct,
            items=[],
            others=0,
        )
        room = len(encode_cursor([offset + limit], digest, self.cursor_capture)) + ENVELOPE_SLACK
        envelope = json_size(ranking.model_dump(mode="json")) + room
        kept, cut = _fit(items, self.budget, envelope)
        ranking.items = [RankingItem(**item) for item in kept]
        ranking.others = total - sum(item["count"] for item in kept)
        ranking.truncated = cut
        if offset + len(kept) < distinct:
            ranking.next_cursor = encode_cursor([offset + len(kept)], digest, self.cursor_capture)
        return ranking


class _Order:
    """A sort as SQL: nulls last, ties broken by the id in the sort's direction."""

    def __init__(self, table: KindTable, sort: str | None) -> None:
        self.desc = bool(sort) and sort.startswith("-")
        name = sort.lstrip("-") if sort else None
        if name is None:
            self.expr = table.id_column
        elif name in table.sorts:
            self.expr = table.sorts[name]
        else:
            raise BadArgumentError(f"{table.kind} cannot be sorted by {sort!r} here")
        self.id = table.id_column
        direction = "DESC" if self.desc else "ASC"
        self.key_columns = f"({self.expr}) IS NULL, {self.expr}, {self.id}"
        self.order_by = f"({self.expr}) IS NULL, {self.expr} {direction}, {self.id} {direction}"

    def after(self, position: list[Any]) -> tuple[str, list[Any]]:
        """The condition for rows after `position` ([is null, value, id]) in this order."""
        is_null, value, row_id = position
        op = "<" if self.desc else ">"
        if is_null:
            return f"(({self.expr}) IS NULL AND {self.id} {op} ?)", [row_id]
        return (
            f"(({self.expr}) IS NULL OR ({self.expr}, {self.id}) {op} (?, ?))",
            [value, row_id],
        )


def _where(flt: Filter | None, *extra: tuple[str, list[Any]]) -> tuple[str, list[Any]]:
    """` WHERE ...` (or '') for the filter and extra conditions, with their parameters in order."""
    sql, params = compile_sql(flt) if flt else ("", [])
    parts = [sql] if sql else []
    for condition, values in extra:
        if condition:
            parts.append(condition)
            params = [*params, *values]
    return (" WHERE " + " AND ".join(parts) if parts else ""), params


def _fit(items: list[dict], budget: int, envelope: int) -> tuple[list[dict], bool]:
    """`fit_items`, except that a page always shows its first item, so paging moves on."""
    kept, cut = fit_items(items, budget, envelope)
    if not kept and items:
        return items[:1], True
    return kept, cut


def _check_position(position: Any) -> list[Any]:
    """A records cursor's [is null, sort value, id], of the types this module gives out."""
    if not isinstance(position, list) or len(position) != 3:
        raise BadArgumentError(BAD_CURSOR)
    is_null, value, row_id = position
    value_ok = value is None if is_null == 1 else _is_scalar(value)
    if is_null not in (0, 1) or isinstance(is_null, bool) or not value_ok:
        raise BadArgumentError(BAD_CURSOR)
    if not _is_scalar(row_id):
        raise BadArgumentError(BAD_CURSOR)
    return position


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (int, float, str)) and not isinstance(value, bool)


def _check_offset(position: Any) -> int:
    if position is None:
        return 0
    if (
        not isinstance(position, list)
        or len(position) != 1
        or not isinstance(position[0], int)
        or isinstance(position[0], bool)
        or position[0] < 0
    ):
        raise BadArgumentError(BAD_CURSOR)
    return position[0]


def _rank_column(table: KindTable, by: str) -> RankColumn:
    column = table.rank.get(by)
    if column is None:
        raise BadArgumentError(f"{table.kind} cannot be ranked by {by!r} here")
    return column if isinstance(column, RankColumn) else RankColumn(column)


def _weight(table: KindTable, weight: str) -> str:
    if weight not in table.weights:
        raise BadArgumentError(f"{table.kind} cannot be weighted by {weight!r} here")
    return table.weights[weight]


# ---------------------------------------------------------------------- filter helpers
def _network(text: str) -> str:
    return str(ipaddress.ip_network(str(text).strip(), strict=False))


def address_filter(name: str, column: str, description: str) -> FilterSpec:
    """`client:10.0.0.1` or `client:10.0.0.0/8`: an address column in an address or network."""
    return FilterSpec(
        name,
        description + " (an address or a network such as 10.0.0.0/8)",
        sql=f"{ADDRESS_FUNCTION}({column}, ?)",
        parse=_network,
        example=f"{name}:192.0.2.0/24",
    )


def number_filter(
    name: str, column: str, description: str, *, integer: bool = False, example: str = ""
) -> FilterSpec:
    """`stratum:2`, `stratum>=3`, `offset<-0.5`: a number, equal or compared."""
    return FilterSpec(
        name,
        description,
        sql=f"{column} = ?",
        parse=sql_integer if integer else float,
        column=column,
        ordered=True,
        type="integer" if integer else "number",
        example=example or f"{name}>1",
    )


FLAG_WORDS = {"true": 1, "yes": 1, "1": 1, "false": 0, "no": 0, "0": 0}


def _flag(text: str) -> int:
    value = FLAG_WORDS.get(str(text).strip().lower())
    if value is None:
        raise ValueError(text)
    return value


def flag_filter(name: str, column: str, description: str) -> FilterSpec:
    """`answered:false`: a 0/1 column."""
    return FilterSpec(
        name,
        description,
        sql=f"{column} = ?",
        parse=_flag,
        choices=("true", "false"),
        type="boolean",
        example=f"{name}:true",
    )


def text_filter(
    name: str, column: str, description: str, *, choices: tuple[str, ...] = (), example: str = ""
) -> FilterSpec:
    """`mode:server`: a text column equal to the value (one of `choices` when there are any)."""

    def parse(text: str) -> str:
        if choices and text not in choices:
            raise ValueError(text)
        return text

    return FilterSpec(
        name,
        description,
        sql=f"{column} = ?",
        parse=parse,
        choices=choices,
        example=example or f"{name}:{choices[0] if choices else 'value'}",
    )
