"""The generic overview reads formats from a summary's own declarations: a number with an ISO
twin (`start`, `start_time`) shows as the twin, a time of day and date; a field described in
seconds as a duration; one named like a kind's field takes that field's format."""

from __future__ import annotations

from pydantic import BaseModel, Field

from mcpcap.tui.widgets.module_tab import SummaryParts, item_text


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
    (title, shown), *_ = SummaryParts(summary, {"rtt": "seconds"}).groups
    assert title == "timeline"
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


def test_a_listed_model_reads_as_one_line() -> None:
    item = Server(server="10.0.0.1", acks=1234, first_time="2024-05-01T09:00:00.010000Z")
    assert item_text(item) == "10.0.0.1 · acks 1,234 · first time 2024-05-01 09:00:00.010"
    assert item_text("plain") == "plain"
