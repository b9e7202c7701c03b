"""How long the TUI takes to show a capture's DNS overview, cold (no result store).

    python benchmarks/tui_open.py benchmarks/data/bench-100k.pcap [--repeat 3]

Each run starts the real app headless (Textual's `run_test`) with a fresh cache folder, opens
the capture, and stops the clock when the overview widget is on screen. Prints the median.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from mcpcap.config import Settings
from mcpcap.tui.app import McpcapApp
from mcpcap.tui.widgets.overview import DnsOverview

POLL = 0.01  # seconds between two looks at the screen


async def time_to_overview(capture: Path, cache: Path, size: tuple[int, int]) -> float:
    settings = Settings(pcap_paths=[str(capture.parent)], cache_dir=cache)
    app = McpcapApp(settings, capture.name)
    start = time.perf_counter()
    async with app.run_test(size=size) as pilot:
        while not app.screen.query(DnsOverview):
            await pilot.pause(POLL)
        await pilot.pause()
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("capture", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as cache:
            runs.append(
                asyncio.run(time_to_overview(args.capture.resolve(), Path(cache), (160, 50)))
            )
    print(f"{args.capture.name}: overview after {statistics.median(runs):.2f} s "
          f"(median of {len(runs)}: {', '.join(f'{r:.2f}' for r in runs)})")  # fmt: skip


if __name__ == "__main__":
    main()
