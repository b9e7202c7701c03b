"""A virtual table with a row cursor under a fixed header line: what every table shares.

Subclasses say how many rows there are (`total`) and draw them (`render_line`); this keeps the
cursor in range and in view, repaints the rows it leaves and enters, moves it with the keys and
the mouse, and posts `CursorMoved` and `Chosen`.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView


class CursorTable(ScrollView, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Up", show=False, tooltip="The row above"),
        Binding("down", "move(1)", "Down", show=False, tooltip="The row below"),
        Binding("pageup", "page(-1)", "Page up", show=False, tooltip="A page of rows up"),
        Binding("pagedown", "page(1)", "Page down", show=False, tooltip="A page of rows down"),
        Binding("home", "jump(0)", "First", show=False, tooltip="The first row"),
        Binding("end", "jump(-1)", "Last", show=False, tooltip="The last row"),
    ]

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)

    class CursorMoved(Message):
        """The cursor is on a new row (`position` is 0-based in the view)."""

        def __init__(self, position: int) -> None:
            super().__init__()
            self.position = position

    class Chosen(Message):
        """Enter (or a double click) on a row."""

        def __init__(self, position: int) -> None:
            super().__init__()
            self.position = position

    @property
    def total(self) -> int:
        raise NotImplementedError

    def show_rows(self, cursor: int) -> None:
        """After the rows changed (a new filter or sort): size, scroll and cursor anew, with the
        cursor on `cursor` (kept in range) and in view."""
        self.virtual_size = Size(self.size.width, self.total + 1)
        cursor = max(0, min(cursor, self.total - 1))
        top = 0 if cursor < self.page_rows else cursor - self.page_rows // 2
        self.scroll_to(y=top, animate=False, immediate=True)
        self.cursor = cursor
        self.refresh()

    @property
    def page_rows(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, self.total - 1)) if self.total else 0

    def watch_cursor(self, old: int, new: int) -> None:
        top = round(self.scroll_y)
        if new < top:
            self.scroll_to(y=new, animate=False, immediate=True)
        elif new >= top + self.page_rows:
            self.scroll_to(y=new - self.page_rows + 1, animate=False, immediate=True)
        width = self.size.width
        for position in (old, new):
            self.refresh(Region(0, position - round(self.scroll_y) + 1, width, 1))
        self.post_message(self.CursorMoved(new))
        self.cursor_moved(new)

    def cursor_moved(self, position: int) -> None:
        """What a subclass does besides posting `CursorMoved` (nothing by default)."""

    def action_move(self, delta: int) -> None:
        self.cursor += delta

    def action_page(self, direction: int) -> None:
        self.cursor += direction * self.page_rows

    def action_jump(self, position: int) -> None:
        self.cursor = position if position >= 0 else self.total - 1

    def action_choose(self) -> None:
        if self.total:
            self.post_message(self.Chosen(self.cursor))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
