"""What every table does with the cell under the cursor: copy it or its row, and filter by it or
exclude it (termshark's "Apply as filter": a `field:value` or `-field:value` token added to the
filter bar)."""

from __future__ import annotations

import json
from typing import Any

from textual.binding import Binding

from mcpcap.core.modules.kinds import FieldSpec
from mcpcap.tui.clipboard import copy_text
from mcpcap.tui.columns import hidden_columns, remember_hidden

CELL_BINDINGS = [
    Binding("c", "copy_cell", "Copy cell", show=False, tooltip="Copy the value under the cursor"),
    Binding("C", "copy_row", "Copy row", show=False, key_display="C",
            tooltip="Copy the record under the cursor as JSON"),
    Binding("plus", "filter_value(False)", "Filter by value", key_display="+", show=False,
            tooltip="Add field:value of the cell under the cursor to the filter"),
    Binding("minus", "filter_value(True)", "Exclude value", key_display="-", show=False,
            tooltip="Add -field:value of the cell under the cursor to the filter"),
    Binding("o", "choose_columns", "Columns", show=False,
            tooltip="Choose the columns of this table (remembered)"),
]  # fmt: skip


def token_value(value: Any) -> str:
    """A value as a filter token writes it (double quotes around spaces)."""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return f'"{text}"' if " " in text else text


def cell_text(value: Any) -> str:
    """A cell's whole value as text (a list or a mapping as JSON)."""
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


class CellActions:
    """A panel's keys on the cell under the cursor. The panel has `table` (a `RecordTable`),
    `filter_bar`, `apply_filter(text)` and `kind` (whose filters a cell's value may take)."""

    table: Any
    filter_bar: Any
    kind: Any  # the `RecordKind` shown

    def restore_columns(self) -> None:
        """Hide the columns the user hid in an earlier session."""
        hidden = hidden_columns(self.kind.name)
        if hidden:
            self.table.hide(hidden)

    def action_choose_columns(self) -> None:
        from mcpcap.tui.screens.columns import ColumnsScreen

        hidden = {f.name for f in self.table.all_fields} - {f.name for f in self.table.fields}
        screen = ColumnsScreen(self.kind.title, self.table.all_fields, hidden, self.table.hide)
        self.app.push_screen(screen, self._columns_chosen)  # type: ignore[attr-defined]

    def _columns_chosen(self, hidden: set[str] | None) -> None:
        if hidden is None:
            return
        self.table.hide(hidden)
        self.table.focus()
        if not remember_hidden(self.kind.name, hidden):
            self.notify("The column choice lasts this session (it could not be saved).",  # type: ignore[attr-defined]
                        severity="warning")  # fmt: skip

    def filter_names(self) -> list[str]:
        return self.kind.filter_names()

    def filter_for(self, spec: FieldSpec) -> str | None:
        """The filter a column's values are written in: its own name, or without `_name`
        (`rcode_name` is filtered as `rcode`)."""
        names = self.filter_names()
        for name in (spec.name, spec.name.removesuffix("_name")):
            if name in names:
                return name
        return None

    def _cell(self) -> tuple[FieldSpec, Any] | None:
        record = self.table.current()
        if record is None:
            return None
        spec = self.table.current_field()
        return spec, record.get(spec.name)

    def action_copy_cell(self) -> None:
        found = self._cell()
        if found is not None:
            self._copy(cell_text(found[1]), found[0].title)

    def action_copy_row(self) -> None:
        record = self.table.current()
        if record is not None:
            self._copy(json.dumps(record, ensure_ascii=False, default=str), "row")

    def _copy(self, text: str, what: str) -> None:
        said = copy_text(self.app, text)  # type: ignore[attr-defined]
        self.notify(f"{what}: {said}", markup=False)  # type: ignore[attr-defined]

    def action_filter_value(self, exclude: bool) -> None:
        found = self._cell()
        if found is None:
            return
        spec, value = found
        name = self.filter_for(spec)
        if name is None:
            self.notify(f"The {spec.title} column cannot be filtered by.",  # type: ignore[attr-defined]
                        severity="warning")  # fmt: skip
            return
        if value is None or isinstance(value, (list, tuple, dict)):
            shown = "an empty" if value in (None, [], ()) else "a list"
            self.notify(f"{shown.capitalize()} value cannot be a filter value.",  # type: ignore[attr-defined]
                        severity="warning")  # fmt: skip
            return
        token = f"{'-' if exclude else ''}{name}:{token_value(value)}"
        text = f"{self.filter_bar.applied_text} {token}".strip()
        self.apply_filter(text)  # type: ignore[attr-defined]
