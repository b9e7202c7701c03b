"""The DNS summary's latency, made by the scan from the round-trip times it stores.

Read from the store after the scan, nearest ranks need the transactions sorted by round-trip
time: an index, or a sort that reads the whole table (about 0.3 s at 1M packets). The scan
has every time in hand as it stores it (8 bytes each, as many as answered transactions).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable
from typing import Any

HISTOGRAM_EDGES = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def latency(round_trips: Iterable[float]) -> dict[str, Any]:
    """The `Latency` of these round-trip times, as the scan stores it with its counts:
    percentiles by nearest rank, and how many fall in each histogram bucket."""
    rtts = sorted(round_trips)
    n = len(rtts)

    def nearest_rank(p: float) -> float | None:
        return rtts[max(math.ceil(p * n) - 1, 0)] if n else None

    histogram, below = [], 0
    for edge in HISTOGRAM_EDGES:
        upto = bisect_right(rtts, edge)
        histogram.append({"le": edge, "count": upto - below})
        below = upto
    histogram.append({"le": None, "count": n - below})
    return {
        "count": n,
        "p50": nearest_rank(0.5),
        "p90": nearest_rank(0.9),
        "p99": nearest_rank(0.99),
        "max": nearest_rank(1.0),
        "histogram": histogram,
    }
