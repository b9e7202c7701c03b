"""What progress reporting and cancellation cost a scan.

    python benchmarks/progress_cost.py [benchmarks/data/bench-100k.pcap] [--repeat 7]

Scans the capture in process, alternating runs without a progress callback or cancel event and
runs with both (a callback that records every report, an event that is checked but never set),
for one worker process and for two. Reports two figures:

- measured inside: the time spent in the callback and in the cancellation checks, as a share of
  the scan's wall time (the cost itself, exact, whatever else the machine does);
- A/B: the medians of CPU time (this process and its workers) and wall time with and without.
  On a shared machine the spread of this comparison is several percent, much more than the cost.

The target: under 2%.
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import statistics
import tempfile
import threading
import time
from pathlib import Path

from mcpcap.core.modules.registry import load_modules
from mcpcap.core.scan import scan_capture

DEFAULT = Path(__file__).parent / "data" / "bench-100k.pcap"


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class TimedEvent(threading.Event):
    """A cancel event that adds up the time spent checking it."""

    spent = 0.0

    def is_set(self) -> bool:
        start = time.perf_counter()
        try:
            return super().is_set()
        finally:
            self.spent += time.perf_counter() - start


class Recorder:
    """A progress callback that keeps every report and adds up its own time."""

    def __init__(self) -> None:
        self.reports: list[tuple[int, int, int]] = []
        self.spent = 0.0

    def __call__(self, packets: int, done: int, total: int) -> None:
        start = time.perf_counter()
        self.reports.append((packets, done, total))
        self.spent += time.perf_counter() - start


def one_scan(capture: Path, workers: int, watched: bool) -> tuple[float, float, int, float]:
    """(cpu s, wall s, progress reports, s inside reporting and checks) of one scan."""
    modules = load_modules(["dns"])
    progress = Recorder() if watched else None
    cancel = TimedEvent() if watched else None
    with tempfile.TemporaryDirectory() as folder:
        db = sqlite3.connect(Path(folder) / "store.sqlite")
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT)")
        for module in modules:
            module.create_tables(db)
        cpu, wall = cpu_seconds(), time.perf_counter()
        scan_capture(capture, db, modules, progress=progress, cancel=cancel, workers=workers)
        cpu, wall = cpu_seconds() - cpu, time.perf_counter() - wall
        db.close()
    if progress is None or cancel is None:
        return cpu, wall, 0, 0.0
    return cpu, wall, len(progress.reports), progress.spent + cancel.spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("capture", type=Path, nargs="?", default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(f"capture: {args.capture.name}, {args.repeat} runs of each, alternating\n")
    print(
        "| workers | reports | measured inside | cpu median plain s | cpu median watched s "
        "| A/B cpu | A/B wall |"
    )
    print("|--:|--:|--:|--:|--:|--:|--:|")
    for workers in (1, 2):
        runs: dict[bool, list[tuple[float, float, int, float]]] = {False: [], True: []}
        one_scan(args.capture, workers, False)  # warm the page cache and the imports
        for _ in range(args.repeat):
            for watched in (False, True):
                runs[watched].append(one_scan(args.capture, workers, watched))
        cpu = {w: statistics.median(r[0] for r in runs[w]) for w in runs}
        wall = {w: statistics.median(r[1] for r in runs[w]) for w in runs}
        reports = runs[True][0][2]
        inside = statistics.median(r[3] / r[1] for r in runs[True])
        print(
            f"| {workers} | {reports} | {inside * 100:.3f}% | {cpu[False]:.3f} | {cpu[True]:.3f} "
            f"| {(cpu[True] / cpu[False] - 1) * 100:+.1f}% "
            f"| {(wall[True] / wall[False] - 1) * 100:+.1f}% |"
        )


if __name__ == "__main__":
    main()
