"""What the ICMP module returns: its messages and its summary (faces read their schemas)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mcpcap.core import SCHEMA_VERSION
from mcpcap.core.models import Result


class QuotedFlow(Result):
    """The packet an ICMP error quotes (its IP header and first 8 bytes); a quote cut short
    gives the fields it holds whole, the others null (the message is malformed)."""

    transport: str | None = Field(description="tcp, udp, icmp ... (a number when unnamed)")
    src: str | None
    sport: int | None = Field(None, description="for quoted ICMP: its type (Zeek's flow port)")
    dst: str | None
    dport: int | None = None
    uid: str | None = Field(
        description="the conn connection this error refers to: with conn scanned, its "
        "record's uid, or null when the capture has no such connection (the quoted packet "
        "was never captured); without conn, the uid conn gives that flow's first connection"
    )


class Prefix(Result):
    prefix: str
    on_link: bool
    autonomous: bool
    valid: int = Field(description="valid lifetime, seconds")
    preferred: int = Field(description="preferred lifetime, seconds")


class IcmpMessage(Result):
    id: int = Field(description="the message's number in capture order; fetches it alone")
    uid: str = Field(description="the message's ICMP flow (a request and its reply share it)")
    ts: float
    time: str
    frame: int
    src: str
    dst: str
    transport: str = Field(description="icmp or icmpv6")
    type: int
    type_name: str
    code: int
    code_name: str | None
    icmp_id: int | None = Field(None, description="echo identifier")
    seq: int | None = Field(None, description="echo sequence number")
    ttl: int | None = Field(None, description="IP TTL (IPv6: hop limit), when the scan has it")
    payload_len: int = Field(description="bytes after the 8-byte ICMP header")
    reply_frame: int | None = Field(None, description="echo requests: the frame answering it")
    rtt: float | None = Field(None, description="echo requests: seconds until the reply")
    request_frame: int | None = Field(None, description="echo replies: the request's frame")
    quoted: QuotedFlow | None = Field(None, description="errors: the flow of the quoted packet")
    nd_target: str | None = Field(None, description="neighbour discovery target address")
    lladdr: str | None = Field(None, description="the link-layer address option")
    prefixes: list[Prefix] | None = Field(None, description="router advertisements' prefixes")
    gateway: str | None = Field(None, description="ICMPv4 redirects: the better gateway")
    mtu: int | None = Field(None, description="packet too big / fragmentation needed: the MTU")
    extra: dict[str, Any] | None = Field(None, description="other decoded fields by name")
    malformed: str | None = Field(None, description="why part of it could not be read")


class TypeCount(Result):
    transport: str
    type: int
    type_name: str
    code: int
    code_name: str | None
    count: int


class EchoDestination(Result):
    dst: str
    requests: int
    answered: int
    lost: int
    rtt_p50: float | None
    rtt_p90: float | None
    rtt_max: float | None


class EchoSummary(Result):
    requests: int
    replies: int
    answered: int
    lost: int
    unsolicited_replies: int = Field(description="replies whose request the capture lacks")
    destinations: list[EchoDestination] = Field(description="busiest first, RTT in seconds")


class Unreachable(Result):
    dst: str = Field(description="the unreachable destination (the quoted packet's)")
    code_name: str | None
    count: int
    senders: list[str]


class Traceroute(Result):
    src: str = Field(description="the probing host (the quoted packet's source)")
    dst: str = Field(description="where the probes went")
    transport: str
    hops: list[str] = Field(description="routers that said time exceeded, in order of time")


class Redirect(Result):
    router: str = Field(description="the router that sent the redirect")
    host: str = Field(description="the host it told")
    target: str | None = Field(description="the better first hop")
    destination: str | None = Field(
        description="where the redirected traffic goes: ICMPv6's Destination Address, "
        "ICMPv4's quoted packet's destination"
    )
    count: int


class Neighbour(Result):
    address: str
    lladdr: str
    first_time: str
    messages: int


class IcmpTimeline(Result):
    """Messages per bucket of `interval` seconds from `start`."""

    start: float | None = Field(description="epoch seconds of the first bucket")
    start_time: str | None
    interval: float
    messages: list[int]
    errors: list[int]


class IcmpSummary(Result):
    schema_version: str = SCHEMA_VERSION
    messages: int
    errors: int = Field(
        description="error messages: unreachable, time exceeded, redirect, parameter problem ..."
    )
    malformed: dict[str, int] = Field(description="messages with a defect, by reason")
    by_type: list[TypeCount] = Field(description="messages by transport, type and code")
    echo: EchoSummary
    unreachables: list[Unreachable]
    traceroutes: list[Traceroute]
    redirects: list[Redirect]
    neighbours: list[Neighbour] = Field(description="address -> link-layer address (ND)")
    neighbour_duplicates: list[str] = Field(
        description="addresses claimed by more than one link-layer address"
    )
    timeline: IcmpTimeline
