"""The http module in the TUI: a tab of its own with no line of HTTP code in the TUI, showing
what the core answers (KindQuery), and its snapshots at 80x24 and 120x40."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer
from mcpcap.tui.app import McpcapApp
from mcpcap.tui.widgets.kind_table import KindPanel
from mcpcap.tui.widgets.module_tab import ModuleOverview, ModuleTab
from tests.tui.tui_support import FIXED_MTIME, settings, settle

CAPTURE = Path(__file__).resolve().parents[2] / "fixtures" / "http" / "http_basic.pcap"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The capture alone in a folder shown by a relative name (no temporary path on screen)."""
    found = tmp_path / "captures"
    found.mkdir()
    shutil.copy(CAPTURE, found / CAPTURE.name)
    os.utime(found / CAPTURE.name, (FIXED_MTIME, FIXED_MTIME))
    monkeypatch.chdir(tmp_path)
    return Path("captures")


def http_app(root: Path, folder: Path) -> McpcapApp:
    return McpcapApp(settings(root, pcap_paths=[str(folder)], modules=["http"]), CAPTURE.name)


def run(app: McpcapApp, body: Callable[[Pilot], Awaitable[None]]) -> None:
    async def scenario() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await body(pilot)

    asyncio.run(scenario())


def shown(panel: KindPanel) -> list[dict]:
    source = panel.table.source
    assert source is not None
    return [source.record(i) for i in range(len(source))]


def test_the_http_tab_shows_the_cores_records(tmp_path, folder, make_settings) -> None:
    with Analyzer(make_settings(modules=["http"])).analyze(CAPTURE, CAPTURE.name) as analysis:
        query = KindQuery(analysis, "http.requests")
        page = query.page()
        narrowed = query.page("status_class:4xx")

    async def body(pilot: Pilot) -> None:
        screen = pilot.app.screen
        tab = screen.query_one("#module-http", ModuleTab)
        assert screen.module_tab() is tab
        assert isinstance(pilot.app.focused, ModuleOverview)
        assert [title for title, _ in screen.views()] == ["Overview", "Requests", "Malformed"]
        await pilot.press("2")
        await settle(pilot)
        panel = tab.current_panel()
        assert isinstance(panel, KindPanel) and panel.kind.name == "http.requests"
        assert shown(panel) == page.items
        assert "/index.html?lang=en" in panel.table.render_line(1).text
        await pilot.press("slash", *"status_class:4xx", "enter")
        await settle(pilot)
        assert shown(panel) == narrowed.items
        await pilot.press("enter")
        await settle(pilot)
        assert json.loads(panel.detail_text)["uri"] == "/favicon.ico"

    run(http_app(tmp_path, folder), body)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_http_overview_snapshot(snap_compare, tmp_path: Path, folder: Path, size) -> None:
    assert snap_compare(http_app(tmp_path, folder), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_http_requests_snapshot(snap_compare, tmp_path: Path, folder: Path, size) -> None:
    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("down")
        await settle(pilot)

    assert snap_compare(http_app(tmp_path, folder), terminal_size=size, run_before=run_before)
