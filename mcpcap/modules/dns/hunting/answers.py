"""Fast flux and DNS rebinding: what a name's addresses did over the capture.

The scan's tallies of the A and AAAA answers pick the names worth a look: many distinct
values, or private-looking and other values side by side (a text test, confirmed on the
address later; see `tallies`). Only their (name, address, server) triples are then read, one
name at a time, through the name index.
"""

from __future__ import annotations

import ipaddress
import sqlite3
import statistics

from mcpcap.modules.dns.hunting.allow import Allowlist
from mcpcap.modules.dns.hunting.finding import Finding, plural, quote_value, saturating
from mcpcap.modules.dns.hunting.thresholds import FAST_FLUX, REBINDING
from mcpcap.modules.dns.hunting.zones import known_suffix
from mcpcap.modules.dns.store_schema import unpack_list

ADDRESS_ANSWERS = (
    "FROM dns_answers a JOIN dns_transactions t ON t.id = a.tx_id "
    "WHERE t.qtype IN (1, 28) AND t.protocol = 'dns' AND t.qname IS NOT NULL"
)
# the names with many distinct address answers, or private-looking ones beside others
# (the scan's `tallies`, counted up to the fast-flux threshold)
CANDIDATES_SQL = """
SELECT qname FROM dns_hunt_answer_names WHERE addresses >= ? OR (private AND public)
ORDER BY qname
"""
TRIPLES_SQL = f"""
SELECT t.qname, a.value, t.server, min(t.ts), max(t.ts), min(t.id), count(*)
{ADDRESS_ANSWERS} AND t.qname = ? GROUP BY a.value, t.server
"""


def _address(text: str):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None  # a CNAME target in the answer section


def find_answer_shapes(db: sqlite3.Connection, allow: Allowlist) -> list[Finding]:
    found = []
    names = [row[0] for row in db.execute(CANDIDATES_SQL, (FAST_FLUX.min_addresses,))]
    for name in names:
        if allow.allows(name):
            continue
        rows = db.execute(TRIPLES_SQL, (name,))
        triples = [(r, a) for r in rows if (a := _address(r[1])) is not None]
        if not triples:
            continue
        flux = _fast_flux(db, name, triples)
        rebinding = _rebinding(db, name, triples)
        found += [f for f in (flux, rebinding) if f is not None]
    return found


def _network(address) -> str:
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _answer_sets(db: sqlite3.Connection, name: str) -> tuple[list[int], int, int]:
    """The TTLs of the address answers for `name`, the most addresses one response carried,
    and the responses that carried any."""
    ttls, largest, responses = [], 0, 0
    rows = db.execute(
        "SELECT answers, ttls FROM dns_transactions WHERE qname = ? AND qtype IN (1, 28) "
        "AND answers IS NOT NULL",
        (name,),
    )
    for answers, packed in rows:
        found = [
            int(ttl)
            for value, ttl in zip(unpack_list(answers), unpack_list(packed), strict=False)
            if _address(value) is not None and ttl.isdigit()
        ]
        if found:
            ttls += found
            largest = max(largest, len(found))
            responses += 1
    return ttls, largest, responses


def _fast_flux(db: sqlite3.Connection, name: str, triples: list) -> Finding | None:
    """Many addresses in many networks, low TTLs, responses of several addresses each, and a
    set that changes from response to response (one response naming many addresses is a load
    balancer; one address at a time, a geographic or anycast service)."""
    addresses = {a for _, a in triples}
    networks = {_network(a) for a in addresses}
    if len(addresses) < FAST_FLUX.min_addresses or len(networks) < FAST_FLUX.min_networks:
        return None
    ttls, largest, responses = _answer_sets(db, name)
    median = statistics.median(ttls) if ttls else 0
    if median >= FAST_FLUX.high_ttl or largest < FAST_FLUX.min_per_response:
        return None
    span = FAST_FLUX.high_ttl - FAST_FLUX.low_ttl
    ttl_factor = 1.0 - 0.8 * min(1.0, max(0.0, (median - FAST_FLUX.low_ttl) / span))
    turnover = len(addresses) / largest  # 1: every response named the same addresses
    rotation = min(1.0, max(0.0, (turnover - 1) / (FAST_FLUX.full_turnover - 1)))
    score = saturating(len(networks), FAST_FLUX.networks_scale) * ttl_factor * rotation
    rows = [r for r, _ in triples]
    metrics = {
        "distinct_addresses": len(addresses),
        "distinct_networks": len(networks),
        "responses": responses,
        "most_addresses_in_one_response": largest,
        "turnover": round(turnover, 2),
        "min_ttl": min(ttls) if ttls else None,
        "median_ttl": median,
    }
    evidence = (
        f"{name} resolved to {plural(len(addresses), 'distinct address', 'distinct addresses')} "
        f"in {plural(len(networks), 'network')} (/24 or /48) over "
        f"{plural(responses, 'response')} of at most {largest}, median TTL {median:g} s"
    )
    return _name_finding(db, "fast_flux", name, score, evidence, metrics, rows)


def _private(address) -> bool:
    return (address.is_private or address.is_loopback or address.is_link_local) and not (
        address.is_unspecified
    )


def _rebinding(db: sqlite3.Connection, name: str, triples: list) -> Finding | None:
    """A public name answered with a public address, later with a private or loopback one."""
    if not known_suffix(name):
        return None
    public = [(r, a) for r, a in triples if a.is_global]
    private = [(r, a) for r, a in triples if _private(a)]
    if not public or not private:
        return None
    first_public = min(public, key=lambda t: t[0][3])
    later = [(r, a) for r, a in private if r[3] > first_public[0][3]]
    if not later:
        return None
    same_server = any(r[2] == first_public[0][2] for r, _ in later)
    score = REBINDING.score if same_server else REBINDING.two_servers_score
    turned = min(later, key=lambda t: t[0][3])
    metrics = {
        "public_addresses": len({a for _, a in public}),
        "private_addresses": len({a for _, a in private}),
        "same_server": same_server,
    }
    evidence = (
        f"{name} resolved to public {first_public[1]} (server {first_public[0][2]}), then to "
        f"{'loopback' if turned[1].is_loopback else 'private'} {turned[1]} "
        f"(server {turned[0][2]})"
    )
    rows = [r for r, _ in triples]
    return _name_finding(db, "rebinding", name, score, evidence, metrics, rows)


def _name_finding(db, category, name, score, evidence, metrics, rows) -> Finding:
    counted = db.execute(
        "SELECT client, count(*) FROM dns_transactions WHERE qname = ? AND qtype IN (1, 28) "
        "GROUP BY client",
        (name,),
    ).fetchall()
    return Finding(
        category=category,
        subject=name,
        score=score,
        evidence=evidence,
        metrics=metrics,
        first_ts=min(r[3] for r in rows),
        last_ts=max(r[4] for r in rows),
        clients=[client for client, _ in counted],
        client_count=len(counted),
        transactions=sum(n for _, n in counted),
        examples=[r[5] for r in rows],
        filter=f"qname:{quote_value(name)} qtype:A,AAAA",
    )
