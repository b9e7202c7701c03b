"""What faces ask of a finished TLS analysis: records from `TableResults`, and the summary."""

from __future__ import annotations

import json
import math
import sqlite3
from collections import Counter
from dataclasses import replace
from typing import Any

from mcpcap.core.filtering import Filter
from mcpcap.core.models import NameCount
from mcpcap.core.modules.kinds import RecordKind
from mcpcap.core.modules.resolution import Resolution
from mcpcap.core.modules.tables import TableResults
from mcpcap.core.timefmt import iso_time
from mcpcap.core.timeline import choose_interval as _interval
from mcpcap.modules.tls.kinds import HANDSHAKES, OFFERED, OFFERED_ALPN, TABLES, to_record
from mcpcap.modules.tls.models import CertProblems, Timeline, TimelineBucket, TlsSummary


class TlsResults(TableResults):
    def __init__(
        self, db: sqlite3.Connection, counts: Any, capture: dict[str, Any], settings: Any
    ) -> None:
        tables = [
            replace(table, to_record=self._record) if table.kind == HANDSHAKES else table
            for table in TABLES
        ]
        super().__init__(db, tables, settings.max_reply_chars)
        self._offered = TableResults(db, [OFFERED], settings.max_reply_chars)  # `alpn` ranks
        self.counts = counts
        self.capture = capture
        self.settings = settings
        self.top_n = settings.top_n
        # opened now: opening registers SQL functions, which SQLite refuses while a page of
        # handshakes is being read
        self._resolution = Resolution(db, capture, settings)

    def _record(self, row: tuple) -> dict[str, Any]:
        record = to_record(row)
        record["resolved_by"] = self._resolution.resolved_by(
            record["client"], record["server"], record["ts"]
        )
        return record

    def top(self, kind: RecordKind, flt: Filter, *, by: str | None = None, **options: Any):
        """Rankings; by `alpn`, over the handshakes once per protocol offered."""
        if kind.name == HANDSHAKES and kind.rank_spec(by).name == "alpn":
            return self._offered.top(kind, flt, by=by, **options)
        return super().top(kind, flt, by=by, **options)

    def summary(self, top_n: int | None = None) -> TlsSummary:
        top_n = self.top_n if top_n is None else top_n
        db = self.db
        total, established, failed, resumed, ech = db.execute(
            "SELECT count(*), coalesce(sum(established), 0), coalesce(sum(failed), 0), "
            "coalesce(sum(resumed), 0), coalesce(sum(ech), 0) FROM tls_handshakes"
        ).fetchone()
        return TlsSummary(
            handshakes=total,
            outcomes={  # disjoint: a failed handshake is never established, nor the reverse
                "established": established,
                "failed": failed,
                "incomplete": total - established - failed,
            },
            resumed=resumed,
            ech=ech,
            transports=self._counts("transport"),
            versions=self._counts("version"),
            alpn_offered=self._top("offered_alpn", top_n, OFFERED_ALPN),
            alpn_selected=self._counts("alpn_selected"),
            ciphers=self._top("cipher", top_n),
            server_names=self._top("server_name", top_n),
            registered_domains=self._top("registered_domain", top_n),
            ja4=self._top("ja4", top_n),
            cert_problems=self._problems(),
            timeline=self._timeline(),
            malformed=_malformed(self.counts),
        )

    def _counts(self, column: str) -> dict[str, int]:
        rows = self.db.execute(
            f"SELECT {column}, count(*) FROM tls_handshakes WHERE {column} IS NOT NULL "
            f"GROUP BY {column} ORDER BY 2 DESC, 1"
        ).fetchall()
        return dict(rows)

    def _top(self, column: str, limit: int, source: str = "tls_handshakes") -> list[NameCount]:
        rows = self.db.execute(
            f"SELECT {column}, count(*) FROM {source} WHERE {column} IS NOT NULL "
            f"GROUP BY {column} ORDER BY 2 DESC, 1 LIMIT ?",
            (limit,),
        ).fetchall()
        return [NameCount(name=name, count=n) for name, n in rows]

    def _problems(self) -> CertProblems:
        tally: Counter[str] = Counter()
        with_problems = 0
        for (text,) in self.db.execute(
            "SELECT cert_problems FROM tls_handshakes WHERE cert_problems != '[]'"
        ):
            tally.update(set(json.loads(text)))
            with_problems += 1
        (read,) = self.db.execute(
            "SELECT count(*) FROM tls_handshakes WHERE cert_sha256 IS NOT NULL"
        ).fetchone()
        return CertProblems(
            with_certificate=read,
            with_problems=with_problems,
            expired=tally["expired_at_capture_time"],  # a `_time` name would read as a time
            not_yet_valid=tally["not_yet_valid"],
            self_signed=tally["self_signed"],
            name_mismatch=tally["name_mismatch"],
        )

    def _timeline(self) -> Timeline:
        first, last = self.capture.get("first_ts"), self.capture.get("last_ts")
        if first is None or last is None:
            return Timeline(interval=1.0, buckets=[])
        interval = _interval(max(last - first, 0.0))
        origin = math.floor(first / interval) * interval
        rows = self.db.execute(
            "SELECT CAST((ts - ?) / ? AS INTEGER) AS slot, count(*), "
            "coalesce(sum(NOT established), 0) FROM tls_handshakes GROUP BY slot ORDER BY slot",
            (origin, interval),
        ).fetchall()
        buckets = [
            TimelineBucket(
                start=origin + slot * interval,
                time=iso_time(origin + slot * interval) or "",
                handshakes=n,
                not_established=failed,
            )
            for slot, n, failed in rows
        ]
        return Timeline(interval=interval, buckets=buckets)


def _malformed(counts: Any) -> dict[str, int]:
    detail = counts.get("detail", {}) if isinstance(counts, dict) else counts.detail
    return dict(detail.get("malformed", {}))
