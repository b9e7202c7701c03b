"""Questions asked of a finished DNS analysis: transaction pages, rankings, single messages.

Everything here is SQL over the result store, so the answer for a million-row capture costs what
the page costs: a page either walks its sort order along an index or ranks the matching rows
(whichever reads fewer, see `_page_rows`), and its `total` is an exact count taken where it is
cheapest (see `_Query`). Results are cut to the reply budget here, not in a face, so every face
gives the same page for the same arguments.
"""

from __future__ import annotations

import heapq
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

from mcpcap.core.errors import BadArgumentError, NotFoundError
from mcpcap.core.export import connection_uid
from mcpcap.core.flowsplits import FlowSplits, splits_of
from mcpcap.core.indexes import present_indexes
from mcpcap.core.models import Ranking, RankingItem
from mcpcap.core.paging import (
    capture_identity,
    check_limit,
    decode_cursor,
    encode_cursor,
    fit_items,
    fit_page,
    json_size,
    query_digest,
)
from mcpcap.core.timefmt import iso_time
from mcpcap.core.wording import quoted
from mcpcap.modules.dns.filters import TransactionFilter, filter_sql, filter_terms
from mcpcap.modules.dns.message_filters import MessageRow
from mcpcap.modules.dns.models import DnsMessage, DnsTransaction, TransactionPage
from mcpcap.modules.dns.registry import class_name, rcode_name, type_name
from mcpcap.modules.dns.store_schema import chunk_rows, unpack_list

SORTS = {  # name -> (SQL expression, descending)
    "ts": ("t.ts", False),
    "-ts": ("t.ts", True),
    "rtt": ("COALESCE(t.rtt, 1e300)", False),
    "-rtt": ("COALESCE(t.rtt, -1.0)", True),
    "qname": ("COALESCE(t.qname, '')", False),
}
DEFAULT_SORT = "ts"
# sort name -> (column, the key a NULL sorts as); ORDER BY the bare column lets its index serve
SORT_COLUMNS = {
    "ts": ("t.ts", None),
    "-ts": ("t.ts", None),
    "rtt": ("t.rtt", 1e300),
    "-rtt": ("t.rtt", -1.0),
    "qname": ("t.qname", ""),
}
RANK_BY = ("qname", "registered_domain", "client", "server", "qtype", "rcode", "answer")
TX_COLUMNS = (
    "t.id, t.ts, t.query_frame, t.response_frame, t.client, t.client_port, t.server, "
    "t.server_port, t.transport, t.protocol, t.trans_id, t.rtt, t.query, t.qclass, t.qtype, "
    "t.rcode, t.aa, t.tc, t.rd, t.ra, t.z, t.answers, t.ttls, t.rejected, t.answered, "
    "t.retransmissions"
)
PAGE_ENVELOPE = 160  # characters of a page around its items


def check_sort(sort: str | None) -> str:
    sort = sort or DEFAULT_SORT
    if sort not in SORTS:
        raise BadArgumentError(f"sort must be one of {', '.join(SORTS)}, not {quoted(sort)}")
    return sort


def where_clause(
    db: sqlite3.Connection, flt: TransactionFilter, extra: str = ""
) -> tuple[str, list[Any]]:
    """` WHERE ...` for the filter (and an optional extra condition), or ''."""
    clause, params = filter_sql(flt, db)
    parts = [p for p in (clause, extra) if p]
    return (" WHERE " + " AND ".join(parts) if parts else ""), params


