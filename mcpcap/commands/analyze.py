"""`mcpcap analyze`: results as JSON (or CSV / Zeek dns.log) on stdout, messages on stderr."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mcpcap.cli import filter_values
from mcpcap.core.config import Settings
from mcpcap.core.errors import BadArgumentError

JSON_ONLY = ("summary", "top", "describe")  # what --records prints as one JSON document


def resolve_capture(settings: Settings, capture: str | None) -> tuple[Path, str]:
    """The file to read and the name results show (never an absolute path)."""
    from mcpcap.core.sources.arguments import resolve_cli_capture

    return resolve_cli_capture(settings, capture)


def run_analyze(args: argparse.Namespace, settings: Settings) -> int:
    named = filter_values(args)
    if args.records in JSON_ONLY and args.format not in (None, "json"):
        raise BadArgumentError(f"--records {args.records} is written as json, not {args.format}")
    if args.records == "describe":
        from mcpcap.core.modules.registry import load_modules
        from mcpcap.core.records import describe

        _print_json(describe(load_modules(settings.modules), args.kind).model_dump(), sys.stdout)
        return 0
    path, name = resolve_capture(settings, args.capture)
    if args.capture is None:
        _say(f"no capture given: analysing the bundled example ({name})")
    from mcpcap.core.service import Analyzer

    analyzer = Analyzer(settings)
    progress = _progress_printer()
    analysis = analyzer.analyze(path, name, progress=progress)
    if progress is not None:
        sys.stderr.write("\r\033[K")  # clear the progress line before any message
    with analysis:
        capture = analysis.capture_document()
        for warning in capture["warnings"]:
            _say(f"warning: {warning}")
        if capture["max_packets"] is not None:
            _say(f"stopped after {capture['max_packets']} packets (--max-packets)")
        if args.records == "summary":
            _print_json(analysis.summary(), sys.stdout)
        else:
            _print_records(analysis, args, named, capture["first_ts"])
    return 0


def _print_records(analysis, args: argparse.Namespace, named: dict, first_ts) -> None:
    """`--records top` or `--records KIND`: a ranking, a page, or every record streamed."""
    from mcpcap.core.export import write_records
    from mcpcap.core.records import KindQuery, default_ranked_kind

    out = sys.stdout
    if args.records == "top":
        query = KindQuery(analysis, args.kind or default_ranked_kind(analysis.modules))
        ranking = query.top(
            args.filter, by=args.by, weight=args.weight, limit=args.limit, cursor=args.cursor,
            **named,
        )  # fmt: skip
        _print_json(ranking.model_dump(mode="json"), out)
        return
    query = KindQuery(analysis, args.records)
    if args.limit is not None or args.cursor is not None:
        if args.format not in (None, "json"):
            raise BadArgumentError(
                f"a page (--limit, --cursor) is written as json, not {args.format}"
            )
        page = query.page(
            args.filter, sort=args.sort, limit=args.limit, cursor=args.cursor, **named
        )
        _print_json(page.model_dump(mode="json"), out)
        return
    fmt = query.kind.check_format(args.format)
    records = query.iterate(args.filter, sort=args.sort, **named)
    try:
        write_records(records, out, fmt, query.kind, first_ts)
    finally:
        _close(records)


def _close(records: Iterator[dict[str, Any]]) -> None:
    """End a record generator while the store is open, also when its reader stopped early
    (`| head -1`); left to the garbage collector, it would close its cursors on a closed
    store and Python would print the error on stderr."""
    close = getattr(records, "close", None)
    if close is not None:
        close()


def _print_json(document: Any, out) -> None:
    out.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _say(text: str) -> None:
    print(f"mcpcap: {text}", file=sys.stderr)


def _progress_printer():
    """Progress on stderr when it is a terminal; nothing otherwise (logs stay clean)."""
    if not sys.stderr.isatty():
        return None

    def report(packets: int, done: int, total: int) -> None:
        share = f" {100 * done / total:5.1f}%" if total else ""
        sys.stderr.write(f"\rmcpcap: scanning{share}, {packets:,} packets")
        sys.stderr.flush()

    return report
