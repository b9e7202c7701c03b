"""What faces ask of a finished DNS analysis. Every method returns a result model."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from mcpcap.core.models import Ranking
from mcpcap.modules.dns import queries
from mcpcap.modules.dns.filters import TransactionFilter, build_filter
from mcpcap.modules.dns.models import DnsMessage, DnsSummary, TransactionPage


class DnsResults:
    def __init__(
        self, db: sqlite3.Connection, counts: dict[str, Any], capture: dict[str, Any], settings
    ) -> None:
        self._db = db
        self._counts = counts
        self._capture = capture
        self._settings = settings
        self._summaries: dict[int, DnsSummary] = {}

    @property
    def db(self) -> sqlite3.Connection:
        """The store's read-only connection (for faces that page over it themselves)."""
        return self._db

    @property
    def first_ts(self) -> float | None:
        """When the capture starts (epoch seconds)."""
        return self._capture.get("first_ts")

    @property
    def budget(self) -> int:
        return self._settings.max_reply_chars

    def summary(self, top_n: int | None = None) -> DnsSummary:
        from mcpcap.modules.dns.summary import build_summary

        top_n = self._settings.top_n if top_n is None else top_n
        if top_n not in self._summaries:
            self._summaries[top_n] = self._stored_summary(top_n) or build_summary(
                self._db, self._counts, self._capture, top_n
            )
        return self._summaries[top_n]

    def _stored_summary(self, top_n: int) -> DnsSummary | None:
        """The summary the scan stored for this length, if it did (a warm start's fast path)."""
        from mcpcap.core.store import read_meta, summary_key

        text = read_meta(self._db, summary_key("dns", top_n))
        return None if text is None else DnsSummary.model_validate_json(text)

    @staticmethod
    def filter(flt: TransactionFilter | None = None, **values: Any) -> TransactionFilter:
        return flt if flt is not None else build_filter(**values)

    def transactions(
        self,
        flt: TransactionFilter | None = None,
        *,
        sort: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        **filters: Any,
    ) -> TransactionPage:
        return queries.transactions_page(
            self._db,
            self.filter(flt, **filters),
            sort=sort,
            limit=limit,
            cursor=cursor,
            budget=self.budget,
        )

    def count(self, flt: TransactionFilter | None = None, **filters: Any) -> int:
        return queries.count_transactions(self._db, self.filter(flt, **filters))

    def top(
        self,
        flt: TransactionFilter | None = None,
        *,
        by: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        **filters: Any,
    ) -> Ranking:
        return queries.ranking(
            self._db,
            self.filter(flt, **filters),
            by=by,
            limit=limit,
            cursor=cursor,
            budget=self.budget,
        )

    def message(self, frame: int, index: int = 0) -> DnsMessage:
        return queries.message_at(self._db, frame, index)

    def iter_transactions(
        self, flt: TransactionFilter | None = None, *, sort: str | None = None, **filters: Any
    ) -> Iterator[dict[str, Any]]:
        return queries.iter_transactions(self._db, self.filter(flt, **filters), sort)

    def iter_messages(self) -> Iterator[dict[str, Any]]:
        return queries.iter_messages(self._db)
