"""The generic overview reads formats from a summary's own declarations: a number with an ISO
twin (`start`, `start_time`) shows as the twin, a time of day and date; a field described in
seconds as a duration; one named like a kind's field takes that field's format; a fractional
number named like a duration (`rtt_p50`, a `latency` group's percentiles) in seconds, a size
(`…_bytes`) in bytes; the result's `schema_version` is never a key figure."""

from __future__ import annotations

from pydantic import BaseModel, Field

from mcpcap.core.models import Result
from mcpcap.tui.widgets.module_tab import SummaryParts, group_rows, item_text, timeline_caption


class Buckets(BaseModel):
    start: float | None = Field(description="epoch seconds of the first bucket")
    start_time: str | None
    interval: float = Field(description="seconds per bucket")
    width: float = Field(description="how wide")
    rtt: float


class Summary(BaseModel):
    timeline: Buckets


def test_group_figures_take_the_formats_their_model_declares() -> None:
    summary = Summary(timeline=Buckets(start=1714554000.0, start_time="2024-05-01T09:00:00Z",
                                       interval=0.5, width=0.5, rtt=0.25))  # fmt: skip
    (title, about, shown), *_ = SummaryParts(summary, {"rtt": "seconds"}).groups
    assert (title, about) == ("timeline", "")
    assert shown == [
        ("start time", "2024-05-01 09:00:00"),
        ("interval", "500.0 ms"),
        ("width", "0.5"),
        ("rtt", "250.0 ms"),
    ]


class Server(BaseModel):
    server: str
    acks: int
    first_time: str
    hops: list[str] = []


def test_a_listed_model_reads_as_one_line() -> None:
    item = Server(server="10.0.0.1", acks=1234, first_time="2024-05-01T09:00:00.010000Z")
    assert item_text(item) == "10.0.0.1 · acks 1,234 · first time 2024-05-01 09:00:00.010 · hops —"
    item.hops = [f"10.0.0.{n}" for n in range(1, 8)]
    assert item_text(item).endswith(" · hops 10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4, 10.0.0.5 …")
    assert item_text("plain") == "plain"


class Percentiles(BaseModel):
    count: int
    min: float
    p50: float
    max: float


class Echo(BaseModel):
    requests: int
    rtt_p50: float | None
    delay_count: int
    slow: int = Field(description="pings answered after more than 10 seconds")
    wait: float = Field(description="SYN -> SYN/ACK, seconds, median")


class Traffic(Result):
    messages: int
    response_body_bytes: int
    busiest: str
    rogue_server_hint: bool
    latency: Percentiles | None = Field(description="rtt percentiles: request to response")
    echo: Echo


def test_key_figures_are_the_traffic_and_groups_show_their_units() -> None:
    latency = Percentiles(count=12, min=0.001, p50=0.0025, max=4.5)
    echo = Echo(requests=3, rtt_p50=0.0004, delay_count=7, slow=2, wait=0.0125)
    summary = Traffic(messages=26, response_body_bytes=3005, busiest="10.0.0.1",
                      rogue_server_hint=True, latency=latency, echo=echo)  # fmt: skip
    parts = SummaryParts(summary, {})
    assert [(value, name) for value, name, _ in parts.figures] == [
        ("26", "messages"),
        ("2.9 KiB", "response body bytes"),
        ("10.0.0.1", "busiest"),
        ("yes", "rogue server hint"),
    ]
    latency, echo = parts.groups
    assert latency == ("latency", "rtt percentiles: request to response", [
        ("count", "12"), ("min", "1.0 ms"), ("p50", "2.5 ms"), ("max", "4.50 s"),
    ])  # fmt: skip
    assert echo == ("echo", "", [
        ("requests", "3"), ("rtt p50", "400 µs"), ("delay count", "7"), ("slow", "2"),
        ("wait", "12.5 ms"),
    ])  # fmt: skip


def test_a_group_too_wide_for_one_row_takes_several() -> None:
    values = [("connections with retransmissions", "0"), ("zero windows", "12"), ("a", "1.0 ms")]
    assert group_rows(values, 200) == [values]
    assert group_rows(values, 50) == [values[:2], values[2:]]
    assert group_rows(values, 10) == [[value] for value in values]
    assert group_rows([], 80) == []


