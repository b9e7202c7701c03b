"""The connections' Zeek conn.log: its columns, Zeek types and record keys, in Zeek's order.

`service` is written as a set (Zeek writes one comma-joined string: the same text), and
`local_orig`/`local_resp` are unset (mcpcap knows no local networks).
"""

from __future__ import annotations

from mcpcap.core.export import CONNECTION_FIELDS, ZeekField, ZeekLog

CONN_LOG = ZeekLog(
    path="conn",
    fields=(
        *CONNECTION_FIELDS,
        ZeekField("proto", "enum", "transport"),
        ZeekField("service", "set[string]"),
        ZeekField("duration", "interval"),
        ZeekField("orig_bytes", "count", "client_bytes"),
        ZeekField("resp_bytes", "count", "server_bytes"),
        ZeekField("conn_state", "string"),
        ZeekField("local_orig", "bool"),
        ZeekField("local_resp", "bool"),
        ZeekField("missed_bytes", "count"),
        ZeekField("history", "string"),
        ZeekField("orig_pkts", "count", "client_packets"),
        ZeekField("orig_ip_bytes", "count", "client_ip_bytes"),
        ZeekField("resp_pkts", "count", "server_packets"),
        ZeekField("resp_ip_bytes", "count", "server_ip_bytes"),
        ZeekField("tunnel_parents", "set[string]"),
        ZeekField("vlan", "int"),
        ZeekField("community_id", "string"),
    ),
)
