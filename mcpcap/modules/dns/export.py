"""The DNS transactions' Zeek dns.log: its columns, Zeek types and record keys, in Zeek's order."""

from __future__ import annotations

from mcpcap.core.export import CONNECTION_FIELDS, ZeekField, ZeekLog

DNS_LOG = ZeekLog(
    path="dns",
    fields=(
        *CONNECTION_FIELDS,
        ZeekField("proto", "enum", "transport"),
        ZeekField("trans_id", "count"),
        ZeekField("rtt", "interval"),
        ZeekField("query", "string"),
        ZeekField("qclass", "count"),
        ZeekField("qclass_name", "string"),
        ZeekField("qtype", "count"),
        ZeekField("qtype_name", "string"),
        ZeekField("rcode", "count"),
        ZeekField("rcode_name", "string"),
        ZeekField("AA", "bool", "aa"),
        ZeekField("TC", "bool", "tc"),
        ZeekField("RD", "bool", "rd"),
        ZeekField("RA", "bool", "ra"),
        ZeekField("Z", "count", "z"),
        ZeekField("answers", "vector[string]"),
        ZeekField("TTLs", "vector[interval]", "ttls"),
        ZeekField("rejected", "bool"),
    ),
)
