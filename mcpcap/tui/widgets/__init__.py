"""The TUI's widgets, plus the few number formats they share."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcpcap.core.models import CaptureSummary


def human_bytes(size: int | None) -> str:
    """1536 -> '1.5 KiB'; None -> '?'."""
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover - unreachable


def percent(part: int, whole: int) -> str:
    """A share as '12.3%', or '–' when the whole is zero."""
    return f"{100 * part / whole:.1f}%" if whole else "–"


def seconds(value: float | None) -> str:
    """A duration picked in a readable unit: '850 µs', '29.4 ms', '1.04 s', '2m 23s'."""
    if value is None:
        return "–"
    if value < 0.001:
        return f"{value * 1e6:.0f} µs"
    if value < 1:
        return f"{value * 1e3:.1f} ms"
    if value < 60:
        return f"{value:.2f} s"
    minutes, secs = divmod(round(value), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


def count(value: int) -> str:
    """12345 -> '12,345'."""
    return f"{value:,}"


def capture_line(capture: CaptureSummary) -> str:
    """The capture's name and facts on one line (Textual markup)."""
    from textual.markup import escape

    links = ", ".join(lt.name for lt in capture.link_types) or "no link type"
    start = (capture.first_time or "")[:19].replace("T", " ")
    gzip = " (gzip)" if capture.compressed else ""
    return (
        f"[b]{escape(capture.name)}[/b]  {capture.format}{gzip} · "
        f"{links} · {count(capture.packets)} packets · {human_bytes(capture.bytes)} · "
        f"{seconds(capture.duration)} from {start or '?'} UTC"
    )
