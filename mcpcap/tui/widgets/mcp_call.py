""" "Show as MCP call": the tool call an LLM would send to get what the TUI shows.

A table's view is a `records` call with the filter bar's text; a module's own tools (DNS's)
make their calls in the module's package.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

VIEW_LIMIT = 100  # rows in the first page of the call for a view


@dataclass(frozen=True)
class McpCall:
    tool: str
    arguments: dict[str, Any]

    def as_json(self) -> str:
        """The `tools/call` params: {"name": ..., "arguments": {...}}."""
        return json.dumps({"name": self.tool, "arguments": self.arguments}, ensure_ascii=False)


def records_call(
    capture: str, kind: str, filter_text: str, sort: str | None, total: int
) -> McpCall:
    """`records` for the view of any kind (its first page; next_cursor goes on)."""
    arguments: dict[str, Any] = {"capture": capture, "kind": kind}
    if filter_text.strip():
        arguments["filter"] = filter_text.strip()
    if sort is not None:
        arguments["sort"] = sort
    arguments["limit"] = max(1, min(total, VIEW_LIMIT))
    return McpCall("records", arguments)


def record_call(capture: str, kind: str, record_id: Any) -> McpCall:
    """`record` for the one record a detail pane shows."""
    return McpCall("record", {"capture": capture, "kind": kind, "id": str(record_id)})


class McpCallScreen(ModalScreen[None]):
    """Shows the calls, and what copying them did, until Esc or Enter."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("enter", "dismiss", "Close", show=False),
    ]
    DEFAULT_CSS = """
    McpCallScreen { align: center middle; }
    McpCallScreen > Vertical {
        width: 90%; max-width: 110; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 1 2;
    }
    McpCallScreen #mcp-title { text-style: bold; margin-bottom: 1; }
    McpCallScreen .mcp-tool { color: $accent; text-style: bold; }
    McpCallScreen .mcp-args { margin-bottom: 1; }
    McpCallScreen #mcp-note { color: $text-muted; }
    McpCallScreen Horizontal { height: auto; align-horizontal: right; }
    """

    def __init__(self, calls: list[McpCall], copied: str = "") -> None:
        """`copied`: what copying the calls did, in one sentence (`clipboard.copy_text`)."""
        super().__init__()
        self.calls = calls
        self.copied = copied

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Show as MCP call", id="mcp-title")
            for call in self.calls:
                yield Static(f"tool: {call.tool}", classes="mcp-tool", markup=False)
                yield Static(
                    json.dumps(call.arguments, indent=2, ensure_ascii=False),
                    classes="mcp-args",
                    markup=False,
                )
            yield Static(self.copied, id="mcp-note", markup=False)
            with Horizontal():
                yield Button("Close", id="mcp-close", variant="primary")

    def on_button_pressed(self) -> None:
        self.dismiss()


def clipboard_text(calls: list[McpCall]) -> str:
    return "\n".join(call.as_json() for call in calls)


def show_calls(app: Any, calls: list[McpCall]) -> None:
    """Copy the calls as `tools/call` params (one a line) and show them, saying what the copy
    did."""
    from mcpcap.tui.clipboard import copy_text

    app.push_screen(McpCallScreen(calls, copy_text(app, clipboard_text(calls))))
