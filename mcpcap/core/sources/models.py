"""The typed answers about sources and captures that every face shows unchanged."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, Field

from mcpcap.core.models import SCHEMA_VERSION, LinkType

SourceKind = Literal["local", "remote", "examples"]
FormatName = Literal["pcap", "pcap-ns", "pcap-modified", "pcapng"]


class SourceInfo(BaseModel):
    label: str = Field(description="short unique name of the source, used as 'label:name'")
    kind: SourceKind
    location: str = Field(description="folder path or URL (credentials and queries redacted)")
    error: str | None = Field(None, description="why the source cannot be listed, if it cannot")


class CaptureEntry(BaseModel):
    name: str = Field(description="name to open it by; 'label:' prefix only when ambiguous")
    source: str = Field(description="label of the source holding it")
    size: int | None = Field(None, description="bytes, when known")
    modified: str | None = Field(None, description="modification time, ISO 8601 UTC")
    format: FormatName | None = Field(None, description="from the magic bytes; null if unknown")
    compressed: bool | None = Field(None, description="gzip-compressed; null if unknown")
    error: str | None = Field(None, description="why it cannot be read, in one sentence")


class CaptureProbe(BaseModel):
    """Link types, packet count and time span, from one pass over the records (no decoding)."""

    name: str
    source: str
    format: FormatName
    compressed: bool
    link_types: list[LinkType]
    packets: int
    first_ts: float | None = Field(None, description="earliest packet, epoch seconds")
    last_ts: float | None = Field(None, description="latest packet, epoch seconds")
    first_time: str | None = Field(None, description="earliest packet, ISO 8601 UTC")
    last_time: str | None = Field(None, description="latest packet, ISO 8601 UTC")
    duration: float | None = Field(None, description="seconds between earliest and latest")
    warnings: list[str] = Field(default_factory=list)


class SourceListing(SourceInfo):
    captures: list[CaptureEntry] = Field(default_factory=list)


class SourcesReport(BaseModel):
    """What `mcpcap sources --format json` prints."""

    schema_version: str = SCHEMA_VERSION
    sources: list[SourceListing]


def iso_utc(epoch: float | None) -> str | None:
    """A file time as ISO 8601 UTC with a `Z`, in whole seconds."""
    if epoch is None:
        return None
    try:
        moment = datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
