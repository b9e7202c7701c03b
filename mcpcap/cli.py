"""The `mcpcap` command: serve (default) | tui | analyze | sources | schema.

Only argparse is imported at start-up; each command imports its face when it runs, so
`mcpcap --help` stays fast and `mcpcap serve` prints nothing before the protocol starts.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mcpcap import __version__

COMMANDS = ("serve", "tui", "analyze", "sources", "schema")
RECORD_TYPES = ("summary", "messages", "transactions", "top")
FILTER_OPTIONS = (
    ("qname", str, "question name, exact and case-insensitive"),
    ("qname_suffix", str, "the name and everything below it (example.com)"),
    ("qname_contains", str, "part of the question name"),
    ("qtype", str, "query type, name or number (A, AAAA, 28)"),
    ("rcode", str, "response code, name or number (NXDOMAIN, 3)"),
    ("client", str, "client address or CIDR"),
    ("server", str, "server address or CIDR"),
    ("answer", str, "an address or name in the answer section"),
    ("transport", str, "udp or tcp"),
    ("protocol", str, "dns, mdns or llmnr"),
    ("answered", str, "true or false"),
    ("min_rtt", float, "round-trip time at least this many seconds"),
    ("since", str, "ISO 8601 time or epoch seconds"),
    ("until", str, "ISO 8601 time or epoch seconds"),
)


def _add_source_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("capture sources")
    group.add_argument(
        "--pcap-path", action="append", metavar="DIR", help="a local folder of captures (repeat)"
    )
    group.add_argument(
        "--pcap-url", action="append", metavar="URL", help="an HTTP(S) folder or file (repeat)"
    )
    group.add_argument(
        "--examples", action="store_true", default=None, help="add the bundled examples"
    )
    group.add_argument(
        "--max-download-bytes", type=int, metavar="N", help="refuse remote files larger than N"
    )
    parser.add_argument("--modules", metavar="LIST", help="protocol modules, comma separated")
    parser.add_argument(
        "--max-reply-chars", type=int, metavar="N", help="character budget of a page or ranking"
    )
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the store")
    parser.add_argument("--rescan", action="store_true", help="rebuild the store of a capture")
    parser.add_argument("--log-level", default="WARNING", help="log level on stderr")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcpcap",
        description="Analyse packet captures (DNS first) in a terminal UI, over MCP or as JSON.",
        epilog="With no command, mcpcap serves MCP over stdio (what MCP client configs run).",
    )
    parser.add_argument("--version", action="version", version=f"mcpcap {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="MCP server (stdio by default)")
    _add_source_options(serve)
    serve.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--allow-unauthenticated-http",
        action="store_true",
        help="serve HTTP on a non-loopback address without MCPCAP_AUTH_TOKEN",
    )

    tui = sub.add_parser("tui", help="terminal UI for manual triage")
    tui.add_argument("capture", nargs="?", help="a capture to open at once")
    _add_source_options(tui)

    analyze = sub.add_parser("analyze", help="results as JSON on stdout")
    analyze.add_argument("capture", nargs="?", help="capture name or path (default: example)")
    _add_source_options(analyze)
    analyze.add_argument("--records", choices=RECORD_TYPES, default="summary")
    analyze.add_argument(
        "--format", choices=("json", "jsonl", "zeek", "csv"), help="output format of records"
    )
    analyze.add_argument("--max-packets", type=int, metavar="N", help="stop after N packets")
    analyze.add_argument("--top", type=int, metavar="N", help="length of top lists")
    analyze.add_argument("--workers", type=int, metavar="N", help="decoder processes")
    filters = analyze.add_argument_group("filters (transactions and top)")
    for name, kind, text in FILTER_OPTIONS:
        filters.add_argument("--" + name.replace("_", "-"), type=kind, help=text)
    analyze.add_argument("--sort", help="ts, -ts, rtt, -rtt or qname")
    analyze.add_argument("--limit", type=int, help="page size (at most 1000)")
    analyze.add_argument("--cursor", help="cursor from the previous page")
    analyze.add_argument("--by", help="ranking key for --records top")

    sources = sub.add_parser("sources", help="list capture sources and their captures")
    _add_source_options(sources)
    sources.add_argument("--format", choices=("table", "json"), default=None)

    sub.add_parser("schema", help="JSON Schema of every result model")
    return parser


def _normalise_argv(argv: Sequence[str]) -> list[str]:
    """`mcpcap` and `mcpcap --pcap-path X` mean `mcpcap serve ...`."""
    argv = list(argv)
    if not argv:
        return ["serve"]
    first = argv[0]
    if first in COMMANDS or first in ("-h", "--help", "--version"):
        return argv
    return ["serve", *argv]


def main(argv: Sequence[str] | None = None) -> int:
    from mcpcap.core.shutdown import end_quietly_on_signals

    end_quietly_on_signals()
    parser = build_parser()
    args = parser.parse_args(_normalise_argv(sys.argv[1:] if argv is None else argv))
    from mcpcap.core.errors import McpcapError

    try:
        return _dispatch(args)
    except McpcapError as exc:
        print(f"mcpcap: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("mcpcap: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def _dispatch(args: argparse.Namespace) -> int:
    from mcpcap.config import build_settings

    if args.command == "schema":
        from mcpcap.commands.schema import run_schema

        return run_schema()
    settings = build_settings(vars(args))
    if args.command == "analyze":
        from mcpcap.commands.analyze import run_analyze

        return run_analyze(args, settings)
    if args.command == "sources":
        from mcpcap.commands.sources import run_sources

        return run_sources(args, settings)
    if args.command == "tui":
        from mcpcap.tui.launch import run_tui

        return run_tui(settings, args.capture)
    from mcpcap.server.run import run_server

    return run_server(settings, args)
