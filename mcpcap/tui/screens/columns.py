"""The column chooser (`o`): which of a kind's fields its table shows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, SelectionList, Static

from mcpcap.core.modules.kinds import FieldSpec


class ColumnsScreen(ModalScreen[set[str]]):
    """Space or Enter shows or hides a column, at once in the table below; Esc closes and
    returns the fields to hide."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "done", "Close")]
    DEFAULT_CSS = """
    ColumnsScreen { align: center middle; }
    ColumnsScreen > Vertical {
        width: 60; max-width: 95%; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 1 2;
    }
    ColumnsScreen .title { text-style: bold; margin-bottom: 1; }
    ColumnsScreen SelectionList { height: auto; max-height: 20; }
    ColumnsScreen .hint { color: $text-muted; margin-top: 1; }
    """

    def __init__(
        self,
        title: str,
        fields: Sequence[FieldSpec],
        hidden: set[str],
        changed: Callable[[set[str]], None],
    ) -> None:
        """`changed(hidden)` is called at each change (the table follows at once)."""
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.hidden = set(hidden)
        self.changed = changed

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Columns of {self.title_text}", classes="title", markup=False)
            yield SelectionList[str](
                *((spec.title, spec.name, spec.name not in self.hidden) for spec in self.fields)
            )
            yield Static("Space or Enter shows or hides a column · Esc closes",
                         classes="hint")  # fmt: skip

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        shown = set(event.selection_list.selected)
        hidden = {spec.name for spec in self.fields if spec.name not in shown}
        if len(hidden) == len(self.fields):
            return  # a table keeps one column at least (the last one stays shown)
        self.hidden = hidden
        self.changed(hidden)

    def action_done(self) -> None:
        self.dismiss(self.hidden)
