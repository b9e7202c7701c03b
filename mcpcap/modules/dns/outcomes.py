"""What the stored transactions came to, for the DNS summary: how many were answered, left
unanswered or unsolicited, and their round-trip times' percentiles and histogram.

The scan tallies them as it stores the rows. Read from the store afterwards, they would cost a
pass over the largest table and a sort by round-trip time (an index, or about 0.3 s at 1M
packets), on the serial end of every scan. The times are kept as 8 bytes each, as many as
answered transactions.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right
from collections.abc import Iterable
from typing import Any

from mcpcap.modules.dns.store_schema import TRANSACTION_COLUMNS

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


_QUERY_FRAME = TRANSACTION_COLUMNS.index("query_frame")
_RTT = TRANSACTION_COLUMNS.index("rtt")
_ANSWERED = TRANSACTION_COLUMNS.index("answered")


class Outcomes:
    """Tallies of stored transaction rows (`store_schema.TRANSACTION_COLUMNS`)."""

    def __init__(self) -> None:
        self.rtts = array("d")
        self.total = self.unanswered = self.unsolicited = 0

    def add(self, rows: list[tuple]) -> None:
        self.rtts.extend([rtt for row in rows if (rtt := row[_RTT]) is not None])
        self.total += len(rows)
        self.unanswered += sum([not row[_ANSWERED] for row in rows])
        self.unsolicited += sum([row[_QUERY_FRAME] is None for row in rows])

    def merge(self, other: Outcomes) -> None:
        self.rtts.extend(other.rtts)
        self.total += other.total
        self.unanswered += other.unanswered
        self.unsolicited += other.unsolicited

    def counts(self) -> dict[str, Any]:
        """What the scan stores with its counts: `transactions` and `latency`."""
        return {
            "transactions": {
                "total": self.total,
                # a response with no query is answered: the three are apart
                "answered": self.total - self.unanswered - self.unsolicited,
                "unanswered": self.unanswered,
                "unsolicited": self.unsolicited,
            },
            "latency": latency(self.rtts),
        }
