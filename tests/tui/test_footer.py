"""At 120 columns the footer shows every key it lists, whole, in each view of the DNS tab (the
longest: Findings, whose Enter says "Transactions"), left of the palette key."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets._footer import FooterKey

from mcpcap.tui.widgets.footer import KeyFooter
from tests.tui.tui_support import app_for, settle


def test_footer_keys_fit_at_120_columns(tmp_path: Path) -> None:
    app = app_for(tmp_path, capture="example.pcap")

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert app.screen.module_tabs.tab_count > 1  # "[] Modules" is in the footer
            for view in ("1", "2", "5"):
                await pilot.press(view)
                await settle(pilot)
                footer = app.screen.query_one(KeyFooter)
                keys = list(footer.query(FooterKey))
                palette = [k for k in keys if k.has_class("-command-palette")]
                shown = [k for k in keys if not k.has_class("-command-palette")]
                assert palette and {"q", "question_mark", "f2"} <= {k.key for k in shown}
                for key in shown:
                    assert key.region.width > 0, key.key
                    assert key.region.right <= palette[0].region.x, (view, key.key)

    asyncio.run(main())
