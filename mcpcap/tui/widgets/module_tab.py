"""The tab of any protocol module: `1` its overview, `2`, `3` … a table per record kind.

A module may give its own overview, tables or extra views (its TUI face hooks, see
`mcpcap.tui.hooks`); without them, the overview reads the module's summary model generically:
its top-level numbers, flags and words are the key figures (never the result's
`schema_version`: it describes the reply, not the traffic), the first timeline is a chart
(`series`), a nested model is a group of figures (under its description, its lists of models
listed after it), a mapping of counts is a ranking and a list is shown in brief.
A summary field named like a field of one of the module's kinds takes that field's format (an
`offset` group in seconds, when the kind shows `offset` in seconds), else the unit its
description or its name declares (`units`); a group whose name is a duration's (`latency`)
shows its fractional numbers in seconds and its whole ones as counts; a number with an ISO twin
(`start` and `start_time`) shows as the twin. Nothing here knows a protocol.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from rich.cells import cell_len
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.widget import Widget
from textual.widgets import Label, Sparkline, Static, TabbedContent, TabPane

from mcpcap.core.records import KindQuery
from mcpcap.tui.hooks import TUI_OVERVIEW, TUI_TABLE, TUI_VIEWS, ExtraView, ShowRecords, hook
from mcpcap.tui.kind_rows import NONE, format_value
from mcpcap.tui.widgets import capture_line, count, percent
from mcpcap.tui.widgets.kind_table import KindPanel
from mcpcap.tui.widgets.ranking import LONGER, Ranking, RankingsFit, RankTable
from mcpcap.tui.widgets.series import Series, find_series, is_series

if TYPE_CHECKING:
    from mcpcap.core.modules.contract import ProtocolModule
    from mcpcap.core.modules.kinds import RecordKind
    from mcpcap.core.service import Analysis

NARROW = 100  # below this many columns the rankings stack in one column
LISTED = 5  # items a list shows
COLUMNS = ("value", "count", "share")  # a ranking's
Scalar = int | float | str | bool | None
NOT_FIGURES = frozenset(("schema_version",))  # about the reply, not the traffic
# words of a field's name that make its fractional numbers durations in seconds
SECOND_WORDS = frozenset(
    ("rtt", "latency", "duration", "delay", "interval", "jitter", "elapsed", "seconds")
)


def dom_id(name: str) -> str:
    """`name` as a widget id (module and kind names are words, but a plug-in may differ)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", name)


def field_formats(kinds: list[RecordKind]) -> dict[str, str]:
    """Each field name the module's kinds show, with its format (the first kind's wins)."""
    formats: dict[str, str] = {}
    for kind in kinds:
        for spec in kind.fields:
            formats.setdefault(spec.name, spec.format)
    return formats


def label(name: str) -> str:
    return name.replace("_", " ")


def figure(value: Scalar, fmt: str | None) -> str:
    """A summary number or word as the overview shows it."""
    if value is None:
        return NONE
    if fmt and fmt != "text":
        return format_value(fmt, value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return count(value)
    if isinstance(value, float):
        return f"{value:,.6g}"
    return str(value)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (int, float, str, bool))


def _is_counts(value: Any) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value.values()
    )


