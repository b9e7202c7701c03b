"""Tunnels and exfiltration: zones whose many names carry data.

One pass over the distinct names of the stored queries (the scan's `tallies`) adds each name's
features to its zone's tallies; per-client name bytes and the query rhythm are then asked
of SQL for the few zones that could reach the threshold. Memory grows with the zones (a few
numbers each), never with the transactions.
"""

from __future__ import annotations

import math
import sqlite3
from collections import Counter
from dataclasses import dataclass, field

from mcpcap.modules.dns.hunting.allow import DNSSEC_TYPES, Allowlist
from mcpcap.modules.dns.hunting.finding import Finding, plural, saturating, size_text
from mcpcap.modules.dns.hunting.names import TOKENS, data_score, entropy
from mcpcap.modules.dns.hunting.thresholds import REPORT, TUNNEL
from mcpcap.modules.dns.hunting.zones import ANY_BELOW, below, data_on_top, zone_filter
from mcpcap.modules.dns.hunting.zones import zone as zone_of

QUERIES = (
    f"protocol = 'dns' AND qname IS NOT NULL AND query_frame IS NOT NULL "
    f"AND qtype NOT IN ({','.join(map(str, sorted(DNSSEC_TYPES)))})"
)
# each name's queries, grouped as the scan stored them (`tallies`), in name order
NAMES_SQL = """
SELECT domain, qname, query, n, first_id, first_ts, last_ts, unusual, answer_chars, answers,
       nxdomain
FROM dns_hunt_names ORDER BY qname
"""


@dataclass
class Zone:
    """One zone's tallies over its distinct names."""

    name: str
    names: int = 0
    queries: int = 0
    judged: int = 0  # names whose features were computed
    data_names: int = 0
    data_sum: float = 0.0
    length_sum: int = 0
    encodings: Counter = field(default_factory=Counter)
    text: Counter = field(default_factory=Counter)  # characters below the zone, for entropy
    tokens: set = field(default_factory=set)  # distinct parts between dots and dashes
    token_count: int = 0
    unusual: int = 0
    answer_chars: int = 0
    answers: int = 0
    nxdomain: int = 0
    first_ts: float = math.inf
    last_ts: float = -math.inf
    examples: list[int] = field(default_factory=list)

    def add(self, row: tuple) -> None:
        _, _, query, n, first_id, first_ts, last_ts, unusual, answer_chars, answers, nx = row
        self.names += 1
        self.queries += n
        self.unusual += unusual
        self.answer_chars += answer_chars
        self.answers += answers
        self.nxdomain += nx
        self.first_ts = min(self.first_ts, first_ts)
        self.last_ts = max(self.last_ts, last_ts)
        self.examples = sorted([*self.examples, first_id])[:3]
        if self.judged < TUNNEL.feature_names:
            self._judge(below(self.name, query or ""))

    def _judge(self, part: str) -> None:
        self.judged += 1
        score, kind = data_score(part)
        self.data_sum += score
        if score >= TUNNEL.data_name:
            self.data_names += 1
            self.encodings[kind or "random"] += 1
        data = part.replace(".", "")
        self.length_sum += len(data)
        self.text.update(data.lower())
        parts = TOKENS.split(part.lower())
        self.tokens.update(parts)
        self.token_count += len(parts)

    def novelty(self) -> float:
        """Distinct parts per part: near 1 when every name is new data, low when names
        recombine a few parts (`ipv4-c047-lhr001-ix.1.oca`)."""
        return len(self.tokens) / self.token_count if self.token_count else 0.0

    def data_share(self) -> float:
        return self.data_names / self.judged if self.judged else 0.0

    def data_estimate(self) -> float:
        """Names carrying data, scaled up from the judged ones."""
        return self.data_share() * self.names


def find_tunnels(db: sqlite3.Connection, allow: Allowlist) -> list[Finding]:
    zones = [z for z in _zones(db, allow) if _best_possible(z) >= REPORT.threshold]
    if not zones:
        return []
    where, params = _zone_condition(zones)
    clients = _client_bytes(db, where, params)
    rhythm = _rhythm(db, where, params)
    found = [_finding(z, clients.get(z.name, []), rhythm.get(z.name)) for z in zones]
    return [f for f in found if f is not None]


