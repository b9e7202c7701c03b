"""Any record kind as table rows: cells by the kind's field formats, columns that fit, pages.

A kind declares its fields (`FieldSpec`: title, width hint, format, drop order); this module
turns a record into cells, decides which columns a table of a given width shows and how wide,
and pages through a kind's records with the core's cursors (`PagedRecords`), keeping a few pages
in memory whatever the number of records. No Textual here.
"""

from __future__ import annotations

import json
import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from rich.cells import cell_len, set_cell_size

from mcpcap.core.modules.kinds import FieldSpec
from mcpcap.core.records import KindQuery
from mcpcap.core.timefmt import iso_time
from mcpcap.tui.widgets import human_bytes, seconds

PAGE_SIZE = 200  # records a fetch asks for (the reply budget may cut a page shorter)
KEPT_PAGES = 8  # pages held at once: memory stays bounded however many records match
GAP = 1
RIGHT_ALIGNED = frozenset({"int", "number", "seconds", "bytes"})
SHRINKABLE = frozenset({"text", "list", "time"})
REFILLED = 12  # the fewest cells a dropped text column comes back with
UNCUT = frozenset({"address", "int", "number"})  # never cut: a cut one reads as another
FULL_TIME = 23  # "2024-05-01 09:00:00.123"; narrower time columns show the time of day
NONE = "—"

Record = dict[str, Any]


# ---------------------------------------------------------------------- cells
def signed_seconds(value: float) -> str:
    """A duration or an offset in a readable unit, keeping its sign: '-3.2 ms'."""
    return ("-" if value < 0 else "") + seconds(abs(value))


def format_value(fmt: str, value: Any, width: int = FULL_TIME) -> str:
    """`value` as a cell of a column of `fmt` (see `FieldSpec.format`) and `width`."""
    if value is None or value == "":
        return NONE
    try:
        return _format(fmt, value, width)
    except (TypeError, ValueError, OverflowError):
        return str(value)  # a value that does not fit its declared format is shown as it is


def _format(fmt: str, value: Any, width: int) -> str:
    if fmt == "time":
        text = iso_time(value) if isinstance(value, (int, float)) else str(value)
        if text is None:
            return NONE
        date, _, clock = text.partition("T")
        clock = clock.rstrip("Z")[:12]
        return f"{date} {clock}" if width >= FULL_TIME else clock
    if isinstance(value, bool) or fmt == "flag":
        return "yes" if value else "no"
    if fmt == "seconds":
        return signed_seconds(float(value))
    if fmt == "int" and isinstance(value, int):
        return f"{value:,}"
    if fmt == "bytes":
        return human_bytes(int(value))
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


# ---------------------------------------------------------------------- columns
def fit(text: str, width: int, right: bool = False) -> str:
    """`text` cut (with an ellipsis) or padded to exactly `width` cells."""
    if width <= 0:
        return ""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    pad = " " * (width - cell_len(text))
    return pad + text if right else text + pad


def middle_ellipsis(text: str, width: int) -> str:
    """`text` cut in the middle to `width` cells (both ends tell names apart), or as it is."""
    if cell_len(text) <= width or width < 3:
        return text if width >= 3 else fit(text, width)
    head = (width - 1) // 2 + (width - 1) % 2
    tail = width - 1 - head
    return set_cell_size(text, head) + "…" + text[len(text) - tail :] if tail else text[:head] + "…"


def natural_widths(fields: Sequence[FieldSpec], records: Iterable[Record]) -> dict[str, int]:
    """The widest cell of each field among `records` (the first page: widths stay put)."""
    widest: dict[str, int] = {}
    for record in records:
        for spec in fields:
            cell = format_value(spec.format, record.get(spec.name))
            widest[spec.name] = max(widest.get(spec.name, 0), cell_len(cell))
    return widest


def _wanted(spec: FieldSpec, natural: Mapping[str, int]) -> int:
    hint = spec.width if spec.format != "time" else max(spec.width, FULL_TIME)
    if spec.format in UNCUT:  # a cut address or number would read as another one
        hint = max(hint, natural.get(spec.name, 0))
    content = min(hint, natural.get(spec.name, hint))
    return max(cell_len(spec.title), content, 1)


def _narrowest(spec: FieldSpec) -> int:
    if spec.format == "time":
        return 12  # the time of day, to the millisecond
    return min(max(cell_len(spec.title), 4), 8)