def transaction_record(row: tuple, splits: FlowSplits | None = None) -> dict[str, Any]:
    """A store row as the transaction record (the JSON contract, Zeek dns.log meanings)."""
    (
        _id,
        ts,
        qf,
        rf,
        client,
        cport,
        server,
        sport,
        transport,
        protocol,
        trans_id,
        rtt,
        query,
        qclass,
        qtype,
        rcode,
        aa,
        tc,
        rd,
        ra,
        z,
        answers,
        ttls,
        rejected,
        answered,
        retrans,
    ) = row
    record = {
        "id": _id,
        "ts": round(ts, 6),
        "time": iso_time(ts),
        "uid": None,
        "query_frame": qf,
        "response_frame": rf,
        "client": client,
        "client_port": cport,
        "server": server,
        "server_port": sport,
        "transport": transport,
        "protocol": protocol,
        "trans_id": trans_id,
        "rtt": rtt,
        "query": query,
        "qclass": qclass,
        "qclass_name": None if qclass is None else class_name(qclass),
        "qtype": qtype,
        "qtype_name": None if qtype is None else type_name(qtype),
        "rcode": rcode,
        "rcode_name": None if rcode is None else rcode_name(rcode),
        "aa": _bool(aa),
        "tc": _bool(tc),
        "rd": _bool(rd),
        "ra": _bool(ra),
        "z": z,
        "answers": None if answers is None else unpack_list(answers),
        "ttls": None if ttls is None else [int(ttl) for ttl in unpack_list(ttls)],
        "rejected": _bool(rejected),
        "answered": bool(answered),
        "retransmissions": retrans,
    }
    record["uid"] = connection_uid(record)
    if splits:  # the flow is several connections (`flowsplits`): the one open at its time
        record["uid"] = splits.uid_at(record["uid"], ts)
    return record


def transaction_by_id(db: sqlite3.Connection, record_id: str) -> dict[str, Any]:
    """One transaction record by its id; a missing one is one sentence."""
    try:
        number = int(record_id)
    except ValueError:
        number = -1
    row = None
    if 1 <= number <= MAX_FRAME:
        row = db.execute(f"SELECT {TX_COLUMNS} FROM dns_transactions t WHERE t.id = ?", (number,))
        row = row.fetchone()
    if row is None:
        raise NotFoundError(f"dns.transactions has no record with id {quoted(record_id)}")
    return transaction_record(row, splits_of(db))


def _bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


# ---------------------------------------------------------------------------- pages
# How a page is found (the store has no statistics, so SQLite alone cannot know which of these
# is cheap). Costs at 1M packets (152k transactions): a table scan 35-50 ms, a scan of the
# narrow filter index 10-15 ms, a row looked up from an index 1-2 µs, a range of an index 30 ns
# a row.
FILTER_INDEX = "dns_tx_filters"  # see store_schema: it starts with ts, so a time range is its own
DRIVERS = {  # filter -> the index that finds its rows without reading the table
    "qname": "dns_tx_qname",
    "qname_suffix": "dns_tx_qname",
    "qname_contains": "dns_tx_qname",
    "min_rtt": "dns_tx_rtt",
    "answer": "dns_a_value",
}
DENSE = 8  # a filter keeping 1 row in DENSE or more: walk the sort order, matches come soon
# In time order a walk is cheap anyway (ts follows the row ids, so its look-ups are near each
# other; the filter index tests rows without any): rank only when an index finds at most FEW.
FEW = 2000
# an indexed condition keeping under 1 row in this many finds the rows (each then costs a table
# look-up) rather than a scan of the filter index
DRIVE_BELOW = 32
Terms = list[tuple[str, str, list[Any]]]


