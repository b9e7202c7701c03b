"""`mcpcap sources`: every source and its captures, as a table on a terminal or JSON."""

from __future__ import annotations

import argparse
import sys

from mcpcap.core.config import Settings
from mcpcap.core.sources.models import SourceListing, SourcesReport


def build_report(settings: Settings) -> SourcesReport:
    from mcpcap.core.sources import SourceRegistry

    with SourceRegistry(settings) as registry:
        captures = registry.list_captures()  # lists remote indexes, so source errors are known
        return SourcesReport(
            sources=[
                SourceListing(
                    **info.model_dump(), captures=[c for c in captures if c.source == info.label]
                )
                for info in registry.sources()
            ]
        )


def run_sources(args: argparse.Namespace, settings: Settings) -> int:
    report = build_report(settings)
    wants_table = args.format == "table" or (args.format is None and sys.stdout.isatty())
    if wants_table:
        _print_table(report)
    else:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    return 0


def _print_table(report: SourcesReport) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for source in report.sources:
        title = f"[bold]{source.label}[/] ({source.kind}) {source.location}"
        if source.error:
            console.print(f"{title}\n  [red]{source.error}[/]\n", markup=True, highlight=False)
            continue
        table = Table(title=title, title_justify="left", expand=False)
        for column, justify in (
            ("name", "left"),
            ("size", "right"),
            ("modified (UTC)", "left"),
            ("format", "left"),
            ("status", "left"),
        ):
            table.add_column(column, justify=justify)  # type: ignore[arg-type]
        for entry in source.captures:
            fmt = (entry.format or "?") + (" .gz" if entry.compressed else "")
            status = f"[red]{entry.error}[/]" if entry.error else "ok"
            table.add_row(entry.name, _size(entry.size), entry.modified or "", fmt, status)
        if not source.captures:
            table.add_row("[dim]no captures[/]", "", "", "", "")
        console.print(table)


def _size(n: int | None) -> str:
    if n is None:
        return ""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(n)
