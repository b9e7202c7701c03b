"""Overview rankings fill the height they are given (DNS's and the generic overview's): as many
rows as the overview has room for, scrolling inside when they hold more, and more than the
summary's top N once the module is asked for longer ones."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.pilot import Pilot

from mcpcap.modules.dns.tui.overview import DnsOverview
from mcpcap.tui.widgets.module_tab import ModuleOverview
from mcpcap.tui.widgets.ranking import CHROME, FEWEST, RankTable
from tests.tui.tui_support import app_for, settle


def shown_rows(table: RankTable) -> int:
    return table.size.height - 1  # a header line, then rows


def measure(root: Path, size: tuple[int, int], module_key: str | None) -> dict[str, int]:
    """Rows shown and held by the first ranking of DNS's overview (or, after `module_key`,
    of the next module's generic overview), with the overview's height and the top N."""
    app = app_for(root, capture="example.pcap")
    found: dict[str, int] = {}

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            if module_key:
                await pilot.press(module_key)
                await settle(pilot)
            kind = ModuleOverview if module_key else DnsOverview
            overview = next(o for o in app.screen.query(kind) if o.display and o.size.height)
            table = overview.query(RankTable).first()
            if module_key:  # the longest: the example has more host pairs than the top N
                table = max(overview.query(RankTable), key=lambda t: t.row_count)
            await scroll_to(pilot, overview, table)
            found.update(shown=shown_rows(table), held=table.row_count,
                         height=overview.size.height, top_n=app.settings.top_n)  # fmt: skip

    asyncio.run(main())
    return found


async def scroll_to(pilot: Pilot, overview, table: RankTable) -> None:
    overview.scroll_to_widget(table, animate=False, top=True)
    await settle(pilot)


@pytest.mark.parametrize("module_key", [None, "right_square_bracket"], ids=["dns", "generic"])
def test_rankings_fill_the_height_they_are_given(tmp_path: Path, module_key) -> None:
    small = measure(tmp_path / "small", (80, 24), module_key)
    tall = measure(tmp_path / "tall", (200, 60), module_key)
    for found in (small, tall):
        assert found["held"] > found["top_n"]  # the longer ranking arrived
        room = max(found["height"] - CHROME, FEWEST)
        assert found["shown"] == min(room, found["held"])
    assert small["shown"] < small["held"]  # scrolls inside on a small terminal
    assert small["shown"] < tall["shown"]
