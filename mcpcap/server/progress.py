"""From the core's progress callback (a worker thread) to MCP progress and cancellation.

A plain `def` tool runs in an AnyIO worker thread. The core calls `ScanProgress` every few
thousand packets; it checks whether the call was cancelled (then sets the event the core
watches, which stops the scan) and forwards progress to the client, at most a few times a
second. Progress notifications go out only when the client sent a progress token.
"""

from __future__ import annotations

import threading
import time

import anyio.from_thread
from mcp.server.mcpserver import Context

MIN_INTERVAL = 0.2  # seconds between two progress notifications
STAGE_TEXT = {"download": "downloading the capture", "scan": "scanning the capture"}


class ScanProgress:
    """The `progress` and `cancel` arguments of `Workspace.open` for one tool call."""

    def __init__(self, ctx: Context | None) -> None:
        self.ctx = ctx
        self.cancel = threading.Event()
        self._last = 0.0

    def __call__(
        self, stage: str, done: int, total: int | None, packets: int | None = None
    ) -> None:
        if self.cancel.is_set() or _call_cancelled():
            self.cancel.set()
            return
        now = time.monotonic()
        finished = total is not None and done >= total
        if self.ctx is None or (now - self._last < MIN_INTERVAL and not finished):
            return
        self._last = now
        message = STAGE_TEXT.get(stage, stage)
        if packets is not None:
            message = f"{message}: {packets:,} packets"
        try:
            anyio.from_thread.run(self.ctx.report_progress, done, total, message)
        except Exception:  # the client went away: keep scanning, stop reporting
            self.ctx = None


def _call_cancelled() -> bool:
    """Whether the task waiting for this worker thread was cancelled."""
    try:
        anyio.from_thread.check_cancelled()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:
        return True
    return False
