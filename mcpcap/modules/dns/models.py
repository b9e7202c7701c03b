"""The DNS module's result models: summary, transactions, pages and messages."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mcpcap.core.models import SCHEMA_VERSION, NameCount, Result


class Malformed(Result):
    total: int
    by_reason: dict[str, int]


class Endpoint(Result):
    address: str
    queries: int = Field(description="query messages sent (clients) or received (servers)")
    responses: int = Field(description="responses received (clients) or sent (servers)")
    errors: int = Field(description="responses with an rcode other than NOERROR")
    nxdomain: int


class LatencyBucket(Result):
    le: float | None = Field(description="upper bound in seconds; null for the open last bucket")
    count: int


class Latency(Result):
    count: int = Field(description="answered transactions with a round-trip time")
    p50: float | None
    p90: float | None
    p99: float | None
    max: float | None
    histogram: list[LatencyBucket]


class TimelineBucket(Result):
    start: float = Field(description="epoch seconds")
    time: str
    queries: int
    responses: int
    errors: int = Field(description="responses with an rcode other than NOERROR")


class Timeline(Result):
    interval: float = Field(description="seconds per bucket")
    buckets: list[TimelineBucket]


class FindingBrief(Result):
    """A `dns.findings` record in short: `record(kind="dns.findings", id=...)` has the rest."""

    id: int
    category: str
    subject: str
    score: float
    evidence: str
    filter: str = Field(description="lists its dns.transactions")


class DnsSummary(Result):
    messages: int
    queries: int
    responses: int
    transactions: int = Field(description="answered + unanswered + unsolicited responses")
    answered: int
    unanswered: int
    unsolicited_responses: int
    retransmissions: int
    duplicate_responses: int
    malformed: Malformed
    rcodes: dict[str, int] = Field(description="over responses")
    qtypes: dict[str, int] = Field(description="over the questions of query messages")
    transports: dict[str, int]
    protocols: dict[str, int]
    top_n: int
    top_qnames: list[NameCount]
    top_registered_domains: list[NameCount]
    nxdomain_names: list[NameCount]
    distinct_qnames: int
    distinct_registered_domains: int
    distinct_nxdomain_names: int
    distinct_clients: int
    distinct_servers: int
    servers: list[Endpoint]
    clients: list[Endpoint]
    latency: Latency
    timeline: Timeline
    findings: list[FindingBrief] = Field(
        default_factory=list, description="the top dns.findings (hunting), best first"
    )


class DnsTransaction(Result):
    id: int = Field(
        description="the transaction's id in this capture's results (record fetches it)"
    )
    ts: float
    time: str
    uid: str = Field(description="the connection's uid, shared by its records in every module")
    query_frame: int | None
    response_frame: int | None
    client: str
    client_port: int
    server: str
    server_port: int
    transport: str
    protocol: str
    trans_id: int
    rtt: float | None
    query: str | None
    qclass: int | None
    qclass_name: str | None
    qtype: int | None
    qtype_name: str | None
    rcode: int | None
    rcode_name: str | None
    aa: bool | None
    tc: bool | None
    rd: bool | None
    ra: bool | None
    z: int
    answers: list[str] | None
    ttls: list[int] | None
    rejected: bool | None
    answered: bool
    retransmissions: int


class TransactionPage(Result):
    schema_version: str = SCHEMA_VERSION
    total: int = Field(description="transactions matching the filters")
    items: list[DnsTransaction]
    next_cursor: str | None = Field(description="pass as cursor for the next page")
    truncated: bool = Field(description="fewer items than limit to fit the reply budget")


class DnsMessage(Result):
    """One DNS message with every section (the `--records messages` record)."""

    frame: int
    index: int
    ts: float
    time: str
    uid: str = Field(description="the connection's uid, as its transactions carry it")
    src: str
    sport: int
    dst: str
    dport: int
    transport: str
    protocol: str
    record_id: str = Field(description="FRAME:INDEX: record(dns.messages, id) fetches it by this")
    id: int = Field(description="the header's id (16 bits)")
    trans_id: int = Field(description="the header's id again, as transactions name it")
    qr: bool
    opcode: int
    opcode_name: str
    rcode: int
    rcode_name: str
    flags: dict[str, bool]
    questions: list[dict[str, Any]]
    answers: list[dict[str, Any]]
    authority: list[dict[str, Any]]
    additional: list[dict[str, Any]]
    edns: dict[str, Any] | None
    malformed: str | None
    info: str = Field(
        "",
        description="one line, as Wireshark's Info column: query or response, id, rcode "
        "when not NOERROR, the questions, a response's first answers",
    )
    raw_hex: str | None = Field(None, description="the message's bytes as hex")


class DnsFinding(Result):
    """A suspect the DNS hunt found (the `dns.findings` record), with the figures behind it."""

    id: int = Field(description="the finding's rank in this capture (1 is the highest score)")
    category: str = Field(description="tunnel, dga, fast_flux, odd_resolver or rebinding")
    subject: str = Field(
        description="the zone (tunnel), client (dga), name (fast_flux, rebinding) or server "
        "(odd_resolver) the finding is about"
    )
    score: float = Field(description="0 to 1; findings under 0.5 are not reported")
    evidence: str = Field(description="the figures that made the score, in words")
    metrics: dict[str, Any] = Field(description="the same figures as numbers")
    first_ts: float | None
    first_time: str | None
    last_ts: float | None
    last_time: str | None
    clients: list[str] = Field(description="client addresses involved (the first few)")
    client_count: int
    transactions: int = Field(description="transactions behind the finding")
    examples: list[int] = Field(description="ids of example dns.transactions records")
    filter: str = Field(description="the dns.transactions filter that lists its transactions")
