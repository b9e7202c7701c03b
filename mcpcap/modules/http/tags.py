"""The tags an `http.requests` record may carry: one list, read by the record model's
description and by the `tag:` filter's choices, so the two cannot drift apart."""

from __future__ import annotations

TAG_NOTES = {
    "missing_response": "",
    "missing_request": "",
    "pipelined": "",
    "http_0_9": "",
    "gap": "",
    "truncated": "",
    "bad_request": "",
    "bad_response": "",
    "smuggling_shape": "",
    "tunnel": "a CONNECT's 2xx",
    "upgrade": "",
    "too_many_pending": "",
    "unusual_version": "a major version other than 1",
    "socks": "read through a SOCKS proxy",
}
TAGS = tuple(TAG_NOTES)


def tags_description() -> str:
    """`name (note), name, ...` for the record model's field description."""
    return ", ".join(f"{name} ({note})" if note else name for name, note in TAG_NOTES.items())
