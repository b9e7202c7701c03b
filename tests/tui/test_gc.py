"""The app keeps its start-up heap out of the cyclic collector's walks (see `McpcapApp.on_ready`).

A scan pauses the collector; the full collection that comes due when it ends used to walk the
whole start-up heap (Textual, styles, widgets) inside the frame that draws the overview.
"""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

from mcpcap.modules.dns.tui.overview import DnsOverview
from mcpcap.tui.widgets.sources import SourcesPanel
from tests.tui.tui_support import app_for, capture_folder, settle

SIZE = (120, 40)


def collectable(obj: object) -> bool:
    """`obj` is in one of the collector's generations (a collection walks it), not frozen.

    `gc.get_objects()` lists the generations only, never the permanent one of `gc.freeze()`.
    """
    assert gc.is_tracked(obj)
    return any(found is obj for found in gc.get_objects())


def test_the_start_up_heap_is_frozen_while_the_app_runs(tmp_path: Path) -> None:
    folder = capture_folder(tmp_path)

    async def scenario() -> tuple[list[object], DnsOverview]:
        app = app_for(tmp_path, pcap_paths=[str(folder)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            start_up = [app, app.screen, app.screen.query_one(SourcesPanel), app.stylesheet]
            assert not any(collectable(obj) for obj in start_up)
            # what comes later stays the collector's: a capture closed is collected
            app.screen.open_capture("example.pcap")
            await settle(pilot)
            overview = app.screen.query_one(DnsOverview)
            assert collectable(overview)
        return start_up, overview

    start_up, overview = asyncio.run(scenario())
    # once the app has ended, a process that goes on (these tests) can collect all of it
    assert all(collectable(obj) for obj in [*start_up, overview])
