"""The conn module's record kind, `conn.connections`, and where its records lie in the store.

Filters, sorts and rankings are declared here once; every face's options, arguments, filter
tokens and SQL come from this declaration (`KindTable` + `TableResults` answer the queries).
"""

from __future__ import annotations

import ipaddress
import re
from functools import cache
from typing import Any

from mcpcap.core.filtering import FilterSpec, sql_integer
from mcpcap.core.modules.kinds import FieldSpec, RankSpec, RecordKind
from mcpcap.core.modules.malformed_kind import malformed_kind, malformed_table
from mcpcap.core.modules.tables import (
    ADDRESS_FUNCTION,
    KindTable,
    address_filter,
    flag_filter,
    number_filter,
    text_filter,
)
from mcpcap.core.timefmt import iso_time, parse_time, round_ts
from mcpcap.modules.conn.export import CONN_LOG

KIND = "conn.connections"
CONN_STATES = ("S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH",
               "SHR", "OTH")  # fmt: skip
TRANSPORTS = ("tcp", "udp", "icmp", "icmpv6")
SERVICES = ("dns", "http", "ssl", "quic", "dhcp", "ssh")
WORD = re.compile(r"[A-Za-z0-9_-]+\Z")
SORTED = ("ts", "duration", "bytes", "ip_bytes", "packets", "syn_rtt")
RANKED = ("client", "server", "pair", "server_port", "service", "transport", "conn_state")
# what the weights count: the overview's top talkers' bytes, not the `bytes` field (payload)
WEIGHT_NOTE = (
    "weight packets: packets both ways; weight bytes: IP bytes both ways (headers included: "
    "client_ip_bytes + server_ip_bytes, as the overview's top talkers count), not the payload "
    "bytes of the `bytes` filter"
)
PAIR = (
    "CASE WHEN client <= server THEN client || ' - ' || server ELSE server || ' - ' || client END"
)


def _network(text: str) -> str:
    return str(ipaddress.ip_network(str(text).strip(), strict=False))


def _transport(text: str) -> str:
    value = str(text).strip().lower()
    if value in TRANSPORTS or (value.isdigit() and int(value) < 256):
        return value
    raise ValueError(text)


def _word(text: str) -> str:
    value = str(text).strip().lower()
    if not WORD.match(value):
        raise ValueError(text)
    return value


def _state(text: str) -> str:
    value = str(text).strip().upper()
    if value not in CONN_STATES:
        raise ValueError(text)
    return value


FILTERS = (
    address_filter("client", "client", "the client's address"),
    address_filter("server", "server", "the server's address"),
    FilterSpec("host", "either end's address (an address or a network such as 10.0.0.0/8)",
               sql=f"({ADDRESS_FUNCTION}(client, ?) OR {ADDRESS_FUNCTION}(server, ?))",
               parse=_network, params=lambda v: (v, v), example="host:192.0.2.0/24"),
    FilterSpec("port", "either end's port (ICMP: type or code)",
               sql="(client_port = ? OR server_port = ?)", parse=sql_integer,
               params=lambda v: (v, v), type="integer", example="port:443"),
    number_filter("server_port", "server_port", "the server's port", integer=True,
                  example="server_port:53"),
    number_filter("client_port", "client_port", "the client's port", integer=True,
                  example="client_port>=49152"),
    FilterSpec("transport", "tcp, udp, icmp, icmpv6 or an IP protocol number",
               sql="transport = ?", parse=_transport, choices=TRANSPORTS, example="transport:udp"),
    FilterSpec("service", "a service the payload showed (dns, http, ssl, quic, dhcp, ssh)",
               sql="instr(',' || service || ',', ?) > 0", parse=_word,
               params=lambda v: (f",{v},",), choices=SERVICES, example="service:dns"),
    FilterSpec("conn_state", "Zeek's connection state", sql="conn_state = ?", parse=_state,
               choices=CONN_STATES, example="conn_state:REJ,S0"),
    FilterSpec("history", "history letters it contains (case matters: upper is the client)",
               sql="instr(history, ?) > 0", example="history:R"),
    text_filter("uid", "uid", "the connection's uid", example="uid:CAbc..."),
    text_filter("community_id", "community_id", "the Community ID v1 hash",
                example="community_id:1:..."),
    FilterSpec("min_bytes", "payload bytes (both directions) at least this many",
               sql="bytes >= ?", parse=sql_integer, type="integer", example="min_bytes:1000000"),
    number_filter("bytes", "bytes", "payload bytes, both directions", integer=True,
                  example="bytes>10000"),
    number_filter("ip_bytes", "ip_bytes", "IP bytes, both directions", integer=True,
                  example="ip_bytes>10000"),
    number_filter("packets", "packets", "packets, both directions", integer=True,
                  example="packets>100"),
    number_filter("duration", "duration", "seconds from first to last packet (see the field)",
                  example="duration>60"),
    number_filter("syn_rtt", "syn_rtt", "seconds from SYN to SYN/ACK", example="syn_rtt>0.2"),
    number_filter("retransmissions", "retransmissions", "retransmitted TCP segments",
                  integer=True, example="retransmissions>0"),
    number_filter("vlan", "vlan", "the outermost VLAN id", integer=True, example="vlan:100"),
    flag_filter("tunnelled", "(tunnel_parents IS NOT NULL)", "carried inside a tunnel"),
    FilterSpec("since", "starts at or after this time (ISO 8601 or epoch seconds)",
               sql="ts >= ?", parse=lambda v: parse_time(v, "since"), type="string|number",
               example="since:2024-01-01T00:00:00Z"),
    FilterSpec("until", "starts at or before this time (ISO 8601 or epoch seconds)",
               sql="ts <= ?", parse=lambda v: parse_time(v, "until"), type="string|number",
               example="until:1700000000"),
)  # fmt: skip