class _Query:
    """One filter over one store: its SQL terms and what they cost to count."""

    def __init__(self, db: sqlite3.Connection, flt: TransactionFilter) -> None:
        self.db = db
        self.terms = filter_terms(flt, db)  # to test rows that are read anyway
        self.index_terms = filter_terms(flt, db, names=True)  # to find rows through an index
        # for choosing plans only: ids are numbered from 1, so this is the row count or more
        self.rows = db.execute("SELECT COALESCE(max(id), 0) FROM dns_transactions").fetchone()[0]
        # a store that could not be written since its scan has none (`mcpcap.core.indexes`)
        self.indexes = present_indexes(db)
        self._driver: tuple[int, str] | None = None

    def along(self, index: str) -> str:
        """How to read the table in `index`'s order: through it, or (no such index) as SQLite
        sees fit."""
        return f"INDEXED BY {index}" if index in self.indexes else ""

    def where(self, *extra: tuple[str, list[Any]], access: str = "") -> tuple[str, list[Any]]:
        """` WHERE ...` of the filter and `extra` conditions, for rows reached by `access`."""
        terms = self.index_terms if access == QNAME_ACCESS else self.terms
        parts = [(sql, params) for _, sql, params in terms] + [e for e in extra if e[0]]
        clause = " WHERE " + " AND ".join(sql for sql, _ in parts) if parts else ""
        return clause, [p for _, params in parts for p in params]

    def groups(self) -> dict[str | None, Terms]:
        """The terms by the index that can find their rows (None: no index can)."""
        groups: dict[str | None, Terms] = {}
        for term in self.index_terms:
            index = DRIVERS.get(term[0])
            groups.setdefault(index if index in self.indexes else None, []).append(term)
        return groups

    def driver(self) -> tuple[int, str]:
        """(rows, access) of the cheapest way to the matching rows: through the index of the
        most selective indexed condition when it keeps few enough rows that looking each up
        costs less than a scan, else a scan. Each candidate is counted only up to that bound."""
        if self._driver is None:
            bound = self.rows // DRIVE_BELOW
            # no index finds them: scan the filter index (every filter column and sort key, see
            # store_schema, so a scan never reads the table)
            best = (self.rows, self.along(FILTER_INDEX))
            for index, terms in self.groups().items():
                if index is not None:
                    rows = count_terms(self.db, index, terms, bound + 1)
                    if rows <= bound and rows < best[0]:
                        best = (rows, _access(index))
            self._driver = best
        return self._driver

    def count(self) -> int:
        groups = self.groups()
        if not self.terms:
            return self.db.execute("SELECT count(*) FROM dns_transactions").fetchone()[0]
        if len(groups) == 1 and None not in groups:  # one index answers on its own
            ((index, terms),) = groups.items()
            return count_terms(self.db, index, terms)
        access = self.driver()[1]
        where, params = self.where(access=access)
        sql = f"SELECT count(*) FROM dns_transactions t {access}{where}"
        return self.db.execute(sql, params).fetchone()[0]


def _access(index: str) -> str:
    # the answer index is reached through `t.id IN (...)`: rows by id, no index on t
    return "NOT INDEXED" if index == "dns_a_value" else f"INDEXED BY {index}"


QNAME_ACCESS = _access("dns_tx_qname")


def count_terms(db: sqlite3.Connection, index: str, terms: Terms, bound: int | None = None) -> int:
    """Rows matching `terms` (all served by `index`), counted within the index; at most `bound`."""
    params = [p for _, _, ps in terms for p in ps]
    if index == "dns_a_value":  # every answer row belongs to a stored transaction
        select = "SELECT DISTINCT x.tx_id FROM dns_answers x WHERE x.value = ?"
    else:
        where = " AND ".join(sql for _, sql, _ in terms)
        select = f"SELECT 1 FROM dns_transactions t INDEXED BY {index} WHERE {where}"
    if bound is not None:
        select, params = f"{select} LIMIT ?", [*params, bound]
    return db.execute(f"SELECT count(*) FROM ({select})", params).fetchone()[0]


def count_transactions(db: sqlite3.Connection, flt: TransactionFilter) -> int:
    return _Query(db, flt).count()


def iter_transactions(
    db: sqlite3.Connection, flt: TransactionFilter, sort: str | None = None
) -> Iterator[dict[str, Any]]:
    """Every matching transaction in sort order, streamed (for `--records transactions`)."""
    expr, desc = SORTS[check_sort(sort)]
    where, params = where_clause(db, flt)
    order = "DESC" if desc else "ASC"
    sql = (
        f"SELECT {TX_COLUMNS} FROM dns_transactions t{where} ORDER BY {expr} {order}, t.id {order}"
    )
    splits = splits_of(db)
    for row in db.execute(sql, params):
        yield transaction_record(row, splits)


