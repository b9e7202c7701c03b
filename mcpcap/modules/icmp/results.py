"""What faces ask of a finished ICMP analysis: records and rankings from the table, and the
summary (types and codes, echo pairs, unreachables, traceroutes, redirects, neighbours)."""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from itertools import islice
from typing import Any

from mcpcap.core.filtering import Filter
from mcpcap.core.models import Ranking
from mcpcap.core.modules.kinds import RecordKind, RecordPage
from mcpcap.core.modules.malformed_kind import malformed_table
from mcpcap.core.modules.tables import TableResults
from mcpcap.core.timefmt import iso_time
from mcpcap.core.timeline import bucket_columns
from mcpcap.modules.icmp.connections import ConnUids
from mcpcap.modules.icmp.kinds import TABLE
from mcpcap.modules.icmp.models import (
    EchoDestination,
    EchoSummary,
    IcmpSummary,
    IcmpTimeline,
    Neighbour,
    Redirect,
    Traceroute,
    TypeCount,
    Unreachable,
)

MAX_HOPS = 64
CHECKED_TOGETHER = 500  # records of a stream whose quoted uids are asked of conn at once
NO_UID = ""  # a quoted_uid filter value conn does not know becomes this, which no row holds
MAX_SENDERS = 10
UNKNOWN = "unknown"  # an unreachable whose quoted header cannot be read
TIME_EXCEEDED = "(type = 11 AND transport = 'icmp') OR (type = 3 AND transport = 'icmpv6')"
UNREACHABLE = "(type = 3 AND transport = 'icmp') OR (type = 1 AND transport = 'icmpv6')"
REDIRECT = "(type = 5 AND transport = 'icmp') OR (type = 137 AND transport = 'icmpv6')"
# who a neighbour discovery message speaks for: NA and redirect name their target
ND_ADDRESS = "CASE WHEN type IN (136, 137) THEN nd_target ELSE src END"
ND_ROWS = (
    f"SELECT {ND_ADDRESS} AS address, lladdr, ts FROM icmp_messages WHERE transport = 'icmpv6' "
    "AND type IN (133, 134, 135, 136, 137) AND lladdr IS NOT NULL AND src != '::'"
)


