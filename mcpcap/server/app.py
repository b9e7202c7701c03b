"""The MCP server: every tool resolves a capture, asks the analysis layer, returns its model.

Tool functions stay thin. `_tool` turns a returned model into the reply (structured content
plus a short text, see `replies`) and a `McpcapError` into a `ToolError` the model can act on,
in one place. Filter arguments are the core's filters, added to the DNS tools' signatures by
`_with_filters`, so their names and the core's never drift apart.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, Field

from mcpcap import __version__
from mcpcap.config import Settings
from mcpcap.core.errors import McpcapError, UnknownCaptureError
from mcpcap.core.models import Ranking
from mcpcap.core.paging import DEFAULT_LIMIT, MAX_LIMIT
from mcpcap.core.service import Analysis
from mcpcap.core.workspace import CaptureInfo, CaptureListPage, Workspace
from mcpcap.modules.dns.models import DnsMessage, DnsSummary, TransactionPage
from mcpcap.modules.dns.queries import MAX_FRAME, RANK_BY, SORTS
from mcpcap.server.arguments import CheckedTool, bounded
from mcpcap.server.progress import ScanProgress
from mcpcap.server.prompts import register_prompts
from mcpcap.server.replies import call_result, compact, fit_message, fit_record, fit_summary
from mcpcap.server.schemas import compact_output_schema, compact_schema

INSTRUCTIONS = (
    "mcpcap answers questions about network packet captures (pcap/pcapng). Start with "
    "list_captures to find a capture's name, then capture_info or analyze_dns_packets. "
    "The first question about a capture scans it once; later ones are fast. Replies are "
    "bounded: follow next_cursor to page, and narrow with filters."
)
SHORTER_TOP_N = (5, 3, 1)  # top-list lengths tried when the DNS summary exceeds the budget

CaptureArg = Annotated[
    str, Field(description="Capture name from list_captures, e.g. example.pcap.")
]
NextCursor = Annotated[str | None, Field(description="next_cursor from the previous page.")]


def limit_arg(default: int) -> Any:
    """An optional page size, from 1 to MAX_LIMIT."""
    return Annotated[int | None, Field(ge=1, le=MAX_LIMIT, description=f"Default {default}.")]


# name -> (type, description) of each DNS filter argument; names are the core's FILTER_NAMES
FILTERS: dict[str, tuple[Any, str]] = {
    "qname": (str, "Exact name."),
    "qname_suffix": (str, "Name and every name below it."),
    "qname_contains": (str, "Part of the name."),
    "qtype": (str | int, "A, AAAA, TXT, 28 ..."),
    "rcode": (str | int, "NOERROR, NXDOMAIN, SERVFAIL, 3 ..."),
    "client": (str, "IP or CIDR."),
    "server": (str, "IP or CIDR."),
    "answer": (str, "IP or name in the answers."),
    "transport": (str, "udp or tcp."),
    "protocol": (str, "dns, mdns or llmnr."),
    "answered": (bool, "false: unanswered queries only."),
    "min_rtt": (float, "Seconds."),
    "since": (str | float, "ISO 8601 or epoch seconds."),
    "until": (str | float, "ISO 8601 or epoch seconds."),
}
FILTER_NOTE = " Other arguments are optional filters on transactions, combined with AND."
FILTER_SEE = " Other arguments are optional filters, combined with AND, as in dns_transactions."


class Tools:
    """Binds the workspace and the reply budget to the tool functions."""

    def __init__(self, workspace: Workspace, settings: Settings) -> None:
        self.workspace = workspace
        self.budget = settings.max_reply_chars
        self.remote = bool(settings.pcap_urls)

    @staticmethod
    def scan_args(ctx: Context | None) -> dict[str, Any]:
        """`progress` and `cancel` for a call that may scan: MCP progress, client cancellation."""
        progress = ScanProgress(ctx)
        return {"progress": progress, "cancel": progress.cancel}

    def open(self, capture: str, ctx: Context | None) -> Analysis:
        """The capture's analysis: read from the store, or scanned once."""
        return self.workspace.open(capture, **self.scan_args(ctx))

    def dns(self, capture: str, ctx: Context | None):
        return self.open(capture, ctx).module("dns")

    def dns_summary(self, capture: str, ctx: Context | None) -> DnsSummary:
        """The DNS summary, with shorter top lists (then a coarser timeline) if over budget."""
        dns = self.dns(capture, ctx)
        summary = dns.summary()
        for top_n in (n for n in SHORTER_TOP_N if n < summary.top_n):
            if len(summary.model_dump_json()) <= self.budget:
                break
            summary = dns.summary(top_n=top_n)
        return fit_summary(summary, self.budget)

    def make(self, fn: Callable[..., Any], title: str) -> CheckedTool:
        """`fn` as a tool: read-only, open-world when a remote source is configured."""
        hints = ToolAnnotations(read_only_hint=True, open_world_hint=self.remote)
        tool = CheckedTool.from_function(self.reply(fn), title=title, annotations=hints)
        tool.description = inspect.cleandoc(tool.description)
        tool.parameters = compact_schema(tool.parameters)
        tool.fn_metadata.output_schema = compact_output_schema(tool.fn_metadata.output_schema)
        return tool

    def reply(self, fn: Callable[..., Any]) -> Callable[..., CallToolResult]:
        """Wrap a tool: model -> bounded reply; McpcapError -> ToolError with its sentence."""

        @functools.wraps(fn)
        def tool(*args: Any, **kwargs: Any) -> CallToolResult:
            try:
                result = fn(*args, **kwargs)
            except McpcapError as exc:
                raise ToolError(bounded(str(exc))) from None
            model, note = result if isinstance(result, tuple) else (result, None)
            if isinstance(model, dict):  # a record or summary with no model of its own
                model, note = fit_record(model, self.budget)
            return call_result(model, self.budget, note)

        return tool


