"""What a tool call puts on the wire: the result model as structured content, and its JSON.

The structured content is the analysis layer's model, unchanged, so it equals what
`mcpcap analyze` prints. The text content is that same JSON (compact), as the MCP
specification asks of a tool that returns structured content, so a client that shows the model
only the text misses nothing. The budget bounds the result itself (the core cuts pages and
rankings, `fit_message` and `fit_summary` the rest), so text, structured content and
`next_cursor` always agree. A note (what was left out to fit) is a second text block.
"""

from __future__ import annotations

import json
from typing import Any

from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel

NOTE_CHARS = 200  # room a message keeps under the budget for the note saying what was cut


def compact(value: Any) -> str:
    """Compact JSON, as the reply budget counts characters."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def call_result(
    model: BaseModel | dict[str, Any], budget: int, note: str | None = None
) -> CallToolResult:
    """The tool reply: the model as structured content and as JSON text (plus a note)."""
    data = model if isinstance(model, dict) else model.model_dump(mode="json")
    content = [TextContent(type="text", text=compact(data))]
    if note:
        content.append(TextContent(type="text", text=note))
    return CallToolResult(content=content, structured_content=data)


def fit_record(data: dict[str, Any], budget: int) -> tuple[dict[str, Any], str | None]:
    """A record (or summary) without a model of its own, cut to `budget`: its longest lists
    lose their last items, then its longest strings are clipped, and a note says so."""
    if len(compact(data)) <= budget:
        return data, None
    budget -= NOTE_CHARS
    data = json.loads(compact(data))  # a private copy to cut
    while len(compact(data)) > budget and (items := _longest_list(data)) is not None:
        del items[len(items) // 2 :]  # halves it; a list of one empties
    while len(compact(data)) > budget and (holder := _longest_string(data)) is not None:
        parent, key = holder
        parent[key] = parent[key][: len(parent[key]) // 2] + "..."
    return data, "Cut to fit the reply budget: the longest lists and texts were shortened."


def _longest_list(value: Any) -> list[Any] | None:
    """The longest non-empty list inside `value` (by its JSON), or None."""
    found, size = None, 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list) and item and len(compact(item)) > size:
            found, size = item, len(compact(item))
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _longest_string(value: Any) -> tuple[Any, Any] | None:
    """(container, key) of the longest string over 16 characters inside `value`, or None."""
    found, size = None, 16
    stack = [value]
    while stack:
        item = stack.pop()
        pairs = item.items() if isinstance(item, dict) else enumerate(item)
        for key, child in pairs:
            if isinstance(child, str) and len(child) > size:
                found, size = (item, key), len(child)
            elif isinstance(child, (dict, list)):
                stack.append(child)
    return found
