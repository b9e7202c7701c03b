"""The summary's transaction counts and latency, made by the scan: what SQL over the stored
transactions gives (nearest-rank percentiles), DNS over TCP included."""

from __future__ import annotations

import json
import math
import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from mcpcap.core.config import Settings
from mcpcap.core.service import Analyzer
from mcpcap.modules.dns.outcomes import HISTOGRAM_EDGES, latency

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "captures"


def counts_from_store(db: sqlite3.Connection) -> dict:
    total, answered, unanswered, unsolicited = db.execute(
        "SELECT count(*), COALESCE(sum(answered AND query_frame IS NOT NULL), 0), "
        "COALESCE(sum(NOT answered), 0), COALESCE(sum(query_frame IS NULL), 0) "
        "FROM dns_transactions"
    ).fetchone()
    return {"total": total, "answered": answered, "unanswered": unanswered,
            "unsolicited": unsolicited}  # fmt: skip


def from_store(db: sqlite3.Connection) -> dict:
    """The latency as SQL over the stored transactions says it (the summary's old way)."""
    n = db.execute("SELECT count(rtt) FROM dns_transactions").fetchone()[0]

    def rank(p: float):
        if not n:
            return None
        return db.execute(
            "SELECT rtt FROM dns_transactions WHERE rtt IS NOT NULL ORDER BY rtt LIMIT 1 OFFSET ?",
            (max(math.ceil(p * n) - 1, 0),),
        ).fetchone()[0]

    histogram, below = [], 0
    for edge in HISTOGRAM_EDGES:
        (upto,) = db.execute(
            "SELECT count(*) FROM dns_transactions WHERE rtt <= ?", (edge,)
        ).fetchone()
        histogram.append({"le": edge, "count": upto - below})
        below = upto
    histogram.append({"le": None, "count": n - below})
    return {"count": n, "p50": rank(0.5), "p90": rank(0.9), "p99": rank(0.99), "max": rank(1.0),
            "histogram": histogram}  # fmt: skip


@pytest.mark.parametrize("name", ["pairing.pcap", "tcp_basic.pcap", "mdns.pcap"])
def test_the_scans_counts_and_latency_are_the_stores(tmp_path, name):
    capture = tmp_path / name
    shutil.copy(FIXTURES / name, capture)
    settings = Settings(use_cache=True, cache_dir=tmp_path / "cache", modules=["dns"])
    with Analyzer(settings).analyze(capture, name) as analysis:
        summary = analysis.summary()["dns"]
    (path,) = (tmp_path / "cache").rglob("*.sqlite")
    with sqlite3.connect(path) as db:
        stored = json.loads(
            db.execute("SELECT value FROM meta WHERE key = 'dns_counts'").fetchone()[0]
        )
        want = from_store(db)
        want_counts = counts_from_store(db)
    assert want["count"] > 0
    assert stored["latency"] == want
    assert summary["latency"] == want
    assert stored["transactions"] == want_counts
    assert [summary[k] for k in ("transactions", "answered", "unanswered")] == [
        want_counts[k] for k in ("total", "answered", "unanswered")
    ]
    assert summary["unsolicited_responses"] == want_counts["unsolicited"]


def test_awkward_times_rank_as_sql_would():
    rnd = random.Random(3)
    rtts = [
        rnd.choice([-2.5, 0.0, 0.001, 0.001, 0.0049, 0.005, 0.3, 7.0, 1e300]) for _ in range(97)
    ]
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE dns_transactions (rtt REAL)")
    db.executemany("INSERT INTO dns_transactions VALUES (?)", [(r,) for r in rtts] + [(None,)] * 5)
    assert latency(rtts) == from_store(db)


def test_no_answered_transaction_has_no_percentiles():
    empty = latency([])
    assert empty["count"] == 0 and empty["p50"] is None and empty["max"] is None
    assert [bucket["count"] for bucket in empty["histogram"]] == [0] * (len(HISTOGRAM_EDGES) + 1)
