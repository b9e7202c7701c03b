"""Regenerate the SVG screenshots in assets/ from the app: `python assets/make_screenshots.py`.

Each shot runs the app headless at a fixed size, waits for its workers, and saves an SVG: the
overview and transactions shots at 120x40 (and 80x24) on the bundled example as a newcomer sees
it (the `examples` source; opened below 140 columns, the sources panel steps aside), the sources
and help shots on a staged folder (copied with a fixed date); result stores in a temporary
folder.
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


EXAMPLES = False  # the app as a newcomer opens it: the bundled `examples` source alone
STAGED = True  # a staged `captures` folder (a gzip capture, a file that is not a capture)
SHOTS: list[tuple[str, str | None, tuple[int, int], Steps, bool]] = [
    ("tui-overview.svg", "example.pcap", (120, 40), nothing, EXAMPLES),
    ("tui-overview-80.svg", "example.pcap", (80, 24), nothing, EXAMPLES),
    ("tui-overview-light.svg", "example.pcap", (120, 40), light_theme, EXAMPLES),
    ("tui-transactions.svg", "example.pcap", (120, 40), nxdomain_transactions, EXAMPLES),
    ("tui-sources.svg", None, (100, 24), nothing, STAGED),
    ("tui-help.svg", None, (100, 40), help_screen, STAGED),
]


async def shoot(
    store: Path,
    name: str,
    capture: str | None,
    size: tuple[int, int],
    steps: Steps,
    staged: bool,
) -> None:
    """One screenshot; `store` holds its result store, so every shot scans afresh."""
    folders = {"pcap_paths": ["captures"]} if staged else {}
    app = McpcapApp(settings(store, **folders), capture)
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
