"""Shared pieces of the app tests: deterministic capture folders, settings, waiting helpers."""

from __future__ import annotations

import os
import shutil
import socket
import struct
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from mcpcap.core.config import Settings
from mcpcap.core.examples import example_path
from mcpcap.tui.app import McpcapApp

FIXED_MTIME = 1_714_554_000  # 2024-05-01T09:00:00Z: dates on screen never depend on the checkout
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "captures"


def capture_folder(root: Path) -> Path:
    """`root/captures` with the example, a gzip capture and a file that is not a capture."""
    folder = root / "captures"
    folder.mkdir()
    shutil.copy(example_path(), folder / "example.pcap")
    shutil.copy(FIXTURES / "example_like.pcap.gz", folder / "office.pcap.gz")
    (folder / "notes.pcap").write_text("<html>not a capture</html>\n")
    for item in folder.iterdir():
        os.utime(item, (FIXED_MTIME, FIXED_MTIME))
    return folder


def settings(root: Path, **kwargs) -> Settings:
    """Settings with the result store under `root` (never the user's cache)."""
    return Settings(cache_dir=root / "cache", **kwargs)


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def big_capture(path: Path, copies: int) -> Path:
    """The example's records repeated `copies` times, later copies shifted in time."""
    data = example_path().read_bytes()
    header, records, offset = data[:24], [], 24
    while offset + 16 <= len(data):
        ts, us, incl, orig = struct.unpack_from("<IIII", data, offset)
        records.append((ts, us, incl, orig, data[offset + 16 : offset + 16 + incl]))
        offset += 16 + incl
    with path.open("wb") as out:
        out.write(header)
        for copy in range(copies):
            for ts, us, incl, orig, body in records:
                out.write(struct.pack("<IIII", ts + 200 * copy, us, incl, orig) + body)
    return path


def big_capture_folder(root: Path) -> Path:
    """`root/big` holding `big.pcap`, long enough that its scan can be watched and cancelled."""
    folder = root / "big"
    folder.mkdir()
    big_capture(folder / "big.pcap", copies=600)
    return folder


async def cancel_shown_scan(pilot: Pilot, name: str) -> None:
    """Wait for the scan's progress to show, press Esc, and check nothing of the scan is kept."""
    from mcpcap.tui.widgets.scan_progress import ScanProgress

    app = pilot.app
    progress = app.screen.query_one(ScanProgress)
    for _ in range(200):
        if progress.display:
            break
        await pilot.pause(0.02)
    assert progress.display, "no progress was shown"
    assert f"Scanning {name}" in str(progress.query_one("#scan-title").render())
    await pilot.press("escape")
    await settle(pilot)
    assert progress.display is False
    assert app.screen.analysis is None
    assert any("cancelled" in n.message for n in app._notifications)
    # a cancelled scan leaves nothing behind: opening again scans afresh
    assert not app.workspace.is_ready(name)


async def error_modal_says(pilot: Pilot, words: str) -> str:
    """The error modal's message, once the screen settles on it; it must contain `words`."""
    from mcpcap.tui.screens.error import ErrorScreen

    await settle(pilot)
    assert isinstance(pilot.app.screen, ErrorScreen)
    message = str(pilot.app.screen.query_one("#error-message").render())
    assert words in message
    return message


async def settle(pilot: Pilot) -> None:
    """Wait until every worker is done and the screen has caught up with their messages."""
    app = pilot.app
    quiet = 0
    for _ in range(50):  # until two rounds in a row start no worker (one may start another)
        await app.workers.wait_for_complete()
        await pilot.pause()
        busy = any(not worker.is_finished for worker in app.workers)
        quiet = 0 if busy else quiet + 1
        if quiet >= 3:
            break
    for widget in app.screen.query(Input):
        widget.cursor_blink = False
    await pilot.pause()


def app_for(root: Path, capture: str | None = None, **kwargs) -> McpcapApp:
    return McpcapApp(settings(root, **kwargs), capture)
