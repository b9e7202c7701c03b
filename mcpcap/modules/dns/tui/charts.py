"""Charts of a DNS summary: queries / responses / errors over time, and the latency histogram."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static
from textual_plotext import PlotextPlot

from mcpcap.modules.dns.models import Latency, Timeline
from mcpcap.tui.widgets import seconds

SERIES = (("queries", "cyan"), ("responses", "green"), ("errors", "red"))
BAR = "█"
PARTS = " ▏▎▍▌▋▊▉"


def clock(epoch: float) -> str:
    """Epoch seconds as HH:MM:SS (UTC)."""
    secs = int(epoch) % 86400
    return f"{secs // 3600:02d}:{secs % 3600 // 60:02d}:{secs % 60:02d}"


class TimelineChart(PlotextPlot):
    """Queries, responses and errors per timeline bucket, against UTC time."""

    def __init__(self, timeline: Timeline, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.timeline = timeline

    def on_mount(self) -> None:
        buckets = self.timeline.buckets
        plt = self.plt
        plt.title(f"DNS messages per {seconds(self.timeline.interval)} (UTC)")
        if not buckets:
            return
        xs = list(range(len(buckets)))
        for field, color in SERIES:
            plt.plot(xs, [getattr(b, field) for b in buckets], label=field, color=color)
        step = max(1, len(buckets) // 4)
        ticks = xs[::step]
        plt.xticks(ticks, [clock(buckets[i].start) for i in ticks])
        most = max(max(getattr(b, field) for b in buckets) for field, _ in SERIES)
        counts = count_ticks(most)
        plt.yticks(counts, [str(n) for n in counts])


def count_ticks(most: int, wanted: int = 4) -> list[int]:
    """Whole-number ticks from 0 past `most`, a 1, 2 or 5 times a power of ten apart (counts
    have no decimals)."""
    power = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * power
            if most <= step * wanted:
                return list(range(0, most + step, step)) if most else [0, 1]
        power *= 10


def bucket_name(le: float | None, previous: float | None) -> str:
    """'≤ 5.0 ms', or '> 5.00 s' for the open last bucket."""
    return f"> {seconds(previous)}" if le is None else f"≤ {seconds(le)}"


def bar(value: int, most: int, width: int) -> str:
    """A horizontal bar of `width` cells at most, with eighth-cell precision."""
    if most <= 0 or value <= 0:
        return ""
    eighths = max(1, round(8 * width * value / most))
    full, part = divmod(eighths, 8)
    return BAR * full + (PARTS[part] if part else "")


class LatencyHistogram(Static):
    """Round-trip times as labelled horizontal bars: readable at any width."""

    def __init__(self, latency: Latency, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.latency = latency

    def render(self) -> Text:
        buckets = self.latency.histogram
        text = Text("Round-trip time of answered transactions\n", style="bold")
        if not self.latency.count:
            return text.append("no answered transactions", style="dim italic")
        names, previous = [], None
        for b in buckets:
            names.append(bucket_name(b.le, previous))
            previous = b.le if b.le is not None else previous
        most = max(b.count for b in buckets)
        name_width = max(len(n) for n in names)
        digits = len(str(most))
        width = max(4, self.size.width - name_width - digits - 3)
        for name, b in zip(names, buckets, strict=True):
            text.append(f"{name:>{name_width}} ", style="dim")
            text.append(f"{b.count:>{digits}} ")
            text.append(bar(b.count, most, width) + "\n", style="magenta")
        text.rstrip()
        return text
