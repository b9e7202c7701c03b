"""DNS's own MCP tools and resource (the module's `mcp_tools` and `mcp_resources` face hooks).

The six tools of mcpcap 0.1 keep their names and arguments: prompts written for the upstream
project call `analyze_dns_packets`. Their filter arguments are generated from the
`dns.transactions` kind's declaration, so the CLI options, these arguments and the filter
language never drift apart. Only the server imports this file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from mcpcap.core.models import Ranking
from mcpcap.core.paging import DEFAULT_LIMIT
from mcpcap.modules.dns.filters import FILTER_NAMES
from mcpcap.modules.dns.fitting import fit_message, fitted_summary
from mcpcap.modules.dns.kinds import TRANSACTION_FILTERS
from mcpcap.modules.dns.models import DnsMessage, DnsSummary, TransactionPage
from mcpcap.modules.dns.queries import MAX_FRAME, RANK_BY, SORTS
from mcpcap.server.kit import CaptureArg, NextCursor, limit_arg, resource_json, with_filters

if TYPE_CHECKING:
    from mcpcap.server.kit import Tools

# the named filters (the ordered `rtt` is a token of the filter language, not an argument)
NAMED_FILTERS = [spec for spec in TRANSACTION_FILTERS if spec.name in FILTER_NAMES]
FILTER_NOTE = " Other arguments are filters, combined with AND."
FILTER_SEE = " Other arguments filter as in dns_transactions."


def dns_tools(tools: Tools) -> list:
    def analyze_dns_packets(capture: CaptureArg, ctx: Context) -> DnsSummary:
        """Summarise a capture's DNS traffic: counts, rcodes (over responses), query types
        (over questions), top names (retransmissions included) and registered domains,
        NXDOMAIN names, servers, clients, latency, a timeline (seconds) and the best
        dns.findings (tunnels, DGA ...). Start here for any DNS question."""
        return fitted_summary(tools.open(capture, ctx).module("dns"), tools.budget)

    def dns_top(
        capture: CaptureArg,
        ctx: Context,
        by: Annotated[str | None, Field(description=f"One of {', '.join(RANK_BY)}.")] = None,
        limit: limit_arg(10) = None,
        cursor: NextCursor = None,
        **filters: Any,
    ) -> Ranking:
        """Rank DNS values by count: the most queried names (by=qname, the default), registered
        domains, clients, servers, query types, rcodes or answers ("top 5 domains": limit=5).
        Paged like dns_transactions."""
        dns = tools.open(capture, ctx).module("dns")
        return dns.rank(by=by, limit=limit, cursor=cursor, **filters)

    def dns_transactions(
        capture: CaptureArg,
        ctx: Context,
        sort: Annotated[str | None, Field(description=f"One of {', '.join(SORTS)}.")] = None,
        limit: limit_arg(DEFAULT_LIMIT) = None,
        cursor: NextCursor = None,
        **filters: Any,
    ) -> TransactionPage:
        """List DNS transactions (a query and its response): time, client, server, name,
        type, rcode, answers, TTLs, round-trip time, frames. Every query for example.com:
        qname_suffix="example.com". Paged: pass next_cursor back as cursor."""
        dns = tools.open(capture, ctx).module("dns")
        return dns.transactions(sort=sort, limit=limit, cursor=cursor, **filters)

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
        message = tools.open(capture, ctx).module("dns").message(frame, index)
        return fit_message(message, tools.budget)

    return [
        tools.make(analyze_dns_packets, "DNS summary"),
        tools.make(with_filters(dns_top, NAMED_FILTERS, FILTER_SEE, described=False),
                   "Top DNS values"),
        tools.make(with_filters(dns_transactions, NAMED_FILTERS, FILTER_NOTE), "DNS transactions"),
        tools.make(dns_message, "One DNS message"),
    ]  # fmt: skip


def register_resources(server: MCPServer, tools: Tools) -> None:
    @server.resource(
        "mcpcap://dns-summary/{+capture}", name="dns-summary", title="DNS summary",
        mime_type="application/json",
        description="analyze_dns_packets for one capture; the name may contain '/'.",
    )  # fmt: skip
    def dns_summary(capture: str) -> str:
        with tools.workspace.call():  # its analysis may be closed for the cache cap afterwards
            return resource_json(
                lambda: fitted_summary(tools.open(capture, None).module("dns"), tools.budget)
            )