class SummaryParts:
    """A summary model sorted into what the overview shows: figures, groups, rankings, lists."""

    def __init__(self, summary: BaseModel, formats: Mapping[str, str]) -> None:
        self.figures: list[tuple[str, str, str]] = []  # (value, label, description)
        # (title, description, [(label, value)])
        self.groups: list[tuple[str, str, list[tuple[str, str]]]] = []
        self.rankings: list[tuple[str, str, Mapping[str, float]]] = []  # (title, about, counts)
        self.lists: list[tuple[str, list[Any]]] = []
        self.timeline: Series | None = None
        self.counts: dict[str, int] = {}  # the top-level whole numbers, by label
        self.shared: set[str] = set()  # the rankings whose shares make sense
        fields = type(summary).model_fields
        for name, info in fields.items():
            value = getattr(summary, name)
            about = info.description or ""
            if name in NOT_FIGURES:
                continue
            if self.timeline is None:
                self.timeline = find_series(label(name), value, info.annotation)
                if self.timeline is not None:
                    continue
            if value is None and _has_model(info.annotation):
                self.groups.append((label(name), about, []))  # a group the summary left empty
            elif isinstance(value, BaseModel):
                unit = formats.get(name) or ("seconds" if says_seconds(name, about) else None)
                self.groups.append((label(name), about, self._group(value, unit, formats)))
                self.lists += _group_lists(label(name), value)
            elif _is_counts(value):
                self.rankings.append((label(name), about, value))
            elif isinstance(value, (list, tuple)):
                if not is_series(info.annotation):  # a second timeline is not listed
                    self.lists.append((label(name), list(value)))
            elif _is_scalar(value):
                shown = figure(value, formats.get(name) or units(name, about, value))
                self.figures.append((shown, label(name), about))
                if isinstance(value, int) and not isinstance(value, bool):
                    self.counts[label(name)] = value
            elif isinstance(value, Mapping):
                self.lists.append((label(name), [f"{k}: {v}" for k, v in value.items()]))
        self._share(fields)

    def _share(self, fields: Mapping[str, Any]) -> None:
        """Shares are shown where the field says so, or, where it does not, where the
        ranking's counts add up to a total the summary states (connections by state add up to
        the connections; hosts' bytes sent and received, or a top ten, do not)."""
        totals = {n for n in self.counts.values() if n > 0}
        for title, _, counts in self.rankings:
            said = says_shares(fields[title.replace(" ", "_")])
            if said if said is not None else sum(counts.values()) in totals:
                self.shared.add(title)

    def _group(
        self, model: BaseModel, unit: str | None, formats: Mapping[str, str]
    ) -> list[tuple[str, str]]:
        """The group's figures; the group's unit is its fractional numbers' (a latency's
        percentiles), never its whole ones' (how many went into them)."""
        shown = []
        fields = type(model).model_fields
        for name, info in fields.items():
            value = getattr(model, name)
            if _is_scalar(value) and f"{name}_time" not in fields:  # its ISO twin shows it
                chosen = formats.get(name) or units(name, info.description, value)
                if chosen is None and isinstance(value, float):
                    chosen = unit
                shown.append((label(name), figure(value, chosen)))
        return shown


def _group_lists(title: str, model: BaseModel) -> list[tuple[str, list[Any]]]:
    """A group's lists of models (an echo group's busiest destinations), titled by both."""
    found = []
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        models = isinstance(value, list) and all(isinstance(i, BaseModel) for i in value)
        if models and not is_series(info.annotation):
            found.append((f"{title} {label(name)}", value))
    return found


def timeline_caption(series: Series) -> str:
    """What the chart shows: "messages per 1.00 s from 2024-05-01 09:00:00.000, 26 in all"."""
    text = series.what
    if series.interval:
        text += f" per {format_value('seconds', series.interval)}"
    if series.start is not None:
        text += f" from {format_value('time', series.start)}"
    return f"{text}, {count(int(sum(series.values)))} in all"


def item_text(item: Any) -> str:
    """An item of a summary's list on one line: a model as its first value, then its other
    figures by name ("10.0.0.1 · transactions 5 · offers 3", a list of words as "hops a, b"),
    anything else as a cell."""
    if not isinstance(item, BaseModel):
        return format_value("list", item)
    fields = type(item).model_fields
    parts = []
    for name, info in fields.items():
        value = getattr(item, name)
        if name in NOT_FIGURES or f"{name}_time" in fields:  # an ISO twin shows it
            continue
        if _is_scalar(value):
            shown = figure(value, units(name, info.description, value))
        elif isinstance(value, list) and all(map(_is_scalar, value)):
            shown = ", ".join(map(str, value[:LISTED])) + (" …" if len(value) > LISTED else "")
        else:
            continue
        parts.append(shown if not parts else f"{label(name)} {shown or NONE}")
    return " · ".join(parts)


def units(name: str, description: str | None, value: Any = None) -> str | None:
    """The format a field's description or name declares for `value`.

    `…_time` or "epoch seconds …": a time. "seconds" in the description: a duration (a
    timeline's bucket width, "SYN -> SYN/ACK, seconds"). A fractional number whose name says
    it is one (`rtt_p50`, `latency`, `interval`): a duration too. `…_bytes`: a size.
    """
    about = (description or "").lower()
    if name.endswith("_time") or about.startswith("epoch seconds"):
        return "time"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if says_seconds(name, about, fractional=isinstance(value, float)):
        return "seconds"
    if "bytes" in name.lower().split("_"):
        return "bytes"
    return None


