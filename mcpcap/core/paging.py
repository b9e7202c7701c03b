"""Opaque cursors and the reply budget, shared by every paged result.

A cursor remembers where the last page stopped (keyset: the sort value and row id of its last
item) and a digest of the query it belongs to, so a cursor from another query is refused rather
than silently giving wrong rows.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

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


def encode_cursor(position: list[Any], digest: str) -> str:
    text = json.dumps({"p": position, "q": digest}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, digest: str) -> list[Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        position, owner = data["p"], data["q"]
    except (ValueError, KeyError, TypeError):
        raise BadArgumentError(
            "cursor is not one mcpcap gave out; pass next_cursor from the previous page unchanged"
        ) from None
    if owner != digest:
        raise BadArgumentError(
            "cursor belongs to another query; use it with the same filters and sort it came from"
        )
    return position


def json_size(value: Any) -> int:
    """Characters of compact JSON, as the reply budget counts them."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str))


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
