"""`mcpcap analyze`: results as JSON (or CSV / Zeek dns.log) on stdout, messages on stderr."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mcpcap.cli import FILTER_OPTIONS
from mcpcap.config import Settings
from mcpcap.core.errors import BadArgumentError

RECORD_FORMATS = {
    "summary": ("json",),
    "top": ("json",),
    "messages": ("jsonl", "json"),
    "transactions": ("jsonl", "json", "zeek", "csv"),
}


def resolve_capture(settings: Settings, capture: str | None) -> tuple[Path, str]:
    """The file to read and the name results show (never an absolute path)."""
    from mcpcap.core.sources.arguments import resolve_cli_capture

    return resolve_cli_capture(settings, capture)


def run_analyze(args: argparse.Namespace, settings: Settings) -> int:
    fmt = _check_format(args.records, args.format)
    filters = {name: getattr(args, name) for name, _, _ in FILTER_OPTIONS}
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
        out = sys.stdout
        if args.records == "summary":
            _print_json(analysis.summary(), out)
            return 0
        dns = analysis.module("dns")
        if args.records == "top":
            ranking = dns.rank(by=args.by, limit=args.limit, cursor=args.cursor, **filters)
            _print_json(ranking.model_dump(mode="json"), out)
        elif args.records == "messages":
            _write_records(dns.iter_messages(), fmt, out)
        elif args.limit is not None or args.cursor is not None:
            page = dns.transactions(sort=args.sort, limit=args.limit, cursor=args.cursor, **filters)
            _print_json(page.model_dump(mode="json"), out)
        else:
            records = dns.iter_transactions(sort=args.sort, **filters)
            _write_transactions(records, fmt, out, capture["first_ts"])
    return 0


def _check_format(records: str, fmt: str | None) -> str:
    allowed = RECORD_FORMATS[records]
    fmt = fmt or allowed[0]
    if fmt not in allowed:
        raise BadArgumentError(
            f"--records {records} is written as {' or '.join(allowed)}, not {fmt}"
        )
    return fmt


def _write_transactions(records: Iterable[dict], fmt: str, out, first_ts: float | None) -> None:
    from mcpcap.core.export import write_records
    from mcpcap.tui.export import transactions_kind

    write_records(records, out, fmt, transactions_kind(), first_ts)


def _write_records(records: Iterable[dict], fmt: str, out) -> None:
    """JSON Lines, or one JSON array written as it streams (memory stays flat)."""
    if fmt == "jsonl":
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    out.write("[")
    for i, record in enumerate(records):
        out.write(("," if i else "") + "\n" + json.dumps(record, ensure_ascii=False))
    out.write("\n]\n")


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
