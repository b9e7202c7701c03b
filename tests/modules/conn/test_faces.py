"""conn.connections in every face, with no conn code in any face: the CLI (JSON Lines, Zeek
conn.log), the MCP server's generic tools (in-process Client) and the TUI's module tab."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from textual.pilot import Pilot

from mcpcap.core.config import build_settings
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer
from mcpcap.core.workspace import Workspace
from mcpcap.server.app import build_server
from mcpcap.tui.app import McpcapApp
from mcpcap.tui.widgets.module_tab import ModuleOverview, ModuleTab
from tests.fixtures.make_conn_captures import OUTPUT as CAPTURE
from tests.tui.tui_support import FIXED_MTIME, settings, settle


@pytest.fixture
def analysis(make_settings):
    chosen = make_settings(modules=["dns", "conn"], no_cache=True)
    with Analyzer(chosen).analyze(CAPTURE, CAPTURE.name) as found:
        yield found


def cli(*args: str, capture: Path = CAPTURE) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "mcpcap", "analyze", str(capture), "--no-cache", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_cli_writes_jsonl_and_ranks(analysis):
    query = KindQuery(analysis, "conn.connections")
    lines = cli("--records", "conn.connections", "--format", "jsonl").splitlines()
    assert [json.loads(line) for line in lines] == list(query.iterate())
    ranked = json.loads(
        cli("--records", "top", "--kind", "conn.connections", "--by", "server", "--weight", "bytes")
    )
    assert ranked == query.top(by="server", weight="bytes").model_dump(mode="json")
    summary = json.loads(cli())
    assert summary["conn"] == analysis.module("conn").summary().model_dump(mode="json")


def zeek_log(text: str) -> list[dict[str, str]]:
    lines = text.splitlines()
    fields = next(line for line in lines if line.startswith("#fields")).split("\t")[1:]
    return [dict(zip(fields, line.split("\t"), strict=True)) for line in lines if line[0] != "#"]


def test_the_zeek_conn_log_shares_uids_with_the_dns_log(analysis):
    text = cli("--records", "conn.connections", "--format", "zeek")
    assert "#path\tconn" in text.splitlines()
    rows = zeek_log(text)
    records = list(KindQuery(analysis, "conn.connections").iterate())
    assert [row["uid"] for row in rows] == [r["uid"] for r in records]
    assert [row["conn_state"] for row in rows] == [r["conn_state"] for r in records]
    assert [int(row["orig_ip_bytes"]) for row in rows] == [r["client_ip_bytes"] for r in records]
    (dns,) = zeek_log(cli("--records", "dns.transactions", "--format", "zeek"))
    (conn,) = [row for row in rows if row["id.resp_p"] == "53"]
    assert dns["uid"] == conn["uid"] and conn["service"] == "dns"


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_mcp_tools_answer_as_the_core(analysis, anyio_backend):
    chosen = build_settings({"pcap_path": [str(CAPTURE.parent)], "modules": "dns,conn"})
    workspace = Workspace(chosen)
    try:
        async with Client(build_server(workspace, chosen)) as client:
            page = await client.call_tool(
                "records",
                {"capture": CAPTURE.name, "kind": "conn.connections", "filter": "conn_state:SF"},
            )
            top = await client.call_tool(
                "top",
                {"capture": CAPTURE.name, "kind": "conn.connections", "by": "pair",
                 "weight": "bytes"},
            )  # fmt: skip
    finally:
        workspace.close()
    query = KindQuery(analysis, "conn.connections")
    assert page.structured_content == query.page("conn_state:SF").model_dump(mode="json")
    assert page.structured_content["total"] == 4
    expected = query.top(by="pair", weight="bytes").model_dump(mode="json")
    assert top.structured_content == expected


def conn_app(root: Path, capture: Path) -> McpcapApp:
    folder = root / "captures"
    folder.mkdir(exist_ok=True)
    shutil.copy(capture, folder / capture.name)
    os.utime(folder / capture.name, (FIXED_MTIME, FIXED_MTIME))
    chosen = settings(root, pcap_paths=[str(folder)], modules=["dns", "conn"])
    return McpcapApp(chosen, capture.name)


def run(app: McpcapApp, body) -> None:
    async def scenario() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await body(pilot)

    asyncio.run(scenario())


def test_the_tui_module_tab_shows_connections(tmp_path: Path, analysis: Any) -> None:
    page = KindQuery(analysis, "conn.connections").page()

    async def body(pilot: Pilot) -> None:
        screen = pilot.app.screen
        assert screen.module_tab().module.name == "dns"  # the capture has DNS: DNS first
        assert screen.query_one("#module-tabs").display  # two modules: a tab bar
        await pilot.press("right_square_bracket")
        await settle(pilot)
        tab = screen.query_one("#module-conn", ModuleTab)
        assert screen.module_tab() is tab
        assert [title for title, _ in screen.views()] == ["Overview", "Connections", "Malformed"]
        assert isinstance(pilot.app.focused, ModuleOverview)
        await pilot.press("2")
        await settle(pilot)
        panel = tab.current_panel()
        assert panel is not None and panel.kind.name == "conn.connections"
        source = panel.table.source
        assert [source.record(i) for i in range(len(source))] == page.items
        assert page.items[0]["client"] in panel.table.render_line(1).text

    run(conn_app(tmp_path, CAPTURE), body)


def test_a_module_tab_behind_the_first_makes_its_views_when_first_chosen(tmp_path: Path) -> None:
    """Opening shows the first module's views at once; another module's are made the first
    time its tab is chosen, so the first overview never waits for tabs nobody looks at."""
    from textual.widgets import TabbedContent

    async def body(pilot: Pilot) -> None:
        screen = pilot.app.screen
        behind = screen.query_one("#module-conn", ModuleTab)
        first = screen.module_tab()
        assert first.made and first.query(TabbedContent)
        assert not behind.made and not behind.query(TabbedContent)
        assert behind.current_panel() is None and behind.table_panels() == []
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert screen.module_tab() is behind and behind.made
        assert [pane.id for pane in behind.query("TabPane")] == behind.pane_ids()
        assert isinstance(pilot.app.focused, ModuleOverview)
        await pilot.press("left_square_bracket", "right_square_bracket")  # made once
        await settle(pilot)
        assert len(behind.query(TabbedContent)) == 1

    run(conn_app(tmp_path, CAPTURE), body)


def test_a_capture_without_dns_opens_on_the_connections_overview(tmp_path: Path) -> None:
    from tests.fixtures.make_conn_captures import SYN, tcp
    from tests.fixtures.packets import LINKTYPE_ETHERNET, Clock, pcap_bytes, write_file

    clock = Clock()
    frames = [clock.frame(tcp("10.0.0.1", "192.0.2.80", 40000, 80, SYN, 1)) for _ in range(2)]
    capture = write_file(tmp_path / "syn.pcap", pcap_bytes(frames, LINKTYPE_ETHERNET))

    async def body(pilot: Pilot) -> None:
        tab = pilot.app.screen.module_tab()
        assert tab is not None and tab.module.name == "conn"
        assert isinstance(pilot.app.focused, ModuleOverview)

    run(conn_app(tmp_path, capture), body)
