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

from mcpcap.modules.dns.models import DnsMessage, DnsSummary, Timeline, TimelineBucket

SECTION_ORDER = ("additional", "authority", "answers", "questions")  # cut first to last
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


def fit_message(message: DnsMessage, budget: int) -> tuple[DnsMessage, str | None]:
    """A message whose JSON fits `budget` (less room for the note): drop raw_hex, then trailing
    records, and say so."""
    if len(message.model_dump_json()) <= budget:
        return message, None
    budget -= NOTE_CHARS
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
    interval, the same totals); used when even the shortest top lists do not fit. Last (a
    capture with hundreds of query types or rcodes) the rarest keys of those tallies are
    summed into one "(others)" key."""
    while len(summary.model_dump_json()) > budget and len(summary.timeline.buckets) > 1:
        summary = summary.model_copy(update={"timeline": _coarser(summary.timeline)})
    while len(summary.model_dump_json()) > budget:
        longest = max(TALLIES, key=lambda name: len(getattr(summary, name)))
        counts = getattr(summary, longest)
        if len(counts) <= 2:
            break
        summary = summary.model_copy(update={longest: _fewer(counts)})
    return summary


TALLIES = ("qtypes", "rcodes")  # the summary's tallies whose keys the traffic chooses
OTHERS = "(others)"


def _fewer(counts: dict[str, int]) -> dict[str, int]:
    """The most frequent half of the keys, and the rest summed as "(others)"."""
    ranked = sorted(counts.items(), key=lambda item: (item[0] == OTHERS, -item[1], item[0]))
    keep = ranked[: len(ranked) // 2]
    rest = sum(n for _, n in ranked[len(keep) :])
    return {**dict(keep), OTHERS: rest}


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
