"""The `mcpcap` command: serve (default) | tui | analyze | sources | schema.

Only argparse is imported at start-up; each command imports its face when it runs, so
`mcpcap --help` stays fast and `mcpcap serve` prints nothing before the protocol starts.
"""

from __future__ import annotations

import argparse
import gc
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from mcpcap import __version__

if TYPE_CHECKING:
    from mcpcap.core.filtering import FilterSpec

COMMANDS = ("serve", "tui", "analyze", "sources", "schema")
ONE_SHOT = ("analyze", "sources", "schema")  # commands that answer once and exit
USAGE_ERROR = 2  # exit status of a command line given wrong, as argparse exits
FILTER_DEST = "filter_"  # argparse dest prefix of the options generated from kinds' filters
METAVARS = {"string": "TEXT", "integer": "N", "number": "X", "boolean": "true|false"}
ANALYZE_USAGE = (
    "%(prog)s [CAPTURE] [--records KIND] [--filter EXPR] [--NAME VALUE ...] [--sort SORT]\n"
    "       [--format FORMAT] [--limit N] [--cursor C] [--kind KIND] [--by FIELD] [options]"
)
BROKEN_PIPE_STATUS = 128 + 13  # what a shell reports for a command ended by SIGPIPE


class Parser(argparse.ArgumentParser):
    """An argparse parser that takes option values starting with '-' in the spaced form.

    argparse reads `--filter -qtype:A` as `--filter` without a value followed by an unknown
    option. `parse_known_args` first writes such a pair as `--filter=-qtype:A`, which argparse
    reads as meant, for every option of this parser that takes one value (negated filters,
    descending sorts, negative numbers). A word that starts with `--`, or is one of this parser's
    options (`-h`), is never taken as a value: `--filter --help` is an error saying the value is
    missing, with a hint to write `--filter=--help` if that was the value.
    """

    commands: dict[str, argparse.ArgumentParser]  # the commands' parsers (the top parser's)

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        args = sys.argv[1:] if args is None else args
        return super().parse_known_args(attach_dash_values(self, list(args)), namespace)

    def error(self, message: str):  # type: ignore[override]
        missing = re.match(r"argument (\S+): expected one argument$", message)
        if missing:
            option = missing.group(1).split("/")[0]
            message += f" (for a value that is also an option's name, write {option}=VALUE)"
        super().error(message)


