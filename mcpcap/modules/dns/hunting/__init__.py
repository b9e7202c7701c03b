"""DNS hunting: tunnels, DGA, fast flux, odd resolvers and rebinding, found and explained.

`hunt` runs each detector over the stored transactions (the groupings the scan tallied, see
`tallies`, and grouped SQL; Python keeps a few numbers per zone, client or name) and ranks what
scores at least `REPORT.threshold`; `cache` stores the findings with the capture (the scan hunts
once it is complete) and `results` serves them as the `dns.findings` kind. Every threshold
lives in `thresholds`, the names left alone in `allow` (plus the settings' `hunt_allow`). The
README's "DNS hunting" section documents each heuristic, its thresholds and its known false
positives.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from mcpcap.core.threadconn import database_file
from mcpcap.modules.dns.hunting.finding import CATEGORIES, Finding
from mcpcap.modules.dns.hunting.thresholds import REPORT

# each detector's connection keeps a small page cache: four at once must not raise the scan's
# peak memory (their reads are scans and groupings, which gain little from a larger one)
READER_CACHE_KIB = 2_000

if TYPE_CHECKING:
    from mcpcap.modules.dns.hunting.allow import Allowlist

__all__ = ["CATEGORIES", "Finding", "hunt"]


Finder = Callable[[sqlite3.Connection, "Allowlist"], list[Finding]]  # one detector


def hunt(db: sqlite3.Connection, allow_extra: Iterable[str] = ()) -> list[Finding]:
    """Every finding at or above the report threshold, best first."""
    from mcpcap.modules.dns.hunting import names
    from mcpcap.modules.dns.hunting.allow import Allowlist

    allow = Allowlist(allow_extra)
    try:
        found = [finding for part in _run_finders(db, allow) for finding in part]
    finally:
        # the per-name caches serve one hunt (a capture's names repeat): kept, a server that
        # analyses capture after capture held up to 2 x 65536 names of past ones (20+ MiB)
        names.randomness.cache_clear()
        names.data_score.cache_clear()
    kept = [f for f in found if f.score >= REPORT.threshold and not allow.allows_address(f.subject)]
    return sorted(kept, key=lambda f: (-f.score, CATEGORIES.index(f.category), f.subject))


def _finders() -> list[Finder]:
    from mcpcap.modules.dns.hunting.answers import find_answer_shapes
    from mcpcap.modules.dns.hunting.dga import find_dga
    from mcpcap.modules.dns.hunting.resolvers import find_odd_resolvers
    from mcpcap.modules.dns.hunting.tunnel import find_tunnels

    return [find_tunnels, find_dga, find_answer_shapes, lambda db, _: find_odd_resolvers(db)]


def _run_finders(db: sqlite3.Connection, allow: Allowlist) -> list[list[Finding]]:
    """Each detector's findings. Their time is mostly SQLite's, which runs without the
    interpreter lock: on a stored file with nothing uncommitted, each detector reads through a
    connection of its own, all at once (the second core halves the hunt at the end of a scan)."""
    from mcpcap.modules.dns.hunting import zones

    finders = _finders()
    path = None if db.in_transaction else database_file(db)
    if path is not None:
        with ThreadPoolExecutor(len(finders), thread_name_prefix="dns-hunt") as pool:
            parts = list(pool.map(lambda finder: _on_own_connection(path, finder, allow), finders))
        if None not in parts:
            return parts
    zones.register(db)
    return [finder(db, allow) for finder in finders]


def _on_own_connection(path: str, finder: Finder, allow: Allowlist) -> list[Finding] | None:
    """`finder` over a read-only connection to `path`, or None when one cannot be opened."""
    from mcpcap.core import store
    from mcpcap.modules.dns.hunting import zones

    try:
        reader = store.connect(Path(path), readonly=True)
    except sqlite3.Error:
        return None
    try:
        reader.execute(f"PRAGMA cache_size = -{READER_CACHE_KIB}")
        zones.register(reader)
        return finder(reader, allow)
    finally:
        reader.close()
