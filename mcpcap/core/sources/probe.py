"""A cheap probe: one pass over a capture's records to count them and find the time span."""

from __future__ import annotations

import threading
from pathlib import Path

from mcpcap.core.errors import CancelledError
from mcpcap.core.linktypes import linktype_name
from mcpcap.core.models import LinkType
from mcpcap.core.sources.models import CaptureProbe
from mcpcap.core.timefmt import iso_time, round_ts

CANCEL_EVERY = 4096


def probe_file(
    path: Path, name: str, source: str, cancel: threading.Event | None = None
) -> CaptureProbe:
    from mcpcap.core.reader import CaptureReader  # written in parallel; imported when used

    packets = 0
    first = last = None
    seen: list[int] = []
    with CaptureReader(path) as reader:
        for ts, linktype, _data, _orig_len in reader:
            packets += 1
            if linktype not in seen:
                seen.append(linktype)
            first = ts if first is None or ts < first else first
            last = ts if last is None or ts > last else last
            if cancel is not None and packets % CANCEL_EVERY == 0 and cancel.is_set():
                raise CancelledError(f"{name}: probe cancelled")
        fmt, compressed, warnings = reader.format, reader.compressed, list(reader.warnings)
        for linktype in getattr(reader, "link_types", []):
            if linktype not in seen:
                seen.append(linktype)
    return CaptureProbe(
        name=name,
        source=source,
        format=fmt.value,
        compressed=compressed,
        link_types=[LinkType(linktype=n, name=linktype_name(n)) for n in sorted(seen)],
        packets=packets,
        first_ts=round_ts(first),
        last_ts=round_ts(last),
        first_time=iso_time(first),
        last_time=iso_time(last),
        duration=None if first is None else round(last - first, 6),
        warnings=warnings,
    )
