"""What the server gives the tools it builds, its own and a module's (the `mcp_tools` face hook).

`Tools` binds the workspace and the reply budget: `open()` finds a capture's analysis (scanning
it once, with MCP progress and cancellation), `make()` turns a function into a read-only tool
whose reply is its result model within the budget and whose errors are one sentence. The
argument types and `with_filters()` (named arguments generated from a kind's filters) keep every
tool's arguments alike.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, Field

from mcpcap.core.config import Settings
from mcpcap.core.errors import McpcapError, UnknownCaptureError
from mcpcap.core.filtering import FilterSpec
from mcpcap.core.paging import MAX_LIMIT
from mcpcap.core.service import Analysis
from mcpcap.core.workspace import Workspace
from mcpcap.server.arguments import CheckedTool, bounded
from mcpcap.server.progress import ScanProgress
from mcpcap.server.replies import call_result, compact, fit_record
from mcpcap.server.schemas import compact_input_schema, compact_output_schema

CaptureArg = Annotated[str, Field(description="A name from list_captures.")]
NextCursor = Annotated[str | None, Field(description="next_cursor from the previous page.")]
JSON_TYPES = {"string": str, "number": float, "integer": int, "boolean": bool}


def limit_arg(default: int) -> Any:
    """An optional page size, from 1 to MAX_LIMIT."""
    return Annotated[int | None, Field(ge=1, le=MAX_LIMIT, description=f"Default {default}.")]


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

    def make(self, fn: Callable[..., Any], title: str) -> CheckedTool:
        """`fn` as a tool: read-only, open-world when a remote source is configured."""
        hints = ToolAnnotations(read_only_hint=True, open_world_hint=self.remote)
        tool = CheckedTool.from_function(self.reply(fn), title=title, annotations=hints)
        tool.description = unwrapped(tool.description)
        tool.parameters = compact_input_schema(tool.parameters)
        tool.fn_metadata.output_schema = compact_output_schema(tool.fn_metadata.output_schema)
        return tool

    def reply(self, fn: Callable[..., Any]) -> Callable[..., CallToolResult]:
        """Wrap a tool: model -> bounded reply; McpcapError -> ToolError with its sentence."""

        @functools.wraps(fn)
        def tool(*args: Any, **kwargs: Any) -> CallToolResult:
            try:
                with self.workspace.call():  # the analyses it opens may be closed after it
                    result = fn(*args, **kwargs)
            except McpcapError as exc:
                raise ToolError(bounded(str(exc))) from None
            model, note = result if isinstance(result, tuple) else (result, None)
            if isinstance(model, dict):  # a record or summary with no model of its own
                model, note = fit_record(model, self.budget)
            return call_result(model, self.budget, note)

        return tool


def unwrapped(text: str) -> str:
    """A docstring's paragraphs, each on one line: what a source file wraps at 100 columns a
    model reads as one line anyway, and each line break costs tools/list two characters."""
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(paragraph.split()) for paragraph in paragraphs)


def with_filters(
    fn: Callable[..., Any], specs: Sequence[FilterSpec], note: str = "", described: bool = True
) -> Callable[..., Any]:
    """`fn(..., **filters)` with one optional keyword argument per filter in its signature,
    typed and described from the kind's declaration; `note` ends the tool's description.

    A spec's `type` is a JSON type or several joined by `|` (`string|integer`: a name or a
    number). `described=False` leaves the descriptions out, for a tool whose description
    points to another tool's arguments (tools/list stays small).
    """
    signature = inspect.signature(fn, eval_str=True)
    kept = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    added = [
        inspect.Parameter(
            spec.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                _json_type(spec.type) | None,
                Field(description=spec.description if described else None),
            ],
        )
        for spec in specs
    ]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=[*kept, *added])  # type: ignore[attr-defined]
    wrapper.__doc__ = (fn.__doc__ or "") + note
    return wrapper


def _json_type(names: str) -> Any:
    kinds = [JSON_TYPES[name] for name in names.split("|")]
    union = kinds[0]
    for kind in kinds[1:]:
        union = union | kind
    return union


def resource_json(read: Callable[[], BaseModel]) -> str:
    """A resource's JSON text; a McpcapError becomes the SDK's resource error."""
    try:
        return compact(read().model_dump(mode="json"))
    except UnknownCaptureError as exc:
        raise ResourceNotFoundError(str(exc)) from None
    except McpcapError as exc:
        raise ResourceError(str(exc)) from None