def transactions_page(
    db: sqlite3.Connection,
    flt: TransactionFilter,
    *,
    sort: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
    budget: int,
) -> TransactionPage:
    sort = check_sort(sort)
    limit = check_limit(limit)
    digest = query_digest({"f": flt.model_dump(exclude_none=True), "s": sort})
    capture = capture_identity(db)
    position = decode_cursor(cursor, digest, capture)
    if position is not None:
        position = _check_position(sort, position)
    query = _Query(db, flt)
    total = query.count()
    rows = _page_rows(query, sort, position, limit + 1, total) if total else []
    more = len(rows) > limit
    rows = rows[:limit]
    splits = splits_of(db)
    records = [transaction_record(row[:-1], splits) for row in rows]
    kept, cut = fit_items(records, budget, PAGE_ENVELOPE)
    if not kept and records:  # one record larger than the budget: shorten its answer lists
        kept, cut = [shrink_record(records[0], budget - PAGE_ENVELOPE)], True

    def page(n: int) -> TransactionPage:
        truncated = cut or n < len(kept)
        next_cursor = None
        if n and (more or truncated):
            last = rows[n - 1]
            next_cursor = encode_cursor([last[-1], last[0]], digest, capture)
        return TransactionPage(
            total=total,
            items=[DnsTransaction(**record) for record in kept[:n]],
            next_cursor=next_cursor,
            truncated=truncated,
        )

    return fit_page(page, len(kept), budget)[0]


def _check_position(sort: str, position: list[Any]) -> list[Any]:
    """The cursor's [sort key, id], of the types this sort gives out."""
    key_type = str if sort == "qname" else (int, float)
    if (
        not isinstance(position, list)
        or len(position) != 2
        or not isinstance(position[0], key_type)
        or not isinstance(position[1], int)
    ):
        raise BadArgumentError(
            "cursor is not one mcpcap gave out; pass next_cursor from the previous page unchanged"
        )
    return position


def _page_rows(
    query: _Query, sort: str, position: list[Any] | None, count: int, total: int
) -> list[tuple]:
    """Up to `count` matching rows after `position` in sort order (each ends with its sort key).

    Either walk the sort order and keep what matches (cheap when matches come soon: no filter,
    many matches; or time order, see FEW), or rank every match (found by the most selective
    index, or one scan) and read only the page.
    """
    found_by, access = query.driver()
    dense = total * DENSE >= query.rows
    if not query.terms or dense or (SORT_COLUMNS[sort][0] == "t.ts" and found_by > FEW):
        return _walk(query, sort, position, count)
    expr, desc = SORTS[sort]
    order = "DESC" if desc else "ASC"
    where, params = query.where(_keyset(expr, desc, position), access=access)
    ranked = (
        f"SELECT t.id FROM dns_transactions t {access}{where} "
        f"ORDER BY {expr} {order}, t.id {order} LIMIT ?"
    )
    sql = (
        f"SELECT {TX_COLUMNS}, {expr} FROM dns_transactions t NOT INDEXED WHERE t.id IN ({ranked}) "
        f"ORDER BY {expr} {order}, t.id {order}"
    )
    return query.db.execute(sql, [*params, count]).fetchall()


def _keyset(expr: str, desc: bool, position: list[Any] | None) -> tuple[str, list[Any]]:
    """Rows after `position` ([key, id]) in the order of `expr`, id (a range on a bare column)."""
    if position is None:
        return "", []
    after = "<" if desc else ">"
    key, row_id = position
    return f"{expr} {after}= ? AND ({expr} {after} ? OR t.id {after} ?)", [key, key, row_id]


SORT_INDEXES = {"t.ts": FILTER_INDEX, "t.rtt": "dns_tx_rtt", "t.qname": "dns_tx_qname"}


