"""DGA and random-name probing: clients whose NXDOMAIN answers name many distinct,
random-looking registered domains within a short window.

Only domains under a suffix the Public Suffix List knows count (a DGA must be able to register
its domains), so search-list suffixes (`www.example.com.corp.lan`) and the single-label probes
browsers send are not counted. One pass over the distinct (client, domain) pairs, in client
order, keeps one client's domains at a time.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from itertools import groupby

from mcpcap.modules.dns.hunting.allow import Allowlist
from mcpcap.modules.dns.hunting.finding import Finding, plural, saturating
from mcpcap.modules.dns.hunting.names import randomness
from mcpcap.modules.dns.hunting.thresholds import DGA
from mcpcap.modules.dns.hunting.zones import known_suffix

PAIRS_SQL = """
SELECT client, domain, min(ts), max(ts), min(id), count(*) FROM dns_transactions
WHERE rcode = 3 AND protocol = 'dns' AND domain IS NOT NULL AND client IS NOT NULL
GROUP BY client, domain ORDER BY client
"""


def own_label(domain: str) -> str:
    """The label a registrant chose: `qxkzv` of `qxkzv.co.uk`."""
    return domain.split(".", 1)[0]


def find_dga(db: sqlite3.Connection, allow: Allowlist) -> list[Finding]:
    found = []
    for client, rows in groupby(db.execute(PAIRS_SQL), key=lambda row: row[0]):
        domains = [r for r in rows if known_suffix(r[1]) and not allow.allows(r[1])]
        if len(domains) >= DGA.min_domains:
            finding = _judge(client, domains)
            if finding is not None:
                found.append(finding)
    return found


def _busiest_window(domains: list[tuple]) -> list[tuple]:
    """The most domains first answered NXDOMAIN within `DGA.window` seconds of each other."""
    ordered = sorted(domains, key=lambda r: r[2])
    window: deque = deque()
    best: list[tuple] = []
    for row in ordered:
        window.append(row)
        while row[2] - window[0][2] > DGA.window:
            window.popleft()
        if len(window) > len(best):
            best = list(window)
    return best


def _judge(client: str, domains: list[tuple]) -> Finding | None:
    window = _busiest_window(domains)
    if len(window) < DGA.min_domains:
        return None
    random = [r for r in window if randomness(own_label(r[1])) >= DGA.random_label]
    share = len(random) / len(window)
    score = saturating(len(window), DGA.domains_scale) * (
        DGA.words_weight + (1 - DGA.words_weight) * share
    )
    seconds = max(window[-1][2] - window[0][2], 0.0)
    shown = ", ".join(r[1] for r in (random or window)[:3])
    metrics = {
        "nxdomain_domains": len(domains),
        "window_domains": len(window),
        "window_seconds": round(seconds, 3),
        "random_looking": len(random),
        "random_share": round(share, 3),
        "nxdomain_queries": sum(r[5] for r in domains),
    }
    evidence = (
        f"{plural(len(window), 'distinct registered domain')} answered NXDOMAIN to {client} "
        f"within {seconds:.0f} s ({len(domains)} in all), {len(random)} of them random-looking "
        f"(e.g. {shown})"
    )
    return Finding(
        category="dga",
        subject=client,
        score=score,
        evidence=evidence,
        metrics=metrics,
        first_ts=min(r[2] for r in domains),
        last_ts=max(r[3] for r in domains),
        clients=[client],
        client_count=1,
        transactions=metrics["nxdomain_queries"],
        examples=[r[4] for r in window],
        filter=f"client:{client} rcode:NXDOMAIN",
    )
