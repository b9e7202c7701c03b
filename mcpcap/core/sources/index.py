"""Read links, sizes and dates out of an HTML directory index (Apache, nginx, http.server …).

Sizes are trusted only when a date was recognised next to them and they are exact byte counts
("1.2K" is left to a HEAD request); index dates are read as UTC (nginx's default).
"""

from __future__ import annotations

import re
from calendar import timegm
from dataclasses import dataclass
from html.parser import HTMLParser

_MONTH_NAMES = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec"
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES.split(" "), 1)}
_DATES = (
    # nginx autoindex: 01-May-2024 10:00
    (re.compile(r"\b(\d{1,2})-([A-Z][a-z]{2})-(\d{4}) (\d{2}):(\d{2})(?::(\d{2}))?"), "dmy"),
    # Apache: 2024-05-01 10:00
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?"), "ymd"),
    # lighttpd: 2024-May-01 10:00:00
    (re.compile(r"\b(\d{4})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2})(?::(\d{2}))?"), "ybd"),
)
_SIZE = re.compile(r"(?<![\w.])(\d+)(?![\w.])")
_TRAIL_LIMIT = 300


@dataclass
class IndexLink:
    href: str
    size: int | None = None
    modified: float | None = None  # epoch seconds


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, list[str]]] = []
        self._in_anchor = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            self._in_anchor = True
            if href:
                self.links.append((href, []))
        elif tag in ("tr", "li", "br", "p", "div") and self.links:
            self.links[-1][1].append("\n")  # a new row: what follows is not this link's
        elif tag in ("td", "th") and self.links:
            self.links[-1][1].append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._in_anchor = False

    def handle_data(self, data: str) -> None:
        if self.links and not self._in_anchor:
            trail = self.links[-1][1]
            if sum(map(len, trail)) < _TRAIL_LIMIT:
                trail.append(data)


def parse_index(html: str) -> list[IndexLink]:
    """Every link on the page, with the size and date found on its row when there are any."""
    collector = _LinkCollector()
    try:
        collector.feed(html)
        collector.close()
    except (AssertionError, ValueError):  # html.parser is lenient; stay safe on odd input
        pass
    links = []
    for href, trail in collector.links:
        row = "".join(trail).split("\n", 1)[0]
        size, modified = _row_facts(row)
        links.append(IndexLink(href=href, size=size, modified=modified))
    return links


def _row_facts(row: str) -> tuple[int | None, float | None]:
    for pattern, order in _DATES:
        match = pattern.search(row)
        if not match:
            continue
        modified = _epoch(match.groups(), order)
        if modified is None:
            continue
        rest = row[match.end() :]
        sizes = _SIZE.findall(rest)
        return (int(sizes[0]) if len(sizes) == 1 else None), modified
    return None, None


def _epoch(groups: tuple[str | None, ...], order: str) -> float | None:
    a, b, c, hh, mm, ss = groups
    try:
        if order == "dmy":
            year, month, day = int(c), _MONTHS[b], int(a)  # type: ignore[index, arg-type]
        elif order == "ybd":
            year, month, day = int(a), _MONTHS[b], int(c)  # type: ignore[index, arg-type]
        else:
            year, month, day = int(a), int(b), int(c)  # type: ignore[arg-type]
        fields = (year, month, day, int(hh), int(mm), int(ss or 0))  # type: ignore[arg-type]
        if not (1 <= month <= 12 and 1 <= day <= 31 and fields[3] < 24 and fields[4] < 60):
            return None
        return float(timegm((*fields, 0, 0, 0)))
    except (KeyError, ValueError, TypeError):
        return None
