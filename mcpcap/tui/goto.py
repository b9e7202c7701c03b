"""What `g` (go to) was given: a frame number, or a time (ISO 8601, or a time of day on the
capture's first day, UTC). No Textual here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from mcpcap.core.errors import BadArgumentError
from mcpcap.core.filtering import sql_integer
from mcpcap.core.timefmt import parse_time

TIME_OF_DAY = re.compile(r"^[0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?$")
FRAME = re.compile(r"[0-9]+")  # ASCII digits: `str.isdigit` takes ², which `int` refuses
HINT = "a frame number (42), a time of day (09:01:10) or an ISO 8601 time"


@dataclass(frozen=True)
class Target:
    frame: int | None = None
    ts: float | None = None  # epoch seconds


def parse_target(text: str, first_ts: float | None) -> Target:
    """The frame or time `text` names; a bad one raises one sentence."""
    value = text.strip()
    if FRAME.fullmatch(value):
        try:
            return Target(frame=sql_integer(value))
        except OverflowError:
            raise BadArgumentError(f"no capture has a frame {value}") from None
    if TIME_OF_DAY.match(value):
        if first_ts is None:
            raise BadArgumentError("this capture has no time to go to")
        day = datetime.fromtimestamp(first_ts, timezone.utc).date().isoformat()
        hour, _, rest = value.partition(":")  # (ISO 8601 writes the hour with two digits)
        return Target(ts=parse_time(f"{day}T{int(hour):02d}:{rest}"))
    try:
        return Target(ts=parse_time(value))
    except BadArgumentError:
        raise BadArgumentError(f"go to takes {HINT}, not {value!r}") from None