def says_seconds(name: str, about: str, fractional: bool = True) -> bool:
    """Whether a field holds seconds: its description starts so ("seconds per bucket"), or,
    for fractional numbers (and groups of them), names seconds anywhere ("SYN -> SYN/ACK,
    seconds") or its name is a duration's (`rtt_p90`)."""
    about = about.lower()
    if about.startswith("seconds"):
        return True
    if not fractional:  # a count described as "lasting over 10 seconds" stays a count
        return False
    return bool(re.search(r"\bseconds\b", about)) or not SECOND_WORDS.isdisjoint(
        name.lower().split("_")
    )


def _has_model(annotation: Any) -> bool:
    """Whether a field's type is a model, or a union with one (`Percentiles | None`)."""
    options = getattr(annotation, "__args__", None) or (annotation,)
    return any(isinstance(a, type) and issubclass(a, BaseModel) for a in options)


def ranking_rows(counts: Mapping[str, float], shares: bool = True) -> list[tuple[str, ...]]:
    """(name, count, share) rows, the largest counts first; (name, count) without shares."""
    whole = sum(counts.values())
    ranked = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
    if not shares:
        return [(str(key), figure(value, None)) for key, value in ranked]
    return [(str(key), figure(value, None), percent(int(value), int(whole)))
            for key, value in ranked]  # fmt: skip


def rankings(parts: SummaryParts, prefix: str) -> list[Ranking]:
    """The summary's mappings of counts as rankings (ids unique to the module's tab), with a
    share column where shares make sense (`SummaryParts.shared`)."""
    return [
        Ranking(f"{prefix}-rank-{dom_id(name)}", name, COLUMNS if name in parts.shared else
                COLUMNS[:2], ranking_rows(counts, name in parts.shared), about=about)
        for name, about, counts in parts.rankings
    ]  # fmt: skip


def says_shares(info: Any) -> bool | None:
    """What a summary field's `json_schema_extra={"shares": …}` says of its shares, if it does."""
    extra = info.json_schema_extra
    return extra.get("shares") if isinstance(extra, Mapping) else None


def headline(parts: SummaryParts, traffic: int) -> str:
    """The module's noun for its traffic count (what its scan counted as messages): the
    summary's first whole-number figure that equals it ("connections", "handshakes"), else
    "messages" (an NTP scan counts datagrams, its summary exchanges: no record noun fits)."""
    for name, value in parts.counts.items():
        if value == traffic:
            return name
    return "messages"


def group_table(values: list[tuple[str, str]]) -> Table:
    """A nested model's numbers side by side: names above, values below."""
    table = Table(box=None, padding=(0, 2, 0, 0), show_edge=False, header_style="dim")
    for name, _ in values:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_row(*(Text(value, style="bold", justify="right") for _, value in values))
    return table


def group_rows(values: list[tuple[str, str]], width: int) -> list[list[tuple[str, str]]]:
    """The figures cut into rows that each fit `width` cells (one figure a row at least)."""
    rows: list[list[tuple[str, str]]] = [[]]
    used = 0
    for name, value in values:
        cell = max(cell_len(name), cell_len(value)) + 2  # 2: the padding after a column
        if rows[-1] and used + cell > width:
            rows.append([])
            used = 0
        rows[-1].append((name, value))
        used += cell
    return rows if rows[0] else []


class GroupFigures(Widget):
    """A group's figures, names above values, in as many rows as the width needs (a wide
    group never squeezes its names into broken columns)."""

    DEFAULT_CSS = "GroupFigures { height: auto; }"

    def __init__(self, values: list[tuple[str, str]]) -> None:
        super().__init__()
        self.values = values

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return max(1, 2 * len(group_rows(self.values, width)))

    def render(self) -> Group | Text:
        if not self.values:
            return Text("none", style="dim")
        rows = group_rows(self.values, self.content_region.width or self.size.width)
        return Group(*(group_table(row) for row in rows))


