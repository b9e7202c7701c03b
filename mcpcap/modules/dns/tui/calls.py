"""The DNS tools' calls for what the DNS tab shows ("show as MCP call").

The arguments use the filter names of the DNS tools, with rcode and qtype as names (the tools
take a name or a number), so the call reads like what a person would type.
"""

from __future__ import annotations

from typing import Any

from mcpcap.modules.dns.filters import TransactionFilter
from mcpcap.modules.dns.registry import rcode_name, type_name
from mcpcap.tui.widgets.mcp_call import VIEW_LIMIT, McpCall, records_call


def filter_arguments(flt: TransactionFilter) -> dict[str, Any]:
    """The filter as tool arguments, named as the DNS tools name them."""
    args: dict[str, Any] = flt.model_dump(exclude_none=True)
    if "qtype" in args:
        args["qtype"] = type_name(args["qtype"])
    if "rcode" in args:
        args["rcode"] = rcode_name(args["rcode"])
    return args


def transactions_call(
    capture: str, flt: TransactionFilter, sort: str, total: int, text: str = ""
) -> McpCall:
    """`dns_transactions` for the current view (its first page; next_cursor goes on); `records`
    with the filter text when the filter negates or compares (`-rcode:NOERROR`, `rtt>0.2`),
    which the named arguments of `dns_transactions` cannot say."""
    if flt.expression is not None:
        return records_call(capture, "dns.transactions", text, sort, total)
    limit = max(1, min(total, VIEW_LIMIT))
    return McpCall(
        "dns_transactions",
        {"capture": capture, **filter_arguments(flt), "sort": sort, "limit": limit},
    )


def message_call(capture: str, frame: int, index: int) -> McpCall:
    """`dns_message` for one message of a transaction's detail."""
    return McpCall("dns_message", {"capture": capture, "frame": frame, "index": index})
