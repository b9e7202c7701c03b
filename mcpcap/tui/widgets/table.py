"""The virtual transactions table: a Line API `ScrollView` over a `RowOrder`.

Only the rows in view are fetched (by page, from the result store) and rendered, so a million
rows cost what thirty do. Line 0 is the column header and stays put while the rows scroll.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip

from mcpcap.tui.kind_rows import fit
from mcpcap.tui.rows import RowOrder
from mcpcap.tui.widgets.cursor_table import CursorTable

Record = dict[str, Any]


def _rtt(record: Record) -> str:
    rtt = record["rtt"]
    return "—" if rtt is None else f"{rtt * 1000:.1f} ms"


def _frames(record: Record) -> str:
    query, response = record["query_frame"], record["response_frame"]
    return f"{'—' if query is None else query}→{'—' if response is None else response}"


def _rcode(record: Record) -> str:
    return record["rcode_name"] or ("no reply" if not record["answered"] else "—")


@dataclass(frozen=True)
class Column:
    title: str
    width: int
    cell: Callable[[Record], str]
    flex: int = 0
    right: bool = False
    sort: str | None = None  # the sort key this column shows ("ts", "rtt", "qname")


COLUMNS = (
    Column("time", 12, lambda r: r["time"][11:23], sort="ts"),
    Column("client", 15, lambda r: r["client"]),
    Column("server", 15, lambda r: r["server"]),
    Column("type", 6, lambda r: r["qtype_name"] or "—"),
    Column("query", 22, lambda r: r["query"] or "—", flex=3, sort="qname"),
    Column("rcode", 8, _rcode),
    Column("rtt", 9, _rtt, right=True, sort="rtt"),
    Column("frames", 11, _frames),
    Column("answers", 6, lambda r: ", ".join(r["answers"] or ()), flex=2),
)
GAP = 1


def column_widths(total_width: int, number_width: int) -> list[int]:
    """Widths of the number column and of `COLUMNS` for a table `total_width` cells wide."""
    fixed = number_width + sum(c.width for c in COLUMNS) + GAP * len(COLUMNS)
    spare = max(total_width - fixed, 0)
    flex_total = sum(c.flex for c in COLUMNS)
    widths = [number_width]
    given = 0
    flex_seen = 0
    for column in COLUMNS:
        extra = 0
        if column.flex:
            flex_seen += column.flex
            extra = spare * flex_seen // flex_total - given
            given += extra
        widths.append(column.width + extra)
    return widths


class TransactionTable(CursorTable):
    """Rows of a `RowOrder`, a cursor, and a fixed header line."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "choose", "Detail")]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "transaction-table--header",
        "transaction-table--cursor",
        "transaction-table--error",
        "transaction-table--unanswered",
        "transaction-table--empty",
    }

    class CursorMoved(CursorTable.CursorMoved):
        pass

    class Chosen(CursorTable.Chosen):
        pass

    class SortClicked(Message):
        """A click on the title of a column rows can be sorted by (`key`: "ts", "rtt" ...)."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.order: RowOrder | None = None
        self.empty_text = "Loading…"

    # ------------------------------------------------------------------ data
    @property
    def total(self) -> int:
        return 0 if self.order is None else len(self.order)

    def set_order(self, order: RowOrder | None, cursor: int = 0) -> None:
        """Show another view (a new filter or sort), with the cursor on `cursor`."""
        self.order = order
        self.show_rows(cursor)

    def current(self) -> Record | None:
        return None if self.order is None else self.order.record(self.cursor)

    # ------------------------------------------------------------------ mouse
    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            column = self.column_at(offset.x)
            if column is not None and column.sort is not None:
                self.post_message(self.SortClicked(column.sort))
            return
        self.cursor = round(self.scroll_y) + offset.y - 1
        if event.chain == 2:
            self.action_choose()

    def column_at(self, x: int) -> Column | None:
        """The column whose cells cover `x` (None: the row numbers, or a gap between columns)."""
        widths = self._widths()
        left = widths[0] + GAP
        for column, width in zip(COLUMNS, widths[1:], strict=True):
            if left <= x < left + width:
                return column
            left += width + GAP
        return None

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, self.total + 1)

    # ------------------------------------------------------------------ rendering
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        widths = self._widths()
        if y == 0:
            return self._header(widths, width)
        position = round(self.scroll_y) + y - 1
        record = None if self.order is None else self.order.record(position)
        if record is None:
            if position == 0:
                style = self.get_component_rich_style("transaction-table--empty")
                return Strip([Segment(fit(" " + self.empty_text, width), style)], width)
            return Strip.blank(width, self.rich_style)
        return self._row(position, record, widths, width)

    def _widths(self) -> list[int]:
        return column_widths(self.scrollable_content_region.width, max(len(str(self.total)), 1))

    def _header(self, widths: list[int], width: int) -> Strip:
        style = self.get_component_rich_style("transaction-table--header")
        sort = None if self.order is None else self.order.sort
        titles = ["#"]
        for column in COLUMNS:
            title = column.title
            if sort is not None and column.sort == sort.lstrip("-"):
                title += " ▼" if sort.startswith("-") else " ▲"
            titles.append(title)
        pairs = enumerate(zip(titles, widths, strict=True))
        cells = [fit(title, w, right=i == 0) for i, (title, w) in pairs]
        return Strip([Segment(fit(" ".join(cells), width), style)], width)

    def _row(self, position: int, record: Record, widths: list[int], width: int) -> Strip:
        base = self.rich_style
        if position == self.cursor:
            cursor_style = self.get_component_rich_style("transaction-table--cursor")
            if not self.has_focus:
                cursor_style = Style(bgcolor=cursor_style.bgcolor, dim=True)
            base = base + cursor_style
        cells = [Segment(fit(str(position + 1), widths[0], right=True) + " ", base)]
        for column, cell_width in zip(COLUMNS, widths[1:], strict=True):
            style = base
            if column.title == "rcode":
                style = base + self._rcode_style(record)
            cells.append(Segment(fit(column.cell(record), cell_width, column.right) + " ", style))
        return Strip(cells).adjust_cell_length(width, base).simplify()

    def _rcode_style(self, record: Record) -> Style:
        if not record["answered"]:
            return self.get_component_rich_style("transaction-table--unanswered", partial=True)
        if record["rcode"]:
            return self.get_component_rich_style("transaction-table--error", partial=True)
        return Style()
