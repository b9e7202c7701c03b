"""The main screen: sources on the left, the open capture on the right, one tab per module.

Each module that found traffic has a tab (DNS first), a `ModuleTab`: its overview, then a table
per record kind, each the module's own where it gives one (its face hooks), else the generic
one. `[` and `]` switch module tabs; `1`, `2`, `3` … show the views of the tab in view; F2
shows and hides the sources panel.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from functools import partial
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ActiveBinding, Screen
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Header, Static, Tab, Tabs

from mcpcap.core.parallel import prepare_workers
from mcpcap.core.workspace import Workspace
from mcpcap.tui import workers
from mcpcap.tui.launch import EarlyOpen
from mcpcap.tui.screens.error import ErrorScreen
from mcpcap.tui.widgets.footer import KeyFooter
from mcpcap.tui.widgets.kind_table import KindPanel
from mcpcap.tui.widgets.module_tab import ModuleTab, dom_id
from mcpcap.tui.widgets.scan_progress import ScanProgress
from mcpcap.tui.widgets.sources import SourcesPanel

WELCOME = "Choose a capture in the sources panel: arrows to move, Enter to open.  ? for help"
NARROW = 140  # below this many columns, opening a capture hides the sources panel (F2 shows it)
VIEW_KEYS = 9  # `1` … `9`: the overview and the tables of the tab in view
WARNINGS_SHOWN = 20  # seconds a capture's warnings stay on screen once it is open
MODULE_KEYS = Binding.Group("Modules", compact=True)  # one footer item: "[ ] Modules"


def view_number(action: str) -> int | None:
    """2 for the action `show_view(2)`; None for any other action."""
    if action.startswith("show_view(") and action.endswith(")"):
        return int(action[len("show_view(") : -1])
    return None


def class_bindings(cls: type) -> list[Binding]:
    """The keys of a widget class with those it inherits (its own first; a key once)."""
    found: list[Binding] = []
    for klass in cls.__mro__:
        for binding in klass.__dict__.get("BINDINGS", []):
            if isinstance(binding, Binding) and all(b.key != binding.key for b in found):
                found.append(binding)
    return found


def shown_modules(analysis: Any) -> list[str]:
    """The modules that get a tab: those that found traffic, DNS first, else the first chosen."""
    names = analysis.module_names
    found = [name for name in names if analysis.traffic(name) > 0]
    found.sort(key=lambda name: name != "dns")  # stable: the others keep their order
    return found or names[:1]


class MainScreen(Screen[None]):
    """Browses sources, opens captures in a worker, shows their analysis."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel_scan", "Cancel scan", tooltip="Stop opening the capture"),
        Binding("f2", "toggle_sources", "Sources", tooltip="Show or hide the sources panel"),
        *(
            Binding(
                str(n),
                f"show_view({n})",
                f"View {n}",
                tooltip=f"Show view {n} of the tab",
                show=False,  # the view tabs show their keys
            )
            for n in range(1, VIEW_KEYS + 1)
        ),
        Binding(
            "left_square_bracket",
            "switch_module(-1)",
            "Prev module",
            key_display="[",
            tooltip="Show the previous module's tab",
            group=MODULE_KEYS,
        ),
        Binding(
            "right_square_bracket",
            "switch_module(1)",
            "Next module",
            key_display="]",
            tooltip="Show the next module's tab",
            group=MODULE_KEYS,
        ),
        Binding("f5", "refresh_sources", "Refresh", show=False, tooltip="List the sources again"),
    ]

    def __init__(
        self, workspace: Workspace, initial: str | None = None, early: EarlyOpen | None = None
    ) -> None:
        """`early`: the open of `initial`, started before the app; the first open adopts it."""
        super().__init__(id="main")
        self.workspace = workspace
        self.initial = initial
        self.early = early
        self.analysis = None
        self.opening: str | None = None
        self._cancel: threading.Event | None = None
        self._token = 0

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            yield SourcesPanel(id="sources")
            with Vertical(id="capture"):
                yield ScanProgress(id="scan")
                yield Static(WELCOME, id="welcome")
                yield self._module_tab_bar()
                yield ContentSwitcher(id="modules")
        yield KeyFooter(compact=True)

    @staticmethod
    def _module_tab_bar() -> Tabs:
        """The module tabs, switched by `[` and `]` (or a click) and never focused: Shift+Tab
        from a view goes to its view tabs, then to the sources, as with a single module."""
        tabs = Tabs(id="module-tabs")
        tabs.can_focus = False
        return tabs

    def on_mount(self) -> None:
        self.query_one(ScanProgress).display = False
        self.query_one("#modules").display = False
        self.query_one("#module-tabs").display = False
        self.action_refresh_sources()
        self.run_worker(prepare_workers, thread=True, name="prepare workers")
        self.query_one(SourcesPanel).tree.focus()
        if self.early is not None:
            self.call_after_refresh(self.early.release)  # the first frame is drawn
        if self.initial:
            self.open_capture(self.initial)

    def on_unmount(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    # --- actions -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_scan":
            return self.scanning
        if action == "show_view":
            number = parameters[0]
            return isinstance(number, int) and number <= len(self.views())
        if action == "switch_module":
            return self.analysis is not None and self.module_tabs.tab_count > 1
        return True

    @property
    def scanning(self) -> bool:
        return self._cancel is not None and not self._cancel.is_set() and self.opening is not None

    def action_cancel_scan(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    def action_toggle_sources(self) -> None:
        panel = self.query_one(SourcesPanel)
        panel.display = not panel.display
        if panel.display:
            panel.tree.focus()
        else:
            self._focus_view()

    # --- module tabs and their views ----------------------------------------------------------

    @property
    def module_tabs(self) -> Tabs:
        return self.query_one("#module-tabs", Tabs)

    def module_tab(self) -> ModuleTab | None:
        """The module tab in view (None: nothing open)."""
        current = self.query_one("#modules", ContentSwitcher).current
        if current is None:
            return None
        return self.query_one(f"#{current}", ModuleTab)

    def views(self) -> list[tuple[str, str]]:
        """(title, what showing it does) of each view of the tab in view, for `1`, `2` …"""
        tab = self.module_tab() if self.analysis is not None else None
        return tab.views() if tab is not None else []

    def table_panel(self) -> Widget | None:
        """The table of the view in view (None on an overview)."""
        tab = self.module_tab()
        return tab.current_panel() if tab is not None else None

    def table_bindings(self) -> list[Binding]:
        """The keys of the table in view (the first table's on an overview; the generic
        table's before a capture is open): those every table of the tab has, or nearly."""
        return self.table_key_groups()[0][1]

    def table_key_groups(self) -> list[tuple[str, list[Binding]]]:
        """(heading, keys) for help: the keys of the table in view under "In a table", then,
        for each other table of the tab with keys of its own, those keys under its name."""
        tab = self.module_tab()
        panels = tab.table_panels() if tab is not None else []
        titles = [title for title, _ in self.views()[1:]]
        named = list(zip(titles, panels, strict=False))
        current = self.table_panel()
        first = current if current is not None else (panels[0] if panels else None)
        found = class_bindings(type(first) if first is not None else KindPanel)
        groups = [("In a table (2, 3 …)", found)]
        listed = {(binding.key, binding.action) for binding in found}
        for number, (title, panel) in enumerate(named, start=2):
            # a key of its own, or a key that does something else there (Enter in Findings)
            own = [b for b in class_bindings(type(panel)) if (b.key, b.action) not in listed]
            if panel is not first and own:
                groups.append((f"In {title} ({number})", own))
                listed |= {(binding.key, binding.action) for binding in own}
        return groups

    def key_bindings(self) -> list[Binding]:
        """The screen's bindings as help and the palette list them: views by their names."""
        views = self.views()
        found = []
        for binding in self.BINDINGS:
            if not isinstance(binding, Binding):
                continue
            number = view_number(binding.action)
            if number is None:
                found.append(binding)
            elif number <= len(views):
                title, tip = views[number - 1]
                found.append(replace(binding, description=title, tooltip=tip))
            elif number == 1 and not views:  # nothing open: say what the digits do
                found.append(replace(binding, key_display="1 2 3 …", description="Views",
                                     tooltip="Show the overview (1) or a table (2, 3 …) of "
                                     "the module in view"))  # fmt: skip
        return found

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """The footer shows `1`, `2` … by the names of the views of the tab in view."""
        found = super().active_bindings
        views = self.views()
        for key, active in found.items():
            number = view_number(active.binding.action)
            if number is not None and number <= len(views):
                title, tip = views[number - 1]
                binding = replace(active.binding, description=title, tooltip=tip)
                found[key] = active._replace(binding=binding, tooltip=tip)
        return found

    def action_show_view(self, number: int) -> None:
        tab = self.module_tab()
        if tab is not None:
            tab.show_view(number)

    def action_switch_module(self, delta: int) -> None:
        tabs = self.module_tabs
        if delta < 0:
            tabs.action_previous_tab()
        else:
            tabs.action_next_tab()

    async def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        """A module tab was chosen: show its pane and put the keyboard in its view."""
        if event.tabs.id != "module-tabs" or event.tab.id is None:
            return
        event.stop()
        pane = event.tab.id.removeprefix("tab-")
        await self.query_one(f"#{pane}", ModuleTab).make_views()  # (the first time it is chosen)
        self.query_one("#modules", ContentSwitcher).current = pane
        self.call_after_refresh(self._focus_view)
        self.refresh_bindings()

    def _focus_view(self) -> None:
        tab = self.module_tab()
        if tab is not None:
            tab.focus_view()

    async def _show_modules(self, analysis: Any) -> None:
        """One tab per module that found traffic (DNS first)."""
        switcher = self.query_one("#modules", ContentSwitcher)
        for old in list(switcher.query_children(ModuleTab)):
            await old.remove()
        tabs = self.module_tabs
        await tabs.clear()
        names = shown_modules(analysis)
        modules = {module.name: module for module in analysis.modules}
        first = f"module-{dom_id(names[0])}"
        for name in names:
            pane = f"module-{dom_id(name)}"
            # the tabs behind the first make their views when they are first chosen
            tab = ModuleTab(analysis, modules[name], id=pane, lazy=pane != first)
            tab.display = pane == first  # a switcher shows children mounted late
            await switcher.mount(tab)
            await tabs.add_tab(Tab(modules[name].title, id=f"tab-{pane}"))
        switcher.current = first
        tabs.active = f"tab-{first}"
        tabs.display = len(names) > 1
        switcher.display = True
        self.call_after_refresh(self._focus_view)

    def action_refresh_sources(self) -> None:
        self.query_one(SourcesPanel).tree.show_loading(self.workspace.sources.sources())
        work = partial(workers.list_sources, self.workspace, self.post_message)
        self.run_worker(work, thread=True, group="sources", exclusive=True, name="list sources")

    # --- opening a capture -------------------------------------------------------------------

    def open_capture(self, name: str) -> None:
        """Open `name` in a thread worker; progress shows once the core reports a scan."""
        if self._cancel is not None:
            self._cancel.set()
        early = self.early if self.early is not None and self.early.name == name else None
        self.early = None  # it serves the first open only
        self._token += 1
        self._cancel = early.cancel if early is not None else threading.Event()
        self.opening = name
        self.query_one(ScanProgress).start(name)
        post = self._poster(self._token)
        work = partial(workers.open_capture, self.workspace, name, self._cancel, post, early)
        self.run_worker(work, thread=True, group="open", name=f"open {name}")
        self.refresh_bindings()

    def _poster(self, token: int):
        """Post only while `token` is the latest open (an older, cancelled one stays quiet)."""

        def post(message: Message) -> None:
            if token == self._token:
                self.post_message(message)

        return post

    def _finish_open(self) -> None:
        self.opening = None
        self.query_one(ScanProgress).display = False
        self.refresh_bindings()

    def on_scan_progressed(self, event: workers.ScanProgressed) -> None:
        if event.name == self.opening:
            self.query_one(ScanProgress).show_progress(event)

    async def on_capture_opened(self, event: workers.CaptureOpened) -> None:
        self._finish_open()
        self.analysis = event.analysis
        self.sub_title = event.name
        self.query_one("#welcome").display = False
        await self._show_modules(event.analysis)
        if self.size.width < NARROW:
            self.query_one(SourcesPanel).display = False
        self.query_one(SourcesPanel).tree.select_capture(event.name)
        self.refresh_bindings()
        warnings = event.analysis.capture_document().get("warnings") or []
        if warnings:  # (a capture cut short, a bound reached: the results are partial)
            self.notify("\n".join(warnings), title=f"{event.name}: warnings", severity="warning",
                        timeout=WARNINGS_SHOWN, markup=False)  # fmt: skip

    def on_capture_failed(self, event: workers.CaptureFailed) -> None:
        self._finish_open()
        self.app.push_screen(ErrorScreen(f"Cannot open {event.name}", event.message))

    def on_scan_cancelled(self, event: workers.ScanCancelled) -> None:
        self._finish_open()
        self.notify(f"Opening {event.name} was cancelled.", severity="warning", markup=False)

    # --- sources and overview ----------------------------------------------------------------

    def on_sources_listed(self, event: workers.SourcesListed) -> None:
        tree = self.query_one(SourcesPanel).tree
        tree.show_listing(event.sources, event.entries)
        if self.analysis is not None:
            tree.select_capture(self.analysis.name)

    def on_sources_panel_capture_chosen(self, event: SourcesPanel.CaptureChosen) -> None:
        self.open_capture(event.name)
