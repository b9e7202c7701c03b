"""The pip-installed NTP example in the TUI: a tab of its own, made with no line of NTP code in
the TUI, showing what the core answers (KindQuery) page by page."""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Tabs

from mcpcap.core.errors import BadArgumentError
from mcpcap.core.examples import example_path
from mcpcap.core.export import write_records
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer
from mcpcap.tui.app import McpcapApp
from mcpcap.tui.kind_rows import PagedRecords, format_value, layout
from mcpcap.tui.screens.export import ExportScreen
from mcpcap.tui.screens.help import HelpScreen
from mcpcap.tui.widgets.kind_table import KindPanel
from mcpcap.tui.widgets.mcp_call import McpCallScreen
from mcpcap.tui.widgets.module_tab import ModuleOverview, ModuleTab
from tests.tui.tui_support import FIXED_MTIME, settings, settle

CAPTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ntp" / "ntp.pcap"
SIZE = (120, 40)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The NTP capture alone in a folder shown by a relative name (no temporary path on screen)."""
    found = tmp_path / "captures"
    found.mkdir()
    shutil.copy(CAPTURE, found / CAPTURE.name)
    os.utime(found / CAPTURE.name, (FIXED_MTIME, FIXED_MTIME))
    monkeypatch.chdir(tmp_path)
    return Path("captures")


@pytest.fixture
def analysis(make_settings) -> Iterator[Any]:
    with Analyzer(make_settings(modules=["dns", "ntp"])).analyze(CAPTURE, CAPTURE.name) as found:
        yield found


def ntp_app(root: Path, folder: Path) -> McpcapApp:
    chosen = settings(root, pcap_paths=[str(folder)], modules=["dns", "ntp"])
    return McpcapApp(chosen, CAPTURE.name)


def run(app: McpcapApp, body: Callable[[Pilot], Awaitable[None]], size=SIZE) -> None:
    async def scenario() -> None:
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await body(pilot)

    asyncio.run(scenario())


def ntp_tab(pilot: Pilot) -> ModuleTab:
    return pilot.app.screen.query_one("#module-ntp", ModuleTab)


def panel_in_view(pilot: Pilot) -> KindPanel:
    panel = ntp_tab(pilot).current_panel()
    assert panel is not None
    return panel


def shown(panel: KindPanel) -> list[dict]:
    """The records the table holds, row by row."""
    source = panel.table.source
    assert source is not None
    return [source.record(i) for i in range(len(source))]


def cells(panel: KindPanel, row: int) -> str:
    """The text of a table row as drawn (row 0 is the header)."""
    return panel.table.render_line(row).text


async def go_to_ntp(pilot: Pilot) -> None:
    await pilot.press("right_square_bracket")
    await settle(pilot)


def test_module_tabs_views_filter_detail(tmp_path: Path, folder: Path, analysis: Any) -> None:
    exchanges = KindQuery(analysis, "ntp.exchanges")

    async def body(pilot: Pilot) -> None:
        screen = pilot.app.screen
        tabs = screen.query_one("#module-tabs", Tabs)
        assert tabs.display
        assert [str(tab.label) for tab in tabs.query("Tab")] == ["DNS", "NTP"]
        assert screen.module_tab().module.name == "dns"  # DNS first
        await go_to_ntp(pilot)
        assert screen.module_tab() is ntp_tab(pilot)
        assert [title for title, _ in screen.views()] == ["Overview", "Exchanges", "Malformed"]
        assert isinstance(pilot.app.focused, ModuleOverview)

        await pilot.press("2")
        await settle(pilot)
        panel = panel_in_view(pilot)
        assert panel.kind.name == "ntp.exchanges"
        page = exchanges.page()
        assert shown(panel) == page.items and panel.total == page.total > 0
        first = page.items[0]
        line = cells(panel, 1)
        assert first["client"] in line and first["server"] in line
        assert format_value("seconds", first["offset"]) in line

        await pilot.press("slash", *"stratum:2", "enter")
        await settle(pilot)
        narrowed = exchanges.page("stratum:2")
        assert shown(panel) == narrowed.items
        assert 0 < len(narrowed.items) < page.total
        assert all(item["stratum"] == 2 for item in narrowed.items)

        await pilot.press("slash", *" stratum:two", "enter")
        await settle(pilot)
        with pytest.raises(BadArgumentError) as caught:
            exchanges.page("stratum:2 stratum:two")
        error = str(panel.filter_bar.query_one("#filter-error").render())
        assert str(caught.value) in error and error.count(". ") == 0
        assert shown(panel) == narrowed.items  # the last good rows stay

        await pilot.press("escape", "3")
        await settle(pilot)
        malformed = panel_in_view(pilot)
        assert malformed.kind.name == "ntp.malformed"
        assert shown(malformed) == KindQuery(analysis, "ntp.malformed").page().items
        await pilot.press("down", "enter")
        await settle(pilot)
        assert malformed.has_class("-detail")
        record = KindQuery(analysis, "ntp.malformed").one(shown(malformed)[1]["id"])
        assert json.loads(malformed.detail_text) == record
        assert malformed.query_one(".kind-detail").display

        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen.module_tab().module.name == "dns"

    run(ntp_app(tmp_path, folder), body)


def test_sort_cycles_through_the_kinds_sorts(tmp_path: Path, folder: Path, analysis: Any) -> None:
    exchanges = KindQuery(analysis, "ntp.exchanges")

    async def body(pilot: Pilot) -> None:
        await go_to_ntp(pilot)
        await pilot.press("2")
        await settle(pilot)
        panel = panel_in_view(pilot)
        seen = []
        for _ in exchanges.kind.sorts:
            await pilot.press("s")
            await settle(pilot)
            seen.append(panel.sort)
            assert shown(panel) == exchanges.page(sort=panel.sort).items
        assert seen == [*exchanges.kind.sorts[1:], exchanges.kind.sorts[0]]

    run(ntp_app(tmp_path, folder), body)


def test_export_writes_what_write_records_writes(
    tmp_path: Path, folder: Path, analysis: Any
) -> None:
    target = tmp_path / "exchanges.json"
    query = KindQuery(analysis, "ntp.exchanges")

    async def body(pilot: Pilot) -> None:
        await go_to_ntp(pilot)
        await pilot.press("2", "slash", *"stratum>=2", "enter")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ExportScreen)
        assert [b.name for b in screen.query("RadioButton")] == ["jsonl", "json", "csv"]
        next(b for b in screen.query("RadioButton") if b.name == "json").value = True
        await settle(pilot)
        assert screen.query_one("#export-path").value.endswith("ntp-ntp-exchanges.json")
        screen.query_one("#export-path").value = str(target)
        await pilot.click("#export-ok")
        await settle(pilot)

    run(ntp_app(tmp_path, folder), body)
    expected = io.StringIO()
    count = write_records(query.iterate("stratum>=2"), expected, "json", query.kind)
    assert target.read_text() == expected.getvalue()
    assert 0 < count < query.page().total


def test_mcp_call_help_and_palette_follow_the_tab(tmp_path: Path, folder: Path) -> None:
    async def body(pilot: Pilot) -> None:
        app = pilot.app
        dns_titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Overview", "Transactions", "Prev module", "Next module"} <= dns_titles
        await go_to_ntp(pilot)
        await pilot.press("2", "slash", *"stratum:2", "enter")
        await settle(pilot)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Overview", "Exchanges", "Malformed", "Filter", "Sort", "Export"} <= titles
        assert "Transactions" not in titles
        footer = {a.binding.description for a in app.screen.active_bindings.values()}
        assert {"Exchanges", "Malformed", "Prev module"} <= footer
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, McpCallScreen)
        (call,) = app.screen.calls
        assert call.tool == "records"
        assert call.arguments == {
            "capture": CAPTURE.name,
            "kind": "ntp.exchanges",
            "filter": "stratum:2",
            "sort": "ts",
            "limit": 3,
        }
        await pilot.press("escape", "question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        keys = dict(app.screen.bindings)
        assert keys["2"] == "Show the NTP exchanges table"
        assert keys["3"] == "Show the NTP malformed table"
        assert keys["["] == "Show the previous module's tab"
        assert "/" in keys and "e" in keys and "m" in keys

    run(ntp_app(tmp_path, folder), body)


def test_the_table_reads_pages_as_it_scrolls(
    tmp_path: Path, folder: Path, analysis: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(KindPanel, "page_size", 2)
    monkeypatch.setattr(KindPanel, "kept_pages", 2)
    everything = list(KindQuery(analysis, "ntp.exchanges").iterate())

    async def body(pilot: Pilot) -> None:
        await go_to_ntp(pilot)
        await pilot.press("2")
        await settle(pilot)
        panel = panel_in_view(pilot)
        source = panel.table.source
        assert source is not None and panel.total == len(everything) > 4
        rows = panel.table.page_rows
        assert rows < len(everything) - 2
        assert source.fetches == -(-rows // 2)  # the pages of the rows drawn, no more
        assert source.record(len(everything) - 1) is None
        await pilot.press("end")
        await settle(pilot)
        last = len(everything) - 1
        assert panel.table.cursor == last
        assert source.record(last) == everything[last]
        assert source.fetches == -(-len(everything) // 2)  # each page read once, no more
        assert source.pages_in_memory <= source.kept
        assert str(len(everything)) in cells(
            panel, panel.table.cursor - round(panel.table.scroll_y) + 1
        )
        await pilot.press("enter")
        await settle(pilot)
        assert json.loads(panel.detail_text) == everything[last]

    run(ntp_app(tmp_path, folder), body, size=(100, 12))


def test_new_tui_code_imports_no_protocol_module() -> None:
    code = (
        "import sys\n"
        "import mcpcap.tui.widgets.module_tab, mcpcap.tui.widgets.kind_table\n"
        "print(sorted(m for m in sys.modules if m.startswith('mcpcap.modules.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_another_capture_replaces_the_module_tabs(tmp_path: Path, folder: Path) -> None:
    shutil.copy(example_path(), folder / "example.pcap")

    async def body(pilot: Pilot) -> None:
        screen = pilot.app.screen
        assert screen.query(ModuleTab)
        screen.open_capture("example.pcap")
        await settle(pilot)
        assert screen.analysis.name == "example.pcap"
        assert [tab.module.name for tab in screen.query(ModuleTab)] == ["dns"]
        assert screen.query_one("#module-tabs", Tabs).display is False
        views = [title for title, _ in screen.views()]
        assert views == ["Overview", "Transactions", "Messages", "Malformed", "Findings"]
        await pilot.press("right_square_bracket", "2")
        await settle(pilot)
        assert screen.query_one("#module-dns TabbedContent").active == "dns-transactions"

    run(ntp_app(tmp_path, folder), body)


def test_a_capture_without_dns_opens_on_the_module_that_found_traffic(
    tmp_path: Path, folder: Path
) -> None:
    async def body(pilot: Pilot) -> None:
        screen = pilot.app.screen
        assert screen.query_one("#module-tabs", Tabs).display is False  # one tab: no tab bar
        assert screen.module_tab() is ntp_tab(pilot)
        assert isinstance(pilot.app.focused, ModuleOverview)
        await pilot.press("3")
        await settle(pilot)
        assert panel_in_view(pilot).kind.name == "ntp.malformed"

    chosen = settings(tmp_path, pcap_paths=[str(folder)], modules=["ntp"])
    run(McpcapApp(chosen, CAPTURE.name), body)


def test_pages_are_fetched_as_needed_and_few_are_kept(analysis: Any) -> None:
    query = KindQuery(analysis, "ntp.exchanges")
    everything = list(query.iterate())
    paged = PagedRecords(query, page_size=2, kept=2)
    assert len(paged) == len(everything) > 4
    assert paged.record(0) == everything[0] and paged.record(2) is None  # one page so far
    last = len(everything) - 1
    paged.load(last)
    assert paged.record(last) == everything[last]
    assert paged.pages_in_memory == 2
    assert paged.record(0) is None  # let go of; read again on demand
    paged.load(0)
    assert [paged.record(i) for i in range(2)] == everything[:2]
    fetches = paged.fetches
    paged.load(1)
    assert paged.fetches == fetches  # in memory: no fetch


def test_narrow_tables_drop_the_highest_drop_first(analysis: Any) -> None:
    kind = KindQuery(analysis, "ntp.exchanges").kind
    wide = [spec.name for spec, _ in layout(kind.fields, 400, {})]
    assert wide == [spec.name for spec in kind.fields]
    narrow = layout(kind.fields, 76, {})
    names = [spec.name for spec, _ in narrow]
    assert names == [spec.name for spec in kind.fields if spec.drop == 0]
    over = sum(width + 1 for _, width in narrow) > 76  # addresses are never cut: it scrolls
    assert not over or all(w == s.width for s, w in narrow if s.format == "address")
    middle = [spec.name for spec, _ in layout(kind.fields, 100, {"client": 12, "server": 11})]
    kept_drops = {spec.drop for spec in kind.fields if spec.name in middle}
    gone_drops = {spec.drop for spec in kind.fields if spec.name not in middle}
    assert gone_drops and min(gone_drops) >= max(kept_drops)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_ntp_overview_snapshot(snap_compare, tmp_path: Path, folder: Path, size) -> None:
    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await go_to_ntp(pilot)

    assert snap_compare(ntp_app(tmp_path, folder), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_ntp_exchanges_snapshot(snap_compare, tmp_path: Path, folder: Path, size) -> None:
    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await go_to_ntp(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("down")
        await settle(pilot)

    assert snap_compare(ntp_app(tmp_path, folder), terminal_size=size, run_before=run_before)
