"""Domain names on the wire (RFC 1035 3.1 and 4.1.4) and in presentation format.

Presentation follows dig/BIND: labels joined by `.`, no trailing dot, the root as `.`; inside
a label `.` `\\` `"` `(` `)` `;` `@` `$` are escaped with a backslash and bytes outside
0x21..0x7E as `\\DDD` (decimal).

Compression pointers are followed wherever they point inside the message, forward pointers
included: RFC 1035 4.1.4 describes pointers to a "prior occurance", but tshark (and many
resolvers) accept any offset inside the message, and real captures contain forward pointers.
Loops stop on the first pointer target seen twice, and a name stops at 255 octets
(RFC 1035 2.3.4) or 127 pointer hops, so decoding one name costs O(1) and a message O(N).
"""

from __future__ import annotations

# A small per-message cache of decoded names and suffixes: offset -> (text, wire length).
NameCache = dict[int, tuple[str, int]]

MAX_NAME = 255
MAX_HOPS = 127
TRUNCATED = "truncated"


class WireError(Exception):
    """The message cannot be decoded past this point; `reason` is a snake_case word."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_SPECIAL = b'.\\"();@$'
# bytes that appear unescaped: used as the delete set of bytes.translate for a fast check
_PLAIN = bytes(c for c in range(0x21, 0x7F) if c not in _SPECIAL)
_PLAIN_OR_DOT = _PLAIN + b"."
_LABEL_ESCAPES: tuple[str, ...] = tuple(
    ("\\" + chr(c)) if c in _SPECIAL else chr(c) if 0x21 <= c <= 0x7E else f"\\{c:03d}"
    for c in range(256)
)


def label_text(label: bytes) -> str:
    """One label in presentation format."""
    if label.isalnum() or not label.translate(None, _PLAIN):
        return label.decode("ascii")
    return "".join([_LABEL_ESCAPES[c] for c in label])


def read_name(buf: bytes, pos: int, cache: NameCache) -> tuple[str, int]:
    """Decode the name at `pos`; return its text and the offset just after it.

    Raises WireError with reason truncated, bad_pointer, compression_loop, name_too_long or
    bad_label_type.
    """
    end = len(buf)
    if pos + 1 < end and buf[pos] >= 0xC0:  # fast path: a pointer to a name seen before
        hit = cache.get(((buf[pos] & 0x3F) << 8) | buf[pos + 1])
        if hit is not None:
            return hit[0], pos + 2
    try:
        return _read_labels(buf, pos, end, cache)
    except IndexError:  # a length or pointer byte past the end of the message
        raise WireError(TRUNCATED) from None


def _read_labels(buf: bytes, pos: int, end: int, cache: NameCache) -> tuple[str, int]:
    """The general case: labels and pointers, with the 255-octet and hop limits.

    Octets are counted per contiguous segment (from the start or a pointer target up to the
    next pointer or the root), so each label costs one bounds comparison.
    """
    parts: list[bytes] = []
    used = 1  # octets of earlier segments, plus the root label
    after = -1
    jumps: list[tuple[int, int, int]] | None = None  # (target, labels so far, octets so far)
    suffix: tuple[str, int] | None = None
    p = seg = pos
    limit = min(end, seg + MAX_NAME - used)  # where a label of this segment must end by
    while True:
        ln = buf[p]
        if ln == 0:
            used += p - seg
            if after < 0:
                after = p + 1
            break
        if ln < 0x40:
            p += 1
            q = p + ln
            if q > limit:
                raise WireError("name_too_long" if q > seg + MAX_NAME - used else TRUNCATED)
            parts.append(buf[p:q])
            p = q
            continue
        if ln < 0xC0:
            raise WireError("bad_label_type")
        target = ((ln & 0x3F) << 8) | buf[p + 1]
        used += p - seg
        if after < 0:
            after = p + 2
        suffix = cache.get(target)
        if suffix is not None:
            used += suffix[1] - 1
            if used > MAX_NAME:
                raise WireError("name_too_long")
            break
        if target >= end:
            raise WireError("bad_pointer")
        if jumps is None:
            jumps = [(target, len(parts), used)]
        elif len(jumps) >= MAX_HOPS or any(j[0] == target for j in jumps):
            raise WireError("compression_loop")
        else:
            jumps.append((target, len(parts), used))
        p = seg = target
        limit = min(end, seg + MAX_NAME - used)
    text = _join(parts, suffix)
    cache[pos] = (text, used)
    if jumps:
        for target, count, before in jumps:
            cache[target] = (_join(parts[count:], suffix), used - before + 1)
    return text, after


def _join(parts: list[bytes], suffix: tuple[str, int] | None) -> str:
    """Labels (and an already decoded suffix) in presentation format."""
    if not parts:
        return suffix[0] if suffix is not None else "."
    raw = b".".join(parts)
    if raw.translate(None, _PLAIN_OR_DOT) or raw.count(46) != len(parts) - 1:
        text = ".".join([label_text(label) for label in parts])
    else:
        text = raw.decode("ascii")
    if suffix is not None and suffix[0] != ".":
        return text + "." + suffix[0]
    return text