def build_server(workspace: Workspace, settings: Settings) -> MCPServer:
    """The MCP server over `workspace`: tools for the chosen modules, resources, prompts."""
    from mcpcap.server.generic import generic_tools

    tools = Tools(workspace, settings)
    modules = workspace.analyzer.modules
    has_dns = "dns" in {module.name for module in modules}
    own = dns_tools(tools) if has_dns else []
    kinds = generic_tools(tools, modules, own_tools={tool.name for tool in own})
    server = MCPServer(
        "mcpcap", title="mcpcap", version=__version__, instructions=INSTRUCTIONS,
        log_level="WARNING", tools=capture_tools(tools) + own + kinds,
    )  # fmt: skip
    _register_capture_resources(server, tools)
    if has_dns:
        _register_dns_resources(server, tools)
    register_prompts(server)
    return server


def capture_tools(tools: Tools) -> list[CheckedTool]:
    def list_captures(
        source: Annotated[str | None, Field(description="Only this source's label.")] = None,
        limit: limit_arg(DEFAULT_LIMIT) = None,
        cursor: NextCursor = None,
    ) -> CaptureListPage:
        """List the packet captures mcpcap can analyse, with size, format and source.
        Use a returned name as the capture argument of the other tools."""
        return tools.workspace.list_captures(source=source, limit=limit, cursor=cursor)

    def capture_info(capture: CaptureArg, ctx: Context) -> CaptureInfo:
        """Describe one capture: file format, link types, packet and byte counts, time span,
        warnings, and which protocol modules (e.g. dns) find traffic in it."""
        return tools.workspace.capture_info(capture, **tools.scan_args(ctx))

    return [
        tools.make(list_captures, "List captures"),
        tools.make(capture_info, "Capture information"),
    ]


