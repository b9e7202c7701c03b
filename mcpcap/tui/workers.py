"""Thread workers: each calls the headless core and reports back with messages, nothing else.

The screen starts them with `run_worker(partial(fn, ...), thread=True)`; `post` is the
receiving widget's `post_message`, which is safe to call from any thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.message import Message

from mcpcap.core.errors import CancelledError, McpcapError
from mcpcap.core.sources.models import CaptureEntry, SourceInfo
from mcpcap.core.workspace import Workspace
from mcpcap.tui.launch import EarlyOpen

log = logging.getLogger(__name__)

Post = Callable[[Message], Any]
PROGRESS_INTERVAL = 0.25  # seconds between two progress messages (each redraws the screen)


class SourcesListed(Message):
    """Every source with its captures (or why it could not be listed)."""

    def __init__(self, sources: list[SourceInfo], entries: list[CaptureEntry]) -> None:
        super().__init__()
        self.sources = sources
        self.entries = entries


class ScanProgressed(Message):
    """Download or scan progress of the capture being opened."""

    def __init__(
        self,
        name: str,
        stage: str,
        done: int,
        total: int | None,
        elapsed: float,
        packets: int | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.stage = stage
        self.done = done
        self.total = total
        self.elapsed = elapsed
        self.packets = packets


class CaptureOpened(Message):
    """A capture is analysed; `analysis` is the core's `Analysis`."""

    def __init__(self, name: str, analysis: Any, scanned: bool) -> None:
        super().__init__()
        self.name = name
        self.analysis = analysis
        self.scanned = scanned


class CaptureFailed(Message):
    """Opening a capture failed; `message` is one sentence for the user."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__()
        self.name = name
        self.message = message


class ScanCancelled(Message):
    """The user cancelled the scan."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


def list_sources(workspace: Workspace, post: Post) -> None:
    """List every source once (remote ones over the network) and post `SourcesListed`."""
    try:
        entries = workspace.sources.list_captures()
    except McpcapError as exc:
        log.info("listing sources failed: %s", exc)
        entries = []
    post(SourcesListed(workspace.sources.sources(), entries))


@dataclass
class _Throttle:
    """Forwards core progress as `ScanProgressed`, at most every PROGRESS_INTERVAL seconds."""

    name: str
    post: Post
    started: dict[str, float]
    last: float = 0.0

    def __call__(self, stage: str, done: int, total: int | None, packets: int | None = None):
        now = time.monotonic()
        start = self.started.setdefault(stage, now)
        finished = total is not None and done >= total
        if now - self.last < PROGRESS_INTERVAL and not finished:
            return
        self.last = now
        self.post(ScanProgressed(self.name, stage, done, total, now - start, packets))


def open_capture(
    workspace: Workspace,
    name: str,
    cancel: threading.Event,
    post: Post,
    early: EarlyOpen | None = None,
) -> None:
    """Open (scan once, or reuse) a capture and post what happened; with `early` (the same
    capture's open, started before the app), follow that one instead."""
    throttle = _Throttle(name, post, {})
    try:
        if early is not None:
            analysis = early.follow(throttle)
        else:
            analysis = workspace.open(name, progress=throttle, cancel=cancel)
            for module in analysis.module_names:  # build the summaries here, off the UI thread
                analysis.module(module).summary()
    except CancelledError:
        post(ScanCancelled(name))
    except McpcapError as exc:
        post(CaptureFailed(name, str(exc)))
    except Exception as exc:  # a bug must not paint a traceback over the UI
        log.exception("opening %s failed", name)
        post(CaptureFailed(name, f"{name} could not be opened: {type(exc).__name__}: {exc}"))
    else:
        post(CaptureOpened(name, analysis, scanned=bool(throttle.started)))