DOMAINS_SQL = "SELECT domain, sum(n) FROM dns_domain_counts GROUP BY domain"


def _zones(db: sqlite3.Connection, allow: Allowlist) -> list[Zone]:
    """The zones with enough names carrying data. The scan's questions per registered domain
    pick the domains that may have enough names (a number per domain, no pass over the
    transactions); one walk over the scan's names (`tallies`) then tallies their names, and
    those of `first-label.*` zones."""
    zones: dict[str, Zone] = {}
    labelled = False
    for domain, n in db.execute(DOMAINS_SQL):
        if domain is None:
            continue
        if data_on_top(domain):
            labelled = True
        elif n >= TUNNEL.min_names and not allow.allows(domain):
            zones[domain] = Zone(domain)
    if not zones and not labelled:
        return []
    for row in db.execute(NAMES_SQL):
        tally = zones.get(row[0])
        if tally is None and labelled and row[0] and data_on_top(row[0]):
            name = zone_of(row[0], row[1])
            tally = zones.get(name)
            if tally is None and not allow.allows(name.removesuffix(ANY_BELOW)):
                tally = zones[name] = Zone(name)
        if tally is not None:
            tally.add(row)
    return [
        z
        for z in zones.values()
        if z.names >= TUNNEL.min_names and z.data_names >= TUNNEL.min_names
    ]


def _volume(zone: Zone) -> float:
    return saturating(zone.data_estimate(), TUNNEL.names_scale)


def _length_factor(zone: Zone) -> float:
    mean_length = zone.length_sum / zone.judged if zone.judged else 0.0
    span = TUNNEL.long_below - TUNNEL.short_below
    long = min(1.0, max(0.0, (mean_length - TUNNEL.short_below) / span))
    return TUNNEL.short_weight + (1 - TUNNEL.short_weight) * long


def _novelty_factor(zone: Zone) -> float:
    span = TUNNEL.new_tokens - TUNNEL.reused_tokens
    new = min(1.0, max(0.0, (zone.novelty() - TUNNEL.reused_tokens) / span))
    return 1.0 - TUNNEL.reuse_weight * (1.0 - new)


def _score(zone: Zone, top_bytes: int) -> float:
    unusual_share = zone.unusual / zone.queries if zone.queries else 0.0
    carried = min(1.0, top_bytes / TUNNEL.bytes_full)
    bonus = TUNNEL.unusual_bonus * unusual_share + TUNNEL.bytes_bonus * carried
    shape = _length_factor(zone) * _novelty_factor(zone)
    return _volume(zone) * (0.5 + 0.5 * zone.data_share() + bonus) * shape


def _best_possible(zone: Zone) -> float:
    """The zone's score if one client had sent every byte (the per-client tally costs a
    pass of its own, so zones that cannot reach the threshold even so are not asked)."""
    return _score(zone, TUNNEL.bytes_full)


def _zone_condition(zones: list[Zone]) -> tuple[str, list[str]]:
    """SQL selecting the queries of `zones`: a registered domain is a plain column test; only
    `first-label.*` zones need the zone function."""
    plain = [z.name for z in zones if not z.name.endswith(ANY_BELOW)]
    labelled = [z.name for z in zones if z.name.endswith(ANY_BELOW)]
    parts = []
    if plain:
        parts.append(f"domain IN ({','.join('?' * len(plain))})")
    if labelled:
        parts.append(f"hunt_zone(domain, qname) IN ({','.join('?' * len(labelled))})")
    return f"{QUERIES} AND ({' OR '.join(parts)})", [*plain, *labelled]


def _client_bytes(db: sqlite3.Connection, where: str, params: list[str]) -> dict[str, list]:
    """(client, queries, bytes in names below the zone) per zone, most bytes first."""
    rows = db.execute(
        "SELECT hunt_zone(domain, qname) AS z, client, count(*), sum(hunt_below(domain, qname)) "
        f"FROM dns_transactions WHERE {where} GROUP BY z, client",
        params,
    )
    per_zone: dict[str, list[tuple]] = {}
    for name, client, n, size in rows:
        per_zone.setdefault(name, []).append((client, n, size or 0))
    for clients in per_zone.values():
        clients.sort(key=lambda c: (-c[2], c[0]))
    return per_zone