def dns_tools(tools: Tools) -> list[CheckedTool]:
    def analyze_dns_packets(capture: CaptureArg, ctx: Context) -> DnsSummary:
        """Summarise a capture's DNS traffic: message, query and response counts, rcodes
        (over responses), query types (over questions), top queried names (every question,
        retransmissions included) and registered domains, NXDOMAIN names, servers, clients,
        latency percentiles and a timeline (seconds). Start here for any DNS question."""
        return tools.dns_summary(capture, ctx)

    def dns_top(
        capture: CaptureArg,
        ctx: Context,
        by: Annotated[str | None, Field(description=f"One of {', '.join(RANK_BY)}.")] = None,
        limit: limit_arg(10) = None,
        cursor: NextCursor = None,
        **filters: Any,
    ) -> Ranking:
        """Rank DNS values by count: the most queried names (by=qname, the default), registered
        domains, clients, servers, query types, rcodes or answers. Answers "which domain was
        queried the most" and "top 5 domains" (limit=5) in one call. Paged like
        dns_transactions."""
        return tools.dns(capture, ctx).rank(by=by, limit=limit, cursor=cursor, **filters)

    def dns_transactions(
        capture: CaptureArg,
        ctx: Context,
        sort: Annotated[str | None, Field(description=f"One of {', '.join(SORTS)}.")] = None,
        limit: limit_arg(DEFAULT_LIMIT) = None,
        cursor: NextCursor = None,
        **filters: Any,
    ) -> TransactionPage:
        """List DNS transactions (a query with its response): time, client, server, name,
        type, rcode, answers, TTLs, round-trip time, frame numbers. E.g. every query for
        example.com: qname_suffix="example.com". Paged: pass next_cursor back as cursor."""
        return tools.dns(capture, ctx).transactions(
            sort=sort, limit=limit, cursor=cursor, **filters
        )

    def dns_message(
        capture: CaptureArg,
        frame: Annotated[
            int, Field(ge=1, le=MAX_FRAME, description="Frame number, 1 for the first packet.")
        ],
        ctx: Context,
        index: Annotated[
            int, Field(ge=0, le=MAX_FRAME, description="Message within the frame, from 0.")
        ] = 0,
    ) -> DnsMessage:
        """Decode one DNS message completely: header, flags, every question, answer,
        authority and additional record, EDNS. frame comes from query_frame/response_frame."""
        return fit_message(tools.dns(capture, ctx).message(frame, index), tools.budget)

    return [
        tools.make(analyze_dns_packets, "DNS summary"),
        tools.make(_with_filters(dns_top, described=False), "Top DNS values"),
        tools.make(_with_filters(dns_transactions), "DNS transactions"),
        tools.make(dns_message, "One DNS message"),
    ]


def _with_filters(fn: Callable[..., Any], described: bool = True) -> Callable[..., Any]:
    """`fn(..., **filters)` with one optional keyword argument per DNS filter in its signature.

    `described=False` leaves the arguments' descriptions out (the tool's description points to
    another tool's), which keeps tools/list small.
    """
    signature = inspect.signature(fn, eval_str=True)
    kept = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    added = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[kind | None, Field(description=text if described else None)],
        )
        for name, (kind, text) in FILTERS.items()
    ]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=[*kept, *added])  # type: ignore[attr-defined]
    wrapper.__doc__ = (fn.__doc__ or "") + (FILTER_NOTE if described else FILTER_SEE)
    return wrapper


def _register_capture_resources(server: MCPServer, tools: Tools) -> None:
    @server.resource(
        "mcpcap://captures", name="captures", title="Captures", mime_type="application/json",
        description="The captures mcpcap can analyse (first page of list_captures).",
    )  # fmt: skip
    def captures() -> str:
        return _resource_json(lambda: tools.workspace.list_captures())


def _register_dns_resources(server: MCPServer, tools: Tools) -> None:
    @server.resource(
        "mcpcap://dns-summary/{+capture}", name="dns-summary", title="DNS summary",
        mime_type="application/json",
        description="analyze_dns_packets for one capture; the name may contain '/'.",
    )  # fmt: skip
    def dns_summary(capture: str) -> str:
        return _resource_json(lambda: tools.dns_summary(capture, None))


def _resource_json(read: Callable[[], BaseModel]) -> str:
    """A resource's JSON text; a McpcapError becomes the SDK's resource error."""
    try:
        return compact(read().model_dump(mode="json"))
    except UnknownCaptureError as exc:
        raise ResourceNotFoundError(str(exc)) from None
    except McpcapError as exc:
        raise ResourceError(str(exc)) from None
