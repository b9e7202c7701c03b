"""Builds `bigrams.py`, the letter-pair model that tells words from random strings.

The model is trained on English prose that every CPython ships (`pydoc_data.topics`), so it
needs no download: `python -m mcpcap.modules.dns.hunting.train` rewrites `bigrams.py` next to
this file (another Python's documentation moves a few entries by half a bit). Each of the 27 x 27
entries (a-z and the word boundary) is the cost in bits of one letter following another,
rounded to half a bit and written in half bits as one base-36 digit, so the table is 729
characters.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from pathlib import Path

ALPHABET = "abcdefghijklmnopqrstuvwxyz"
BOUNDARY = "^"
SYMBOLS = BOUNDARY + ALPHABET
HALF_BITS = 2  # costs are kept in half bits
MAX_COST = 35  # half bits; the largest base-36 digit


def training_text() -> str:
    import pydoc_data.topics

    return " ".join(pydoc_data.topics.topics.values())


def pair_costs(text: str) -> list[list[int]]:
    """Half bits per letter pair, add-one smoothed, over the words of `text`."""
    pairs: Counter[tuple[str, str]] = Counter()
    for word in re.findall(r"[a-z]+", text.lower()):
        padded = BOUNDARY + word + BOUNDARY
        pairs.update(itertools.pairwise(padded))
    costs = []
    for first in SYMBOLS:
        total = sum(pairs[first, second] + 1 for second in SYMBOLS)
        row = [
            min(MAX_COST, round(-HALF_BITS * math.log2((pairs[first, second] + 1) / total)))
            for second in SYMBOLS
        ]
        costs.append(row)
    return costs


def table_text(costs: list[list[int]]) -> str:
    return "".join("0123456789abcdefghijklmnopqrstuvwxyz"[c] for row in costs for c in row)


def main() -> None:
    table = table_text(pair_costs(training_text()))
    lines = [table[i : i + 27] for i in range(0, len(table), 27)]
    body = "\n".join(f'    "{line}"' for line in lines)
    source = (
        '"""Half bits per letter pair (rows: the letter before, columns: after; `^` is a word\'s\n'
        'edge), one base-36 digit each. Written by `train.py`; do not edit."""\n\n'
        f'SYMBOLS = "{SYMBOLS}"\n'
        f"COSTS = (  # one string\n{body}\n)\n"
    )
    (Path(__file__).parent / "bigrams.py").write_text(source)


if __name__ == "__main__":
    main()
