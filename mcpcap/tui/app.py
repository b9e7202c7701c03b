"""`mcpcap tui`: the Textual app and its entry point."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from mcpcap.config import Settings
from mcpcap.core.examples import EXAMPLE_NAME, example_path
from mcpcap.core.sources.naming import looks_like_url
from mcpcap.core.workspace import Workspace
from mcpcap.tui.screens.help import HelpScreen
from mcpcap.tui.screens.main import MainScreen

THEMES = ("textual-dark", "textual-light")


class McpcapApp(App[int]):
    """Sources browser, scan progress, DNS overview and transactions, over one Workspace."""

    CSS_PATH = "app.tcss"
    TITLE = "mcpcap"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", key_display="?", tooltip="Show keys and usage"),
        Binding("d", "toggle_theme", "Light/Dark", tooltip="Switch light and dark themes"),
        Binding("q", "quit", "Quit", tooltip="Leave mcpcap"),
    ]

    def __init__(self, settings: Settings, capture: str | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.workspace = Workspace(settings)
        self.initial = capture
        self.theme = THEMES[0]

    def get_default_screen(self) -> Screen:
        return MainScreen(self.workspace, self.initial)

    def on_unmount(self) -> None:
        self.workspace.close()

    def actions(self) -> list[tuple[str, Binding]]:
        """(namespace, binding) of every action a user can take, app first, then screen."""
        found = [("app", b) for b in self.BINDINGS if isinstance(b, Binding)]
        found += [("screen", b) for b in MainScreen.BINDINGS if isinstance(b, Binding)]
        return found

    def key_help(self) -> list[tuple[str, str]]:
        """(key, description) rows for the help screen, plus the built-in palette key."""
        rows = [
            (b.key_display or self.get_key_display(b), b.tooltip or b.description)
            for _, b in self.actions()
        ]
        return [*rows, ("ctrl+p", "Command palette: search every action")]

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        main = screen if isinstance(screen, MainScreen) else None
        for namespace, binding in self.actions():
            if namespace == "screen" and main is None:
                continue
            run = partial(self.run_action, f"{namespace}.{binding.action}")
            yield SystemCommand(binding.description, binding.tooltip or binding.description, run)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.key_help()))

    def action_toggle_theme(self) -> None:
        self.theme = THEMES[1] if self.theme == THEMES[0] else THEMES[0]


def initial_capture(settings: Settings, capture: str | None) -> tuple[Settings, str | None]:
    """The settings to run with and the capture to open first.

    No argument: the bundled example when it is a source. With only the bundled example as a
    source, a file or URL of the user's own becomes the source, as `mcpcap analyze` reads it.
    """
    if capture is None:
        return settings, (EXAMPLE_NAME if settings.uses_examples else None)
    if settings.pcap_paths or settings.pcap_urls:
        return settings, capture
    if looks_like_url(capture):
        return replace(settings, pcap_urls=[capture]), capture
    path = Path(capture).expanduser()
    bundled = example_path()
    if path.is_file() and not (bundled.is_file() and os.path.samefile(path, bundled)):
        return replace(settings, pcap_paths=[str(path)]), path.name
    return settings, capture


def run_tui(settings: Settings, capture: str | None = None) -> int:
    """Run the terminal UI until the user quits; the exit code for `mcpcap tui`."""
    settings, name = initial_capture(settings, capture)
    result = McpcapApp(settings, name).run()
    return int(result or 0)
