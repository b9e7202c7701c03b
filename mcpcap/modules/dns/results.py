"""What faces ask of a finished DNS analysis. Every method returns a result model."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from functools import cached_property
from typing import Any

from mcpcap.core.errors import NotFoundError
from mcpcap.core.filtering import Filter, compile_test
from mcpcap.core.flowsplits import splits_of
from mcpcap.core.models import Ranking
from mcpcap.core.modules.kinds import RecordKind, RecordPage
from mcpcap.core.modules.malformed_kind import malformed_table
from mcpcap.core.modules.tables import TableResults
from mcpcap.core.paging import (
    check_limit,
    decode_cursor,
    echoed_filter,
    encode_cursor,
    fit_page,
    json_size,
    query_digest,
)
from mcpcap.core.wording import quoted
from mcpcap.modules.dns import queries
from mcpcap.modules.dns.filters import TransactionFilter, build_filter, transaction_filter
from mcpcap.modules.dns.models import DnsMessage, DnsSummary, TransactionPage

MESSAGES = "dns.messages"
MALFORMED = "dns.malformed"
FINDINGS = "dns.findings"  # served by the hunt's own table (hunting.results)
PAGE_ENVELOPE = 120  # characters a record page adds around a transaction page


def _beyond(row: tuple, cursor: list, descending: bool) -> bool:
    """Whether a message row (frame, index first) comes after the cursor's in the page order."""
    position, mark = (row[0], row[1]), (cursor[0], cursor[1])
    return position < mark if descending else position > mark


class DnsResults:
    def __init__(
        self, db: sqlite3.Connection, counts: dict[str, Any], capture: dict[str, Any], settings
    ) -> None:
        self._db = db
        self._counts = counts
        self._capture = capture
        self._settings = settings
        self._summaries: dict[int, DnsSummary] = {}
        from mcpcap.modules.dns.hunting.results import LazyFindings

        self.findings = LazyFindings(db, settings)

    @cached_property
    def _malformed(self) -> TableResults:
        """`dns.malformed`'s records, made when first asked (it registers an SQL function,
        which SQLite refuses while another module reads the store through this connection)."""
        return TableResults(self._db, [malformed_table("dns")], self.budget)

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
            summary = self._stored_summary(top_n)
            if summary is None or not self.findings_current():
                summary = summary or build_summary(self._db, self._counts, self._capture, top_n)
                summary = summary.model_copy(update={"findings": self._best_findings()})
            self._summaries[top_n] = summary
        return self._summaries[top_n]

    def findings_current(self) -> bool:
        """Whether the store's findings (and so the summary it holds) were made with this
        mcpcap's hunting and the settings' `hunt_allow`."""
        from mcpcap.modules.dns.hunting.key import is_current

        return is_current(self._db, self._settings)

    def _best_findings(self) -> list:
        from mcpcap.modules.dns.hunting.thresholds import REPORT

        return self.findings.get().best(REPORT.summary)

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

    def rank(
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

    # The record kinds (see kinds.py): every face asks these through `core.records.KindQuery`.

    def records(
        self,
        kind: RecordKind,
        flt: Filter,
        *,
        sort: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> RecordPage:
        if kind.name == FINDINGS:
            return self.findings.get().records(kind, flt, sort=sort, limit=limit, cursor=cursor)
        if kind.name == MESSAGES:
            return self._message_page(kind, flt, sort, limit, cursor)
        if kind.name == MALFORMED:
            return self._malformed.records(kind, flt, sort=sort, limit=limit, cursor=cursor)
        shown = echoed_filter(flt.text(), self.budget)
        envelope = PAGE_ENVELOPE + json_size(shown) + len(sort or "")
        page = queries.transactions_page(
            self._db,
            transaction_filter(flt),
            sort=sort,
            limit=limit,
            cursor=cursor,
            budget=max(self.budget - envelope, 1),
        )
        return RecordPage(
            kind=kind.name,
            filter=shown,
            sort=sort,
            total=page.total,
            items=[item.model_dump(mode="json") for item in page.items],
            next_cursor=page.next_cursor,
            truncated=page.truncated,
        )

    def iter_records(
        self, kind: RecordKind, flt: Filter, *, sort: str | None = None
    ) -> Iterator[dict[str, Any]]:
        if kind.name == FINDINGS:
            return self.findings.get().iter_records(kind, flt, sort=sort)
        if kind.name == MESSAGES:
            return queries.iter_messages(self._db, compile_test(flt), sort == "-frame")
        if kind.name == MALFORMED:
            return self._malformed.iter_records(kind, flt, sort=sort)
        return queries.iter_transactions(self._db, transaction_filter(flt), sort)

    def record(self, kind: RecordKind, record_id: str) -> dict[str, Any]:
        if kind.name == MALFORMED:
            return self._malformed.record(kind, record_id)
        if kind.name == FINDINGS:
            return self.findings.get().record(kind, record_id)
        if kind.name == MESSAGES:
            frame, _, index = str(record_id).partition(":")
            if not (frame.isdigit() and (index == "" or index.isdigit())):
                raise NotFoundError(
                    f"a dns.messages id is FRAME or FRAME:INDEX (12, 12:1), not {quoted(record_id)}"
                )
            return self.message(int(frame), int(index or 0)).model_dump(mode="json")
        return queries.transaction_by_id(self._db, record_id)

    def _message_page(
        self,
        kind: RecordKind,
        flt: Filter,
        sort: str | None,
        limit: int | None,
        cursor: str | None,
    ) -> RecordPage:
        """Messages that pass the filter, in frame order (last first for `-frame`), after the
        cursor's (frame, index); rows are tested without a full decode, and only the page's
        are decoded, so a page costs one pass over the rows."""
        limit = check_limit(limit)
        descending = sort == "-frame"
        digest = query_digest({"k": kind.name, "f": flt.text(), "s": sort})
        capture = queries.capture_identity(self._db)
        after = decode_cursor(cursor, digest, capture)
        total, rows = 0, []
        for row in queries.matching_message_rows(self._db, compile_test(flt), descending):
            total += 1
            if len(rows) <= limit and (
                after is None or _beyond((row[0], row[1]), after, descending)
            ):
                rows.append(row)
        splits = splits_of(self._db)
        records = [queries.full_message(row, splits=splits) for row in rows[:limit]]

        def page(n: int) -> RecordPage:
            more = n < len(rows)
            last = rows[n - 1] if n else None
            return RecordPage(
                kind=kind.name,
                filter=echoed_filter(flt.text(), self.budget),
                sort=sort,
                total=total,
                items=records[:n],
                next_cursor=encode_cursor([last[0], last[1]], digest, capture)
                if more and last
                else None,
                truncated=n < len(records),
            )

        return fit_page(page, len(records), self.budget)[0]

    def top(
        self,
        kind: RecordKind,
        flt: Filter,
        *,
        by: str | None = None,
        weight: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Ranking:
        """A ranking of transactions (every weight is a count), malformed messages or findings."""
        if kind.name == MALFORMED:
            return self._malformed.top(kind, flt, by=by, weight=weight, limit=limit, cursor=cursor)
        if kind.name == FINDINGS:
            return self.findings.get().top(
                kind, flt, by=by, weight=weight, limit=limit, cursor=cursor
            )
        return self.rank(transaction_filter(flt), by=by, limit=limit, cursor=cursor)