class ModuleOverview(RankingsFit, VerticalScroll, can_focus=True):
    """One module's summary on one scrollable page, and the keys of its tables."""

    DEFAULT_CSS = """
    ModuleOverview { padding: 0 1; scrollbar-size-vertical: 1; }
    ModuleOverview .module-capture { margin: 1 0 0 0; }
    ModuleOverview .module-figures {
        grid-size: 4; grid-gutter: 1 1; height: auto; margin: 1 0;
    }
    ModuleOverview .module-figure {
        height: 2; padding: 0 1; border-left: outer $accent; background: $boost;
    }
    ModuleOverview .module-section { height: auto; margin: 0 0 1 0; }
    ModuleOverview .module-title { text-style: bold; color: $text-accent; }
    ModuleOverview:light .module-title { color: $text-primary; }
    ModuleOverview .module-about { color: $text-muted; }
    ModuleOverview .module-chart { height: 3; margin: 0 1 0 0; }
    ModuleOverview .module-pair { layout: horizontal; height: auto; }
    ModuleOverview .module-pair > .module-section { width: 1fr; margin: 0 2 1 0; }
    ModuleOverview.-narrow .module-pair { layout: vertical; }
    ModuleOverview.-narrow .module-figures { grid-size: 3; }
    """

    def __init__(
        self,
        analysis: Analysis,
        module: ProtocolModule,
        summary: BaseModel,
        *,
        id: str | None = None,
    ) -> None:
        results = analysis.module(module.name)
        super().__init__(longer=lambda: self._rankings(results.summary(LONGER)),
                         top_n=analysis.settings.top_n, id=id)  # fmt: skip
        self.module = module
        self.capture = analysis.capture()
        self.traffic = analysis.traffic(module.name)
        self.kinds = module.kinds()
        self.parts = SummaryParts(summary, field_formats(self.kinds))
        self.noun = headline(self.parts, self.traffic)

    def _rankings(self, summary: BaseModel) -> list[Ranking]:
        return rankings(SummaryParts(summary, field_formats(self.kinds)), dom_id(self.module.name))

    def compose(self) -> ComposeResult:
        yield Static(capture_line(self.capture), classes="module-capture")
        keys = "  ".join(
            f"[b]{i}[/b] {escape(kind.title)}" for i, kind in enumerate(self.kinds, start=2)
        )
        title = escape(self.module.title)
        yield Static(
            f"[b]{title}[/b] · {count(self.traffic)} {escape(self.noun)} · tables: "
            f"{keys or 'none'}",
            classes="module-heading",
        )
        parts = self.parts
        if parts.figures:
            with Grid(classes="module-figures"):
                for value, name, about in parts.figures:
                    box = Static(f"[b]{escape(value)}[/b]\n[dim]{escape(name)}[/dim]",
                                 classes="module-figure")  # fmt: skip
                    box.tooltip = about or None
                    yield box
        if parts.timeline is not None:
            yield from self._timeline(parts.timeline)
        for name, about, values in parts.groups:
            with Vertical(classes="module-section"):
                yield Label(name, classes="module-title")
                if about:
                    yield Static(about, classes="module-about", markup=False)
                yield GroupFigures(values)
        ranked = rankings(parts, dom_id(self.module.name))
        for first in range(0, len(ranked), 2):  # side by side in pairs (stacked when narrow)
            with Horizontal(classes="module-pair"):
                for ranking in ranked[first : first + 2]:
                    with Vertical(classes="module-section"):
                        yield Label(ranking.title, classes="module-title")
                        if ranking.about:
                            yield Static(ranking.about, classes="module-about", markup=False)
                        yield RankTable(ranking)
        for name, items in parts.lists:
            with Vertical(classes="module-section"):
                yield Label(f"{name} ({count(len(items))})", classes="module-title")
                shown = [item_text(item) for item in items[:LISTED]]
                if len(items) > LISTED:
                    shown.append(f"… {len(items) - LISTED} more")
                yield Static("\n".join(shown) or "none", markup=False)

    def _timeline(self, series: Series) -> ComposeResult:
        with Vertical(classes="module-section"):
            yield Label(series.title, classes="module-title")
            yield Static(timeline_caption(series), classes="module-about", markup=False)
            if len(series.values) > 1 and any(series.values):  # one bucket: the caption says it
                yield Sparkline(series.values, classes="module-chart")

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < NARROW, "-narrow")


