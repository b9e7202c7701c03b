"""Opaque cursors and the reply budget, shared by every paged result.

A cursor remembers where the last page stopped (keyset: the sort value and row id of its last
item; or an offset), a digest of the query it belongs to and the identity of the capture it was
given out for (its result store), so a cursor from another query, another capture, or this
capture before its file changed is refused rather than silently giving wrong rows.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from mcpcap.core.errors import BadArgumentError

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000


def check_limit(limit: int | None, default: int = DEFAULT_LIMIT) -> int:
    if limit is None:
        return default
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise BadArgumentError(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {limit!r}")
    return limit


def query_digest(query: dict[str, Any]) -> str:
    text = json.dumps(query, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def capture_identity(db: sqlite3.Connection) -> str:
    """A short digest naming one analysed capture: its capture key (the store key of the file
    and options, which covers the file's identity and contents fingerprint; the same for an
    uncached analysis) and what the scan found. '' for a bare database."""
    try:
        rows = dict(
            db.execute("SELECT key, value FROM meta WHERE key IN ('key', 'capture_key', 'capture')")
        )
    except sqlite3.Error:
        return ""
    text = f"{rows.get('capture_key', rows.get('key'))}\0{rows.get('capture')}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def encode_cursor(position: list[Any], digest: str, capture: str = "") -> str:
    """`capture`: the `capture_identity` of the capture the page is of ('' for none)."""
    data = {"p": position, "q": digest, **({"c": capture} if capture else {})}
    text = json.dumps(data, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, digest: str, capture: str = "") -> list[Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        position, owner, made_for = data["p"], data["q"], data.get("c", "")
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BadArgumentError(
            "cursor is not one mcpcap gave out; pass next_cursor from the previous page unchanged"
        ) from None
    if made_for != capture:
        raise BadArgumentError(
            "cursor was given out for another capture, or for this one before its file changed; "
            "ask again without a cursor"
        )
    if owner != digest:
        raise BadArgumentError(
            "cursor belongs to another query; use it with the same filters and sort it came from"
        )
    return position


def json_size(value: Any) -> int:
    """Characters of compact JSON, as the reply budget counts them."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str))


ECHO_SHARE = 4  # a page repeats its filter in at most a quarter of the reply budget


def echoed_filter(text: str, budget: int) -> str:
    """The filter text a page repeats, cut to a quarter of the reply budget when longer: an
    OR list of a thousand addresses would otherwise crowd the records out of the reply (the
    caller has the filter whole; the cut says how much it left out)."""
    room = budget // ECHO_SHARE
    if json_size(text) <= room:
        return text

    def shown(keep: int) -> str:
        return f"{text[:keep]} … ({len(text) - keep} characters more)"

    low, high = 0, len(text)  # the longest kept prefix that fits: found by halving
    while low < high:
        middle = (low + high + 1) // 2
        if json_size(shown(middle)) <= room:
            low = middle
        else:
            high = middle - 1
    return shown(low)


def fit_items(items: list[dict], budget: int, envelope: int) -> tuple[list[dict], bool]:
    """The longest prefix of `items` whose JSON fits `budget` with `envelope` characters more."""
    used = envelope
    kept: list[dict] = []
    for item in items:
        size = json_size(item) + 1
        if used + size > budget:
            return kept, True
        used += size
        kept.append(item)
    return kept, False


Page = TypeVar("Page")


def fit_page(make: Callable[[int], Page], count: int, budget: int) -> tuple[Page, int]:
    """`make(n)` for the largest `n <= count` whose JSON fits `budget` (at least 1 when
    `count` is), and that `n`. `count` is usually right already (see `fit_items`); the page
    is measured whole, so its cursor and counts are inside the budget too."""
    while True:
        page = make(count)
        if count <= 1 or json_size(page.model_dump(mode="json")) <= budget:  # type: ignore[attr-defined]
            return page, count
        count -= 1
