"""The DNS hunt's findings in the DNS tab: a table of its own (view 5), whose Enter (and `t`)
lists the transactions behind the finding under the cursor and Space shows the finding; help
(from any view) and the palette list those keys."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from textual.pilot import Pilot

from mcpcap.core.records import KindQuery
from mcpcap.modules.dns.tui.findings import FindingsPanel
from mcpcap.modules.dns.tui.transactions import TransactionsPanel
from tests.tui.tui_support import app_for, settle

HUNTING = Path(__file__).parents[1] / "fixtures" / "hunting"
CAPTURE = "answers-1.pcap.gz"


@pytest.mark.parametrize("key", ["enter", "t"])
def test_enter_on_a_finding_lists_its_transactions(tmp_path: Path, key: str) -> None:
    folder = tmp_path / "captures"
    folder.mkdir()
    shutil.copy(HUNTING / CAPTURE, folder / CAPTURE)
    app = app_for(tmp_path, capture=CAPTURE, pcap_paths=[str(folder)])

    async def body(pilot: Pilot) -> None:
        screen = pilot.app.screen
        assert screen.module_tab().module.name == "dns"
        titles = [title for title, _ in screen.views()]
        assert titles == ["Overview", "Transactions", "Messages", "Malformed", "Findings"]
        await pilot.press("5")
        await settle(pilot)
        panel = screen.table_panel()
        assert isinstance(panel, FindingsPanel) and panel.table.has_focus
        findings = list(KindQuery(screen.analysis, "dns.findings").iterate())
        assert panel.total == len(findings) > 1
        assert findings[0]["subject"] in panel.table.render_line(1).text
        here = {(b.key, b.action) for b in screen.table_bindings()}
        assert {("enter", "transactions"), ("t", "transactions"), ("space", "detail")} <= here
        await pilot.press("space")  # the whole finding, in the detail pane
        await settle(pilot)
        assert panel.has_class("-detail") and findings[0]["evidence"] in panel.detail_text
        await pilot.press("escape")
        await pilot.press("1")  # on the overview, help names the table the keys work in
        await settle(pilot)
        rows = pilot.app.key_help()
        start = rows.index(("", "In Findings (5)")) + 1
        own = [(pilot.app.get_key_display(b), b.tooltip) for b in FindingsPanel.BINDINGS]
        assert rows[start : start + 3] == own
        assert [key for key, _ in own] == ["⏎", "t", "space"]
        tip = own[0][1]
        assert "t" not in {b.key for b in screen.table_bindings()}
        await pilot.press("5")
        await settle(pilot)
        palette = {c.title: c.help for c in pilot.app.get_system_commands(screen)}
        assert palette.get("Transactions") == tip and "Export" in palette
        await pilot.press("down", key)
        await settle(pilot)
        finding = findings[1]
        transactions = screen.table_panel()
        assert isinstance(transactions, TransactionsPanel) and transactions.table.has_focus
        assert transactions.filter_bar.applied_text == finding["filter"]
        assert transactions.total == finding["transactions"] > 0

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await body(pilot)

    asyncio.run(main())
