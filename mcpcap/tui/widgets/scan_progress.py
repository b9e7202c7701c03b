"""The progress of opening a capture: download first (remote), then the scan."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, ProgressBar

from mcpcap.tui.widgets import count, human_bytes, seconds

if TYPE_CHECKING:
    from mcpcap.tui.workers import ScanProgressed

STAGE_TITLES = {"download": "Downloading", "scan": "Scanning"}


def progress_line(done: int, total: int | None, elapsed: float, packets: int | None = None) -> str:
    """'1,024 packets · 1.0 MiB of 4.0 MiB · 2.0 MiB/s · 1.50 s left'."""
    parts = [f"{count(packets)} packets"] if packets is not None else []
    size = human_bytes(done) + (f" of {human_bytes(total)}" if total else "")
    parts.append(size)
    if elapsed > 0 and done > 0:
        rate = done / elapsed
        parts.append(f"{human_bytes(int(rate))}/s")
        if total and total > done:
            parts.append(f"{seconds((total - done) / rate)} left")
    return " · ".join(parts)


class ScanProgress(Vertical):
    """A title, a bar, the figures and how to cancel. Hidden unless a capture is opening."""

    def compose(self) -> ComposeResult:
        yield Label("", id="scan-title")
        yield ProgressBar(show_eta=False, id="scan-bar")
        yield Label("", id="scan-figures")
        yield Label("Esc cancels", id="scan-hint")

    def start(self, name: str) -> None:
        """Reset for a new capture (the widget stays hidden until progress arrives)."""
        self.query_one("#scan-title", Label).update(f"Opening {name}")
        self.query_one("#scan-figures", Label).update("")
        self.query_one(ProgressBar).update(total=None, progress=0)

    def show_progress(self, report: ScanProgressed) -> None:
        """Show one progress report (a label changes only when its text does: a new text
        lays the screen out again)."""
        title = f"{STAGE_TITLES.get(report.stage, report.stage.title())} {report.name}"
        self._set("#scan-title", title)
        self.query_one(ProgressBar).update(total=report.total or None, progress=report.done)
        figures = progress_line(report.done, report.total, report.elapsed, report.packets)
        self._set("#scan-figures", figures)
        self.display = True

    def _set(self, selector: str, text: str) -> None:
        """Update a label, unless it shows `text` already."""
        label = self.query_one(selector, Label)
        if str(label.content) != text:
            label.update(text)
