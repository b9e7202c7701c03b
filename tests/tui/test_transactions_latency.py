"""Key press to the next rendered frame on a million-row transactions table (target < 100 ms).

The store is example.pcap's, grown to a million transactions by copying its rows in SQL; the
panel sees it through the core (`Workspace.open`) exactly as it sees a scanned capture. The time
is from handing the key to the app until the app's next screen update after it.
"""

from __future__ import annotations

import os
import shutil
import statistics
import time
from pathlib import Path

import pytest

from tests.tui.test_transactions_support import (
    PanelApp,
    grow_store,
    open_dns,
    run_app,
    settle,
)

ROWS = 1_000_000
BUDGET = 0.100


@pytest.fixture(scope="module")
def million(tmp_path_factory: pytest.TempPathFactory):
    cache = tmp_path_factory.mktemp("million")
    workspace, dns = open_dns(cache)
    path = dns._db.execute("PRAGMA database_list").fetchone()[2]
    workspace.close()
    grow_store(path, ROWS)
    workspace, dns = open_dns(cache)
    yield dns
    workspace.close()
    shutil.rmtree(cache, ignore_errors=True)


async def _key_latency(pilot, key: str) -> float:
    """Seconds from pressing `key` to the first frame the app renders afterwards."""
    app = pilot.app
    frames: list[float] = []
    original = app._display

    def display(screen, renderable):  # Textual's private hook: called once a frame
        if renderable is not None:
            frames.append(time.perf_counter())
        return original(screen, renderable)

    app._display = display
    try:
        start = time.perf_counter()
        await pilot.press(key)
        await pilot.pause()
        deadline = time.perf_counter() + 2
        while not frames and time.perf_counter() < deadline:
            await pilot.pause(0.01)
    finally:
        app._display = original
    assert frames, f"no frame was rendered after {key}"
    return frames[0] - start


def test_key_to_frame_under_100ms_on_a_million_rows(million) -> None:
    figures: dict[str, list[float]] = {}

    async def body(pilot) -> None:
        panel = pilot.app.query_one("#transactions")
        assert panel.total >= ROWS
        table = panel.table
        for place, setup in (("top", "home"), ("middle", None), ("end", "end")):
            if setup:
                await pilot.press(setup)
            else:
                table.cursor = panel.total // 2
            await settle(pilot)
            samples = figures.setdefault(place, [])
            for key in ("down", "up", "pagedown", "pageup", "down", "right", "right", "left"):
                samples.append(await _key_latency(pilot, key))
        jump = figures.setdefault("jump (home/end)", [])
        for key in ("home", "end", "home", "end"):
            jump.append(await _key_latency(pilot, key))
        assert table.cursor == panel.total - 1
        assert table.current()["query_frame"] is not None

    run_app(PanelApp(million), body)
    report = ", ".join(
        f"{place}: median {statistics.median(v) * 1e3:.1f} ms, max {max(v) * 1e3:.1f} ms"
        for place, v in figures.items()
    )
    print(f"\nkey press -> next frame on {ROWS:,} rows: {report}")
    out = os.environ.get("MCPCAP_LATENCY_REPORT")
    if out:
        Path(out).write_text(report + "\n")
    # the median, not the max: one scheduling hiccup of a shared CI machine is not the widget's
    # cost (the max is reported above, and benchmarks/ is where timings are judged)
    for place, samples in figures.items():
        median = statistics.median(samples)
        assert median < BUDGET, f"{place}: median {median * 1e3:.1f} ms"
