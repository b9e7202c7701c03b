"""What faces ask of a finished HTTP analysis: records and rankings from `TableResults`, and
the `http` summary, each part one SQL question over `http_requests`."""

from __future__ import annotations

import math
import sqlite3
from typing import Any

from mcpcap.core.modules.tables import TableResults
from mcpcap.core.timefmt import iso_time
from mcpcap.core.timeline import choose_interval
from mcpcap.modules.http import models
from mcpcap.modules.http.kinds import ANSWERED, REQUESTED, TABLES


class HttpResults(TableResults):
    def __init__(
        self, db: sqlite3.Connection, counts: Any, capture: dict[str, Any], settings: Any
    ) -> None:
        super().__init__(db, TABLES, settings.max_reply_chars)
        self.detail = dict(getattr(counts, "detail", None) or {})
        self.capture = capture
        self.top_n = settings.top_n

    def summary(self, top_n: int | None = None) -> models.HttpSummary:
        top_n = self.top_n if top_n is None else top_n
        db = self.db
        requests, responses, unanswered, sent, received, malformed = db.execute(
            f"SELECT coalesce(sum({REQUESTED}), 0), coalesce(sum({ANSWERED}), 0), "
            f"coalesce(sum({REQUESTED} AND NOT {ANSWERED}), 0), "
            "coalesce(sum(request_body_len), 0), coalesce(sum(response_body_len), 0), "
            "count(malformed) FROM http_requests"
        ).fetchone()
        return models.HttpSummary(
            requests=requests,
            responses=responses,
            unanswered=unanswered,
            connections=int(self.detail.get("connections", 0)),
            methods=self._counts("method"),
            status_classes={
                f"{k}xx": n for k, n in self._counts("status_code / 100", limit=None).items()
            },
            status_codes=self._counts("status_code", limit=None),
            top_hosts=self._top("host", top_n),
            top_uris=self._top("uri_path", top_n),
            top_user_agents=self._top("user_agent", top_n),
            content_types=self._top("response_content_type", top_n),
            request_body_bytes=sent,
            response_body_bytes=received,
            latency=self._latency(),
            errors_by_host=self._top("coalesce(host, server)", top_n, "status_code >= 400"),
            malformed=malformed,
            malformed_reasons={
                str(k): n
                for k, n in db.execute(
                    "SELECT reason, count(*) FROM http_malformed GROUP BY reason ORDER BY 2 DESC, 1"
                )
            },
            tags=self._tags(),
            timeline=self._timeline(),
        )

    def _counts(self, expr: str, limit: int | None = 50) -> dict[str, int]:
        rows = self.db.execute(
            f"SELECT {expr} AS k, count(*) AS n FROM http_requests WHERE k IS NOT NULL "
            "GROUP BY k ORDER BY n DESC, k LIMIT ?",
            (-1 if limit is None else limit,),
        ).fetchall()
        return {str(k): n for k, n in rows}

    def _top(self, expr: str, top_n: int, where: str = "1") -> list[models.KeyCount]:
        rows = self.db.execute(
            f"SELECT {expr} AS k, count(*) AS n FROM http_requests WHERE k IS NOT NULL "
            f"AND {where} GROUP BY k ORDER BY n DESC, k LIMIT ?",
            (top_n,),
        ).fetchall()
        return [models.KeyCount(key=str(k), count=n) for k, n in rows]

    def _tags(self) -> dict[str, int]:
        tags: dict[str, int] = {}
        for text, n in self.db.execute(
            "SELECT tags, count(*) FROM http_requests WHERE tags != '' GROUP BY tags"
        ):
            for tag in text.split(","):
                tags[tag] = tags.get(tag, 0) + n
        return dict(sorted(tags.items(), key=lambda item: (-item[1], item[0])))

    def _latency(self) -> models.Percentiles | None:
        """Nearest-rank percentiles, each read by its rank (memory stays flat)."""
        count = self.db.execute("SELECT count(rtt) FROM http_requests").fetchone()[0]
        if not count:
            return None

        def at(fraction: float) -> float:
            rank = max(0, math.ceil(fraction * count) - 1)
            return self.db.execute(
                "SELECT rtt FROM http_requests WHERE rtt IS NOT NULL ORDER BY rtt LIMIT 1 OFFSET ?",
                (rank,),
            ).fetchone()[0]

        return models.Percentiles(
            count=count, min=at(0.0), p50=at(0.5), p90=at(0.9), p99=at(0.99), max=at(1.0)
        )

    def _timeline(self) -> models.Timeline:
        first = self.capture.get("first_ts")
        last = self.capture.get("last_ts")
        if first is None or last is None:
            return models.Timeline(interval=1.0, buckets=[])
        interval = choose_interval(max(last - first, 0.0))
        base = math.floor(first / interval) * interval
        rows = self.db.execute(
            f"SELECT CAST((ts - ?) / ? AS INTEGER) AS b, coalesce(sum({REQUESTED}), 0), "
            "coalesce(sum(status_code >= 400), 0) FROM http_requests GROUP BY b",
            (base, interval),
        ).fetchall()
        by_bucket = {b: (n, e) for b, n, e in rows}
        buckets = []
        for i in range(int((last - base) // interval) + 1):
            n, e = by_bucket.get(i, (0, 0))
            start = base + i * interval
            buckets.append(
                models.TimelineBucket(start=start, time=iso_time(start), requests=n, errors=e)
            )
        return models.Timeline(interval=interval, buckets=buckets)
