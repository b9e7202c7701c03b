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
FILTER_DEST = "filter_"  # argparse dest prefix of the options generated from kinds' filters


def _reply_budget(text: str) -> int:
    """--max-reply-chars: a smaller budget is a usage error that names the minimum."""
    from mcpcap.core.config import MIN_MAX_REPLY_CHARS

    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < MIN_MAX_REPLY_CHARS:
        raise argparse.ArgumentTypeError(
            f"must be a whole number of at least {MIN_MAX_REPLY_CHARS}, not {text[:40]!r}"
        )
    return value


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
        "--max-reply-chars",
        type=_reply_budget,
        metavar="N",
        help="character budget of every reply (at least 4000)",
    )
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the store")
    parser.add_argument("--rescan", action="store_true", help="rebuild the store of a capture")
    parser.add_argument("--log-level", default="WARNING", help="log level on stderr")


def build_parser(kind_filters: bool = False) -> argparse.ArgumentParser:
    """The parser; `kind_filters` adds `analyze`'s per-filter options, read from the modules'
    record kinds (only when `analyze` runs, so `mcpcap --help` loads no module)."""
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
    analyze.add_argument(
        "--records",
        default="summary",
        metavar="KIND",
        help="summary (default), top, or a record kind: dns.transactions (or transactions), "
        "dns.messages (or messages) ...; `mcpcap analyze --records describe` lists them",
    )
    analyze.add_argument(
        "--format", choices=("json", "jsonl", "zeek", "csv"), help="output format of records"
    )
    analyze.add_argument("--max-packets", type=int, metavar="N", help="stop after N packets")
    analyze.add_argument("--top", type=int, metavar="N", help="length of top lists")
    analyze.add_argument("--workers", type=int, metavar="N", help="decoder processes")
    analyze.add_argument(
        "--filter",
        metavar="EXPR",
        help="field:value tokens, AND between them; a comma is OR (rcode:NXDOMAIN,SERVFAIL), "
        "-field:value negates, field>N (also >=, <, <=) on ordered fields",
    )
    analyze.add_argument("--sort", help="a sort of the kind (dns.transactions: ts, -ts, rtt ...)")
    analyze.add_argument("--limit", type=int, help="page size (at most 1000)")
    analyze.add_argument(
        "--cursor", help="next_cursor of the previous page (records with --limit, or top)"
    )
    analyze.add_argument("--kind", help="the record kind --records top ranks")
    analyze.add_argument("--by", help="ranking field for --records top")
    analyze.add_argument("--weight", help="count, packets or bytes, for --records top")
    if kind_filters:
        _add_filter_options(analyze)

    sources = sub.add_parser("sources", help="list capture sources and their captures")
    _add_source_options(sources)
    sources.add_argument("--format", choices=("table", "json"), default=None)

    sub.add_parser("schema", help="JSON Schema of every result model")
    return parser


def _add_filter_options(parser: argparse.ArgumentParser) -> None:
    """`--qname-suffix` ... : one option per filter name of every registered kind."""
    from mcpcap.core.modules.registry import load_modules

    group = parser.add_argument_group("filters (the same as field:value tokens of --filter)")
    seen: set[str] = set()
    for module in load_modules(None):
        for kind in module.kinds():
            for spec in kind.filters:
                if spec.name not in seen:
                    seen.add(spec.name)
                    group.add_argument(
                        "--" + spec.name.replace("_", "-"),
                        dest=FILTER_DEST + spec.name,
                        metavar="VALUE",
                        help=f"{spec.description} ({kind.name})",
                    )


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
    argv = _normalise_argv(sys.argv[1:] if argv is None else argv)
    from mcpcap.core.errors import McpcapError

    try:
        return _dispatch(_parse(argv))
    except McpcapError as exc:
        print(f"mcpcap: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("mcpcap: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def _parse(argv: list[str]) -> argparse.Namespace:
    """The arguments; `analyze`'s per-filter options are added (loading the modules) only
    when the command line has options the plain parser does not know, or asks for help."""
    if argv[0] == "analyze":
        known, unknown = build_parser().parse_known_args(argv)
        if not unknown and not {"-h", "--help"} & set(argv):
            return known
        return build_parser(kind_filters=True).parse_args(argv)
    return build_parser().parse_args(argv)


def _dispatch(args: argparse.Namespace) -> int:
    from mcpcap.core.config import build_settings

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