def _rhythm(db: sqlite3.Connection, where: str, params: list[str]) -> dict[str, tuple]:
    """(mean gap in seconds, coefficient of variation of the gaps) between a zone's queries."""
    rows = db.execute(
        "SELECT z, avg(gap), avg(gap * gap), count(gap) FROM ("
        "SELECT z, ts - lag(ts) OVER (PARTITION BY z ORDER BY ts) AS gap FROM ("
        f"SELECT hunt_zone(domain, qname) AS z, ts FROM dns_transactions WHERE {where})"
        ") WHERE gap IS NOT NULL GROUP BY z",
        params,
    )
    rhythm = {}
    for name, mean, square, n in rows:
        if n and mean:
            spread = math.sqrt(max(square - mean * mean, 0.0))
            rhythm[name] = (mean, spread / mean)
    return rhythm


def _finding(zone: Zone, clients: list[tuple], rhythm: tuple[float, float] | None) -> Finding:
    share = zone.data_share()
    unusual_share = zone.unusual / zone.queries if zone.queries else 0.0
    top_client, top_bytes = (clients[0][0], clients[0][2]) if clients else (None, 0)
    score = _score(zone, top_bytes)
    mean_length = zone.length_sum / zone.judged if zone.judged else 0.0
    bits = entropy("".join(c * n for c, n in zone.text.items()))
    span = max(zone.last_ts - zone.first_ts, 0.0)
    rate = zone.queries / span if span > 0 else float(zone.queries)
    metrics = {
        "distinct_names": zone.names,
        "queries": zone.queries,
        "data_names": round(zone.data_estimate()),
        "data_share": round(share, 3),
        "encodings": dict(zone.encodings.most_common()),
        "mean_data_score": round(zone.data_sum / zone.judged, 3) if zone.judged else 0.0,
        "mean_length_below": round(mean_length, 1),
        "entropy_bits_per_char": round(bits, 2),
        "new_part_share": round(zone.novelty(), 3),
        "unusual_type_share": round(unusual_share, 3),
        "nxdomain": zone.nxdomain,
        "mean_answer_chars": round(zone.answer_chars / zone.answers, 1) if zone.answers else 0.0,
        "name_bytes_top_client": top_bytes,
        "top_client": top_client,
        "queries_per_second": round(rate, 3),
        "mean_gap_seconds": round(rhythm[0], 3) if rhythm else None,
        "gap_variation": round(rhythm[1], 3) if rhythm else None,
    }
    return Finding(
        category="tunnel",
        subject=zone.name,
        score=score,
        evidence=_evidence(zone, metrics),
        metrics=metrics,
        first_ts=zone.first_ts,
        last_ts=zone.last_ts,
        clients=[c[0] for c in clients],
        client_count=len(clients),
        transactions=zone.queries,
        examples=zone.examples,
        filter=zone_filter(zone.name),
    )


def _evidence(zone: Zone, m: dict) -> str:
    kinds = ", ".join(f"{kind} {n}" for kind, n in zone.encodings.most_common(3))
    parts = [
        f"{plural(zone.names, 'distinct name')} below {zone.name}, "
        f"{m['data_names']} look like encoded data ({kinds})",
        f"{m['mean_length_below']:.0f} characters below the zone on average, "
        f"{m['entropy_bits_per_char']} bits/char",
    ]
    if m["top_client"]:
        carried = size_text(m["name_bytes_top_client"])
        parts.append(f"{carried} carried in names by {m['top_client']}")
    if m["unusual_type_share"] >= 0.1:
        parts.append(f"{m['unusual_type_share']:.0%} of queries TXT, NULL, CNAME, MX or ANY")
    parts.append(f"{plural(zone.queries, 'query', 'queries')} at {m['queries_per_second']:g}/s")
    return "; ".join(parts)
