"""Regenerate the SVG screenshots in assets/ from the app: `python assets/make_screenshots.py`.

Each shot runs the app headless at a fixed size on the bundled example (copied with a fixed
date, the result store in a temporary folder), waits for its workers, and saves an SVG.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

ASSETS = Path(__file__).resolve().parent
sys.path.insert(0, str(ASSETS.parent))  # the repository root, for tests.tui.tui_support

from mcpcap.tui.app import McpcapApp  # noqa: E402
from tests.tui.tui_support import capture_folder, settings, settle  # noqa: E402

Steps = Callable[[Pilot], Awaitable[None]]


async def nothing(pilot: Pilot) -> None:
    """No keys: the screen as it opens."""


async def help_screen(pilot: Pilot) -> None:
    await pilot.press("question_mark")


async def light_theme(pilot: Pilot) -> None:
    await pilot.press("d")


async def nxdomain_transactions(pilot: Pilot) -> None:
    """The Transactions tab filtered to NXDOMAIN, the first one's detail open."""
    await pilot.press("2")
    await settle(pilot)
    await pilot.press("slash")
    for key in "rcode:NXDOMAIN":
        await pilot.press(key)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("enter")


SHOTS: list[tuple[str, str | None, tuple[int, int], Steps]] = [
    ("tui-overview.svg", "example.pcap", (160, 50), nothing),
    ("tui-overview-80.svg", "example.pcap", (80, 45), nothing),
    ("tui-overview-light.svg", "example.pcap", (160, 50), light_theme),
    ("tui-transactions.svg", "example.pcap", (160, 50), nxdomain_transactions),
    ("tui-sources.svg", None, (100, 24), nothing),
    ("tui-help.svg", None, (100, 40), help_screen),
]


async def shoot(
    store: Path, name: str, capture: str | None, size: tuple[int, int], steps: Steps
) -> None:
    """One screenshot; `store` holds its result store, so every shot scans afresh."""
    app = McpcapApp(settings(store, pcap_paths=["captures"]), capture)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await steps(pilot)
        await settle(pilot)
        app.save_screenshot(name, path=str(ASSETS))
    print(f"wrote assets/{name}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        capture_folder(root)
        os.chdir(root)
        for shot in SHOTS:
            asyncio.run(shoot(root / "stores" / shot[0], *shot))


if __name__ == "__main__":
    main()