def _walk(query: _Query, sort: str, position: list[Any] | None, count: int) -> list[tuple]:
    """Matching rows in sort order, read along the sort column's index.

    ORDER BY COALESCE(column, null_key), id cannot use an index; the same order is three
    stretches that can: values before null_key, the rows at it (NULLs among them, by id), and
    values after it.
    """
    expr, desc = SORTS[sort]
    column, null_key = SORT_COLUMNS[sort]
    order, before, after = ("DESC", ">", "<") if desc else ("ASC", "<", ">")
    along = query.along(SORT_INDEXES[column])  # time order: the filter index
    by_value = f"{column} {order}, t.id {order}"
    if null_key is None:
        stretches = [("", [], along, by_value)]
    else:
        stretches = [
            (f"{column} {before} ?", [null_key], along, by_value),
            (f"({column} IS NULL OR {column} = ?)", [null_key], "", f"t.id {order}"),
            (f"{column} {after} ?", [null_key], along, by_value),
        ]
    if position is not None:  # start in the cursor's stretch, after the cursor
        key, row_id = position
        if null_key is None:
            first = 0
        elif key == null_key:
            first = 1
        else:
            first = 0 if (key < null_key) != desc else 2
        stretches = stretches[first:]
        cond, params, access, by = stretches[0]
        resume = (f"t.id {after} ?", [row_id]) if first == 1 else _keyset(column, desc, position)
        cond = f"{cond} AND {resume[0]}" if cond else resume[0]
        stretches[0] = (cond, [*params, *resume[1]], access, by)
    rows: list[tuple] = []
    for cond, params, access, by in stretches:
        where, where_params = query.where((cond, params))
        sql = (
            f"SELECT {TX_COLUMNS}, {expr} FROM dns_transactions t {access}{where} "
            f"ORDER BY {by} LIMIT ?"
        )
        rows += query.db.execute(sql, [*where_params, count - len(rows)]).fetchall()
        if len(rows) >= count:
            break
    return rows


def shrink_record(record: dict[str, Any], budget: int) -> dict[str, Any]:
    """Drop trailing answers (and their TTLs) until the record fits the budget."""
    record = dict(record)
    answers = list(record.get("answers") or [])
    ttls = list(record.get("ttls") or [])
    while answers and json_size(record) > budget:
        answers.pop()
        ttls = ttls[: len(answers)]
        record["answers"], record["ttls"] = answers, ttls
    return record


# ---------------------------------------------------------------------------- rankings
# A ranking sums `n` by key over the matching rows of one or more parts:
# (key, n, FROM ..., a condition of its own).
RankPart = tuple[str, str, str, str]
QUESTIONS_FROM = "dns_extra_questions q JOIN dns_transactions t ON t.id = q.tx_id"
ANSWERS_FROM = "dns_answers a"  # every answer row belongs to a stored transaction
# question rankings: the transaction's column for a query's first question, the side table's
QUESTION_COLUMNS = {
    "qname": ("t.qname", "q.qname"),
    "registered_domain": ("t.domain", "q.domain"),
    "qtype": ("t.qtype", "q.qtype"),
}


def _rank_parts(by: str) -> tuple[list[RankPart], str]:
    """The parts of a ranking, and what its count counts."""
    if by in QUESTION_COLUMNS:
        first, extra = QUESTION_COLUMNS[by]
        query = "t.query_frame IS NOT NULL AND t.qname IS NOT NULL"
        return [
            (first, "1 + t.retransmissions", "dns_transactions t", query),
            (extra, "1", QUESTIONS_FROM, ""),
        ], "questions of query messages (retransmissions included)"
    if by in ("client", "server"):
        query = "t.query_frame IS NOT NULL"
        if by == "server":  # as the summary's servers: a query sent to an mDNS or LLMNR group
            query += " AND t.protocol = 'dns'"  # went to no server, and its responder got none
        return [(f"t.{by}", "1 + t.retransmissions", "dns_transactions t", query)], (
            "query messages" if by == "client" else "query messages sent to it (not to a group)"
        )
    if by == "rcode":
        return [("t.rcode", "1", "dns_transactions t", "t.answered = 1")], "answered transactions"
    return [("a.value", "1", ANSWERS_FROM, "")], "answer records of transactions"


