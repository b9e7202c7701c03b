"""How long the TUI takes to show a capture's DNS overview, cold (no result store).

    python benchmarks/tui_open.py benchmarks/data/bench-100k.pcap [--repeat 5] [--core] [--browse]

Each run is a fresh Python process (cold imports, no fork server or worker processes yet) with
an empty cache folder. It starts the app as `mcpcap tui CAPTURE` does (`launch.start_app`: the
capture starts opening in a thread before Textual is imported), runs it headless (Textual's
`run_test`, 160x50 cells) and notes when each stage happened, in seconds from the launch of
the process:

    open          the capture starts opening (`Workspace.open` is called, in a thread)
    app made      the app's modules are imported and the app object exists
    first frame   the first frame is drawn (sources panel, welcome line)
    progress      the first scan progress reaches the app: workers up, first span taken in
                  (the scan holds its first report until the first frame is drawn)
    read          the scan has read the whole file (its last progress report)
    analysed      the result store is written and the summary built: the open is done
    overview      the first frame that shows the whole DNS overview (figures, charts, tables)
    transactions  the transactions table has its rows (it loads after the overview)

Also the CPU time of the UI (main) thread per stage, and of the whole process (its threads,
not the worker processes). `--core` alternates each run with the same open done by the core
alone (a thread, no app): what the TUI adds is the difference. `--import-first` imports
`mcpcap.tui.app` (Textual) before `start_app`, as `mcpcap tui` does while `mcpcap.cli` imports
`run_tui` from there rather than from `mcpcap.tui.launch`.

This file's top level imports only the standard library: worker processes started through
`forkserver` import the main module again (`mcpcap tui`'s main module, `mcpcap.cli`, is light).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGES = (
    "chosen",
    "open",
    "app made",
    "first frame",
    "progress",
    "read",
    "analysed",
    "overview",
    "transactions",
)
INTERVALS = (  # label, from (None: the launch), to
    ("launch to open", None, "open"),
    ("open to read (the scan)", "open", "read"),
    ("read to analysed (store, summary)", "read", "analysed"),
    ("analysed to overview (the TUI)", "analysed", "overview"),
    ("launch to overview", None, "overview"),
    ("overview to transactions", "overview", "transactions"),
    ("chosen to overview (--browse)", "chosen", "overview"),
)
CPU = (  # CPU seconds
    ("cpu ui start", "UI thread CPU, launch to 1st frame"),
    ("cpu ui scan", "UI thread CPU, 1st frame to analysed"),
    ("cpu ui overview", "UI thread CPU, analysed to overview"),
    ("cpu process", "process CPU (no workers), to overview"),
    ("cpu ui open", "UI thread CPU, chosen to overview (--browse)"),
)
SIZE = (160, 50)
SETTLE = 2.0  # seconds the app runs on its browser before a --browse run opens the capture
AFTER = 5.0  # seconds to wait for the transactions table once the overview is shown
POLL = 0.02  # seconds between two looks for it


def tui_child(
    capture: Path, cache: Path, import_first: bool, browse: bool = False
) -> dict[str, float]:
    """Run the app once in this process; monotonic times of each stage (absent: never).

    `browse`: the app starts on its sources browser with no capture, and once it has settled
    the capture is opened as choosing it in the browser does (`MainScreen.open_capture`).
    """
    import functools

    if import_first:
        import mcpcap.tui.app  # noqa: F401

    from mcpcap.core.config import Settings
    from mcpcap.core.workspace import Workspace
    from mcpcap.tui import launch

    marks: dict[str, float] = {}
    cpu: dict[str, float] = {}

    def once(stage: str, when: float | None = None) -> None:
        marks.setdefault(stage, time.monotonic() if when is None else when)

    def spy(cls, name: str, before) -> None:
        """Call `before(*args)` ahead of `cls.name` (signature kept: Textual counts it)."""
        original = getattr(cls, name)

        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            before(*args)
            return original(*args, **kwargs)

        setattr(cls, name, wrapper)

    spy(Workspace, "open", lambda *a: once("open"))
    settings = Settings(pcap_paths=[str(capture.parent)], cache_dir=cache)
    app = launch.start_app(settings, None if browse else capture.name)
    once("app made")

    from mcpcap.tui.screens.main import MainScreen
    from mcpcap.tui.widgets.overview import DnsOverview, RankTable
    from mcpcap.tui.widgets.transactions import TransactionsPanel

    def progressed(screen, event) -> None:
        once("progress", event.time)
        if event.stage == "scan" and event.total is not None and event.done >= event.total:
            once("read", event.time)

    def opened(screen, event) -> None:
        once("analysed", event.time)
        cpu.setdefault("analysed", time.thread_time())

    spy(MainScreen, "on_scan_progressed", progressed)
    spy(MainScreen, "on_capture_opened", opened)
    spy(TransactionsPanel, "_install", lambda *a: once("transactions"))

    def overview_complete() -> bool:
        found = app.screen.query(DnsOverview)
        if not found or not found.first().region.area:
            return False
        tables = found.first().query(RankTable)
        return bool(tables) and all(t.row_count == len(t.ranking.rows) for t in tables)

    display = app._display
    shown = asyncio.Event()

    def frame(screen, renderable) -> None:  # every frame Textual draws (headless: not written)
        display(screen, renderable)
        if renderable is None:
            return
        once("first frame")
        cpu.setdefault("first frame", time.thread_time())
        if "overview" not in marks and overview_complete():
            once("overview")
            cpu["overview"] = time.thread_time()
            cpu["process"] = time.process_time()
            shown.set()

    app._display = frame

    async def run() -> None:
        # wait without polling the screen: a pilot.pause() loop costs the UI thread real time
        async with app.run_test(size=SIZE) as pilot:
            if browse:
                await pilot.pause(SETTLE)  # the first frame, the listing, then nothing to do
                once("chosen")
                cpu["chosen"] = time.thread_time()
                app.screen.open_capture(capture.name)
            while not shown.is_set():
                if not app.is_running:
                    raise RuntimeError("the app stopped before showing the overview")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(shown.wait(), 0.5)
            deadline = time.monotonic() + AFTER
            while "transactions" not in marks and time.monotonic() < deadline:
                await asyncio.sleep(POLL)

    asyncio.run(run())
    if browse:
        return marks | {
            "cpu ui overview": cpu["overview"] - cpu["analysed"],
            "cpu ui open": cpu["overview"] - cpu["chosen"],
        }
    return marks | {
        "cpu ui start": cpu["first frame"],
        "cpu ui scan": cpu["analysed"] - cpu["first frame"],
        "cpu ui overview": cpu["overview"] - cpu["analysed"],
        "cpu process": cpu["process"],
    }


def core_child(capture: Path, cache: Path) -> dict[str, float]:
    """The same open without the app: the core in a thread (so its workers start as in the
    TUI), progress noted, the summary built."""
    import threading

    from mcpcap.core.config import Settings
    from mcpcap.core.workspace import Workspace

    marks: dict[str, float] = {}

    def progress(stage: str, done: int, total: int | None, packets: int | None) -> None:
        marks.setdefault("progress", time.monotonic())
        if stage == "scan" and total is not None and done >= total:
            marks.setdefault("read", time.monotonic())

    def work() -> None:
        marks["open"] = time.monotonic()
        analysis = workspace.open(capture.name, progress=progress)
        for module in analysis.module_names:
            analysis.module(module).summary()
        marks["analysed"] = time.monotonic()

    workspace = Workspace(Settings(pcap_paths=[str(capture.parent)], cache_dir=cache))
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    workspace.close()
    return marks | {"cpu process": time.process_time()}


def run_once(capture: Path, *flags: str) -> dict[str, float]:
    """One cold run in a new process: seconds from its launch to each stage, and CPU times."""
    with tempfile.TemporaryDirectory() as cache:
        command = [sys.executable, __file__, str(capture), "--child", cache, *flags]
        launched = time.monotonic()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"a run failed:\n{done.stderr.strip()}")
    marks = json.loads(done.stdout.strip().splitlines()[-1])
    found = {stage: marks[stage] - launched for stage in STAGES if stage in marks}
    return found | {key: value for key, value in marks.items() if key.startswith("cpu ")}


def table(title: str, runs: list[dict[str, float]]) -> str:
    """Per stage and interval: the median, then every run."""

    def line(label: str, values: list[float]) -> str:
        each = "  ".join(f"{v:5.2f}" for v in values)
        return f"  {label:<40}{statistics.median(values):6.2f}   [{each}]"

    lines = [f"{title}: {len(runs)} cold runs, seconds (median, then each run)"]
    lines.append("  from launch:")
    for stage in STAGES:
        values = [run[stage] for run in runs if stage in run]
        if values:
            lines.append(line(f"  {stage}", values))
    lines.append("  intervals:")
    for label, first, last in INTERVALS:
        if first is not None and not all(first in run for run in runs):
            continue
        values = [run[last] - (run[first] if first else 0.0) for run in runs if last in run]
        if values:
            lines.append(line(f"  {label}", values))
    lines.append("  CPU:")
    for key, label in CPU:
        values = [run[key] for run in runs if key in run]
        if values:
            lines.append(line(f"  {label}", values))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("capture", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--core", action="store_true", help="also time the core alone")
    parser.add_argument(
        "--import-first", action="store_true", help="import the app before starting it"
    )
    parser.add_argument(
        "--browse",
        action="store_true",
        help="start on the sources browser, then open the capture as choosing it does",
    )
    parser.add_argument("--json", type=Path, help="also write every run here")
    parser.add_argument("--child", metavar="CACHE", help=argparse.SUPPRESS)
    parser.add_argument("--core-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    capture = args.capture.resolve()
    if args.child:
        if args.core_child:
            marks = core_child(capture, Path(args.child))
        else:
            marks = tui_child(capture, Path(args.child), args.import_first, args.browse)
        print(json.dumps(marks))
        return
    if not capture.is_file():
        raise SystemExit(f"{capture} is missing (see benchmarks/README.md to generate it)")
    runs, core_runs = [], []
    flags = [
        flag
        for flag, on in (("--import-first", args.import_first), ("--browse", args.browse))
        if on
    ]
    for _ in range(args.repeat):
        runs.append(run_once(capture, *flags))
        if args.core:
            core_runs.append(run_once(capture, "--core-child"))
    print(table(f"{capture.name}, TUI", runs))
    if core_runs:
        print(table(f"{capture.name}, core alone (a thread, no app)", core_runs))
    if args.json:
        found = {"capture": capture.name, "runs": runs, "core_runs": core_runs}
        args.json.write_text(json.dumps(found, indent=2) + "\n")


if __name__ == "__main__":
    main()
