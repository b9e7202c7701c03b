"""From the core's progress callback (a worker thread) to MCP progress and cancellation.

A plain `def` tool runs in an AnyIO worker thread. The core calls `ScanProgress` every few
thousand packets; it checks whether the call was cancelled (then sets the event the core
watches, which stops the scan) and forwards progress to the client, at most a few times a
second. Progress notifications go out only when the client sent a progress token.

Progress strictly increases over the whole call, as the MCP specification requires: a value
that is not above the last one sent is not sent (so the last is never repeated), and a later
stage (the scan after the download) counts on from where the earlier one ended.
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
        self._last = 0.0  # when the last notification went out
        self._sent = -1.0  # the progress value it carried (none yet: a first 0 may go out)
        self._stage: str | None = None
        self._base = 0.0  # where the current stage's progress starts (earlier stages' ends)
        self._done = 0.0  # the current stage's last value seen

    def __call__(
        self, stage: str, done: int, total: int | None, packets: int | None = None
    ) -> None:
        if self.cancel.is_set() or _call_cancelled():
            self.cancel.set()
            return
        if stage != self._stage:
            self._base += self._done if self._stage is not None else 0.0
            self._stage, self._done = stage, 0.0
        self._done = max(self._done, float(done))
        value = self._base + self._done
        now = time.monotonic()
        finished = total is not None and done >= total
        if self.ctx is None or value <= self._sent:
            return
        if now - self._last < MIN_INTERVAL and not finished:
            return
        self._last, self._sent = now, value
        message = STAGE_TEXT.get(stage, stage)
        if packets is not None:
            message = f"{message}: {packets:,} packets"
        whole = None if total is None else self._base + total
        try:
            anyio.from_thread.run(self.ctx.report_progress, value, whole, message)
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
