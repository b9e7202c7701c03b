"""A modal that states one error in one sentence, and goes away with Enter, Esc or a click."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class ErrorScreen(ModalScreen[None]):
    """Shows `title` and `message`; never a traceback."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_error", "Close"),
        Binding("enter", "dismiss_error", "Close", show=False),
    ]

    def __init__(self, title: str, message: str) -> None:
        super().__init__(id="error-screen")
        self.title_text = title
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="error-dialog"):
            yield Label(self.title_text, id="error-title")
            yield Static(self.message, id="error-message", markup=False)
            yield Button("OK", variant="error", id="error-ok")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss()

    def action_dismiss_error(self) -> None:
        self.dismiss()
