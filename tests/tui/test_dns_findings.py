"""The DNS hunt's findings in the DNS tab: a table of its own (view 5), whose `t` lists the
transactions behind the finding under the cursor; help (from any view) and the palette list that
key."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from textual.pilot import Pilot

from mcpcap.core.records import KindQuery
from mcpcap.modules.dns.tui.findings import FindingsPanel
from mcpcap.modules.dns.tui.transactions import TransactionsPanel
from tests.tui.tui_support import app_for, settle

HUNTING = Path(__file__).parents[1] / "fixtures" / "hunting"
CAPTURE = "answers-1.pcap.gz"


def test_t_on_a_finding_lists_its_transactions(tmp_path: Path) -> None:
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
        assert "t" in {b.key for b in screen.table_bindings()}
        await pilot.press("1")  # on the overview, help names the table the key works in
        await settle(pilot)
        rows = pilot.app.key_help()
        assert rows[rows.index(("", "In Findings (5)")) + 1] == ("t", panel.BINDINGS[0].tooltip)
        assert "t" not in {b.key for b in screen.table_bindings()}
        await pilot.press("5")
        await settle(pilot)
        commands = {c.title for c in pilot.app.get_system_commands(screen)}
        assert {"Transactions", "Detail", "Export"} <= commands
        await pilot.press("down", "t")
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
