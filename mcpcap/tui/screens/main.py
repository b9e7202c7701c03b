"""The main screen: sources on the left, the open capture (Overview / Transactions) on the right."""

from __future__ import annotations

import threading
from functools import partial
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Static, TabbedContent, TabPane

from mcpcap.core.parallel import prepare_workers
from mcpcap.core.workspace import Workspace
from mcpcap.tui import workers
from mcpcap.tui.launch import EarlyOpen
from mcpcap.tui.screens.error import ErrorScreen
from mcpcap.tui.widgets.footer import KeyFooter
from mcpcap.tui.widgets.overview import DnsOverview
from mcpcap.tui.widgets.scan_progress import ScanProgress
from mcpcap.tui.widgets.sources import SourcesPanel
from mcpcap.tui.widgets.transactions import TransactionsPanel

WELCOME = "Choose a capture in the sources panel: arrows to move, Enter to open.  ? for help"
NARROW = 100  # below this many columns, opening a capture hides the sources panel


class MainScreen(Screen[None]):
    """Browses sources, opens captures in a worker, shows their analysis."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel_scan", "Cancel scan", tooltip="Stop opening the capture"),
        Binding("s", "toggle_sources", "Sources", tooltip="Show or hide the sources panel"),
        Binding("1", "show_tab('overview')", "Overview", tooltip="Show the DNS overview"),
        Binding(
            "2",
            "show_tab('transactions-tab')",
            "Transactions",
            tooltip="Show the transactions table",
        ),
        Binding("f5", "refresh_sources", "Refresh", tooltip="List the sources again"),
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
                with TabbedContent(id="tabs", initial="overview"):
                    with TabPane("Overview", id="overview"):
                        yield Static("", id="overview-empty")
                    with TabPane("Transactions", id="transactions-tab"):
                        yield TransactionsPanel(id="transactions")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(ScanProgress).display = False
        self.query_one("#tabs").display = False
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
        if action == "show_tab":
            return self.analysis is not None
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

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """Keys work at once in the tab just shown: focus its main widget."""
        if event.pane.id == "transactions-tab":
            self.query_one(TransactionsPanel).table.focus()
        else:
            for overview in self.query(DnsOverview):
                overview.focus()

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
        self.query_one("#tabs").display = True
        await self._show_overview(event.analysis)
        if "dns" in event.analysis.module_names:
            # the overview first: the table's view is built in a thread that would compete
            # with the overview's first frame for the interpreter
            panel = self.query_one(TransactionsPanel)
            self.call_after_refresh(panel.load, event.analysis.module("dns"), event.name)
        if self.size.width < NARROW:
            self.query_one(SourcesPanel).display = False
        self.query_one(SourcesPanel).tree.select_capture(event.name)
        self.refresh_bindings()

    async def _show_overview(self, analysis) -> None:
        pane = self.query_one("#overview", TabPane)
        await pane.remove_children()
        if "dns" not in analysis.module_names:
            await pane.mount(Static("The DNS module was not chosen (--modules).", id="no-dns"))
            return
        summary = analysis.module("dns").summary()
        overview = DnsOverview(analysis.capture(), summary, id="dns-overview")
        await pane.mount(overview)
        self.query_one(TabbedContent).active = "overview"
        overview.focus()

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

    def on_dns_overview_filter_requested(self, event: DnsOverview.FilterRequested) -> None:
        self.query_one(TabbedContent).active = "transactions-tab"
        self.query_one(TransactionsPanel).apply_filter(event.filter_text)
