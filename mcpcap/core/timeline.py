"""Timelines of a module's summary: bucket widths a person reads at a glance, counts per bucket."""

from __future__ import annotations

import math
import sqlite3

NICE_INTERVALS = (
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
    172800, 604800,
)  # fmt: skip
MAX_BUCKETS = 60
DAY = 86400


def choose_interval(span: float, max_buckets: int = MAX_BUCKETS) -> float:
    """The smallest nice bucket width (seconds) that keeps `span` within `max_buckets`."""
    for interval in NICE_INTERVALS:
        if span / interval <= max_buckets:
            return float(interval)
    return float(math.ceil(span / max_buckets / DAY) * DAY)


def bucket_columns(
    db: sqlite3.Connection, table: str, counts: str, columns: int
) -> tuple[float, float, list[list[int]]] | None:
    """(start, interval, one list of bucket counts per column) of `table`'s rows by their `ts`;
    `counts` is the SQL of the `columns` aggregates (`count(*), sum(error)`). None: no rows."""
    first, last = db.execute(f"SELECT min(ts), max(ts) FROM {table}").fetchone()
    if first is None:
        return None
    interval = choose_interval(last - first)
    base = math.floor(first / interval) * interval
    width = int((last - base) // interval) + 1
    buckets = [[0] * width for _ in range(columns)]
    for bucket, *values in db.execute(
        f"SELECT CAST((ts - ?) / ? AS INTEGER) AS b, {counts} FROM {table} GROUP BY b",
        (base, interval),
    ):
        for column, n in zip(buckets, values, strict=True):
            column[min(bucket, width - 1)] += n or 0
    return base, interval, buckets
