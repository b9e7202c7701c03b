"""The Textual app of `mcpcap tui`.

Its entry point is `mcpcap.tui.launch.run_tui` (also importable from here, as `mcpcap.cli`
does), which starts opening the first capture before this module, and Textual, is imported.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable
from functools import partial
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from mcpcap.core.config import Settings
from mcpcap.core.workspace import Workspace
from mcpcap.tui.launch import EarlyOpen
from mcpcap.tui.launch import run_tui as run_tui
from mcpcap.tui.screens.main import MainScreen, class_bindings

THEMES = ("textual-dark", "textual-light")


def table_moves() -> list[Binding]:
    """The keys that move in every table (rows, then cells)."""
    from mcpcap.tui.widgets.record_table import RecordTable

    found = [*RecordTable.__mro__[1].BINDINGS, *RecordTable.BINDINGS]  # CursorTable's, its own
    return [b for b in found if isinstance(b, Binding)]


class McpcapApp(App[int]):
    """Sources browser, scan progress, DNS overview and transactions, over one Workspace."""

    CSS_PATH = "app.tcss"
    TITLE = "mcpcap"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", key_display="?", tooltip="Show keys and usage"),
        Binding(
            "d", "toggle_theme", "Light/Dark", show=False, tooltip="Switch light and dark themes"
        ),
        Binding("q", "quit", "Quit", tooltip="Leave mcpcap"),
    ]

    def __init__(
        self,
        settings: Settings,
        capture: str | None = None,
        *,
        workspace: Workspace | None = None,
        early: EarlyOpen | None = None,
    ) -> None:
        """`early`: the open of `capture`, already under way in `workspace` (see `launch`)."""
        super().__init__()
        self.settings = settings
        self.workspace = workspace if workspace is not None else Workspace(settings)
        self.initial = capture
        self.early = early
        self.theme = THEMES[0]

    def get_default_screen(self) -> Screen:
        return MainScreen(self.workspace, self.initial, self.early)

    def on_ready(self) -> None:
        """The first frame is drawn: keep the start-up heap out of the cyclic collector's walks.

        Scans pause the collector (`mcpcap.core.gcpause`); when one ends, a full collection
        comes due and would walk every object alive, Textual's and the widgets' some 75,000 of
        them, inside the frame that draws the overview (about a tenth of a second). Objects
        alive now live as long as the app, so they go to the permanent generation, which
        collections skip; reference counting still frees them. The few cycles already garbage
        stay until `on_unmount` (collecting them first would cost that tenth of a second now).
        """
        gc.freeze()

    def on_unmount(self) -> None:
        gc.unfreeze()  # a process that goes on after the app (tests) can collect it
        if self.early is not None:
            self.early.stop()
        self.workspace.close()

    @property
    def main_screen(self) -> MainScreen | None:
        found = [s for s in self.screen_stack if isinstance(s, MainScreen)]
        return found[0] if found else None

    def actions(self) -> list[tuple[str, Binding]]:
        """(namespace, binding) of every action a user can take, app first, then screen (the
        views of the tab in view by their names)."""
        found = [("app", b) for b in self.BINDINGS if isinstance(b, Binding)]
        main = self.main_screen
        screen = main.key_bindings() if main is not None else MainScreen.BINDINGS
        found += [("screen", b) for b in screen if isinstance(b, Binding)]
        return found

    def _key_row(self, binding: Binding) -> tuple[str, str]:
        return (binding.key_display or self.get_key_display(binding),
                binding.tooltip or binding.description)  # fmt: skip

    def key_help(self) -> list[tuple[str, str]]:
        """(key, description) rows for the help screen: the app's and the screen's keys, the
        palette key, then (after heading rows, key "") the keys of the tab in view's tables."""
        rows = [self._key_row(b) for _, b in self.actions()]
        rows.append(("ctrl+p", "Command palette: search every action"))
        main = self.main_screen
        if main is not None:
            for heading, bindings in main.table_key_groups():
                rows.append(("", heading))
                rows += [self._key_row(b) for b in bindings]
            rows.append(("", "Moving in a table"))
            rows += [self._key_row(b) for b in table_moves()]
        return rows

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        main = screen if isinstance(screen, MainScreen) else None
        for namespace, binding in self.actions():
            if namespace == "screen" and main is None:
                continue
            run = partial(self.run_action, f"{namespace}.{binding.action}")
            yield SystemCommand(binding.description, binding.tooltip or binding.description, run)
        panel = main.table_panel() if main is not None else None
        if panel is not None:  # the keys of the table in view, run on it
            for binding in class_bindings(type(panel)):
                if binding.action != "back":
                    run = partial(self.run_action, binding.action, panel)
                    tip = binding.tooltip or binding.description
                    yield SystemCommand(binding.description, tip, run)

    def action_help(self) -> None:
        from mcpcap.tui.screens.help import HelpScreen  # Markdown and its parser: on first use

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.key_help()))

    def action_toggle_theme(self) -> None:
        self.theme = THEMES[1] if self.theme == THEMES[0] else THEMES[0]
