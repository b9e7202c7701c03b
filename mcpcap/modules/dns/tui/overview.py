"""The DNS overview (the DNS module's `tui_overview` face hook): key figures, both charts, and
rankings that filter the transactions."""

from __future__ import annotations

from collections.abc import Callable

from textual import events
from textual.app import ComposeResult
from textual.containers import Grid, Vertical, VerticalScroll
from textual.widgets import DataTable, Label, Static

from mcpcap.core.models import CaptureSummary
from mcpcap.modules.dns.models import DnsSummary, Endpoint
from mcpcap.modules.dns.tui.charts import LatencyHistogram, TimelineChart
from mcpcap.tui.hooks import ShowRecords
from mcpcap.tui.widgets import capture_line, count, percent, seconds
from mcpcap.tui.widgets.ranking import Ranking, RankingsFit, RankTable

NARROW = 100  # below this many columns the tables stack in one column
KIND = "dns.transactions"  # the table a ranking row filters
CSS = """
DnsOverview { padding: 0 1; scrollbar-size-vertical: 1; }
DnsOverview #capture-line { margin: 1 0 0 0; }
DnsOverview #figures { grid-size: 4; grid-gutter: 1 1; height: auto; margin: 1 0; }
DnsOverview .figure { height: 2; padding: 0 1; border-left: outer $accent; background: $boost; }
DnsOverview #charts { grid-size: 2; grid-columns: 3fr 2fr; grid-gutter: 0 2; height: 17; }
DnsOverview #timeline { height: 17; }
DnsOverview #latency { height: 14; }
DnsOverview #tables { grid-size: 2; grid-gutter: 1 2; height: auto; margin: 1 0; }
DnsOverview .ranking { height: auto; }
DnsOverview .ranking-title { text-style: bold; color: $text-accent; }
DnsOverview:light .ranking-title { color: $text-primary; }
DnsOverview.-narrow #figures { grid-size: 2; }
DnsOverview.-narrow #charts { grid-size: 1; grid-columns: 1fr; grid-rows: 17 14; height: 31; }
DnsOverview.-narrow #tables { grid-size: 1; }
"""


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
    return [(e.address, count(e.queries), count(e.responses), count(e.errors)) for e in items]


def rankings(dns: DnsSummary) -> list[Ranking]:
    """The overview's tables, in reading order (pairs side by side when wide)."""
    pairs = lambda d: [(k, count(v)) for k, v in d.items()]  # noqa: E731
    names = lambda items: [(i.name, count(i.count)) for i in items]  # noqa: E731
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


class DnsOverview(RankingsFit, VerticalScroll):
    """Everything the DNS summary says, on one scrollable page."""

    DEFAULT_CSS = CSS

    def __init__(
        self,
        capture: CaptureSummary,
        dns: DnsSummary,
        *,
        longer: Callable[[], DnsSummary] | None = None,
        id: str | None = None,
    ):
        """`longer`: the summary with longer rankings (run in a worker when they may be cut)."""
        more = (lambda: rankings(longer())) if longer is not None else None
        super().__init__(longer=more, top_n=dns.top_n, id=id)
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
            text = f"{table.ranking.filter_key}:{quote(event.row_key.value)}"
            self.post_message(ShowRecords(KIND, text))


def quote(value: str) -> str:
    """A filter value as a token takes it (double quotes around spaces)."""
    return f'"{value}"' if " " in value else value
