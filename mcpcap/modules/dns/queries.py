"""Questions asked of a finished DNS analysis: transaction pages, rankings, single messages.

Everything here is SQL over the result store, so the answer for a million-row capture costs what
the page costs. Results are cut to the reply budget here, not in a face, so every face gives the
same page for the same arguments.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from mcpcap.core.errors import BadArgumentError, NotFoundError
from mcpcap.core.models import Ranking, RankingItem
from mcpcap.core.paging import (
    check_limit,
    decode_cursor,
    encode_cursor,
    fit_items,
    json_size,
    query_digest,
)
from mcpcap.core.timefmt import iso_time
from mcpcap.modules.dns.filters import TransactionFilter, filter_sql
from mcpcap.modules.dns.models import DnsMessage, DnsTransaction, TransactionPage
from mcpcap.modules.dns.registry import class_name, rcode_name, type_name
from mcpcap.modules.dns.store_schema import unpack_list

SORTS = {  # name -> (SQL expression, descending)
    "ts": ("t.ts", False),
    "-ts": ("t.ts", True),
    "rtt": ("COALESCE(t.rtt, 1e300)", False),
    "-rtt": ("COALESCE(t.rtt, -1.0)", True),
    "qname": ("COALESCE(t.qname, '')", False),
}
DEFAULT_SORT = "ts"
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
        raise BadArgumentError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    return sort


def where_clause(
    db: sqlite3.Connection, flt: TransactionFilter, extra: str = ""
) -> tuple[str, list[Any]]:
    """` WHERE ...` for the filter (and an optional extra condition), or ''."""
    clause, params = filter_sql(flt, db)
    parts = [p for p in (clause, extra) if p]
    return (" WHERE " + " AND ".join(parts) if parts else ""), params


def transaction_record(row: tuple) -> dict[str, Any]:
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
    return {
        "ts": round(ts, 6),
        "time": iso_time(ts),
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


def _bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def count_transactions(db: sqlite3.Connection, flt: TransactionFilter) -> int:
    where, params = where_clause(db, flt)
    return db.execute(f"SELECT count(*) FROM dns_transactions t{where}", params).fetchone()[0]


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
    for row in db.execute(sql, params):
        yield transaction_record(row)


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
    expr, desc = SORTS[sort]
    digest = query_digest({"f": flt.model_dump(exclude_none=True), "s": sort})
    position = decode_cursor(cursor, digest)
    keyset = ""
    params_extra: list[Any] = []
    if position is not None:
        op = "<" if desc else ">"
        keyset = f"({expr} {op} ? OR ({expr} = ? AND t.id {op} ?))"
        params_extra = [position[0], position[0], position[1]]
    where, params = where_clause(db, flt, keyset)
    order = "DESC" if desc else "ASC"
    rows = db.execute(
        f"SELECT {TX_COLUMNS}, {expr} FROM dns_transactions t{where} "
        f"ORDER BY {expr} {order}, t.id {order} LIMIT ?",
        [*params, *params_extra, limit + 1],
    ).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    records = [transaction_record(row[:-1]) for row in rows]
    kept, cut = fit_items(records, budget, PAGE_ENVELOPE)
    if not kept and records:  # one record larger than the budget: shorten its answer lists
        kept, cut = [shrink_record(records[0], budget - PAGE_ENVELOPE)], True
    last = rows[len(kept) - 1] if kept else None
    next_cursor = None
    if last is not None and (more or cut):
        next_cursor = encode_cursor([last[-1], last[0]], digest)
    return TransactionPage(
        total=count_transactions(db, flt),
        items=[DnsTransaction(**record) for record in kept],
        next_cursor=next_cursor,
        truncated=cut,
    )


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
def _rank_sql(by: str) -> tuple[str, str, str]:
    """(SELECT key, count ... FROM ..., what the count counts, join clause)."""
    if by in ("qname", "registered_domain", "qtype"):
        column = {"qname": "q.qname", "registered_domain": "q.domain", "qtype": "q.qtype"}[by]
        return (
            f"SELECT {column} AS k, count(*) AS n FROM dns_questions q "
            "JOIN dns_transactions t ON t.id = q.tx_id",
            "questions of query messages (retransmissions included)",
            "",
        )
    if by in ("client", "server"):
        return (
            f"SELECT t.{by} AS k, sum(1 + t.retransmissions) AS n FROM dns_transactions t",
            "query messages",
            "t.query_frame IS NOT NULL",
        )
    if by == "rcode":
        return (
            "SELECT t.rcode AS k, count(*) AS n FROM dns_transactions t",
            "answered transactions",
            "t.answered = 1",
        )
    return (
        "SELECT a.value AS k, count(*) AS n FROM dns_answers a "
        "JOIN dns_transactions t ON t.id = a.tx_id",
        "answer records of transactions",
        "",
    )


def ranking(
    db: sqlite3.Connection,
    flt: TransactionFilter,
    *,
    by: str | None = None,
    limit: int | None = None,
    budget: int,
) -> Ranking:
    by = by or "qname"
    if by not in RANK_BY:
        raise BadArgumentError(f"by must be one of {', '.join(RANK_BY)}, not {by!r}")
    limit = check_limit(limit, default=10)
    select, counts, extra = _rank_sql(by)
    where, params = where_clause(db, flt, extra)
    grouped = f"{select}{where} GROUP BY k"
    total_distinct, total_count = db.execute(
        f"SELECT count(*), COALESCE(sum(n), 0) FROM ({grouped})", params
    ).fetchone()
    rows = db.execute(f"{grouped} ORDER BY n DESC, k ASC LIMIT ?", [*params, limit]).fetchall()
    items = [{"key": _rank_key(by, key), "count": n} for key, n in rows]
    kept, cut = fit_items(items, budget, PAGE_ENVELOPE)
    return Ranking(
        by=by,
        counts=counts,
        total_distinct=total_distinct,
        items=[RankingItem(**item) for item in kept],
        others=total_count - sum(item["count"] for item in kept),
        truncated=cut,
    )


def _rank_key(by: str, key: Any) -> str:
    if key is None:
        return "(none)"
    if by == "qtype":
        return type_name(key)
    if by == "rcode":
        return rcode_name(key)
    return str(key)


# ---------------------------------------------------------------------------- messages
MESSAGE_COLUMNS = "frame, idx, ts, src, sport, dst, dport, transport, protocol, raw"


def full_message(row: tuple, with_raw: bool = False) -> dict[str, Any]:
    """Decode a stored message completely, as its JSON record."""
    from mcpcap.modules.dns.decoder import decode_message
    from mcpcap.modules.dns.records import message_record

    frame, idx, ts, src, sport, dst, dport, transport, protocol, raw = row
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
    if with_raw:
        record["raw_hex"] = raw.hex()
    return record


def message_at(db: sqlite3.Connection, frame: int, index: int = 0) -> DnsMessage:
    rows = db.execute(
        f"SELECT {MESSAGE_COLUMNS} FROM dns_messages WHERE frame = ? ORDER BY idx", (frame,)
    ).fetchall()
    if not rows:
        raise NotFoundError(f"frame {frame} holds no DNS message")
    if not 0 <= index < len(rows):
        raise NotFoundError(
            f"frame {frame} holds {len(rows)} DNS message(s); index must be 0 to {len(rows) - 1}"
        )
    return DnsMessage(**full_message(rows[index], with_raw=True))


def iter_messages(db: sqlite3.Connection) -> Iterator[dict[str, Any]]:
    """Every message record in frame order (for `--records messages`)."""
    for row in db.execute(f"SELECT {MESSAGE_COLUMNS} FROM dns_messages ORDER BY frame, idx"):
        yield full_message(row)
