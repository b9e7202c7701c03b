"""What a tool call puts on the wire: the result model as structured content, a short text.

The structured content is the analysis layer's model, unchanged, so it equals what
`mcpcap analyze` prints. The text content is for clients that show only text: the same JSON
when it is small, otherwise a shortened copy (long lists cut, with a marker), so a reply never
carries a large result twice. Both stay within the reply budget.
"""

from __future__ import annotations

import json
from typing import Any

from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel

from mcpcap.modules.dns.models import DnsMessage, DnsSummary, Timeline, TimelineBucket

TEXT_LIMIT = 2_000  # characters of text content when the result itself is larger
SECTION_ORDER = ("additional", "authority", "answers", "questions")  # cut first to last


def compact(value: Any) -> str:
    """Compact JSON, as the reply budget counts characters."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def call_result(model: BaseModel, budget: int, note: str | None = None) -> CallToolResult:
    """The tool reply: the model as structured content plus a short text."""
    data = model.model_dump(mode="json")
    return CallToolResult(
        content=[TextContent(type="text", text=short_text(data, min(TEXT_LIMIT, budget), note))],
        structured_content=data,
    )


def short_text(data: Any, limit: int, note: str | None = None) -> str:
    """The JSON itself when it fits `limit`, else a copy with its longest lists cut."""
    prefix = f"{note}\n" if note else ""
    text = compact(data)
    if len(prefix) + len(text) <= limit:
        return prefix + text
    prefix += "Shortened here; the complete result is the structured content.\n"
    data = _clip_strings(json.loads(text))  # a private copy to cut
    text = compact(data)
    while len(prefix) + len(text) > limit and _cut_once(data):
        text = compact(data)
    return (prefix + text)[:limit]


def _cut_once(data: Any) -> bool:
    """Halve the largest list, ending it with a marker that counts what was cut."""
    items = _largest_list(data)
    if items is None:
        return False
    hidden = _marker_count(items[-1]) if items else 0
    real = items[:-1] if hidden else list(items)
    keep = len(real) // 2
    items[:] = [*real[:keep], f"... {hidden + len(real) - keep} more"]
    return True


def _clip_strings(value: Any, longest: int = 160) -> Any:
    """The same data with every string longer than `longest` characters clipped."""
    if isinstance(value, str) and len(value) > longest:
        return value[:longest] + "..."
    if isinstance(value, list):
        return [_clip_strings(item, longest) for item in value]
    if isinstance(value, dict):
        return {key: _clip_strings(item, longest) for key, item in value.items()}
    return value


def _marker_count(value: Any) -> int:
    """N for a "... N more" marker, else 0."""
    if isinstance(value, str) and value.startswith("... ") and value.endswith(" more"):
        return int(value.split()[1])
    return 0


def _largest_list(data: Any) -> list | None:
    """The list with the longest JSON that still has items to cut."""
    best: tuple[int, list] | None = None
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            real = len(node) - (1 if node and _marker_count(node[-1]) else 0)
            size = len(compact(node))
            if real > 0 and (best is None or size > best[0]):
                best = (size, node)
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
    return None if best is None else best[1]


def fit_message(message: DnsMessage, budget: int) -> tuple[DnsMessage, str | None]:
    """A message whose JSON fits `budget`: drop raw_hex, then trailing records, and say so."""
    if len(message.model_dump_json()) <= budget:
        return message, None
    data = message.model_dump(mode="json")
    data["raw_hex"] = None
    cut = {name: 0 for name in SECTION_ORDER}
    for name in SECTION_ORDER:
        while data[name] and len(compact(data)) > budget:
            data[name].pop()
            cut[name] += 1
    dropped = ", ".join(f"{n} {name}" for name, n in cut.items() if n)
    note = "Cut to fit the reply budget: raw_hex left out" + (
        f"; last records dropped ({dropped})" if dropped else ""
    )
    return DnsMessage(**data), note + "."


def fit_summary(summary: DnsSummary, budget: int) -> DnsSummary:
    """A summary whose JSON fits `budget` by merging timeline buckets pairwise (a coarser
    interval, the same totals); used when even the shortest top lists do not fit."""
    while len(summary.model_dump_json()) > budget and len(summary.timeline.buckets) > 1:
        summary = summary.model_copy(update={"timeline": _coarser(summary.timeline)})
    return summary


def _coarser(timeline: Timeline) -> Timeline:
    buckets = timeline.buckets
    merged = [
        TimelineBucket(
            start=pair[0].start,
            time=pair[0].time,
            queries=sum(b.queries for b in pair),
            responses=sum(b.responses for b in pair),
            errors=sum(b.errors for b in pair),
        )
        for pair in (buckets[i : i + 2] for i in range(0, len(buckets), 2))
    ]
    return Timeline(interval=timeline.interval * 2, buckets=merged)
