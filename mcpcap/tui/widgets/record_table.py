"""A virtual table of records under a fixed header line, in the columns a kind declares.

The rows come from a source (`len(source)`, `source.record(position)`, `source.sort`); the
columns from the kind's `FieldSpec`s, as wide as the cells in view need (never cutting an
address or a number), the low-value ones dropped first when the table is narrow. Left and Right
(or Shift and the wheel) scroll the columns: the first column in view is never dropped, so every
column can be reached. Left and Right move the cell cursor (the cell copy and "filter by this
value" act on), scrolling the columns when it reaches an edge; Shift and the wheel scroll the
columns. Subclasses may style or word a cell (`cell_style`, `cell_text`).
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.strip import Strip

from mcpcap.core.modules.kinds import FieldSpec
from mcpcap.tui.kind_rows import (
    GAP,
    RIGHT_ALIGNED,
    Record,
    fit,
    format_value,
    layout,
    natural_widths,
)
from mcpcap.tui.widgets.cursor_table import CursorTable

LOADING = "…"


class RowSource(Protocol):
    sort: str | None

    def __len__(self) -> int: ...

    def record(self, position: int) -> Record | None: ...


class RecordTable(CursorTable):
    """Rows of a `RowSource`, a cursor, a fixed header, columns that fit and scroll sideways."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "move_cell(-1)", "Cell left", show=False,
                tooltip="Move to the cell on the left (the columns scroll at the edge)"),
        Binding("right", "move_cell(1)", "Cell right", show=False,
                tooltip="Move to the cell on the right (the columns scroll at the edge)"),
    ]  # fmt: skip
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "record-table--header",
        "record-table--cursor",
        "record-table--empty",
        "record-table--loading",
        "record-table--cell",
    }
    DEFAULT_CSS = """
    RecordTable { height: 1fr; overflow-x: hidden; }
    RecordTable > .record-table--header { background: $panel; text-style: bold; }
    RecordTable > .record-table--cursor { background: $accent; color: $text; }
    RecordTable > .record-table--empty { color: $text-muted; }
    RecordTable > .record-table--loading { color: $text-muted; }
    RecordTable > .record-table--cell { text-style: bold underline reverse; }
    """
    sort_fields: ClassVar[dict[str, str]] = {"ts": "time"}  # a sort shown on another field

    class HeaderClicked(Message):
        """A click on a column's title (`field`: the column's field name)."""

        def __init__(self, field: str) -> None:
            super().__init__()
            self.field = field

    def __init__(self, fields: tuple[FieldSpec, ...], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.all_fields = fields
        self.fields = fields
        self.source: Any = None
        self.empty_text = "Loading…"
        self.first_column = 0
        self.cell = 0  # the field (an index in `fields`) of the cell under the cursor
        self._layout_key: tuple | None = None
        self._layout: list[tuple[FieldSpec, int]] = []
        self._version = 0  # goes up when rows in view may have changed without a scroll

    # ------------------------------------------------------------------ data
    @property
    def total(self) -> int:
        return 0 if self.source is None else len(self.source)

    def set_source(self, source: Any, cursor: int = 0) -> None:
        """Show another view (a new filter or sort), with the cursor on `cursor`."""
        self.source = source
        self.rows_changed()
        self.show_rows(cursor)

    def rows_changed(self) -> None:
        """Rows in view may read differently now (a page arrived): lay the columns out anew."""
        self._version += 1
        self.refresh()

    def current(self) -> Record | None:
        return None if self.source is None else self.source.record(self.cursor)

    def hide(self, names: set[str]) -> None:
        """Show every field but `names` (the column chooser), from the first column."""
        self.fields = tuple(f for f in self.all_fields if f.name not in names) or self.all_fields
        self.first_column = self.cell = 0
        self.rows_changed()

    # ------------------------------------------------------------------ columns
    def number_width(self) -> int:
        return max(len(str(self.total)), 1) + GAP

    def rows_in_view(self) -> list[Record]:
        """The records in view that are in memory (a source may still be loading some)."""
        if self.source is None:
            return []
        top = round(self.scroll_y)
        end = min(top + self.page_rows, self.total)
        return [r for p in range(top, end) if (r := self.source.record(p)) is not None]

    def columns(self) -> list[tuple[FieldSpec, int]]:
        """The columns in view now, with their widths (from the first column scrolled to)."""
        width = self.scrollable_content_region.width - self.number_width()
        key = (id(self.source), self._version, round(self.scroll_y), width, self.first_column)
        if key != self._layout_key:
            self._layout_key = key
            fields = list(self.fields[self.first_column :])
            natural = natural_widths(fields, self.rows_in_view())
            self._layout = layout(fields, width, natural, pinned=self.first_column > 0)
        return self._layout

    def current_field(self) -> FieldSpec:
        return self.fields[min(self.cell, len(self.fields) - 1)]

    def _visible(self) -> list[int]:
        """The fields (indexes) whose whole column is in view, left to right."""
        index = {spec.name: i for i, spec in enumerate(self.fields)}
        available = self.scrollable_content_region.width - self.number_width()
        found, right = [], 0
        for spec, width in self.columns():
            right += width
            if right <= available:
                found.append(index[spec.name])
            right += GAP
        return found

    def action_move_cell(self, delta: int) -> None:
        """Right: the next field, every one in turn (the columns scroll until it shows). Left:
        the previous column in view (the columns scroll left at the edge)."""
        if delta > 0:
            target = min(self.cell + 1, len(self.fields) - 1)
            while target not in self._visible() and self.first_column < target:
                self.first_column += 1
            self.cell = target
        else:
            for _ in range(len(self.fields)):
                behind = [i for i in self._visible() if i < self.cell]
                if behind:
                    self.cell = behind[-1]
                    break
                if self.first_column == 0:
                    break
                self.first_column -= 1
        self.refresh()

    def action_scroll_columns(self, delta: int) -> None:
        """Scroll one column left or right (the last column stays reachable, no further)."""
        new = max(0, min(self.first_column + delta, len(self.fields) - 1))
        if delta > 0 and self._all_shown():
            return
        if new != self.first_column:
            self.first_column = new
            self.refresh()
            visible = self._visible()
            if visible and self.cell not in visible:  # the cell cursor stays in view
                self.cell = visible[0] if self.cell < visible[0] else visible[-1]

    def _all_shown(self) -> bool:
        """Whether the columns from the first in view to the last all fit already."""
        columns = self.columns()
        shown = {spec.name for spec, _ in columns}
        used = sum(width + GAP for _, width in columns)
        rest = self.fields[self.first_column :]
        fits = used <= self.scrollable_content_region.width - self.number_width()
        return fits and all(spec.name in shown for spec in rest)

    def column_at(self, x: int) -> FieldSpec | None:
        """The column whose cells cover `x` (None: the row numbers, or a gap)."""
        left = self.number_width()
        for spec, width in self.columns():
            if left <= x < left + width:
                return spec
            left += width + GAP
        return None

    def cell_text(self, spec: FieldSpec, record: Record, width: int) -> str:
        return format_value(spec.format, record.get(spec.name), width)

    def cell_style(self, spec: FieldSpec, record: Record) -> Style | None:
        """An extra style for one cell (None: the row's)."""
        return None

    # ------------------------------------------------------------------ mouse
    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            spec = self.column_at(offset.x)
            if spec is not None:
                self.post_message(self.HeaderClicked(spec.name))
            return
        self.cursor = round(self.scroll_y) + offset.y - 1
        if event.chain == 2:
            self.action_choose()

    def _sideways(self, event: events.MouseEvent, delta: int) -> None:
        event.prevent_default()
        event.stop()
        self.action_scroll_columns(delta)

    def _on_mouse_scroll_right(self, event: events.MouseScrollRight) -> None:
        self._sideways(event, 1)

    def _on_mouse_scroll_left(self, event: events.MouseScrollLeft) -> None:
        self._sideways(event, -1)

    def _on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        if event.shift or event.ctrl:  # Shift and the wheel: sideways, as in a browser
            self._sideways(event, 1)

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if event.shift or event.ctrl:
            self._sideways(event, -1)

    # ------------------------------------------------------------------ rendering
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        columns = self.columns()
        if y == 0:
            return self._header(columns, width)
        position = round(self.scroll_y) + y - 1
        if self.source is None or position >= self.total:
            if position == 0:
                style = self.get_component_rich_style("record-table--empty")
                return Strip([Segment(fit(" " + self.empty_text, width), style)], width)
            return Strip.blank(width, self.rich_style)
        record = self.source.record(position)
        if record is None:
            self.missing(position)
        return self._row(position, record, columns, width)

    def missing(self, position: int) -> None:
        """Row `position` is in view but not in memory (a paged source loads it)."""

    def _sorted_field(self) -> tuple[str, bool] | None:
        sort = None if self.source is None else self.source.sort
        if not sort:
            return None
        key = sort.lstrip("-")
        return self.sort_fields.get(key, key), sort.startswith("-")

    def _header(self, columns: list[tuple[FieldSpec, int]], width: int) -> Strip:
        style = self.get_component_rich_style("record-table--header")
        sorted_field = self._sorted_field()
        cells = [fit("#", self.number_width() - GAP, right=True)]
        if self.first_column:
            cells[0] = fit("◀", self.number_width() - GAP, right=True)
        for spec, cell_width in columns:
            title = spec.title
            if sorted_field is not None and spec.name == sorted_field[0]:
                title += " ▼" if sorted_field[1] else " ▲"
            cells.append(fit(title, cell_width, right=spec.format in RIGHT_ALIGNED))
        line = " ".join(cells)
        if not self._all_shown():
            line = fit(line, width - 1) + "▶"
        return Strip([Segment(fit(line, width), style)], width)

    def _row(
        self,
        position: int,
        record: Record | None,
        columns: list[tuple[FieldSpec, int]],
        width: int,
    ) -> Strip:
        base = self.rich_style
        if position == self.cursor:
            cursor_style = self.get_component_rich_style("record-table--cursor")
            if not self.has_focus:
                cursor_style = Style(bgcolor=cursor_style.bgcolor, dim=True)
            base = base + cursor_style
        number = fit(str(position + 1), self.number_width() - GAP, right=True) + " "
        if record is None:
            loading = base + self.get_component_rich_style("record-table--loading", partial=True)
            return Strip([Segment(number, base), Segment(LOADING, loading)]).adjust_cell_length(
                width, base
            )
        cells = [Segment(number, base)]
        marked = self.fields[self.cell].name if position == self.cursor and self.has_focus else ""
        for spec, cell_width in columns:
            text = fit(self.cell_text(spec, record, cell_width), cell_width,
                       spec.format in RIGHT_ALIGNED)  # fmt: skip
            extra = self.cell_style(spec, record)
            style = base + extra if extra else base
            if spec.name == marked:
                style += self.get_component_rich_style("record-table--cell", partial=True)
            cells.append(Segment(text, style))
            cells.append(Segment(" ", base))
        return Strip(cells).adjust_cell_length(width, base).simplify()


class ListSource:
    """Records held in a list, as a `RowSource` (a view a module builds itself)."""

    sort: str | None = None

    def __init__(self, records: list[Record]) -> None:
        self.records = records

    def __len__(self) -> int:
        return len(self.records)

    def record(self, position: int) -> Record | None:
        return self.records[position] if 0 <= position < len(self.records) else None
