"""DNS hunting: tunnels, DGA, fast flux, odd resolvers and rebinding, found and explained.

`hunt` runs each detector over the stored transactions (grouped SQL; Python keeps a few numbers
per zone, client or name) and ranks what scores at least `REPORT.threshold`; `cache` stores the
findings with the capture (the scan hunts once it is complete) and `results` serves them as the
`dns.findings` kind. Every threshold lives in `thresholds`, the names left alone in `allow`
(plus the settings' `hunt_allow`). The README's "DNS hunting" section documents each heuristic,
its thresholds and its known false positives.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from mcpcap.modules.dns.hunting.finding import CATEGORIES, Finding
from mcpcap.modules.dns.hunting.thresholds import REPORT

__all__ = ["CATEGORIES", "Finding", "hunt"]


def hunt(db: sqlite3.Connection, allow_extra: Iterable[str] = ()) -> list[Finding]:
    """Every finding at or above the report threshold, best first."""
    from mcpcap.modules.dns.hunting import names, zones
    from mcpcap.modules.dns.hunting.allow import Allowlist
    from mcpcap.modules.dns.hunting.answers import find_answer_shapes
    from mcpcap.modules.dns.hunting.dga import find_dga
    from mcpcap.modules.dns.hunting.resolvers import find_odd_resolvers
    from mcpcap.modules.dns.hunting.tunnel import find_tunnels

    zones.register(db)
    allow = Allowlist(allow_extra)
    try:
        found = [
            *find_tunnels(db, allow),
            *find_dga(db, allow),
            *find_answer_shapes(db, allow),
            *find_odd_resolvers(db),
        ]
    finally:
        # the per-name caches serve one hunt (a capture's names repeat): kept, a server that
        # analyses capture after capture held up to 2 x 65536 names of past ones (20+ MiB)
        names.randomness.cache_clear()
        names.data_score.cache_clear()
    kept = [f for f in found if f.score >= REPORT.threshold and not allow.allows_address(f.subject)]
    return sorted(kept, key=lambda f: (-f.score, CATEGORIES.index(f.category), f.subject))
