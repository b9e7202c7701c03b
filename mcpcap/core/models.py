"""Result models shared by every module and every face.

A face never builds its own result: the MCP server returns these models (they become the tools'
output schemas), the TUI renders them and `mcpcap analyze` prints them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from mcpcap.core import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION", "CaptureSummary", "LinkType", "NameCount", "Ranking", "Result"]


class Result(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class LinkType(Result):
    linktype: int = Field(description="LINKTYPE_ number from the capture")
    name: str


class CaptureSummary(Result):
    name: str = Field(description="the capture's name in its source (never an absolute path)")
    format: str = Field(description="pcap, pcap-ns, pcap-modified or pcapng")
    compressed: bool
    link_types: list[LinkType]
    packets: int
    bytes: int = Field(description="sum of the packets' original lengths")
    first_ts: float | None
    last_ts: float | None
    first_time: str | None
    last_time: str | None
    duration: float = Field(description="seconds from the first to the last packet")
    warnings: list[str] = Field(default_factory=list)
    max_packets: int | None = Field(None, description="set when the scan stopped at this limit")


class NameCount(Result):
    name: str
    count: int


class RankingItem(Result):
    key: str
    count: int


class Ranking(Result):
    schema_version: str = SCHEMA_VERSION
    by: str
    counts: str = Field(description="what each count counts")
    total_distinct: int
    items: list[RankingItem]
    others: int = Field(description="sum of the counts of keys not listed on this page")
    truncated: bool = Field(False, description="items were cut to fit the reply budget")
    next_cursor: str | None = Field(
        None, description="continues the ranking after this page (cut by limit or budget)"
    )
