"""The icmp module's record kind, declared once (fields, filters, sorts, rankings), and
where its records lie (`KindTable`). Imported only when a face asks: it loads pydantic."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from mcpcap.core.filtering import FilterSpec
from mcpcap.core.modules.kinds import FieldSpec, RankSpec, RecordKind
from mcpcap.core.modules.malformed_kind import malformed_kind
from mcpcap.core.modules.tables import (
    KindTable,
    address_filter,
    flag_filter,
    number_filter,
    text_filter,
)
from mcpcap.core.timefmt import iso_time, round_ts
from mcpcap.modules.icmp import wire

MESSAGES = "icmp.messages"
TYPE_NAMES = tuple(sorted({*wire.V4_TYPES.values(), *wire.V6_TYPES.values()}))
CODE_NAMES = tuple(
    sorted({name for table in (wire.V4_CODES, wire.V6_CODES) for c in table.values()
            for name in c.values()})
)  # fmt: skip
RANK_BY = ("src", "dst", "type_name", "code_name", "quoted_dst", "lladdr")


FILTERS = (
    address_filter("src", "src", "the sender"),
    address_filter("dst", "dst", "the destination"),
    text_filter("transport", "transport", "icmp or icmpv6", choices=("icmp", "icmpv6")),
    text_filter("type_name", "type_name", "the message type", choices=TYPE_NAMES,
                example="type_name:destination-unreachable"),
    text_filter("code_name", "code_name", "the code", choices=CODE_NAMES,
                example="code_name:port-unreachable"),
    number_filter("type", "type", "the type number", integer=True, example="type:3"),
    number_filter("code", "code", "the code number", integer=True, example="code:3"),
    number_filter("icmp_id", "icmp_id", "echo identifier", integer=True, example="icmp_id:1"),
    number_filter("seq", "seq", "echo sequence number", integer=True, example="seq>10"),
    number_filter("frame", "frame", "the frame", integer=True, example="frame:12"),
    number_filter("rtt", "rtt", "echo round-trip time, seconds", example="rtt>0.1"),
    number_filter("ttl", "ttl", "IP TTL or hop limit", integer=True, example="ttl<5"),
    flag_filter("answered", "(CASE WHEN echo = 1 THEN reply_frame IS NOT NULL END)",
                "echo requests answered (true) or lost (false)"),
    flag_filter("error", "error", "error messages (unreachable, time exceeded ...)"),
    address_filter("quoted_src", "q_src", "an error's quoted source"),
    address_filter("quoted_dst", "q_dst", "an error's quoted destination"),
    number_filter("quoted_dport", "q_dport", "an error's quoted destination port",
                  integer=True, example="quoted_dport:53"),
    text_filter("quoted_transport", "q_transport", "an error's quoted transport",
                choices=("tcp", "udp", "icmp", "icmpv6", "sctp")),
    text_filter("uid", "uid", "the message's ICMP flow uid"),
    FilterSpec("quoted_uid", "the conn connection an error refers to (its uid)", sql="q_uid = ?",
               example="quoted_uid:CAbc..."),
    address_filter("nd_target", "nd_target", "neighbour discovery target"),
    FilterSpec("lladdr", "link-layer address option", sql="lladdr = ?",
               parse=lambda text: str(text).strip().lower(), example="lladdr:00:11:22:33:44:55"),
    flag_filter("malformed", "(malformed IS NOT NULL)", "messages with a defect (true) or not"),
)  # fmt: skip

FIELDS = (
    FieldSpec("time", "time", 24, "time"),
    FieldSpec("frame", "frame", 7, "int", drop=4),
    FieldSpec("src", "source", 39, "address"),
    FieldSpec("dst", "destination", 39, "address", drop=1),
    FieldSpec("type_name", "type", 24),
    FieldSpec("code_name", "code", 20, drop=2),
    FieldSpec("seq", "seq", 6, "int", drop=5),
    FieldSpec("rtt", "rtt", 9, "seconds", drop=3),
    FieldSpec("ttl", "ttl", 4, "int", drop=6),
)


@cache
def icmp_kinds() -> tuple[RecordKind, ...]:
    from mcpcap.modules.icmp.models import IcmpMessage

    messages = RecordKind(
        name=MESSAGES,
        title="Messages",
        description="Every ICMP and ICMPv6 message: type and code by name, echo requests "
        "paired with replies (rtt), the flow an error quotes with its connection uid, "
        "neighbour discovery targets, link-layer addresses and prefixes.",
        model=IcmpMessage,
        fields=FIELDS,
        filters=FILTERS,
        sorts=("ts", "-ts", "rtt", "-rtt", "frame", "-frame"),
        default_sort="ts",
        rank_by=tuple(RankSpec(name) for name in RANK_BY),
    )
    return (messages, malformed_kind("icmp", "ICMP"))


COLUMNS = ("id", "uid", "ts", "frame", "src", "dst", "transport", "type", "type_name", "code",
           "code_name", "icmp_id", "seq", "ttl", "payload_len", "reply_frame", "rtt",
           "request_frame", "q_transport", "q_src", "q_sport", "q_dst", "q_dport", "q_uid",
           "nd_target", "lladdr", "prefixes", "gateway", "mtu", "extra", "malformed")  # fmt: skip


def _record(row: tuple) -> dict[str, Any]:
    values = dict(zip(COLUMNS, row, strict=True))
    quoted = None
    if values["q_src"] is not None or values["q_transport"] is not None:
        quoted = {"transport": values["q_transport"], "src": values["q_src"],
                  "sport": values["q_sport"], "dst": values["q_dst"], "dport": values["q_dport"],
                  "uid": values["q_uid"]}  # fmt: skip
    for name in ("q_transport", "q_src", "q_sport", "q_dst", "q_dport", "q_uid"):
        del values[name]
    ts = values.pop("ts")
    record = {"id": values.pop("id"), "uid": values.pop("uid"), "ts": round_ts(ts),
              "time": iso_time(ts), **values}  # fmt: skip
    record["quoted"] = quoted
    for name in ("prefixes", "extra"):
        if record[name] is not None:
            record[name] = json.loads(record[name])
    return record


TABLE = KindTable(
    kind=MESSAGES,
    source="icmp_messages",
    id_column="id",
    columns=COLUMNS,
    to_record=_record,
    sorts={"ts": "ts", "rtt": "rtt", "frame": "frame"},
    rank={
        "src": "src",
        "dst": "dst",
        "type_name": "type_name",
        "code_name": "code_name",
        "quoted_dst": "q_dst",
        "lladdr": "lladdr",
    },
)
