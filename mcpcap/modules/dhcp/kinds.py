"""The dhcp module's record kind, declared once (fields, filters, sorts, rankings), and
where its records lie (`KindTable`). Imported only when a face asks: it loads pydantic."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from typing import Any

from mcpcap.core.export import ZeekField, ZeekLog
from mcpcap.core.filtering import FilterSpec, sql_integer
from mcpcap.core.modules.kinds import FieldSpec, RankSpec, RecordKind
from mcpcap.core.modules.malformed_kind import malformed_kind
from mcpcap.core.modules.tables import (
    KindTable,
    RankColumn,
    address_filter,
    flag_filter,
    number_filter,
    text_filter,
)
from mcpcap.core.timefmt import iso_time, round_ts
from mcpcap.modules.dhcp import wire

TRANSACTIONS = "dhcp.transactions"
OUTCOMES = ("ack", "nak", "offered", "unanswered", "other")
MSG_TYPES = tuple(
    dict.fromkeys([*wire.V4_TYPES.values(), *wire.V6_TYPES.values(), "BOOTREQUEST", "BOOTREPLY"])
)
RANK_BY = ("mac", "host_name", "server_addr", "assigned_addr", "vendor_class", "msg_type",
           "outcome", "client")  # fmt: skip


def _msg_type(text: str) -> str:
    """DHCPACK, ack, information_request, 'INFORMATION REQUEST' -> the name the records use."""
    name = str(text).strip().upper().replace("_", "-").replace(" ", "-")
    name = name.removeprefix("DHCP-").removeprefix("DHCP") if name not in MSG_TYPES else name
    if name not in MSG_TYPES:
        raise ValueError(text)
    return name


def _lower(text: str) -> str:
    return str(text).strip().lower()


def _answered_by() -> FilterSpec:
    """`answered_by:10.0.0.254`: exchanges in which that server sent a message, whichever
    server the record names (a rogue's unchosen offers too)."""
    spec = address_filter("answered_by", "m.m_server", "a server that sent a message in it")
    sql = ("EXISTS (SELECT 1 FROM dhcp_messages m WHERE m.trans = dhcp_transactions.id "
           f"AND {spec.sql})")  # fmt: skip
    return replace(spec, sql=sql, example="answered_by:10.0.0.254")


FILTERS = (
    FilterSpec("mac", "client hardware address (aa:bb:cc:dd:ee:ff)", sql="mac = ?", parse=_lower,
               example="mac:00:11:22:33:44:55"),
    FilterSpec("host_name", "the client's host name, case-insensitive",
               sql="host_name = ? COLLATE NOCASE", example="host_name:laptop"),
    address_filter("client", "client", "the client's address"),
    address_filter("server", "server", "the answering server"),
    address_filter("assigned_addr", "assigned_addr", "the address the server assigned"),
    address_filter("offered_addr", "offered_addr", "the address the server offered"),
    address_filter("requested_addr", "requested_addr", "the address the client asked for"),
    FilterSpec("msg_type", "an exchange holding this message type (ACK, NAK, SOLICIT ...)",
               sql="EXISTS (SELECT 1 FROM dhcp_messages m WHERE m.trans = dhcp_transactions.id "
               "AND m.m_type = ?)", parse=_msg_type, choices=MSG_TYPES, example="msg_type:NAK"),
    FilterSpec("frame", "an exchange with a message in this frame",
               sql="EXISTS (SELECT 1 FROM dhcp_messages m WHERE m.trans = dhcp_transactions.id "
               "AND m.m_frame = ?)", parse=sql_integer, type="integer", example="frame:12"),
    text_filter("family", "family", "dhcpv4 or dhcpv6", choices=("dhcpv4", "dhcpv6")),
    text_filter("outcome", "outcome", "how the exchange ended", choices=OUTCOMES),
    text_filter("vendor_class", "vendor_class", "the client's vendor class",
                example='vendor_class:"MSFT 5.0"'),
    number_filter("trans_id", "trans_id", "transaction id", integer=True, example="trans_id:1984"),
    number_filter("lease_time", "lease_time", "lease in seconds", integer=True,
                  example="lease_time<3600"),
    number_filter("duration", "duration", "seconds from first to last message"),
    number_filter("addr_clients", "addr_clients", "MACs given the same assigned address",
                  integer=True, example="addr_clients>1"),
    number_filter("mac_addrs", "mac_addrs", "addresses given to the same MAC", integer=True,
                  example="mac_addrs>1"),
    flag_filter("relayed", "relayed", "whether a relay agent carried it"),
    _answered_by(),
)  # fmt: skip

FIELDS = (
    FieldSpec("time", "time", 24, "time"),
    FieldSpec("mac", "mac", 17, "text"),
    FieldSpec("host_name", "host name", 16, drop=2),
    FieldSpec("assigned_addr", "assigned", 39, "address"),
    FieldSpec("msg_types", "messages", 30, "list"),
    FieldSpec("server", "server", 39, "address", drop=1),
    FieldSpec("lease_time", "lease", 7, "int", drop=3),
    FieldSpec("client", "client", 39, "address", drop=4),
    FieldSpec("vendor_class", "vendor class", 16, drop=5),
    FieldSpec("family", "family", 6, drop=6),
    FieldSpec("trans_id", "xid", 10, "int", drop=7),
)

DHCP_LOG = ZeekLog(
    path="dhcp",
    fields=(
        ZeekField("ts", "time"),
        ZeekField("uids", "set[string]"),
        ZeekField("client_addr", "addr", "client"),
        ZeekField("server_addr", "addr", "server"),
        ZeekField("mac", "string"),
        ZeekField("host_name", "string"),
        ZeekField("client_fqdn", "string"),
        ZeekField("domain", "string"),
        ZeekField("requested_addr", "addr"),
        ZeekField("assigned_addr", "addr"),
        ZeekField("lease_time", "interval"),
        ZeekField("client_message", "string"),
        ZeekField("server_message", "string"),
        ZeekField("msg_types", "vector[string]"),
        ZeekField("duration", "interval"),
    ),
)


@cache
def dhcp_kinds() -> tuple[RecordKind, ...]:
    from mcpcap.modules.dhcp.models import DhcpTransaction

    transactions = RecordKind(
        name=TRANSACTIONS,
        title="Exchanges",
        description="One client exchange (DISCOVER/OFFER/REQUEST/ACK, INFORM, RELEASE ...; "
        "DHCPv6 SOLICIT/ADVERTISE/REQUEST/REPLY ...), Zeek dhcp.log meanings: who (mac, host "
        "name) got which address from which server, the lease, the options by name.",
        model=DhcpTransaction,
        fields=FIELDS,
        filters=FILTERS,
        sorts=("ts", "-ts", "duration", "-duration", "lease_time", "-lease_time"),
        default_sort="ts",
        rank_by=tuple(RankSpec(name) for name in RANK_BY),
        exports=("jsonl", "json", "csv", "zeek"),
        zeek=DHCP_LOG,
    )
    return (transactions, malformed_kind("dhcp", "DHCP"))


# ---------------------------------------------------------------------- where they lie
COLUMNS = ("id", "ts", "uids", "trans_id", "family", "client", "server", "mac", "host_name",
           "client_fqdn", "domain", "requested_addr", "offered_addr", "assigned_addr",
           "lease_time", "msg_types", "frames", "client_message", "server_message", "duration",
           "vendor_class", "relay", "duid", "outcome", "addr_clients", "mac_addrs",
           "messages")  # fmt: skip
JSON_COLUMNS = frozenset(("uids", "msg_types", "frames", "relay", "messages"))


def _record(row: tuple) -> dict[str, Any]:
    record = {
        name: (json.loads(value) if name in JSON_COLUMNS and value is not None else value)
        for name, value in zip(COLUMNS, row, strict=True)
    }
    ts = record["ts"]
    record["ts"] = round_ts(ts)
    record = {"id": record.pop("id"), "ts": record.pop("ts"), "time": iso_time(ts), **record}
    return record


SORTS = {"ts": "ts", "duration": "duration", "lease_time": "lease_time"}
RANKS: dict[str, RankColumn | str] = {
    "mac": "mac", "host_name": "host_name", "server_addr": "server",
    "assigned_addr": "assigned_addr", "vendor_class": "vendor_class", "outcome": "outcome",
    "client": "client",
}  # fmt: skip

TABLE = KindTable(
    kind=TRANSACTIONS,
    source="dhcp_transactions",
    id_column="id",
    columns=COLUMNS,
    to_record=_record,
    sorts=SORTS,
    rank=RANKS,
)
# msg_type ranks messages, not exchanges: the same filters over exchanges joined with them
MESSAGE_TABLE = KindTable(
    kind=TRANSACTIONS,
    source="dhcp_transactions JOIN dhcp_messages ON dhcp_messages.trans = dhcp_transactions.id",
    id_column="dhcp_transactions.id",
    columns=tuple(f"dhcp_transactions.{name}" for name in COLUMNS),
    to_record=_record,
    rank={"msg_type": "m_type"},
)
