"""What one name tells: how much it looks like encoded data rather than words.

Everything here is a pure function of a string, cached, so a name costs its features once
however often it was asked.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from functools import lru_cache

from mcpcap.modules.dns.hunting import bigrams
from mcpcap.modules.dns.hunting.thresholds import NAMES

_INDEX = {symbol: i for i, symbol in enumerate(bigrams.SYMBOLS)}
_WIDTH = len(bigrams.SYMBOLS)
_COSTS = [int(c, 36) / 2 for c in bigrams.COSTS]  # bits
_LETTERS = re.compile(r"[a-z]+")
HEX = re.compile(r"[0-9a-f]+\Z")
BASE32 = re.compile(r"[a-z2-7]+=*\Z")
BASE64 = re.compile(r"[A-Za-z0-9_+/-]+=*\Z")
ESCAPE = re.compile(r"\\(\d{3}|.)")
TOKENS = re.compile(r"[.\-_]")


def entropy(text: str) -> float:
    """Shannon entropy of the characters of `text`, in bits per character."""
    if not text:
        return 0.0
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


def letter_bits(label: str) -> float | None:
    """Mean bits per letter pair of the label's letter runs under the word model (None: too
    few letters to judge). Words cost about 3.5 bits, random letters 5 to 6."""
    total = pairs = 0
    for run in _LETTERS.findall(label.lower()):
        padded = "^" + run + "^"
        for before, after in itertools.pairwise(padded):
            total += _COSTS[_INDEX[before] * _WIDTH + _INDEX[after]]
            pairs += 1
    if pairs < NAMES.min_letter_pairs:
        return None
    return total / pairs


def class_switches(label: str) -> float:
    """Share of neighbouring characters that switch between letter and digit, within the
    label's long tokens (host-name parts such as `c047` or `lhr001` mix them by convention)."""
    switches = pairs = 0
    for token in TOKENS.split(label):
        if len(token) >= NAMES.min_mixed_token:
            kinds = [c.isdigit() for c in token if c.isalnum()]
            switches += sum(a != b for a, b in itertools.pairwise(kinds))
            pairs += max(len(kinds) - 1, 0)
    return switches / pairs if pairs else 0.0


@lru_cache(maxsize=65_536)
def randomness(label: str) -> float:
    """0 (reads as words or a plain name) to 1 (reads as random characters)."""
    if len(label) < NAMES.min_random_length or label.startswith("xn--"):  # IDNs are words
        return 0.0
    bits = letter_bits(label)
    by_letters = 0.0 if bits is None else _ramp(bits, NAMES.word_bits, NAMES.random_bits)
    by_mixing = _ramp(class_switches(label), 0.1, 0.4)
    return max(by_letters, by_mixing)


def encoding(data: str) -> str | None:
    """The encoding `data` (labels without dots, as asked: case kept, `\\ddd` escapes) looks
    like: binary, hex, base64, base32, or None."""
    if len(data) < NAMES.min_encoded_length:
        return None
    if ESCAPE.search(data):
        return "binary"
    has_digit = any(c.isdigit() for c in data)
    if HEX.match(data.lower()) and has_digit and any(c.isalpha() for c in data):
        return "hex"
    mixed = sum(c.isupper() for c in data) >= 2 and sum(c.islower() for c in data) >= 2
    if mixed and BASE64.match(data):
        return "base64"
    if BASE32.match(data.lower()) and randomness(data.lower()) >= 0.5:
        return "base32"
    return None


@lru_cache(maxsize=65_536)
def data_score(below: str) -> tuple[float, str | None]:
    """How much the part of a name below its zone (`below`, as asked) looks like carried data,
    0 to 1, and the encoding it looks like. Long, random, encoded-looking parts score high."""
    data = below.replace(".", "")
    length = len(ESCAPE.sub("x", data))
    if length < NAMES.min_data_length:
        return 0.0, None
    kind = encoding(data)
    longest = max(below.split("."), key=len).lower()
    random = max(randomness(longest), 0.8 if kind else 0.0)
    span = NAMES.long_data_length - NAMES.min_data_length
    size = min(1.0, (length - NAMES.min_data_length) / span)
    return round(random * (0.5 + 0.5 * size), 3), kind


def _ramp(value: float, low: float, high: float) -> float:
    return min(1.0, max(0.0, (value - low) / (high - low)))
