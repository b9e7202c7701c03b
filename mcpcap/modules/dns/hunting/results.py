"""What faces ask of `dns.findings`: the generic table answers over the findings table."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from mcpcap.core.modules.tables import TableResults
from mcpcap.modules.dns.hunting.cache import open_findings
from mcpcap.modules.dns.hunting.key import allowed
from mcpcap.modules.dns.hunting.kind import KIND_TABLE, NAME, TABLE
from mcpcap.modules.dns.models import FindingBrief

__all__ = ["NAME", "FindingsResults", "LazyFindings"]


class FindingsResults(TableResults):
    """Pages, single records and rankings of the findings (computed on the first ask)."""

    def __init__(self, db: sqlite3.Connection, settings: Any) -> None:
        self._findings = open_findings(db, allowed(settings))
        super().__init__(self._findings, [KIND_TABLE], settings.max_reply_chars)

    def best(self, n: int) -> list[FindingBrief]:
        """The `n` best findings in short (the DNS summary's `findings`)."""
        rows = self._findings.execute(
            f"SELECT id, category, subject, score, evidence, filter FROM {TABLE} "
            "ORDER BY id LIMIT ?",
            (n,),
        )
        names = ("id", "category", "subject", "score", "evidence", "filter")
        return [FindingBrief(**dict(zip(names, row, strict=True))) for row in rows]


class LazyFindings:
    """Makes `FindingsResults` once, when a face first asks (threads wait for the first)."""

    def __init__(self, db: sqlite3.Connection, settings: Any) -> None:
        self._db = db
        self._settings = settings
        self._results: FindingsResults | None = None
        self._lock = threading.Lock()

    def get(self) -> FindingsResults:
        with self._lock:
            if self._results is None:
                self._results = FindingsResults(self._db, self._settings)
            return self._results
