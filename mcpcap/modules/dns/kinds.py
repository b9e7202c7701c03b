"""The DNS module's record kinds: transactions, messages and the hunt's findings.

Each filter is declared here once, with its meaning, its accepted values, its validator and its
SQL; the CLI options, the MCP arguments, the filter bar and `describe` all come from this table.
"""

from __future__ import annotations

from functools import cache, partial

from mcpcap.core.filtering import FilterSpec, name_and_below
from mcpcap.core.modules.kinds import FieldSpec, RankSpec, RecordKind
from mcpcap.core.modules.malformed_kind import malformed_kind
from mcpcap.modules.dns import filters
from mcpcap.modules.dns.export import DNS_LOG
from mcpcap.modules.dns.message_filters import MESSAGE_FILTERS
from mcpcap.modules.dns.registry import RCODES, RR_TYPES

COMMON_TYPES = ("A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT", "HTTPS", "ANY")


def _spec(name: str, description: str, **extra) -> FilterSpec:
    """A transaction filter whose validator and SQL are the DNS filters' own."""
    return FilterSpec(
        name=name,
        description=description,
        sql=filters.FILTER_CLAUSES[name],
        parse=partial(filters.validate, name),
        **extra,
    )


TRANSACTION_FILTERS = (
    _spec("qname", "question name, exact and case-insensitive", example="qname:example.com"),
    _spec("qname_suffix", "the name and every name below it", params=name_and_below,
          example="qname_suffix:example.com"),
    _spec("qname_contains", "part of the question name", example="qname_contains:login"),
    _spec("qtype", "query type, name or number (A, AAAA, TXT, 28)",
          choices=tuple(sorted(set(RR_TYPES.values()))), type="string|integer",
          example="qtype:AAAA"),
    _spec("rcode", "response code, name or number (NXDOMAIN, 3)",
          choices=tuple(RCODES.values()), type="string|integer",
          example="rcode:NXDOMAIN,SERVFAIL"),
    _spec("client", "client address or CIDR", example="client:10.0.0.0/8"),
    _spec("server", "server address or CIDR", example="server:192.0.2.53"),
    _spec("answer", "an address or name in the answer section", example="answer:192.0.2.1"),
    _spec("transport", "udp or tcp", choices=filters.TRANSPORTS, example="transport:tcp"),
    _spec("protocol", "dns, mdns or llmnr", choices=filters.PROTOCOLS, example="protocol:mdns"),
    _spec("answered", "true or false", choices=("true", "false"), type="boolean",
          example="answered:false"),
    _spec("min_rtt", "round-trip time at least this many seconds", type="number",
          example="min_rtt:0.5"),
    _spec("since", "at or after this time (ISO 8601 or epoch seconds)", type="string|number",
          example="since:2024-01-01T00:00:00Z"),
    _spec("until", "at or before this time (ISO 8601 or epoch seconds)", type="string|number",
          example="until:1700000000"),
    FilterSpec("rtt", "round-trip time in seconds", sql="t.rtt = ?", parse=float,
               column="t.rtt", ordered=True, type="number", example="rtt>0.2"),
)  # fmt: skip

TRANSACTION_FIELDS = (
    FieldSpec("time", "time", 24, "time"),
    FieldSpec("client", "client", 39, "address"),
    FieldSpec("server", "server", 39, "address", drop=2),
    FieldSpec("query", "query", 40),
    FieldSpec("qtype_name", "type", 6),
    FieldSpec("rcode_name", "rcode", 9),
    FieldSpec("rtt", "rtt", 9, "seconds"),
    FieldSpec("answers", "answers", 40, "list", drop=1),
    FieldSpec("query_frame", "query frame", 8, "number", drop=3),
    FieldSpec("response_frame", "resp. frame", 8, "number", drop=3),
    FieldSpec("transport", "transport", 5, drop=4),
    FieldSpec("protocol", "protocol", 5, drop=4),
    FieldSpec("trans_id", "trans id", 6, "number", drop=5),
)

RANK_BY = ("qname", "registered_domain", "client", "server", "qtype", "rcode", "answer")
RANK_FIELDS = tuple(RankSpec(name) for name in RANK_BY)


@cache
def dns_kinds() -> tuple[RecordKind, ...]:
    """The kinds, made once (their models are imported only when a face asks)."""
    from mcpcap.modules.dns.models import DnsMessage, DnsTransaction

    transactions = RecordKind(
        name="dns.transactions",
        title="Transactions",
        description="A query with its response (Zeek dns.log meanings): time, client, "
        "server, name, type, rcode, answers, TTLs, round-trip time, frames.",
        model=DnsTransaction,
        fields=TRANSACTION_FIELDS,
        filters=TRANSACTION_FILTERS,
        sorts=("ts", "-ts", "rtt", "-rtt", "qname"),
        default_sort="ts",
        rank_by=RANK_FIELDS,
        exports=("jsonl", "json", "csv", "zeek"),
        shorthand="transactions",
        zeek=DNS_LOG,
    )
    messages = RecordKind(
        name="dns.messages",
        title="Messages",
        description="Every DNS message decoded completely: header, flags, every section, EDNS.",
        model=DnsMessage,
        fields=(
            FieldSpec("time", "time", 24, "time"),
            FieldSpec("frame", "frame", 8, "number"),
            FieldSpec("src", "source", 39, "address", drop=3),
            FieldSpec("dst", "destination", 39, "address", drop=2),
            FieldSpec("info", "info", 60),
            FieldSpec("rcode_name", "rcode", 9, drop=1),
            FieldSpec("trans_id", "trans id", 8, "number", drop=4),
            FieldSpec("malformed", "malformed", 30, drop=1),
        ),
        filters=MESSAGE_FILTERS,
        sorts=("frame", "-frame"),
        default_sort="frame",
        exports=("jsonl", "json", "csv"),
        shorthand="messages",
        id_field="record_id",
    )
    from mcpcap.modules.dns.hunting.kind import findings_kind

    return (transactions, messages, malformed_kind("dns", "DNS"), findings_kind())