class FilterOption(argparse.Action):
    """`--qname-suffix VALUE`: a kind's filter as an option; `kinds` are the kinds declaring it."""

    def __init__(self, *args, kinds: tuple[str, ...] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kinds = kinds

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        setattr(namespace, self.dest, values)


def attach_dash_values(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """`--opt -value` as `--opt=-value` for the options of `parser` that take one value."""
    options = {s: a for a in parser._actions for s in a.option_strings}
    out: list[str] = []
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--":
            return out + argv[i:]
        action = _option(options, word)
        following = argv[i + 1] if i + 1 < len(argv) else ""
        if (
            action is not None
            and action.nargs is None
            and "=" not in word
            and following.startswith("-")
            and not following.startswith("--")
            and following.split("=", 1)[0] not in options
        ):
            out.append(f"{word}={following}")
            i += 2
            continue
        out.append(word)
        i += 1
    return out


def _option(options: dict[str, argparse.Action], word: str) -> argparse.Action | None:
    """The action `word` names: exactly, or as the one `--` option it abbreviates."""
    name = word.split("=", 1)[0]
    if name in options:
        return options[name]
    if not name.startswith("--") or len(name) < 3:
        return None
    matches = {id(a): a for s, a in options.items() if s.startswith(name)}
    return next(iter(matches.values())) if len(matches) == 1 else None


def _whole(text: str, minimum: int) -> int:
    """A whole-number option's value: a smaller one is a usage error that names the minimum."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise argparse.ArgumentTypeError(
            f"must be a whole number of at least {minimum}, not {text[:40]!r}"
        )
    return value


def _reply_budget(text: str) -> int:
    """--max-reply-chars, of at least the smallest budget a reply can fit."""
    from mcpcap.core.config import MIN_MAX_REPLY_CHARS

    return _whole(text, MIN_MAX_REPLY_CHARS)


def _count(text: str) -> int:
    """--max-packets, --top, --workers: one or more."""
    return _whole(text, 1)


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
    parser = Parser(
        prog="mcpcap",
        description="Analyse packet captures (DNS first) in a terminal UI, over MCP or as JSON.",
        epilog="With no command, mcpcap serves MCP over stdio (what MCP client configs run).",
    )
    parser.add_argument("--version", action="version", version=f"mcpcap {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    parser.commands = sub.choices

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

    analyze = sub.add_parser("analyze", help="results as JSON on stdout", usage=ANALYZE_USAGE)
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
    analyze.add_argument("--max-packets", type=_count, metavar="N", help="stop after N packets")
    analyze.add_argument("--top", type=_count, metavar="N", help="length of top lists")
    analyze.add_argument("--workers", type=_count, metavar="N", help="decoder processes")
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

    schema = sub.add_parser("schema", help="JSON Schema of every result model")
    schema.add_argument(
        "--modules", metavar="LIST", help="only these modules' models, comma separated"
    )
    return parser


def _add_filter_options(parser: argparse.ArgumentParser) -> None:
    """`--qname-suffix` ... : one option per filter name of every registered kind, in one help
    group per module (a name several modules share is listed in the first one's group)."""
    from mcpcap.core.modules.registry import load_modules

    modules = load_modules(None)
    kinds_of: dict[str, list[str]] = {}  # filter name -> the kinds that declare it
    first: dict[str, FilterSpec] = {}
    for module in modules:
        for kind in module.kinds():
            for spec in kind.filters:
                kinds_of.setdefault(spec.name, []).append(kind.name)
                first.setdefault(spec.name, spec)
    added: set[str] = set()
    for module in modules:
        names = list(dict.fromkeys(s.name for kind in module.kinds() for s in kind.filters))
        shared = [_flag(name) for name in names if name in added]
        if not names:
            continue
        group = parser.add_argument_group(
            f"{module.name} filters (each the same as --filter name:VALUE)",
            f"also: {', '.join(shared)} (above)" if shared else None,
        )
        for name in names:
            if name in added:
                continue
            added.add(name)
            spec = first[name]
            group.add_argument(
                _flag(name),
                action=FilterOption,
                dest=FILTER_DEST + name,
                metavar="|".join(METAVARS.get(t, t.upper()) for t in spec.type.split("|")),
                kinds=tuple(kinds_of[name]),
                help=f"{spec.description} ({', '.join(kinds_of[name])})",
            )


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def filter_values(args: argparse.Namespace) -> dict[str, str]:
    """The per-filter options given, by filter name."""
    return {
        key.removeprefix(FILTER_DEST): value
        for key, value in vars(args).items()
        if key.startswith(FILTER_DEST) and value is not None
    }


def _normalise_argv(argv: Sequence[str]) -> list[str]:
    """`mcpcap` and `mcpcap --pcap-path X` mean `mcpcap serve ...`."""
    argv = list(argv)
    if not argv:
        return ["serve"]
    first = argv[0]
    if first in COMMANDS or first in ("-h", "--help", "--version"):
        return argv
    return ["serve", *argv]


def run() -> NoReturn:
    """The `mcpcap` command (and `python -m mcpcap`): `main`, then the process ends.

    A one-shot command runs without the cyclic garbage collector: its process frees
    everything by ending, and a scan pauses the collector anyway (`mcpcap.core.gcpause`).
    Once a scan of 1M packets ended, the collector's first pass walked every object the scan
    had left alive (0.17 s, while the other core waited for the summaries). The objects still
    alive at the end are frozen, so the interpreter's exit skips a last collection over them
    (0.08 s). Only here: a caller of `main` in a process that goes on keeps its collector.
    """
    one_shot = _normalise_argv(sys.argv[1:])[0] in ONE_SHOT
    if one_shot:
        gc.disable()
    status = main()
    if one_shot:
        gc.freeze()
    sys.exit(status)


def main(argv: Sequence[str] | None = None) -> int:
    from mcpcap.core.shutdown import end_quietly_on_signals

    end_quietly_on_signals()
    argv = _normalise_argv(sys.argv[1:] if argv is None else argv)
    from mcpcap.core.errors import BadArgumentError, McpcapError, UnknownModuleError

    try:
        status = _dispatch(_parse(argv))
        sys.stdout.flush()  # a closed pipe shows here, not as a warning at exit
        return status
    except McpcapError as exc:
        print(f"mcpcap: {exc}", file=sys.stderr)
        # an argument the command line gave wrong (a kind, a filter, a cursor) is a usage
        # error, as argparse's own are; the capture's or the config's problems are not
        return USAGE_ERROR if isinstance(exc, BadArgumentError | UnknownModuleError) else 1
    except KeyboardInterrupt:
        print("mcpcap: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _ended_by_a_closed_pipe()


def _parse(argv: list[str]) -> argparse.Namespace:
    """The arguments; `analyze`'s per-filter options are added (loading the modules) only
    when the command line has options the plain parser does not know, or asks for help."""
    parser = build_parser()
    if argv[0] != "analyze":
        return parser.parse_args(argv)
    if not _asks_for_help(parser.commands["analyze"], argv[1:]):
        args, unknown = parser.parse_known_args(argv)
        if not unknown:
            return _check_records(parser.commands["analyze"], args)
    parser = build_parser(kind_filters=True)
    return _check_records(parser.commands["analyze"], parser.parse_args(argv))


def _asks_for_help(parser: argparse.ArgumentParser, argv: list[str]) -> bool:
    """-h, --help or an abbreviation of it, as an option (not as the value of another)."""
    options = {s: a for a in parser._actions for s in a.option_strings}
    words = attach_dash_values(parser, argv)
    words = words[: words.index("--")] if "--" in words else words
    return any(getattr(_option(options, w), "dest", None) == "help" for w in words)


# the options that shape one `--records` mode only ("kind": a record kind): given with another,
# they would be silently ignored (`--kind conn.connections` beside `--records transactions`)
RECORDS_OPTIONS = {
    "kind": ("top", "describe"),
    "by": ("top",),
    "weight": ("top",),
    "sort": ("kind",),
    "limit": ("kind", "top"),
    "cursor": ("kind", "top"),
}


def _check_records(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.Namespace:
    """An option given with a `--records` it does not shape, and a filter given with the
    summary or describe, are usage errors saying what goes with what, never silently ignored."""
    mode = args.records if args.records in ("summary", "describe", "top") else "kind"
    for dest, modes in RECORDS_OPTIONS.items():
        if getattr(args, dest, None) is not None and mode not in modes:
            wanted = " or ".join("a record kind" if m == "kind" else m for m in modes)
            parser.error(f"--{dest} goes with --records {wanted}, not --records {args.records}")
    if args.records not in ("summary", "describe"):
        return args
    for action in parser._actions:
        if getattr(args, action.dest, None) is None:
            continue
        if isinstance(action, FilterOption):
            parser.error(f"{action.option_strings[0]} {_wants_records(action.kinds)}")
        if action.dest == "filter":
            parser.error(
                "--filter filters records: add --records KIND (--records describe lists the "
                "kinds) or --records top"
            )
    return args


def _wants_records(kinds: Sequence[str]) -> str:
    """What a filter option given without --records should have come with."""
    if len(kinds) == 1:
        kind = kinds[0]
        return f"filters {kind} records: add --records {kind} (or --records top --kind {kind})"
    return (
        f"filters the records of {', '.join(kinds)}: add --records with one of them "
        "(or --records top --kind with one of them)"
    )


def _ended_by_a_closed_pipe() -> int:
    """Status 141 (128 + SIGPIPE), quietly: the reader of stdout left (`| head -1`).

    A C tool writing to a closed pipe is ended by SIGPIPE, which a shell reports as 141 (and
    `set -o pipefail` passes on); mcpcap ends the same way, with no message, since nothing
    went wrong that the user needs to hear of. What is still buffered for stdout is dropped
    (stdout now writes to the null device), so Python's flush at exit raises nothing either.
    """
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is not a real file (a test's capture)
        pass
    return BROKEN_PIPE_STATUS


def _dispatch(args: argparse.Namespace) -> int:
    from mcpcap.core.config import build_settings

    if args.command == "schema":
        from mcpcap.commands.schema import run_schema

        return run_schema(args.modules)
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
