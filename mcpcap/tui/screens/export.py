"""Modals for exporting a view: choose a format and a file, and confirm replacing a file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from mcpcap.tui.export import default_filename

MODAL_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 80; height: auto; border: thick $accent; background: $surface; padding: 1 2;
}}
{name} .title {{ text-style: bold; margin-bottom: 1; }}
{name} Horizontal {{ height: auto; align-horizontal: right; margin-top: 1; }}
{name} Button {{ margin-left: 1; }}
"""


@dataclass(frozen=True)
class ExportRequest:
    fmt: str
    path: Path


class ExportScreen(ModalScreen[ExportRequest | None]):
    """Format and file name for an export of the current view."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = (
        MODAL_CSS.format(name="ExportScreen")
        + """
    ExportScreen RadioSet { width: 100%; margin-bottom: 1; }
    ExportScreen #export-count { color: $text-muted; }
    """
    )

    def __init__(
        self,
        capture: str,
        count: int,
        folder: Path | None = None,
        *,
        formats: dict[str, str],
        part: str,
        noun: str,
    ) -> None:
        """`formats`: format -> label; `part` goes in the default file name (`dns`,
        `ntp-exchanges`), `noun` says what is counted."""
        super().__init__()
        self.capture = capture
        self.count = count
        self.folder = folder or Path.cwd()
        self.formats = formats
        self.part = part
        self.noun = noun
        self.fmt = next(iter(self.formats))

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Export the current view", classes="title")
            yield Static(f"{self.count:,} {self.noun}", id="export-count")
            with RadioSet(id="export-format"):
                for key, label in self.formats.items():
                    yield RadioButton(label, value=key == self.fmt, name=key)
            yield Input(str(self._default_path(self.fmt)), id="export-path")
            with Horizontal():
                yield Button("Cancel", id="export-cancel")
                yield Button("Export", id="export-ok", variant="primary")

    def _default_path(self, fmt: str) -> Path:
        return self.folder / default_filename(self.capture, fmt, self.part)

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        new = event.pressed.name or self.fmt
        path_input = self.query_one("#export-path", Input)
        if path_input.value == str(self._default_path(self.fmt)):
            path_input.value = str(self._default_path(new))
        self.fmt = new

    def on_input_submitted(self) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "export-ok":
            self._submit()
        else:
            self.dismiss(None)

    def _submit(self) -> None:
        text = self.query_one("#export-path", Input).value.strip()
        if not text:
            self.notify("Give a file name to export to.", severity="warning")
            return
        self.dismiss(ExportRequest(self.fmt, Path(text).expanduser()))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question; No is the default (Esc or n)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "answer(False)", "No"),
        Binding("y", "answer(True)", "Yes"),
    ]
    DEFAULT_CSS = MODAL_CSS.format(name="ConfirmScreen")

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, classes="title", markup=False)
            with Horizontal():
                yield Button("No", id="confirm-no", variant="primary")
                yield Button("Yes, replace", id="confirm-yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


def confirm_then_export(
    app, request: ExportRequest | None, export: Callable[[ExportRequest, bool], object]
) -> None:
    """After the export panel: ask before replacing an existing file, then `export(request,
    overwrite)` (nothing when the panel was cancelled or the user says no). A folder is never
    offered for replacing: the export says at once that it wants a file name."""
    if request is None:
        return
    if request.path.exists() and not request.path.is_dir():
        app.push_screen(
            ConfirmScreen(f"{request.path} already exists. Replace it?"),
            lambda yes: export(request, True) if yes else None,
        )
    else:
        export(request, False)
