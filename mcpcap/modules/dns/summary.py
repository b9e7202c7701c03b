"""The DNS summary: scan counters plus what the store answers (rankings, latency, timeline)."""

from __future__ import annotations

import math
import sqlite3
from typing import Any

from mcpcap.core.models import NameCount, Ranking
from mcpcap.core.timefmt import iso_time
from mcpcap.core.timeline import choose_interval
from mcpcap.modules.dns.filters import TransactionFilter
from mcpcap.modules.dns.models import (
    DnsSummary,
    Endpoint,
    Latency,
    Malformed,
    Timeline,
    TimelineBucket,
)
from mcpcap.modules.dns.queries import ranking
from mcpcap.modules.dns.registry import rcode_name, type_name

UNLIMITED = 10**12


def build_summary(
    db: sqlite3.Connection, counts: dict[str, Any], capture: dict[str, Any], top_n: int
) -> DnsSummary:
    stats = counts["stats"]
    tx = counts["transactions"]
    everything = TransactionFilter()  # whole-capture name rankings: read from the scan's tallies
    top_qnames = ranking(db, everything, by="qname", limit=max(top_n, 1), budget=UNLIMITED)
    top_domains = ranking(
        db, everything, by="registered_domain", limit=max(top_n, 1), budget=UNLIMITED
    )
    nxdomain = counts["nxdomain_names"]
    return DnsSummary(
        messages=stats.get("messages", 0),
        queries=stats.get("queries", 0),
        responses=stats.get("responses", 0),
        transactions=tx["total"],
        answered=tx["answered"],
        unanswered=tx["unanswered"],
        unsolicited_responses=tx["unsolicited"],
        retransmissions=counts["retransmissions"],
        duplicate_responses=counts["duplicate_responses"],
        malformed=Malformed(
            total=sum(counts["malformed"].values()), by_reason=_sorted(counts["malformed"])
        ),
        rcodes=_named(counts["rcodes"], rcode_name),
        qtypes=_named(counts["qtypes"], type_name),
        transports=_sorted(counts["transports"]),
        protocols=_sorted(counts["protocols"]),
        top_n=top_n,
        top_qnames=_names(top_qnames, top_n),
        top_registered_domains=_names(top_domains, top_n),
        nxdomain_names=[NameCount(name=k, count=v) for k, v in _top(nxdomain, top_n)],
        distinct_qnames=top_qnames.total_distinct,
        distinct_registered_domains=top_domains.total_distinct,
        distinct_nxdomain_names=len(nxdomain),
        distinct_clients=len(_clients(counts)),
        distinct_servers=len(counts["servers"]),
        servers=_endpoints(counts["servers"], top_n),
        clients=_endpoints(_clients(counts), top_n),
        latency=Latency(**counts["latency"]),
        timeline=_timeline(db, capture.get("first_ts"), capture.get("last_ts")),
    )


def _names(top: Ranking, top_n: int) -> list[NameCount]:
    return [NameCount(name=item.key, count=item.count) for item in top.items][:top_n]


def _sorted(counter: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def _named(counter: dict, namer) -> dict[str, int]:
    named: dict[str, int] = {}
    for key, count in counter.items():
        name = namer(int(key))
        named[name] = named.get(name, 0) + count
    return _sorted(named)


def _top(counter: dict[str, int], n: int) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def _clients(counts: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Clients are the addresses that sent queries (a host only answered to is not one)."""
    return {address: e for address, e in counts["clients"].items() if e["queries"]}


def _endpoints(table: dict[str, dict[str, int]], n: int) -> list[Endpoint]:
    ranked = sorted(table.items(), key=lambda kv: (-kv[1]["queries"], -kv[1]["responses"], kv[0]))
    return [Endpoint(address=address, **numbers) for address, numbers in ranked[:n]]


def _timeline(db: sqlite3.Connection, first_ts: float | None, last_ts: float | None) -> Timeline:
    """Messages per bucket, from the scan's time slots (each slot lies inside one bucket: a slot
    is 1, 60, 3600 or 86400 seconds and divides every interval long enough to need it)."""
    if first_ts is None or last_ts is None:
        return Timeline(interval=1.0, buckets=[])
    interval = choose_interval(max(last_ts - first_ts, 0.0))
    base = math.floor(first_ts / interval) * interval
    count = int((last_ts - base) // interval) + 1
    rows = db.execute(
        "SELECT CAST((start - ?) / ? AS INTEGER) AS b, sum(queries), sum(responses), "
        "sum(errors) FROM dns_time_slots GROUP BY b",
        (base, interval),
    ).fetchall()
    by_bucket = {b: (q, r, e) for b, q, r, e in rows}
    buckets = []
    for i in range(max(count, 0)):
        q, r, e = by_bucket.get(i, (0, 0, 0))
        start = base + i * interval
        buckets.append(
            TimelineBucket(start=start, time=iso_time(start), queries=q, responses=r, errors=e)
        )
    return Timeline(interval=interval, buckets=buckets)