class Destination(BaseModel):
    dst: str
    rtt_p50: float


class Pings(BaseModel):
    requests: int
    destinations: list[Destination]


class Counted(BaseModel):
    start: float | None = Field(description="epoch seconds of the first bucket")
    start_time: str | None
    interval: float
    messages: list[int]
    errors: list[int]


class Bucket(BaseModel):
    ts: float
    time: str
    packets: int


class Observed(BaseModel):
    timeline: Counted
    pings: Pings
    buckets: list[Bucket]


def test_the_first_timeline_is_a_chart_and_a_groups_lists_are_listed() -> None:
    pings = Pings(requests=2, destinations=[Destination(dst="8.8.8.8", rtt_p50=0.012)])
    timeline = Counted(start=1714554000.0, start_time="2024-05-01T09:00:00Z", interval=5.0,
                       messages=[3, 0, 4], errors=[1, 0, 0])  # fmt: skip
    buckets = [Bucket(ts=1714554000.0, time="", packets=1)]
    parts = SummaryParts(Observed(timeline=timeline, pings=pings, buckets=buckets), {})
    series = parts.timeline
    assert series is not None
    assert (series.title, series.what, series.values) == ("timeline", "messages", [3, 0, 4])
    assert timeline_caption(series) == "messages per 5.00 s from 2024-05-01 09:00:00.000, 7 in all"
    assert [title for title, *_ in parts.groups] == ["pings"]  # the timeline is the chart
    assert [(title, [item_text(i) for i in items]) for title, items in parts.lists] == [
        ("pings destinations", ["8.8.8.8 · rtt p50 12.0 ms"])
    ]  # a second timeline (buckets) is not listed


class Sparse(BaseModel):
    timeline: list[Bucket]


def test_buckets_a_summary_left_out_count_zero() -> None:
    start = 1714554000.0
    buckets = [Bucket(ts=start + offset, time="", packets=n) for offset, n in
               [(0, 5), (2, 1), (10, 3)]]  # fmt: skip
    series = SummaryParts(Sparse(timeline=buckets), {}).timeline
    assert series is not None
    assert (series.what, series.values, series.interval) == ("packets", [5, 1, 0, 0, 0, 3], 2)


class Shares(BaseModel):
    connections: int
    states: dict[str, int] = Field(description="connections by state")
    hosts_by_bytes: dict[str, int] = Field(description="bytes sent and received")
    said: dict[str, int] = Field(json_schema_extra={"shares": True})
    unsaid: dict[str, int] = Field(json_schema_extra={"shares": False})


def test_shares_only_where_the_counts_add_up_to_a_stated_total_or_the_field_says_so() -> None:
    from mcpcap.tui.widgets.module_tab import rankings

    summary = Shares(connections=4, states={"SF": 3, "S0": 1}, hosts_by_bytes={"a": 9, "b": 9},
                     said={"x": 1, "y": 2}, unsaid={"x": 1, "y": 3})  # fmt: skip
    parts = SummaryParts(summary, {})
    assert parts.shared == {"states", "said"}
    shown = {ranking.title: ranking for ranking in rankings(parts, "m")}
    assert shown["states"].columns == ("value", "count", "share")
    assert shown["states"].rows[0] == ("SF", "3", "75.0%")
    assert shown["hosts by bytes"].columns == ("value", "count")
    assert shown["hosts by bytes"].rows == [("a", "9"), ("b", "9")]
    assert shown["unsaid"].columns == ("value", "count")  # 4 = connections, but it says no


def test_the_heading_names_the_traffic_with_the_modules_own_noun() -> None:
    from mcpcap.tui.widgets.module_tab import headline

    parts = SummaryParts(Shares(connections=4, states={}, hosts_by_bytes={}, said={},
                                unsaid={}), {})  # fmt: skip
    assert headline(parts, 4) == "connections"
    assert headline(parts, 5) == "messages"  # a count the summary does not name
