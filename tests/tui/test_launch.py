"""`mcpcap tui CAPTURE` starts opening the capture before Textual is imported; the app adopts it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest
from textual.widgets import DataTable

from mcpcap.core.errors import CancelledError, UnknownCaptureError
from mcpcap.modules.dns.tui.transactions import TransactionsPanel
from mcpcap.tui.launch import EarlyOpen, start_app
from mcpcap.tui.workers import CaptureOpened, ScanProgressed
from tests.tui.tui_support import (
    big_capture_folder,
    cancel_shown_scan,
    capture_folder,
    error_modal_says,
    settings,
    settle,
)

SIZE = (120, 40)
WAIT = 5.0


class FakeWorkspace:
    """`open` makes the given reports, then returns (or raises) `outcome`."""

    def __init__(self, reports: list[tuple], outcome: object) -> None:
        self.reports = reports
        self.outcome = outcome
        self.reported: list[tuple] = []  # reports whose progress call has returned

    def open(self, name, progress=None, cancel=None):
        for report in self.reports:
            progress(*report)
            self.reported.append(report)
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


class FakeAnalysis:
    module_names = ()


def test_launch_imports_neither_textual_nor_the_app() -> None:
    code = (
        "import sys, mcpcap.tui.launch\n"
        "print([m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')"
        " or m == 'mcpcap.tui.app'])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_scan_waits_for_the_first_frame_a_download_does_not() -> None:
    reports = [("download", 5, 10, None), ("download", 10, 10, None), ("scan", 4, 8, 100)]
    workspace = FakeWorkspace(reports, FakeAnalysis())
    early = EarlyOpen(workspace, "x.pcap").start()
    with pytest.raises(TimeoutError):  # the scan's first report waits
        _wait_until(lambda: len(workspace.reported) == 3, 0.3)
    assert workspace.reported == reports[:2]
    early.release()
    _wait_until(lambda: len(workspace.reported) == 3, WAIT)


def test_follow_hands_over_the_latest_report_of_each_stage() -> None:
    reports = [("download", 5, 10, None), ("download", 10, 10, None), ("scan", 4, 8, 100)]
    analysis = FakeAnalysis()
    early = EarlyOpen(FakeWorkspace(reports, analysis), "x.pcap").start()
    early.release()
    seen: list[tuple] = []
    assert early.follow(lambda *report: seen.append(report)) is analysis
    assert seen == [("download", 10, 10, None), ("scan", 4, 8, 100)]


def test_follow_raises_what_the_open_raised() -> None:
    workspace = FakeWorkspace([], UnknownCaptureError("no capture named 'x.pcap'"))
    early = EarlyOpen(workspace, "x.pcap").start()
    with pytest.raises(UnknownCaptureError):
        early.follow(lambda *report: None)


def test_a_cancel_frees_a_waiting_scan() -> None:
    workspace = FakeWorkspace([("scan", 4, 8, 100)], CancelledError("the analysis was cancelled"))
    early = EarlyOpen(workspace, "x.pcap").start()
    early.cancel.set()  # never released: the cancel alone lets the scan go on (and stop)
    with pytest.raises(CancelledError):
        early.follow(lambda *report: None)


def test_the_app_shows_the_capture_the_launch_opened(tmp_path: Path) -> None:
    folder = capture_folder(tmp_path)
    app = start_app(settings(tmp_path, pcap_paths=[str(folder)]), "example.pcap")
    assert app.early is not None and app.early.name == "example.pcap"
    messages: list = []

    def hook(message) -> None:
        if isinstance(message, ScanProgressed | CaptureOpened) and message not in messages:
            messages.append(message)

    async def scenario() -> None:
        async with app.run_test(size=SIZE, message_hook=hook) as pilot:
            await settle(pilot)
            assert app.screen.sub_title == "example.pcap"
            table = app.screen.query_one("#top-qnames", DataTable)
            assert str(table.get_row_at(0)[0]) == "www.example.com"
            assert app.screen.query_one(TransactionsPanel).total == 173
            assert app.screen.early is None  # adopted by the first open

    asyncio.run(scenario())
    opened = [m for m in messages if isinstance(m, CaptureOpened)]
    assert len(opened) == 1 and opened[0].scanned  # scanned once, by the launch's open
    assert any(isinstance(m, ScanProgressed) and m.stage == "scan" for m in messages)


def test_a_capture_that_is_not_there_is_an_error_modal(tmp_path: Path) -> None:
    app = start_app(settings(tmp_path), "nothing-here.pcap")

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await error_modal_says(pilot, "nothing-here.pcap")

    asyncio.run(scenario())


def test_escape_cancels_the_launch_open(tmp_path: Path) -> None:
    folder = big_capture_folder(tmp_path)
    app = start_app(settings(tmp_path, pcap_paths=[str(folder)]), "big.pcap")

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await cancel_shown_scan(pilot, "big.pcap")

    asyncio.run(scenario())


def test_quitting_stops_the_launch_open(tmp_path: Path) -> None:
    folder = big_capture_folder(tmp_path)
    app = start_app(settings(tmp_path, pcap_paths=[str(folder)]), "big.pcap")
    early = app.early

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.exit()

    asyncio.run(scenario())
    assert early is not None and early.cancel.is_set()
    assert not early._thread.is_alive()


def _wait_until(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError
        time.sleep(0.01)
