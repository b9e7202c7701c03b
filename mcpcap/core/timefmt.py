"""Timestamps as results show them: epoch seconds and ISO 8601 UTC with a `Z`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from mcpcap.core.errors import BadArgumentError

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def iso_time(ts: float | None) -> str | None:
    """ISO 8601 in UTC with microseconds, e.g. 2024-05-01T09:00:00.123456Z."""
    if ts is None:
        return None
    try:  # whole microseconds from the epoch, as `round_ts` rounds them: the two always agree
        moment = _EPOCH + timedelta(microseconds=round(round(ts, 6) * 1_000_000))
    except (OverflowError, ValueError):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def round_ts(ts: float | None) -> float | None:
    """Epoch seconds at microsecond precision (what a pcap carries)."""
    return None if ts is None else round(ts, 6)


def parse_time(text: str | float | int, option: str = "time") -> float:
    """Epoch seconds from epoch seconds or an ISO 8601 string (naive means UTC)."""
    if isinstance(text, (int, float)):
        return float(text)
    value = str(text).strip()
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BadArgumentError(
            f"{option} must be ISO 8601 (2024-05-01T09:00:00Z) or epoch seconds, not {value!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()