def _nearest_rank(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    return values[max(0, math.ceil(fraction * len(values)) - 1)]


class IcmpResults(TableResults):
    def __init__(self, db: sqlite3.Connection, counts: Any, capture: dict[str, Any], settings):
        super().__init__(db, [TABLE, malformed_table("icmp")], settings.max_reply_chars)
        self._counts = counts
        self._settings = settings
        self._conn_uids = ConnUids(db, capture, settings)  # now: see `ConnUids`

    # ------------------------------------------------------------------ records
    # `quoted.uid` is the conn connection the error refers to: null when conn was scanned and
    # has no such connection; the quoted_uid filter agrees with what the records show.
    def records(
        self,
        kind: RecordKind,
        flt: Filter,
        *,
        sort: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> RecordPage:
        flt = self._conn_filter(flt)
        page = super().records(kind, flt, sort=sort, limit=limit, cursor=cursor)
        self._check_quoted(page.items)
        return page

    def iter_records(
        self, kind: RecordKind, flt: Filter, *, sort: str | None = None
    ) -> Iterator[dict[str, Any]]:
        rows = super().iter_records(kind, self._conn_filter(flt), sort=sort)  # checks now
        return self._checked_stream(rows)

    def _checked_stream(self, rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        while chunk := list(islice(rows, CHECKED_TOGETHER)):
            self._check_quoted(chunk)
            yield from chunk

    def record(self, kind: RecordKind, record_id: str) -> dict[str, Any]:
        found = super().record(kind, record_id)
        self._check_quoted([found])
        return found

    def count(self, kind: RecordKind, flt: Filter | None = None) -> int:
        return super().count(kind, self._conn_filter(flt) if flt else flt)

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
        flt = self._conn_filter(flt)
        return super().top(kind, flt, by=by, weight=weight, limit=limit, cursor=cursor)

    def _check_quoted(self, records: list[dict[str, Any]]) -> None:
        """Null each quoted uid that names no conn connection (nothing without conn)."""
        quoted = [r["quoted"] for r in records if r.get("quoted") and r["quoted"].get("uid")]
        known = self._conn_uids.known(q["uid"] for q in quoted) if quoted else None
        if known is None:
            return
        for flow in quoted:
            if flow["uid"] not in known:
                flow["uid"] = None

    def _conn_filter(self, flt: Filter) -> Filter:
        """`flt` with each quoted_uid value conn does not know replaced by one no row holds
        (its written text, and so its cursors, unchanged)."""
        asked = [c for c in flt.conditions if c.field == "quoted_uid"]
        known = self._conn_uids.known(v for c in asked for v in c.values) if asked else None
        if known is None:
            return flt
        conditions = tuple(
            replace(c, values=tuple(v if v in known else NO_UID for v in c.values))
            if c.field == "quoted_uid" else c
            for c in flt.conditions
        )  # fmt: skip
        return replace(flt, conditions=conditions)

    def summary(self, top_n: int | None = None) -> IcmpSummary:
        top_n = self._settings.top_n if top_n is None else top_n
        detail = getattr(self._counts, "detail", None) or {}
        neighbours, duplicates = self._neighbours(top_n)
        messages, errors = self.db.execute(
            "SELECT count(*), coalesce(sum(error), 0) FROM icmp_messages"
        ).fetchone()
        return IcmpSummary(
            messages=messages,
            errors=errors,
            malformed=dict(detail.get("malformed", {})),
            by_type=self._by_type(top_n),
            echo=self._echo(top_n),
            unreachables=self._unreachables(top_n),
            traceroutes=self._traceroutes(top_n),
            redirects=self._redirects(top_n),
            neighbours=neighbours,
            neighbour_duplicates=duplicates,
            timeline=self._timeline(),
        )

    def _by_type(self, top_n: int) -> list[TypeCount]:
        """The commonest (transport, type, code) combinations, twice the top length."""
        rows = self.db.execute(
            "SELECT transport, type, type_name, code, code_name, count(*) FROM icmp_messages "
            "GROUP BY transport, type, code ORDER BY 6 DESC, 1, 2, 4 LIMIT ?",
            (2 * top_n,),
        ).fetchall()
        return [
            TypeCount(transport=t, type=k, type_name=kn, code=c, code_name=cn, count=n)
            for t, k, kn, c, cn, n in rows
        ]

    def _echo(self, top_n: int) -> EchoSummary:
        db = self.db
        requests, answered = db.execute(
            "SELECT count(*), count(reply_frame) FROM icmp_messages WHERE echo = 1"
        ).fetchone()
        replies, unsolicited = db.execute(
            "SELECT count(*), coalesce(sum(request_frame IS NULL), 0) FROM icmp_messages "
            "WHERE (transport = 'icmp' AND type IN (0, 14, 16, 18, 43)) "
            "OR (transport = 'icmpv6' AND type IN (129, 161))"
        ).fetchone()
        busiest = db.execute(
            "SELECT dst, count(*), count(reply_frame) FROM icmp_messages WHERE echo = 1 "
            "GROUP BY dst ORDER BY 2 DESC, 1 LIMIT ?",
            (top_n,),
        ).fetchall()
        # every busiest destination's round trips in one pass over the table, not one each
        rtts_of: dict[str, list[float]] = {dst: [] for dst, _, _ in busiest}
        for dst, rtt in db.execute(
            "SELECT dst, rtt FROM icmp_messages WHERE echo = 1 AND rtt IS NOT NULL "
            "AND dst IN (SELECT value FROM json_each(?)) ORDER BY dst, rtt",
            (json.dumps(list(rtts_of)),),
        ):
            rtts_of[dst].append(rtt)
        destinations = []
        for dst, sent, got in busiest:
            rtts = rtts_of[dst]
            destinations.append(
                EchoDestination(dst=dst, requests=sent, answered=got, lost=sent - got,
                                rtt_p50=_nearest_rank(rtts, 0.5), rtt_p90=_nearest_rank(rtts, 0.9),
                                rtt_max=rtts[-1] if rtts else None)
            )  # fmt: skip
        return EchoSummary(
            requests=requests,
            replies=replies,
            answered=answered,
            lost=requests - answered,
            unsolicited_replies=unsolicited,
            destinations=destinations,
        )

    def _unreachables(self, top_n: int) -> list[Unreachable]:
        rows = self.db.execute(
            f"SELECT coalesce(q_dst, '{UNKNOWN}'), code_name, count(*), group_concat(DISTINCT src) "
            f"FROM icmp_messages WHERE {UNREACHABLE} GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT ?",
            (top_n,),
        ).fetchall()
        return [
            Unreachable(dst=d, code_name=c, count=n, senders=sorted(s.split(","))[:MAX_SENDERS])
            for d, c, n, s in rows
        ]

    def _traceroutes(self, top_n: int) -> list[Traceroute]:
        """Per probing flow (quoted source, destination, transport), the routers in order. A
        quote cut short inside its IP header names its source only: its destination (and a
        transport it does not name) are `unknown`, as an unreachable's are."""
        flow = f"q_src, coalesce(q_dst, '{UNKNOWN}'), coalesce(q_transport, '{UNKNOWN}')"
        flows = self.db.execute(
            f"SELECT {flow}, min(ts) FROM icmp_messages "
            f"WHERE ({TIME_EXCEEDED}) AND code = 0 AND q_src IS NOT NULL "
            "GROUP BY 1, 2, 3 ORDER BY 4, 1, 2 LIMIT ?",
            (top_n,),
        ).fetchall()
        out = []
        for src, dst, transport, _ in flows:
            hops = self.db.execute(
                "SELECT src, min(ts) FROM icmp_messages "
                f"WHERE ({TIME_EXCEEDED}) AND code = 0 AND ({flow}) = (?, ?, ?) "
                "GROUP BY src ORDER BY 2, 1 LIMIT ?",
                (src, dst, transport, MAX_HOPS),
            ).fetchall()
            out.append(Traceroute(src=src, dst=dst, transport=transport, hops=[h for h, _ in hops]))
        return out

    def _redirects(self, top_n: int) -> list[Redirect]:
        """An ICMPv6 redirect names its destination (RFC 4861 4.5); an ICMPv4 one only quotes
        a packet that went there."""
        rows = self.db.execute(
            "SELECT src, dst, coalesce(gateway, nd_target), "
            "coalesce(json_extract(extra, '$.destination'), q_dst), count(*) "
            f"FROM icmp_messages WHERE {REDIRECT} GROUP BY 1, 2, 3, 4 "
            "ORDER BY 5 DESC, 1, 2 LIMIT ?",
            (top_n,),
        ).fetchall()
        return [
            Redirect(router=r, host=h, target=t, destination=d, count=n) for r, h, t, d, n in rows
        ]

    def _neighbours(self, top_n: int) -> tuple[list[Neighbour], list[str]]:
        rows = self.db.execute(
            f"SELECT address, lladdr, min(ts), count(*) FROM ({ND_ROWS}) "
            "GROUP BY address, lladdr ORDER BY 3, 1 LIMIT ?",
            (top_n,),
        ).fetchall()
        duplicates = self.db.execute(
            f"SELECT address FROM ({ND_ROWS}) GROUP BY address "
            "HAVING count(DISTINCT lladdr) > 1 ORDER BY 1 LIMIT ?",
            (top_n,),
        ).fetchall()
        neighbours = [
            Neighbour(address=a, lladdr=lladdr, first_time=iso_time(ts), messages=n)
            for a, lladdr, ts, n in rows
        ]
        return neighbours, [address for (address,) in duplicates]

    def _timeline(self) -> IcmpTimeline:
        found = bucket_columns(self.db, "icmp_messages", "count(*), sum(error)", 2)
        if found is None:
            return IcmpTimeline(start=None, start_time=None, interval=1.0, messages=[], errors=[])
        base, interval, columns = found
        return IcmpTimeline(
            start=base, start_time=iso_time(base), interval=interval,
            messages=columns[0], errors=columns[1],
        )  # fmt: skip