class ModuleTab(Widget):
    """A module's views: its overview, one table per kind in declaration order, then any views
    the module adds; each from the module's face hooks where it has them.

    A tab made `lazy` (one behind the first) makes its views only when `make_views` is
    awaited, the first time it is chosen: making six modules' views at once took the first
    overview 0.5 s longer to show (100k packets), for tabs a person may never look at.
    """

    DEFAULT_CSS = """
    ModuleTab { height: 1fr; }
    ModuleTab > TabbedContent { height: 1fr; }
    ModuleTab TabPane { padding: 0; }
    """

    def __init__(
        self, analysis: Analysis, module: ProtocolModule, *, id: str | None = None,
        lazy: bool = False,
    ) -> None:  # fmt: skip
        super().__init__(id=id)
        self.made = not lazy  # its views are (being) mounted
        self.analysis = analysis
        self.module = module
        self.kinds = module.kinds()
        self.prefix = dom_id(module.name)
        views = hook(module, TUI_VIEWS)
        self.extra: list[ExtraView] = list(views(analysis)) if views is not None else []

    def pane_ids(self) -> list[str]:
        kinds = [dom_id(kind.name) for kind in self.kinds]  # `dns.transactions`: dns-transactions
        extra = [f"{self.prefix}-view-{number}" for number in range(len(self.extra))]
        return [f"{self.prefix}-overview", *kinds, *extra]

    async def make_views(self) -> None:
        """Mount the views of a lazy tab (nothing for one that has them)."""
        if not self.made:
            self.made = True
            await self.recompose()

    def compose(self) -> ComposeResult:
        if not self.made:
            return
        ids = self.pane_ids()
        titles = [f"[b]{number}[/b] {escape(title)}"
                  for number, (title, _) in enumerate(self.views(), start=1)]  # fmt: skip
        with TabbedContent(initial=ids[0]):
            with TabPane(titles[0], id=ids[0]):
                yield self._overview()
            for kind, pane, title in zip(self.kinds, ids[1:], titles[1:], strict=False):
                with TabPane(title, id=pane):
                    yield self._table(kind)
            extra = zip(self.extra, ids[1 + len(self.kinds) :], titles[1 + len(self.kinds) :],
                        strict=True)  # fmt: skip
            for view, pane, title in extra:
                with TabPane(title, id=pane):
                    yield view.make()

    def _overview(self) -> Widget:
        made = hook(self.module, TUI_OVERVIEW)
        if made is not None:
            return made(self.analysis)
        summary = self.analysis.module(self.module.name).summary()
        return ModuleOverview(self.analysis, self.module, summary)

    def _table(self, kind: RecordKind) -> Widget:
        made = hook(self.module, TUI_TABLE)
        panel = made(self.analysis, kind) if made is not None else None
        if panel is not None:
            return panel
        query = KindQuery(self.analysis, kind.name)
        return KindPanel(query, self.analysis.name, self.analysis.capture().first_ts)

    def views(self) -> list[tuple[str, str]]:
        """(title, what showing it does) of each view, for the keys 1, 2, 3 …"""
        title = self.module.title
        found = [("Overview", f"Show the {title} overview")]
        found += [
            (kind.title, f"Show the {title} {kind.title.lower()} table") for kind in self.kinds
        ]
        found += [(view.title, view.tip) for view in self.extra]
        return found

    @property
    def tabs(self) -> TabbedContent:
        return self.query_one(TabbedContent)

    def show_view(self, number: int) -> None:
        """Show view `number` (1 is the overview) and put the keyboard in it."""
        ids = self.pane_ids()
        if self.made and 1 <= number <= len(ids):
            self.tabs.active = ids[number - 1]
            self.focus_view()

    def _pane_widget(self, pane_id: str) -> Widget | None:
        found = self.query(f"#{pane_id} > *")
        return found.first() if found else None

    def current_panel(self) -> Widget | None:
        """The table (or added view) in view (None on the overview, or before its views)."""
        if not self.made:
            return None
        active = self.tabs.active
        if not active or active == self.pane_ids()[0]:
            return None
        return self._pane_widget(active)

    def table_panels(self) -> list[Widget]:
        """Every table and added view of the tab, in order."""
        found = [self._pane_widget(pane) for pane in self.pane_ids()[1:]]
        return [panel for panel in found if panel is not None]

    def focus_view(self) -> None:
        panel = self.current_panel()
        if panel is not None:
            table = getattr(panel, "table", panel)
            table.focus()
        else:
            overview = self._pane_widget(self.pane_ids()[0])
            if overview is not None:
                overview.focus()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        event.stop()
        if self.display:  # a module tab out of view (mounted behind the first) takes no focus
            self.focus_view()
        self.screen.refresh_bindings()

    def on_show_records(self, event: ShowRecords) -> None:
        """An overview asked for a kind's table, filtered: show it."""
        names = [kind.name for kind in self.kinds]
        if event.kind not in names:
            return
        event.stop()
        number = names.index(event.kind) + 2
        self.show_view(number)
        panel = self.current_panel()
        if panel is not None and hasattr(panel, "apply_filter"):
            panel.apply_filter(event.filter_text)