def _grouped(
    db: sqlite3.Connection, flt: TransactionFilter, parts: list[RankPart]
) -> tuple[str, list[Any]]:
    """SELECT k, n: the ranking's keys and sums over the rows matching `flt`, with parameters."""
    selects, params = [], []
    for key, n, source, extra in parts:
        where, where_params = where_clause(db, flt, extra)
        if source == ANSWERS_FROM and where:
            # the narrow answers table, picked by the ids of the matching transactions (joining
            # would look up the transaction of every answer: 0.5 s at 1M packets)
            where = f" WHERE a.tx_id IN (SELECT t.id FROM dns_transactions t{where})"
        if len(parts) == 1:
            total = "count(*)" if n == "1" else f"sum({n})"
            return f"SELECT {key} AS k, {total} AS n FROM {source}{where} GROUP BY k", where_params
        selects.append(f"SELECT {key} AS k, {n} AS n FROM {source}{where}")
        params += where_params
    return f"SELECT k, sum(n) AS n FROM ({' UNION ALL '.join(selects)}) GROUP BY k", params


def ranking(
    db: sqlite3.Connection,
    flt: TransactionFilter,
    *,
    by: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
    budget: int,
) -> Ranking:
    """The keys ranked by count, a page at a time: `next_cursor` continues after the page (cut
    by `limit` or by the budget). A cursor is the offset in the ranking."""
    by = by or "qname"
    if by not in RANK_BY:
        raise BadArgumentError(f"by must be one of {', '.join(RANK_BY)}, not {quoted(by)}")
    limit = check_limit(limit, default=10)
    digest = query_digest({"f": flt.model_dump(exclude_none=True), "by": by})
    capture = capture_identity(db)
    position = decode_cursor(cursor, digest, capture)
    offset = _check_offset(position)
    parts, counts = _rank_parts(by)
    if by in COUNTED and not filter_sql(flt, db)[0]:  # the scan counted these already
        table, column = COUNTED[by]
        grouped, params = f"SELECT {column} AS k, n FROM {table}", []
    else:
        grouped, params = _grouped(db, flt, parts)
    # one pass: the window sums run over every key before the LIMIT keeps the page
    rows = db.execute(
        f"SELECT k, n, count(*) OVER (), sum(n) OVER () FROM ({grouped}) "
        "ORDER BY n DESC, k ASC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    if rows:
        total_distinct, total_count = rows[0][2], rows[0][3]
    else:  # an empty ranking, or a cursor past its end
        found = db.execute(f"SELECT count(*), sum(n) FROM ({grouped})", params).fetchone()
        total_distinct, total_count = found[0], found[1] or 0
    items = [{"key": _rank_key(by, key), "count": n} for key, n, _, _ in rows]
    kept, cut = fit_items(items, budget, PAGE_ENVELOPE)

    def page(n: int) -> Ranking:
        end = offset + n
        return Ranking(
            by=by,
            counts=counts,
            total_distinct=total_distinct,
            items=[RankingItem(**item) for item in kept[:n]],
            others=total_count - sum(item["count"] for item in kept[:n]),
            truncated=cut or n < len(kept),
            next_cursor=encode_cursor([end], digest, capture) if end < total_distinct else None,
        )

    return fit_page(page, len(kept), budget)[0]


def _check_offset(position: list[Any] | None) -> int:
    """A ranking cursor's offset."""
    if position is None:
        return 0
    if (
        not isinstance(position, list)
        or len(position) != 1
        or type(position[0]) is not int
        or position[0] < 0
    ):
        raise BadArgumentError(
            "cursor is not one mcpcap gave out; pass next_cursor from the previous page unchanged"
        )
    return position[0]


# rankings the scan keeps as counted (store_schema): for the whole capture they are read, not made
COUNTED = {
    "qname": ("dns_qname_counts", "qname"),
    "registered_domain": ("dns_domain_counts", "domain"),
    "qtype": ("dns_qtype_counts", "qtype"),
    "client": ("dns_client_counts", "client"),
    "server": ("dns_server_counts", "server"),
}


def _rank_key(by: str, key: Any) -> str:
    if key is None:
        return "(none)"
    if by == "qtype":
        return type_name(key)
    if by == "rcode":
        return rcode_name(key)
    return str(key)


# ---------------------------------------------------------------------------- messages
def message_rows(db: sqlite3.Connection, frame: int) -> list[tuple]:
    """The stored rows (`dns_messages` layout) of the messages in one frame, by index."""
    rows = db.execute("SELECT * FROM dns_messages WHERE frame = ?", (frame,)).fetchall()
    chunk = db.execute(
        "SELECT last_frame, rows FROM dns_message_chunks WHERE first_frame <= ?"
        " ORDER BY first_frame DESC LIMIT 1",
        (frame,),
    ).fetchone()
    if chunk is not None and chunk[0] >= frame:
        rows += [row for row in chunk_rows(chunk[1]) if row[0] == frame]
    return sorted(rows, key=_message_order)


def iter_message_rows(db: sqlite3.Connection, descending: bool = False) -> Iterator[tuple]:
    """Every stored message row in frame order (last first when `descending`), one chunk in
    memory at a time."""
    order = "DESC" if descending else ""
    singles = db.execute(f"SELECT * FROM dns_messages ORDER BY frame {order}, idx {order}")
    chunks = db.execute(f"SELECT rows FROM dns_message_chunks ORDER BY first_frame {order}")
    chunked = (
        row
        for (packed,) in chunks
        for row in (reversed(chunk_rows(packed)) if descending else chunk_rows(packed))
    )
    return heapq.merge(singles, chunked, key=_message_order, reverse=descending)


def _message_order(row: tuple) -> tuple[int, int]:
    return row[0], row[1]


def full_message(
    row: tuple, with_raw: bool = False, splits: FlowSplits | None = None
) -> dict[str, Any]:
    """Decode a stored message (a row as `message_rows` gives it) completely, as its record."""
    from mcpcap.modules.dns.decoder import decode_message
    from mcpcap.modules.dns.records import message_record

    frame, idx, ts, src, sport, dst, dport, transport, protocol, _qr, _id, raw = row
    msg = decode_message(raw, mdns=protocol == "mdns")
    record = message_record(
        msg,
        frame=frame,
        ts=ts,
        src=src,
        sport=sport,
        dst=dst,
        dport=dport,
        transport=transport,
        protocol=protocol,
        index=idx,
    )
    if splits:
        record["uid"] = splits.uid_at(record["uid"], ts)
    if with_raw:
        record["raw_hex"] = raw.hex()
    return record


MAX_FRAME = 2**63 - 1  # the largest integer the store holds


def message_at(db: sqlite3.Connection, frame: int, index: int = 0) -> DnsMessage:
    if not 1 <= frame <= MAX_FRAME:
        raise BadArgumentError(
            f"frame must be a whole number from 1 to {MAX_FRAME}, not {quoted(frame)}"
        )
    if not 0 <= index <= MAX_FRAME:
        raise BadArgumentError(
            f"index must be a whole number from 0 to {MAX_FRAME}, not {quoted(index)}"
        )
    rows = message_rows(db, frame)
    if not rows:
        raise NotFoundError(f"frame {frame} holds no DNS message")
    if not 0 <= index < len(rows):
        raise NotFoundError(
            f"frame {frame} holds {len(rows)} DNS message(s); index must be 0 to {len(rows) - 1}"
        )
    return DnsMessage(**full_message(rows[index], with_raw=True, splits=splits_of(db)))


def iter_messages(
    db: sqlite3.Connection, passes: Callable[[Any], bool] | None = None, descending: bool = False
) -> Iterator[dict[str, Any]]:
    """Every message record in frame order (for `--records messages`), or those that pass."""
    splits = splits_of(db)
    for row in matching_message_rows(db, passes, descending):
        yield full_message(row, splits=splits)


def matching_message_rows(
    db: sqlite3.Connection, passes: Callable[[Any], bool] | None, descending: bool = False
) -> Iterator[tuple]:
    """The stored message rows that pass a `dns.messages` filter's test (every row for None)."""
    rows = iter_message_rows(db, descending)
    if passes is None:
        return rows
    return (row for row in rows if passes(MessageRow(row)))
