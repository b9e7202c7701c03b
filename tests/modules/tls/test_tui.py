"""The tls module in the TUI: a tab of its own, made from its kind with no TLS code in the TUI."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest
from textual.pilot import Pilot

from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer
from mcpcap.tui.app import McpcapApp
from mcpcap.tui.widgets.module_tab import ModuleTab
from tests.fixtures.make_tls_captures import CAPTURE
from tests.tui.tui_support import FIXED_MTIME, settings, settle


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The TLS capture alone in a folder shown by a relative name."""
    found = tmp_path / "captures"
    found.mkdir()
    shutil.copy(CAPTURE, found / CAPTURE.name)
    os.utime(found / CAPTURE.name, (FIXED_MTIME, FIXED_MTIME))
    monkeypatch.chdir(tmp_path)
    return Path("captures")


def tls_app(root: Path, folder: Path) -> McpcapApp:
    return McpcapApp(settings(root, pcap_paths=[str(folder)], modules=["dns", "tls"]), CAPTURE.name)


async def go_to_tls(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("right_square_bracket")
    await settle(pilot)


def test_the_handshakes_table_shows_what_the_core_answers(tmp_path, folder, make_settings):
    with Analyzer(make_settings(modules=["dns", "tls"])).analyze(CAPTURE, CAPTURE.name) as found:
        page = KindQuery(found, "tls.handshakes").page()

    async def body(pilot: Pilot) -> None:
        await go_to_tls(pilot)
        tab = pilot.app.screen.query_one("#module-tls", ModuleTab)
        assert pilot.app.screen.module_tab() is tab
        await pilot.press("2")
        await settle(pilot)
        panel = tab.current_panel()
        assert panel is not None and panel.kind.name == "tls.handshakes"
        source = panel.table.source
        assert [source.record(i) for i in range(len(source))] == page.items
        assert "www.example.com" in panel.table.render_line(1).text

    async def scenario() -> None:
        async with tls_app(tmp_path, folder).run_test(size=(120, 40)) as pilot:
            await body(pilot)

    asyncio.run(scenario())


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_tls_overview_snapshot(snap_compare, tmp_path: Path, folder: Path, size) -> None:
    assert snap_compare(tls_app(tmp_path, folder), terminal_size=size, run_before=go_to_tls)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_tls_handshakes_snapshot(snap_compare, tmp_path: Path, folder: Path, size) -> None:
    async def run_before(pilot: Pilot) -> None:
        await go_to_tls(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("down")
        await settle(pilot)

    assert snap_compare(tls_app(tmp_path, folder), terminal_size=size, run_before=run_before)
