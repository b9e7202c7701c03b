"""The hunt's tallies, made while the scan stores transactions, equal the SQL groupings of the
stored transactions that the detectors ran before (kept here as the definition)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mcpcap.core.config import build_settings
from mcpcap.core.service import Analyzer
from mcpcap.modules.dns.hunting.allow import DNSSEC_TYPES
from mcpcap.modules.dns.hunting.tallies import ADDRESS_CAP, PRIVATE_PATTERNS, looks_private

FIXTURES = Path(__file__).parents[2] / "fixtures"
CAPTURES = [
    FIXTURES.parent.parent / "example.pcap",
    *sorted((FIXTURES / "hunting").glob("*.pcap.gz")),
    *sorted((FIXTURES / "captures").glob("tcp_*.pcap")),
    *(FIXTURES / "captures" / name for name in ("nonstandard_port.pcap", "pairing.pcap")),
    *(FIXTURES / "captures" / name for name in ("mdns.pcap", "malformed.pcap", "vxlan.pcap")),
]

NAMES = f"""
SELECT qname, min(domain), min(query), count(*), min(id), min(ts), max(ts),
       sum(qtype IN (5, 10, 13, 15, 16, 99, 255) OR (qtype >= 65280 AND qtype <= 65534)),
       sum(coalesce(length(answers), 0)), count(answers), coalesce(sum(rcode = 3), 0)
FROM dns_transactions
WHERE protocol = 'dns' AND qname IS NOT NULL AND query_frame IS NOT NULL
      AND qtype NOT IN ({",".join(map(str, sorted(DNSSEC_TYPES)))})
GROUP BY qname ORDER BY qname
"""
TALLIED_NAMES = "SELECT * FROM dns_hunt_names ORDER BY qname"
RESOLVERS = """
SELECT server, server_port, client, count(*), sum(query_frame IS NULL),
       sum(response_frame IS NOT NULL), min(ts), max(ts), min(id), sum(query_frame IS NOT NULL)
FROM dns_transactions WHERE protocol = 'dns' AND server IS NOT NULL
GROUP BY server, server_port, client ORDER BY server, server_port, client
"""
TALLIED_RESOLVERS = "SELECT * FROM dns_hunt_resolvers ORDER BY server, server_port, client"
PRIVATE = " OR ".join(f"a.value GLOB '{pattern}'" for pattern in PRIVATE_PATTERNS)
ANSWER_NAMES = f"""
SELECT t.qname, min(count(DISTINCT a.value), {ADDRESS_CAP}), max({PRIVATE}), min({PRIVATE}) = 0
FROM dns_answers a JOIN dns_transactions t ON t.id = a.tx_id
WHERE t.qtype IN (1, 28) AND t.protocol = 'dns' AND t.qname IS NOT NULL
GROUP BY t.qname ORDER BY t.qname
"""
TALLIED_ANSWER_NAMES = "SELECT * FROM dns_hunt_answer_names ORDER BY qname"


def stored(path: Path) -> sqlite3.Connection:
    """A copy in memory of the store the scan of `path` wrote."""
    copy = sqlite3.connect(":memory:")
    with Analyzer(build_settings({"no_cache": True})).analyze(path, path.name) as analysis:
        analysis.db.backup(copy)
    return copy


@pytest.fixture(scope="module")
def stores() -> dict[str, sqlite3.Connection]:
    return {path.name: stored(path) for path in CAPTURES}


@pytest.mark.parametrize("path", CAPTURES, ids=lambda path: path.name)
@pytest.mark.parametrize(
    ("grouped", "tallied"),
    [(NAMES, TALLIED_NAMES), (RESOLVERS, TALLIED_RESOLVERS), (ANSWER_NAMES, TALLIED_ANSWER_NAMES)],
    ids=["names", "resolvers", "answer_names"],
)
def test_tallies_equal_the_grouped_transactions(stores, path, grouped, tallied):
    db = stores[path.name]
    assert db.execute(tallied).fetchall() == db.execute(grouped).fetchall()


def test_the_captures_reach_every_tally():
    """Each tally is tried on rows: DNS over TCP (numbered after the datagrams) beside UDP,
    names that reach the address cap, and private-looking answers beside public ones."""
    tallied = [stored(path) for path in CAPTURES]
    transports = "SELECT DISTINCT transport FROM dns_transactions"
    assert any({"tcp", "udp"} <= {t for (t,) in db.execute(transports)} for db in tallied)
    rows = [row for db in tallied for row in db.execute(TALLIED_ANSWER_NAMES)]
    assert any(row[1] == ADDRESS_CAP for row in rows)
    assert any(row[2] and row[3] for row in rows)
    assert all(db.execute(TALLIED_RESOLVERS).fetchone() for db in tallied[:1])


@pytest.mark.parametrize(
    ("value", "private"),
    [
        ("10.1.2.3", True), ("172.16.0.1", True), ("172.31.9.9", True), ("172.32.0.1", False),
        ("192.168.1.1", True), ("169.254.0.1", True), ("127.0.0.1", True), ("fd00::1", True),
        ("FE80::1", True), ("fec0::1", False), ("::1", True), ("::10", False),
        ("8.8.8.8", False), ("cdn.example.com", False), ("110.1.1.1", False),
    ],
)  # fmt: skip
def test_private_looking_values_match_sqlite_glob(value, private):
    db = sqlite3.connect(":memory:")
    (globbed,) = db.execute(f"SELECT {PRIVATE.replace('a.value', '?')}", (value,) * 10).fetchone()
    assert looks_private(value) is private
    assert bool(globbed) is private
