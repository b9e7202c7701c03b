"""One finding as the detectors make it, before it is ranked and stored."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mcpcap.modules.dns.hunting.thresholds import REPORT

CATEGORIES = ("tunnel", "dga", "fast_flux", "odd_resolver", "rebinding")


@dataclass
class Finding:
    """What a detector concluded about one subject, with the figures behind the score."""

    category: str
    subject: str
    score: float
    evidence: str
    metrics: dict[str, Any]
    first_ts: float | None
    last_ts: float | None
    clients: list[str]
    client_count: int
    transactions: int
    examples: list[int]
    filter: str

    def __post_init__(self) -> None:
        self.score = round(min(1.0, max(0.0, self.score)), 3)
        self.clients = sorted(self.clients)  # all of them: the `client` filter reads them
        self.examples = sorted(self.examples)[: REPORT.examples]


def saturating(value: float, scale: float) -> float:
    """0 at 0, 63% at `scale`, approaching 1: volume that counts less and less."""
    return 1.0 - math.exp(-max(value, 0.0) / scale)


def size_text(n: float) -> str:
    """Bytes as people write them: 512 B, 38.2 KB, 1.4 MB."""
    for unit in ("B", "KB", "MB"):
        if n < 1000 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} MB"


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n} {word if n == 1 else words or word + 's'}"


def quote_value(value: str) -> str:
    """A filter value, quoted when it holds characters the filter language splits on."""
    if value and not any(c.isspace() or c in ',"' for c in value):
        return value
    return '"' + value.replace('"', "") + '"'
