"""The `<module>.malformed` kind every module offers: the frame, the endpoints and the reason."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from mcpcap.core.export import connection_uid
from mcpcap.core.modules.kinds import FieldSpec, RankSpec, RecordKind
from mcpcap.core.modules.malformed import MAX_STORED, table_name
from mcpcap.core.modules.tables import KindTable, address_filter, text_filter
from mcpcap.core.timefmt import iso_time, round_ts


class MalformedItem(BaseModel):
    """Something a module could not decode: where it was, and why."""

    id: int
    ts: float
    time: str
    frame: int = Field(description="the frame the item ended in")
    uid: str
    src: str
    src_port: int
    dst: str
    dst_port: int
    transport: str
    reason: str = Field(description="one word naming what was wrong")


def malformed_kind(module: str, title: str) -> RecordKind:
    """The `<module>.malformed` kind of a module called `title` in faces."""
    return RecordKind(
        name=f"{module}.malformed",
        title="Malformed",
        description=f"What the {title} module could not decode: the frame, the endpoints "
        f"and the reason (the first {MAX_STORED:,} of a capture).",
        model=MalformedItem,
        fields=(
            FieldSpec("time", "time", 24, "time"),
            FieldSpec("frame", "frame", 8, "int"),
            FieldSpec("reason", "reason", 22),
            FieldSpec("src", "source", 39, "address"),
            FieldSpec("dst", "destination", 39, "address", drop=1),
            FieldSpec("transport", "transport", 5, drop=2),
        ),
        filters=(
            text_filter("reason", "reason", "why it did not decode", example="reason:truncated"),
            address_filter("src", "src", "source address"),
            address_filter("dst", "dst", "destination address"),
            text_filter("transport", "transport", "udp or tcp", choices=("udp", "tcp")),
        ),
        sorts=("ts", "-ts"),
        default_sort="ts",
        rank_by=(RankSpec("reason"), RankSpec("src"), RankSpec("dst")),
    )


def _record(row: tuple) -> dict[str, Any]:
    item_id, frame, ts, src, sport, dst, dport, transport, reason = row
    ends = {"client": src, "client_port": sport, "server": dst, "server_port": dport}
    return {
        "id": item_id,
        "ts": round_ts(ts),
        "time": iso_time(ts),
        "frame": frame,
        "uid": connection_uid({**ends, "transport": transport}),
        "src": src,
        "src_port": sport,
        "dst": dst,
        "dst_port": dport,
        "transport": transport,
        "reason": reason,
    }


def malformed_table(module: str) -> KindTable:
    """Where `<module>.malformed` records lie, for `TableResults`."""
    return KindTable(
        kind=f"{module}.malformed",
        source=table_name(module),
        id_column="id",
        columns=("id", "frame", "ts", "src", "sport", "dst", "dport", "transport", "reason"),
        to_record=_record,
        sorts={"ts": "ts"},
        rank={"reason": "reason", "src": "src", "dst": "dst"},
    )
