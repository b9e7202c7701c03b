"""Pilot tests of the app: sources, opening, cancelling, errors, overview, help, palette."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import DataTable, TabbedContent
from textual.widgets._footer import FooterKey

from mcpcap.modules.dns.tui.overview import DnsOverview
from mcpcap.modules.dns.tui.transactions import TransactionsPanel
from mcpcap.tui.app import McpcapApp
from mcpcap.tui.hooks import ShowRecords
from mcpcap.tui.launch import initial_capture
from mcpcap.tui.screens.error import ErrorScreen
from mcpcap.tui.screens.help import HelpScreen
from mcpcap.tui.widgets.footer import KeyFooter
from mcpcap.tui.widgets.scan_progress import ScanProgress, progress_line
from mcpcap.tui.widgets.sources import CaptureNode, SourceNode, SourcesTree
from mcpcap.tui.workers import ScanProgressed
from tests.tui.tui_support import (
    app_for,
    big_capture_folder,
    cancel_shown_scan,
    capture_folder,
    closed_port,
    error_modal_says,
    settle,
)

SIZE = (120, 40)


def tree_labels(app: McpcapApp) -> list[str]:
    tree = app.screen.query_one(SourcesTree)
    lines = (tree.get_node_at_line(i) for i in range(tree.last_line + 1))
    return [node.label.plain for node in lines if node is not None]


def top_domains(app: McpcapApp) -> list[str]:
    table = app.screen.query_one("#top-qnames", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def test_example_opens_without_arguments(tmp_path: Path) -> None:
    async def scenario() -> None:
        app = McpcapApp(*initial_capture(app_for(tmp_path).settings, None))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.screen.sub_title == "example.pcap"
            assert top_domains(app)[0] == "www.example.com"
            assert "examples" in tree_labels(app)[0]

    asyncio.run(scenario())


def test_open_a_capture_from_a_local_source(tmp_path: Path) -> None:
    folder = capture_folder(tmp_path)

    async def scenario() -> None:
        app = app_for(tmp_path, pcap_paths=[str(folder)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            labels = tree_labels(app)
            assert labels[0].startswith("captures  folder")
            assert any(
                label.startswith("example.pcap  45.1 KiB pcap 2024-05-01") for label in labels
            )
            assert any("notes.pcap  ✗ not a capture" in label for label in labels)
            assert app.screen.query_one("#modules").display is False
            tree = app.screen.query_one(SourcesTree)
            assert isinstance(tree.cursor_node.data, CaptureNode)
            assert tree.cursor_node.data.entry.name == "example.pcap"
            await pilot.press("enter")
            await settle(pilot)
            assert app.screen.sub_title == "example.pcap"
            assert app.screen.query_one("#modules").display is True
            assert top_domains(app)[:2] == ["www.example.com", "github.com"]
            rcodes = app.screen.query_one("#rcodes", DataTable)
            assert str(rcodes.get_row_at(0)[0]) == "NOERROR"

    asyncio.run(scenario())


def test_second_open_is_instant_from_the_store(tmp_path: Path) -> None:
    progress: list[ScanProgressed] = []

    async def scenario() -> None:
        app = app_for(tmp_path, capture="example.pcap")
        async with app.run_test(size=SIZE, message_hook=_collect(progress)) as pilot:
            await settle(pilot)
            assert any(p.stage == "scan" for p in progress)
            progress.clear()
            app.screen.open_capture("example.pcap")
            await settle(pilot)
            assert progress == []
            assert app.screen.query_one(ScanProgress).display is False
            assert top_domains(app)[0] == "www.example.com"

    asyncio.run(scenario())
    # a new app on the same store does not scan again either
    progress.clear()

    async def again() -> None:
        app = app_for(tmp_path, capture="example.pcap")
        async with app.run_test(size=SIZE, message_hook=_collect(progress)) as pilot:
            await settle(pilot)
            assert progress == []
            assert top_domains(app)[0] == "www.example.com"

    asyncio.run(again())


def _collect(into: list[ScanProgressed]):
    def hook(message) -> None:
        if isinstance(message, ScanProgressed) and all(m is not message for m in into):
            into.append(message)

    return hook


def test_escape_cancels_a_scan(tmp_path: Path) -> None:
    folder = big_capture_folder(tmp_path)

    async def scenario() -> None:
        app = app_for(tmp_path, capture="big.pcap", pcap_paths=[str(folder)])
        async with app.run_test(size=SIZE) as pilot:
            await cancel_shown_scan(pilot, "big.pcap")

    asyncio.run(scenario())


def test_bad_capture_shows_one_sentence(tmp_path: Path) -> None:
    folder = capture_folder(tmp_path)

    async def scenario() -> None:
        app = app_for(tmp_path, capture="notes.pcap", pcap_paths=[str(folder)])
        async with app.run_test(size=SIZE) as pilot:
            message = await error_modal_says(pilot, "notes.pcap is not a capture")
            assert "Traceback" not in message
            await pilot.press("enter")
            assert not isinstance(app.screen, ErrorScreen)

    asyncio.run(scenario())


def test_unknown_capture_argument_is_an_error_modal(tmp_path: Path) -> None:
    async def scenario() -> None:
        app = app_for(tmp_path, capture="nothing-here.pcap")
        async with app.run_test(size=SIZE) as pilot:
            await error_modal_says(pilot, "nothing-here.pcap")

    asyncio.run(scenario())


def test_unreachable_server_shows_on_its_node(tmp_path: Path) -> None:
    folder = capture_folder(tmp_path)
    url = f"http://127.0.0.1:{closed_port()}/caps/"

    async def scenario() -> None:
        app = app_for(tmp_path, pcap_paths=[str(folder)], pcap_urls=[url])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            tree = app.screen.query_one(SourcesTree)
            remote = [n for n in tree.root.children if n.data.source.kind == "remote"]
            assert len(remote) == 1
            assert isinstance(remote[0].data, SourceNode)
            assert "✗ cannot reach the server" in remote[0].label.plain
            assert any("example.pcap" in label for label in tree_labels(app))

    asyncio.run(scenario())


def test_clicking_a_top_domain_filters_transactions(tmp_path: Path) -> None:
    requests: list[str] = []
    seen: set[int] = set()

    def hook(message) -> None:  # called at every node the message bubbles through
        if isinstance(message, ShowRecords) and id(message) not in seen:
            seen.add(id(message))
            requests.append(message.filter_text)

    async def scenario() -> None:
        app = app_for(tmp_path, capture="example.pcap")
        async with app.run_test(size=(160, 60), message_hook=hook) as pilot:
            await settle(pilot)
            table = app.screen.query_one("#top-qnames", DataTable)
            table.scroll_visible(animate=False)
            await pilot.pause()
            await pilot.click(table, offset=(3, 2))  # the second row: github.com
            await settle(pilot)
            assert requests == ["qname:github.com"]
            tabs = app.screen.query_one(TabbedContent)
            panel = app.screen.query_one(TransactionsPanel)
            assert tabs.active == "dns-transactions"
            assert panel.table.has_focus  # the table's keys work at once
            assert panel.total == 19
            await pilot.press("1")  # back to the overview, then an rcode row
            await settle(pilot)
            assert tabs.active == "dns-overview"
            rcodes = app.screen.query_one("#rcodes", DataTable)
            rcodes.focus()
            rcodes.move_cursor(row=1)
            await pilot.press("enter")
            await settle(pilot)
            assert requests[-1] == "rcode:NXDOMAIN"
            assert tabs.active == "dns-transactions"
            assert panel.total == 5

    asyncio.run(scenario())


def test_help_theme_sources_and_palette(tmp_path: Path) -> None:
    async def scenario() -> None:
        app = app_for(tmp_path, capture="example.pcap")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            assert not isinstance(app.screen, HelpScreen)
            dark = app.theme
            await pilot.press("d")
            assert app.theme != dark
            panel = app.screen.query_one("#sources")
            shown = panel.display
            await pilot.press("f2")
            assert panel.display is not shown
            await pilot.press("2")
            assert app.screen.query_one(TabbedContent).active == "dns-transactions"
            await pilot.press("1")
            assert app.screen.query_one(TabbedContent).active == "dns-overview"
            titles = {c.title for c in app.get_system_commands(app.screen)}
            expected = {"Help", "Light/Dark", "Quit", "Sources", "Overview", "Transactions"}
            assert expected | {"Cancel scan", "Refresh"} <= titles

    asyncio.run(scenario())


def test_initial_capture_rules(tmp_path: Path) -> None:
    base = app_for(tmp_path).settings
    assert initial_capture(base, None) == (base, "example.pcap")
    assert initial_capture(base, "example.pcap") == (base, "example.pcap")
    own = capture_folder(tmp_path) / "office.pcap.gz"
    chosen, name = initial_capture(base, str(own))
    assert (chosen.pcap_paths, name) == ([str(own)], "office.pcap.gz")
    chosen, name = initial_capture(base, "http://127.0.0.1:1/x.pcap")
    assert chosen.pcap_urls == ["http://127.0.0.1:1/x.pcap"]
    configured = app_for(tmp_path, pcap_paths=[str(tmp_path)]).settings
    assert initial_capture(configured, None) == (configured, None)


def test_progress_line() -> None:
    line = progress_line(1024 * 1024, 4 * 1024 * 1024, 0.5, packets=8192)
    assert line == "8,192 packets · 1.0 MiB of 4.0 MiB · 2.0 MiB/s · 1.50 s left"
    assert progress_line(0, None, 0.0) == "0 B"


def test_footer_recomposes_only_when_its_keys_change(tmp_path: Path) -> None:
    async def scenario() -> None:
        app = app_for(tmp_path, capture="example.pcap")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            footer = app.screen.query_one(KeyFooter)
            keys = list(footer.query(FooterKey))
            assert "f2" in [key.key for key in keys]
            app.screen.refresh_bindings()
            app.screen.query_one(DataTable).focus()  # a focus change that shows the same keys
            await settle(pilot)
            assert list(footer.query(FooterKey)) == keys  # the very same widgets
            await pilot.press("2")  # the table's keys come
            await settle(pilot)
            assert "slash" in [key.key for key in footer.query(FooterKey)]

    asyncio.run(scenario())


def test_names_from_the_capture_are_never_read_as_markup(tmp_path: Path) -> None:
    """A file name or a query name with brackets shows as it is (a closing tag no opening tag
    matches would otherwise stop the overview from drawing)."""
    from scapy.layers.dns import DNS, DNSQR, DNSRR
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.utils import wrpcap

    folder = tmp_path / "odd"
    folder.mkdir()
    name = "[/b]x.example"
    query = DNS(id=7, rd=1, qd=DNSQR(qname=name))
    answer = DNS(id=7, qr=1, qd=DNSQR(qname=name), an=DNSRR(rrname=name, rdata="192.0.2.1"))
    frames = [
        Ether() / IP(src="10.0.0.1", dst="10.0.0.53") / UDP(sport=4000, dport=53) / query,
        Ether() / IP(src="10.0.0.53", dst="10.0.0.1") / UDP(sport=53, dport=4000) / answer,
    ]
    frames[0].time, frames[1].time = 1_714_550_400.0, 1_714_550_400.01
    capture = "[red]trace[b].pcap"
    wrpcap(str(folder / capture), frames)

    async def scenario() -> None:
        app = app_for(tmp_path, capture, pcap_paths=[str(folder)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.screen.query_one(DnsOverview) is not None
            assert top_domains(app) == [name]
            line = app.screen.query_one("#capture-line").render()
            assert str(line).startswith(capture)

    asyncio.run(scenario())


def test_a_captures_warnings_are_shown_when_it_opens(tmp_path: Path) -> None:
    """A capture cut short gives partial results: the TUI says so, as `analyze` does."""
    folder = tmp_path / "cut"
    folder.mkdir()
    example = Path(__file__).resolve().parents[2] / "example.pcap"
    (folder / "cut.pcap").write_bytes(example.read_bytes()[:30_000])

    async def scenario() -> None:
        app = app_for(tmp_path, "cut.pcap", pcap_paths=[str(folder)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.screen.sub_title == "cut.pcap"
            shown = [n for n in app._notifications if n.severity == "warning"]
            assert shown and shown[-1].title == "cut.pcap: warnings"
            assert shown[-1].message.startswith("capture ends mid-record after ")

    asyncio.run(scenario())