def layout(
    fields: Sequence[FieldSpec],
    available: int,
    natural: Mapping[str, int],
    *,
    pinned: bool = False,
) -> list[tuple[FieldSpec, int]]:
    """The columns a table `available` cells wide shows, with their widths.

    Each column wants its widest cell (at most its width hint, at least its title; an address
    or a number its whole widest cell). While they do not fit, the column with the highest
    `drop` goes (the rightmost of equals first), never the first when `pinned` (the table is
    scrolled to it); a dropped column comes back, narrower, where the room left allows; then
    text, list and time columns give up cells, the widest first, down to a floor. What still
    does not fit is cut at the right edge (the table scrolls sideways).
    """
    columns = [[spec, _wanted(spec, natural), i] for i, spec in enumerate(fields)]
    dropped: list[list] = []

    def used() -> int:
        return sum(width + GAP for _, width, _ in columns)

    while used() > available:
        droppable = [
            i for i, (spec, _, _) in enumerate(columns) if spec.drop > 0 and not (pinned and i == 0)
        ]
        if not droppable:
            break
        dropped.append(columns.pop(max(droppable, key=lambda i: (columns[i][0].drop, i))))
    for spec, want, index in sorted(dropped, key=lambda c: (c[0].drop, c[2])):
        spare = available - used() - GAP
        least = min(want, max(_narrowest(spec), REFILLED)) if spec.format in SHRINKABLE else want
        if spare >= least:
            columns.append([spec, min(want, spare), index])
            columns.sort(key=lambda c: c[2])
    excess = used() - available
    while excess > 0:
        shrinkable = [c for c in columns if c[0].format in SHRINKABLE and c[1] > _narrowest(c[0])]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda c: c[1])
        # a time narrower than date and time shows the time of day: no cells in between
        step = widest[1] - _narrowest(widest[0]) if widest[0].format == "time" else 1
        widest[1] -= step
        excess -= step
    texts = [c for c in columns if c[0].format in ("text", "list")]
    if excess < 0 and texts:  # cells a time column gave beyond the need
        max(texts, key=lambda c: c[1])[1] -= excess
    return [(spec, width) for spec, width, _ in columns]


# ---------------------------------------------------------------------- pages
class PagedRecords:
    """The records of one kind under one filter and sort, fetched a page at a time.

    The core pages forward with cursors, so the start and the cursor of every page reached so
    far are remembered (a few bytes a page); the records themselves are kept for the last
    `kept` pages used only. Reaching a far row (End) walks the pages in between once. `load`
    runs in a worker thread; `record` is what the table reads while drawing.
    """

    def __init__(
        self,
        query: KindQuery,
        text: str = "",
        sort: str | None = None,
        *,
        page_size: int = PAGE_SIZE,
        kept: int = KEPT_PAGES,
    ) -> None:
        """Fetch the first page (a bad filter or sort raises the core's one sentence)."""
        self.query = query
        self.text = text
        self.sort = query.kind.check_sort(sort)
        self.page_size = page_size
        self.kept = kept
        self._lock = threading.Lock()
        self._starts: list[int] = [0]
        self._cursors: list[str | None] = [None]
        self._pages: OrderedDict[int, list[Record]] = OrderedDict()
        self.fetches = 0
        self.total = self._fetch(0)

    def __len__(self) -> int:
        return self.total

    def keep_at_least(self, pages: int) -> None:
        """Keep `pages` pages in memory at least (a screenful must fit)."""
        self.kept = max(self.kept, pages)

    def first_page(self) -> list[Record]:
        with self._lock:
            return list(self._pages.get(0, []))

    def _fetch(self, index: int) -> int:
        """Fetch page `index` (its cursor is known); returns the total the core reports."""
        page = self.query.page(
            self.text, sort=self.sort, limit=self.page_size, cursor=self._cursors[index]
        )
        self.fetches += 1
        with self._lock:
            self._pages[index] = page.items
            self._pages.move_to_end(index)
            while len(self._pages) > self.kept:
                self._pages.popitem(last=False)
            if index == len(self._starts) - 1 and page.next_cursor and page.items:
                self._starts.append(self._starts[index] + len(page.items))
                self._cursors.append(page.next_cursor)
        return page.total

    def _locate(self, position: int) -> tuple[int, list[Record] | None]:
        with self._lock:
            index = bisect_right(self._starts, position) - 1
            items = self._pages.get(index)
            if items is not None:
                self._pages.move_to_end(index)
            return index, items

    def record(self, position: int) -> Record | None:
        """The record at `position` if its page is in memory (None: `load` it first)."""
        if not 0 <= position < self.total:
            return None
        index, items = self._locate(position)
        offset = position - self._starts[index]
        if items is None or offset >= len(items):
            return None
        return items[offset]

    def load(self, position: int) -> None:
        """Fetch the pages needed to hold `position` (walking forward from the last known)."""
        if not 0 <= position < self.total:
            return
        while self.record(position) is None:
            index, items = self._locate(position)
            if items is not None:
                return  # past the last page the core gave: the row does not exist
            self._fetch(index)

    @property
    def pages_in_memory(self) -> int:
        return len(self._pages)

    def find(
        self, start: int, match: Callable[[Record], bool], backward: bool = False
    ) -> int | None:
        """The next position after `start` (wrapping; before it when `backward`) whose record
        `match`es, loading pages as the walk needs them (run it in a worker)."""
        total = self.total
        step = -1 if backward else 1
        for offset in range(1, total + 1):
            position = (start + step * offset) % total
            if self.record(position) is None:
                self.load(position)
            record = self.record(position)
            if record is not None and match(record):
                return position
        return None


def frame_match(frame: int) -> Callable[[Record], bool]:
    """A record one of whose frames (`frame`, `*_frame`) is `frame`."""

    def match(record: Record) -> bool:
        return any(value == frame for key, value in record.items()
                   if key == "frame" or key.endswith("_frame"))  # fmt: skip

    return match


def time_match(ts: float) -> Callable[[Record], bool]:
    """A record at or after `ts` (epoch seconds)."""

    def match(record: Record) -> bool:
        try:
            return float(record.get("ts")) >= ts  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False

    return match


def text_match(text: str) -> Callable[[Record], bool]:
    """A record any of whose values contains `text` (case-insensitive)."""
    needle = text.strip().lower()

    def match(record: Record) -> bool:
        return any(needle in format_value("list", value).lower() for value in record.values())

    return match
