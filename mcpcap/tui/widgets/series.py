"""A summary's timeline as one series of counts: what the generic overview charts.

A timeline is a list of numbers (counts per bucket: an ICMP timeline's `messages`), or a list
of buckets (models with an epoch time, `ts` or `start`, and its ISO `time`: HTTP's), held in a
group beside the bucket width (`interval`) and start, or at the summary's top level. The first
count of the first timeline is charted. Nothing here knows a protocol.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any, NamedTuple

from pydantic import BaseModel

TIME_FIELDS = frozenset(("ts", "start"))
MAX_VALUES = 10_000  # a chart's values at most (a sparkline shows a few hundred)


class Series(NamedTuple):
    title: str  # the summary field's label ("timeline")
    what: str  # what each value counts ("messages")
    values: list[float]
    interval: float | None  # seconds a value covers
    start: float | None  # epoch seconds of the first


def is_bucket(model: Any) -> bool:
    """A model of one timeline bucket: an epoch time and its ISO twin."""
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return False
    fields = model.model_fields
    return bool(TIME_FIELDS & fields.keys()) and ("time" in fields or "start_time" in fields)


def is_series(annotation: Any) -> bool:
    """A list of numbers or of buckets: chart material, never listed line by line."""
    args = getattr(annotation, "__args__", None) or ()
    if getattr(annotation, "__origin__", None) is not list or len(args) != 1:
        return False
    return args[0] in (int, float) or is_bucket(args[0])


def _counts(model: type[BaseModel]) -> str | None:
    """The first whole-number field of a bucket model (what it counts)."""
    for name, info in model.model_fields.items():
        if name not in TIME_FIELDS and info.annotation is int:
            return name
    return None


def _of_buckets(
    title: str, buckets: list[BaseModel], model: Any, interval: float | None = None
) -> Series | None:
    """The buckets' first count, one value a bucket width: buckets a summary left out (no
    traffic then) count 0. The width is the group's, else the closest two buckets' distance."""
    what = _counts(model)
    if what is None:
        return None
    timed = [(_time(bucket), float(getattr(bucket, what))) for bucket in buckets]
    if not timed or any(t is None for t, _ in timed):
        return Series(title, what, [v for _, v in timed], interval, None)
    start = timed[0][0]
    steps = [b - a for (a, _), (b, _) in pairwise(timed) if b > a]
    width = interval or (min(steps) if steps else None)
    if not width:
        return Series(title, what, [v for _, v in timed], None, start)
    values = [0.0] * min(MAX_VALUES, round((timed[-1][0] - start) / width) + 1)
    for when, value in timed:
        values[min(len(values) - 1, round((when - start) / width))] += value
    return Series(title, what, values, width, start)


def _time(bucket: BaseModel) -> float | None:
    value = getattr(bucket, "ts", None)
    return value if value is not None else getattr(bucket, "start", None)


def find_series(title: str, value: Any, annotation: Any) -> Series | None:
    """The timeline a summary field holds (a group with one, or a list of buckets), or None."""
    if isinstance(value, list) and is_series(annotation):
        model = annotation.__args__[0]
        return _of_buckets(title, value, model) if is_bucket(model) else None
    if not isinstance(value, BaseModel):
        return None
    interval, start = getattr(value, "interval", None), getattr(value, "start", None)
    for name, info in type(value).model_fields.items():
        if not is_series(info.annotation):
            continue
        items = getattr(value, name)
        model = info.annotation.__args__[0]
        if is_bucket(model):
            found = _of_buckets(title, items, model, interval)
            if found is not None:
                return found
        else:
            return Series(title, name.replace("_", " "), [float(v) for v in items], interval, start)
    return None