FIELDS = (
    FieldSpec("time", "time", 24, "time"),
    FieldSpec("client", "client", 39, "address"),
    FieldSpec("client_port", "c.port", 6, "int", drop=3),
    FieldSpec("server", "server", 39, "address"),
    FieldSpec("server_port", "s.port", 6, "int"),
    FieldSpec("transport", "proto", 6, drop=2),
    FieldSpec("service", "service", 8, "list", drop=2),
    FieldSpec("conn_state", "state", 6),
    FieldSpec("duration", "duration", 9, "seconds", drop=1),
    FieldSpec("client_bytes", "c.bytes", 9, "bytes", drop=1),
    FieldSpec("server_bytes", "s.bytes", 9, "bytes", drop=1),
    FieldSpec("history", "history", 10, drop=4),
    FieldSpec("uid", "uid", 18, drop=5),
)


@cache
def conn_kinds() -> tuple[RecordKind, ...]:
    from mcpcap.modules.conn.models import Connection

    return (
        RecordKind(
            name=KIND,
            title="Connections",
            description="Every TCP, UDP, ICMP and other IP connection (Zeek conn.log "
            "meanings): client, server, service, duration, bytes and packets each way, "
            "conn_state, history, round trip, retransmissions, uid, community_id, and "
            "resolved_by (the DNS answer that named the server, when DNS is scanned too). "
            "Rankings weigh by count, packets or bytes: IP bytes both ways, headers included "
            "(the `bytes` field and filter count payload only).",
            model=Connection,
            fields=FIELDS,
            filters=FILTERS,
            sorts=tuple(f"{sign}{name}" for name in SORTED for sign in ("", "-")),
            default_sort="ts",
            rank_by=tuple(
                RankSpec(name, WEIGHT_NOTE, weights=("count", "packets", "bytes"))
                for name in RANKED
            ),
            exports=("jsonl", "json", "csv", "zeek"),
            zeek=CONN_LOG,
        ),
        malformed_kind("conn", "Connections"),
    )


COLUMNS = (
    "id", "uid", "ts", "client", "client_port", "server", "server_port", "transport", "service",
    "duration", "client_bytes", "server_bytes", "client_packets", "server_packets",
    "client_ip_bytes", "server_ip_bytes", "conn_state", "history", "missed_bytes", "syn_rtt",
    "retransmissions", "zero_windows", "vlan", "tunnel_parents", "community_id", "first_frame",
    "last_frame",
)  # fmt: skip


RECORD_KEYS = (*COLUMNS[:3], "time", *COLUMNS[3:])  # the model's order


def to_record(row: tuple) -> dict[str, Any]:
    record = dict(zip(COLUMNS, row, strict=True))
    ts = record["ts"]
    record["ts"] = round_ts(ts)
    record["time"] = iso_time(ts)
    record["service"] = record["service"].split(",") if record["service"] else []
    parents = record["tunnel_parents"]
    record["tunnel_parents"] = parents.split(",") if parents else []
    return {key: record[key] for key in RECORD_KEYS}


TABLES = (
    KindTable(
        kind=KIND,
        source="conn_connections",
        id_column="id",
        columns=COLUMNS,
        to_record=to_record,
        sorts={name: name for name in SORTED},
        rank={
            "client": "client",
            "server": "server",
            "pair": PAIR,
            "server_port": "transport || '/' || server_port",
            "service": "service",
            "transport": "transport",
            "conn_state": "conn_state",
        },
        weights={"packets": "packets", "bytes": "ip_bytes"},
    ),
    malformed_table("conn"),
)
