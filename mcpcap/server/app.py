"""The MCP server: the capture tools, each module's tools, and the tools over every kind.

A tool function stays thin: it resolves a capture, asks the analysis layer and returns its
model; `kit.Tools` turns that into the reply (structured content and its JSON, within the
budget) and a `McpcapError` into a `ToolError` the model can act on, in one place. A module
brings tools of its own through its `mcp_tools` face hook (DNS's six); every kind is served by
`records`, `top`, `record` and `describe` (see `generic`).
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from mcpcap import __version__
from mcpcap.core.config import Settings
from mcpcap.core.paging import DEFAULT_LIMIT
from mcpcap.core.workspace import CaptureInfo, CaptureListPage, Workspace
from mcpcap.server.arguments import CheckedTool
from mcpcap.server.kit import CaptureArg, NextCursor, Tools, limit_arg, resource_json
from mcpcap.server.prompts import register_prompts

INSTRUCTIONS = (
    "mcpcap answers questions about network packet captures (pcap/pcapng). Start with "
    "list_captures to find a capture's name, then capture_info or analyze_dns_packets. "
    "The first question about a capture scans it once; later ones are fast. Replies are "
    "bounded: follow next_cursor to page, and narrow with filters. describe lists the record "
    "kinds that records, top and record serve."
)


def build_server(workspace: Workspace, settings: Settings) -> MCPServer:
    """The MCP server over `workspace`: tools for the chosen modules, resources, prompts."""
    from mcpcap.server.generic import generic_tools

    tools = Tools(workspace, settings)
    modules = workspace.analyzer.modules
    hooks = [module.face_hooks() for module in modules]
    own = [tool for hook in hooks if "mcp_tools" in hook for tool in hook["mcp_tools"](tools)]
    kinds = generic_tools(tools, modules, own_tools={tool.name for tool in own})
    server = MCPServer(
        "mcpcap", title="mcpcap", version=__version__, instructions=INSTRUCTIONS,
        log_level="WARNING", tools=capture_tools(tools) + own + kinds,
    )  # fmt: skip
    _register_capture_resources(server, tools)
    for hook in hooks:
        if "mcp_resources" in hook:
            hook["mcp_resources"](server, tools)
    register_prompts(server, modules)
    return server


def capture_tools(tools: Tools) -> list[CheckedTool]:
    def list_captures(
        source: Annotated[str | None, Field(description="Only this source's label.")] = None,
        limit: limit_arg(DEFAULT_LIMIT) = None,
        cursor: NextCursor = None,
    ) -> CaptureListPage:
        """The packet captures mcpcap can analyse, with size, format and source; a name is
        the capture argument of the other tools."""
        return tools.workspace.list_captures(source=source, limit=limit, cursor=cursor)

    def capture_info(capture: CaptureArg, ctx: Context) -> CaptureInfo:
        """One capture's file format, link types, packet and byte counts, time span,
        warnings, and the protocol modules (dns ...) that find traffic in it."""
        return tools.workspace.capture_info(capture, **tools.scan_args(ctx))

    return [
        tools.make(list_captures, "List captures"),
        tools.make(capture_info, "Capture information"),
    ]


def _register_capture_resources(server: MCPServer, tools: Tools) -> None:
    @server.resource(
        "mcpcap://captures", name="captures", title="Captures", mime_type="application/json",
        description="The captures mcpcap can analyse (first page of list_captures).",
    )  # fmt: skip
    def captures() -> str:
        return resource_json(lambda: tools.workspace.list_captures())
