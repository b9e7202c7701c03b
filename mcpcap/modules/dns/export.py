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
        # (dns/main.zeek: the flags and `rejected` are `&default=F`, Z `&default=0`, and the
        # answers `&optional`, made at the first answer)
        ZeekField("AA", "bool", "aa", default=False),
        ZeekField("TC", "bool", "tc", default=False),
        ZeekField("RD", "bool", "rd", default=False),
        ZeekField("RA", "bool", "ra", default=False),
        ZeekField("Z", "count", "z", default=0),
        ZeekField("answers", "vector[string]", optional=True),
        ZeekField("TTLs", "vector[interval]", "ttls", optional=True),
        ZeekField("rejected", "bool", default=False),
    ),
)
