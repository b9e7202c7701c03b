"""MCP tools over every record kind of every chosen module, with no module's code in them.

`records`, `top`, `record` and `describe` read the kinds' declarations; each module without
tools of its own gets `analyze_<module>_packets` (the upstream project's naming) for its
summary. A module that declares a kind is therefore served without a line here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.tools import Tool
from pydantic import Field, StrictInt

from mcpcap.core.models import Ranking
from mcpcap.core.modules.kinds import KindCatalog, RecordPage
from mcpcap.core.paging import DEFAULT_LIMIT
from mcpcap.core.records import KindQuery, describe
from mcpcap.server.kit import CaptureArg, NextCursor, limit_arg

if TYPE_CHECKING:
    from mcpcap.core.modules.contract import ProtocolModule
    from mcpcap.server.kit import Tools

KindArg = Annotated[str, Field(description="e.g. dns.transactions; describe lists the kinds.")]
SameFilterArg = Annotated[str | None, Field(description="As in records.")]
FilterArg = Annotated[
    str | None,
    Field(
        description="field:value tokens combined with AND; a comma is OR "
        "(rcode:NXDOMAIN,SERVFAIL); -field:value negates; field>N, >=, <, <= on ordered "
        "fields; double quotes wrap spaces."
    ),
]


def generic_tools(tools: Tools, modules: list[ProtocolModule], own_tools: set[str]) -> list[Tool]:
    """The kind tools, plus a summary tool for each module not in `own_tools`."""

    def records(
        capture: CaptureArg,
        kind: KindArg,
        ctx: Context,
        filter: FilterArg = None,
        sort: Annotated[str | None, Field(description="A sort the kind declares.")] = None,
        limit: limit_arg(DEFAULT_LIMIT) = None,
        cursor: NextCursor = None,
    ) -> RecordPage:
        """One page of a kind's records (connections, DNS transactions ...), filtered and
        sorted; pass next_cursor back as cursor. describe gives a kind's fields, filters and
        sorts."""
        query = KindQuery(tools.open(capture, ctx), kind)
        return query.page(filter, sort=sort, limit=limit, cursor=cursor)

    def top(
        capture: CaptureArg,
        kind: KindArg,
        ctx: Context,
        by: Annotated[str | None, Field(description="A ranking field of the kind.")] = None,
        filter: SameFilterArg = None,
        weight: Annotated[str | None, Field(description="count, packets or bytes.")] = None,
        limit: limit_arg(10) = None,
        cursor: NextCursor = None,
    ) -> Ranking:
        """Rank a kind's records by a field (top talkers, top names ...), counted, or weighted
        by packets or bytes where the kind allows; describe lists the ranking fields."""
        query = KindQuery(tools.open(capture, ctx), kind)
        return query.top(filter, by=by, weight=weight, limit=limit, cursor=cursor)

    def record(
        capture: CaptureArg,
        kind: KindArg,
        id: Annotated[
            StrictInt | str, Field(description="The record's id (its id_field, in describe).")
        ],
        ctx: Context,
    ) -> dict[str, Any]:
        """Fetch one record of a kind by its id, complete."""
        return KindQuery(tools.open(capture, ctx), kind).one(id)

    def describe_kinds(
        kind: Annotated[str | None, Field(description="One kind; all when omitted.")] = None,
    ) -> KindCatalog:
        """The record kinds with their fields, filters (types, accepted values), sorts,
        ranking fields and exports: what records, top and record accept."""
        return describe(modules, kind, budget=tools.budget)

    describe_kinds.__name__ = "describe"
    made = [
        tools.make(records, "Records of a kind"),
        tools.make(top, "Top values of a kind"),
        tools.make(record, "One record"),
        tools.make(describe_kinds, "Describe record kinds"),
    ]
    for module in modules:
        if f"analyze_{module.name}_packets" not in own_tools:
            made.append(tools.make(summary_tool(tools, module), f"{module.title} summary"))
    return made


def summary_tool(tools: Tools, module: ProtocolModule):
    """`analyze_<module>_packets(capture)`: the module's summary (a plain object schema)."""

    def summary(capture: CaptureArg, ctx: Context) -> dict[str, Any]:
        return tools.open(capture, ctx).module(module.name).summary().model_dump(mode="json")

    summary.__name__ = f"analyze_{module.name}_packets"
    summary.__doc__ = (
        f"A capture's {module.title} summary; records and top read its {module.name}.* kinds "
        "(see describe)."
    )
    return summary
