"""The DNS summary and a DNS message cut to a reply budget, saying what was left out."""

from __future__ import annotations

from mcpcap.core.paging import json_size
from mcpcap.modules.dns.models import DnsMessage, DnsSummary, Timeline, TimelineBucket

SECTION_ORDER = ("additional", "authority", "answers", "questions")  # cut first to last
NOTE_CHARS = 200  # room a message keeps under the budget for the note saying what was cut
SHORTER_TOP_N = (5, 3, 1)  # top-list lengths tried when the DNS summary exceeds the budget


def fitted_summary(dns, budget: int) -> DnsSummary:
    """The DNS summary, with shorter top lists (then a coarser timeline) if over budget."""
    summary = dns.summary()
    for top_n in (n for n in SHORTER_TOP_N if n < summary.top_n):
        if len(summary.model_dump_json()) <= budget:
            break
        summary = dns.summary(top_n=top_n)
    return fit_summary(summary, budget)


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
        while data[name] and json_size(data) > budget:
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
    summed into one "(others)" key, and at the very last the weakest findings are left out."""
    while len(summary.model_dump_json()) > budget and len(summary.timeline.buckets) > 1:
        summary = summary.model_copy(update={"timeline": _coarser(summary.timeline)})
    while len(summary.model_dump_json()) > budget:
        longest = max(TALLIES, key=lambda name: len(getattr(summary, name)))
        counts = getattr(summary, longest)
        if len(counts) <= 2:
            break
        summary = summary.model_copy(update={longest: _fewer(counts)})
    while len(summary.model_dump_json()) > budget and summary.findings:
        summary = summary.model_copy(update={"findings": summary.findings[:-1]})
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
