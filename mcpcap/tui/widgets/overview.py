"""The DNS overview: key figures, both charts, and rankings that filter the transactions."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Grid, Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable, Label, Static

from mcpcap.core.models import CaptureSummary
from mcpcap.modules.dns.models import DnsSummary, Endpoint
from mcpcap.tui.widgets import capture_line, count, percent, seconds
from mcpcap.tui.widgets.charts import LatencyHistogram, TimelineChart

NARROW = 100  # below this many columns the tables stack in one column


@dataclass(frozen=True)
class Ranking:
    """One table of the overview: rows of (key, figures...) and the filter a row applies."""

    id: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    filter_key: str


class RankTable(DataTable):
    """A row table where one click (not two) on a row selects it."""

    def __init__(self, ranking: Ranking) -> None:
        super().__init__(id=ranking.id, cursor_type="row", zebra_stripes=True)
        self.ranking = ranking

    def on_mount(self) -> None:
        first, *rest = self.ranking.columns
        self.add_column(first, key="key")
        for name in rest:
            self.add_column(name, key=name)
        for row in self.ranking.rows:
            # Text, not str: a DataTable reads a str as markup, and names come from the capture
            self.add_row(Text(row[0]), *(f"{int(v):>7,}" for v in row[1:]), key=row[0])

    def on_click(self, event: events.Click) -> None:
        """Runs before DataTable's own handler: make every click on a row a 'second' click."""
        meta = event.style.meta
        row, column = meta.get("row"), meta.get("column")
        if isinstance(row, int) and row >= 0 and isinstance(column, int) and column >= 0:
            self.cursor_coordinate = Coordinate(row, column)


def figures(capture: CaptureSummary, dns: DnsSummary) -> list[tuple[str, str]]:
    """(value, label) pairs of the key figures."""
    responses = dns.responses
    return [
        (count(dns.messages), "messages"),
        (count(dns.transactions), "transactions"),
        (f"{count(dns.unanswered)} ({percent(dns.unanswered, dns.transactions)})", "unanswered"),
        (percent(dns.rcodes.get("NXDOMAIN", 0), responses), "NXDOMAIN"),
        (percent(dns.rcodes.get("SERVFAIL", 0), responses), "SERVFAIL"),
        (seconds(dns.latency.p50), "median latency"),
        (seconds(dns.latency.p99), "p99 latency"),
        (count(dns.malformed.total), "malformed"),
    ]


def _endpoints(items: list[Endpoint]) -> list[tuple[str, ...]]:
    return [(e.address, str(e.queries), str(e.responses), str(e.errors)) for e in items]


def rankings(dns: DnsSummary) -> list[Ranking]:
    """The overview's tables, in reading order (pairs side by side when wide)."""
    pairs = lambda d: [(k, str(v)) for k, v in d.items()]  # noqa: E731
    names = lambda items: [(i.name, str(i.count)) for i in items]  # noqa: E731
    endpoint_columns = ("queries", "responses", "errors")
    return [
        Ranking("top-qnames", "Top domains", ("domain", "count"), names(dns.top_qnames), "qname"),
        Ranking(
            "top-registered",
            "Top registered domains",
            ("domain", "count"),
            names(dns.top_registered_domains),
            "qname_suffix",
        ),
        Ranking("rcodes", "Response codes", ("rcode", "count"), pairs(dns.rcodes), "rcode"),
        Ranking("qtypes", "Query types", ("qtype", "count"), pairs(dns.qtypes), "qtype"),
        Ranking(
            "servers", "Servers", ("server", *endpoint_columns), _endpoints(dns.servers), "server"
        ),
        Ranking(
            "clients", "Clients", ("client", *endpoint_columns), _endpoints(dns.clients), "client"
        ),
    ]


class DnsOverview(VerticalScroll):
    """Everything the DNS summary says, on one scrollable page."""

    class FilterRequested(Message):
        """A ranking row was chosen: show the transactions matching `filter_text`."""

        def __init__(self, filter_text: str) -> None:
            super().__init__()
            self.filter_text = filter_text

    def __init__(self, capture: CaptureSummary, dns: DnsSummary, *, id: str | None = None):
        super().__init__(id=id)
        self.capture = capture
        self.dns = dns

    def compose(self) -> ComposeResult:
        yield Static(capture_line(self.capture), id="capture-line", markup=True)
        with Grid(id="figures"):
            for value, label in figures(self.capture, self.dns):
                yield Static(f"[b]{value}[/b]\n[dim]{label}[/dim]", classes="figure")
        with Grid(id="charts"):
            yield TimelineChart(self.dns.timeline, id="timeline")
            yield LatencyHistogram(self.dns.latency, id="latency")
        with Grid(id="tables"):
            for ranking in rankings(self.dns):
                with Vertical(classes="ranking"):
                    yield Label(ranking.title, classes="ranking-title")
                    yield RankTable(ranking)

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < NARROW, "-narrow")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        table = event.data_table
        if isinstance(table, RankTable) and event.row_key.value is not None:
            self.post_message(
                self.FilterRequested(f"{table.ranking.filter_key}:{event.row_key.value}")
            )
