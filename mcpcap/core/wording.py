"""How error sentences quote what they were given and suggest what was meant.

Every face shows errors as one sentence, so a bad value is quoted short (a megabyte-long
argument must not come back as a megabyte-long error) and a misspelt name comes with the
closest accepted one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

QUOTE_CHARS = 60  # characters of a bad value an error quotes
CLOSE = 0.75  # difflib similarity of a likely misspelling (NXDOMAN/NXDOMAIN, not NOPE/NOTIMP)


def quoted(value: Any, limit: int = QUOTE_CHARS) -> str:
    """`repr(value)`, or the start of it and how long the value was."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value):,} characters)"
    text = _digits(value) if isinstance(value, int) else repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters)"


def _digits(value: int) -> str:
    """The digits of an int, without Python's limit on converting huge ints to text."""
    try:
        return repr(value)
    except ValueError:  # over sys.get_int_max_str_digits()
        return f"a number of about {value.bit_length() * 0.30103:,.0f} digits"


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The accepted name `word` most likely misspells, or None when none is close."""
    pool = [str(choice) for choice in choices]
    exact = {choice.lower(): choice for choice in pool}
    lowered = str(word).lower()
    if lowered in exact:
        return exact[lowered]
    found = difflib.get_close_matches(lowered, list(exact), n=1, cutoff=CLOSE)
    return exact[found[0]] if found else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`; did you mean 'X'?` for the closest accepted name, else ''."""
    match = closest(word, choices)
    return f"; did you mean {match!r}?" if match is not None else ""
