"""Snapshots of the transactions panel on example.pcap at 120x36 (review each SVG you accept)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mcpcap.modules.dns.tui.transactions import TransactionsPanel
from tests.tui.test_transactions_support import SIZE, PanelApp, open_dns, settle


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("MCPCAP_CACHE_DIR", str(tmp_path))
    workspace, dns = open_dns(tmp_path)
    yield PanelApp(dns)
    workspace.close()


def test_filtered_transactions_table(snap_compare: Any, app: PanelApp) -> None:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("slash", *"qname_suffix:example.com qtype:A", "enter")
        await settle(pilot)
        await pilot.press("s", "s", "s")  # -rtt
        await settle(pilot)
        await pilot.press("down", "down")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_invalid_filter_keeps_the_table(snap_compare: Any, app: PanelApp) -> None:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        panel = pilot.app.query_one(TransactionsPanel)
        panel.apply_filter("rcode:NXDOMAIN")
        await settle(pilot)
        panel.apply_filter("rcode:NXDOMAIN qtype:BOGUS")
        panel.table.focus()
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_detail_pane(snap_compare: Any, app: PanelApp) -> None:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("down", "down", "enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
