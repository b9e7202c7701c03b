"""What a module may give the TUI, by face hook name (`ProtocolModule.face_hooks()`).

The TUI looks each hook up and falls back to its generic rendering without it:

- `tui_overview(analysis) -> Widget`: the module's overview (view `1`) instead of the generic
  one read from its summary model.
- `tui_table(analysis, kind) -> Widget | None`: the table of one of its kinds instead of the
  generic `KindPanel` (None: the generic one). The widget has `BINDINGS` (help and the palette
  list them), a focusable `table` and `apply_filter(text) -> bool`.
- `tui_views(analysis) -> list[ExtraView]`: views after the kinds' tables (a chart, say).

A hook widget asks for a table with `ShowRecords` (an overview's ranking row chosen).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.message import Message
from textual.widget import Widget

TUI_OVERVIEW = "tui_overview"
TUI_TABLE = "tui_table"
TUI_VIEWS = "tui_views"


@dataclass(frozen=True)
class ExtraView:
    """A view a module adds after its kinds' tables."""

    title: str
    tip: str  # what showing it does ("Show the DNS malformed messages")
    make: Callable[[], Widget]


class ShowRecords(Message):
    """Show the table of `kind` filtered by `filter_text`."""

    def __init__(self, kind: str, filter_text: str) -> None:
        super().__init__()
        self.kind = kind
        self.filter_text = filter_text


def hook(module: Any, name: str) -> Callable[..., Any] | None:
    """The module's face hook called `name`, or None."""
    return module.face_hooks().get(name)
