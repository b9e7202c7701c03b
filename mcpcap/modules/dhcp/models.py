"""What the DHCP module returns: its exchanges and its summary (faces read their schemas)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mcpcap.core import SCHEMA_VERSION
from mcpcap.core.models import NameCount, Result


class DhcpMessage(Result):
    frame: int
    msg_type: str = Field(description="DISCOVER, OFFER ... (BOOTREQUEST/BOOTREPLY without one)")
    src: str
    dst: str
    options: dict[str, Any] = Field(
        description="options by name (unknown ones as option_N: hex), the relay agent's below"
    )
    malformed: str | None = None


class DhcpTransaction(Result):
    """One client exchange (Zeek dhcp.log meanings), DHCPv4 or DHCPv6."""

    id: int = Field(description="the exchange's number in capture order; fetches it alone")
    ts: float = Field(description="the first message's time, epoch seconds")
    time: str
    uids: list[str] = Field(description="the UDP connections (uid) its messages travelled on")
    trans_id: int = Field(description="the transaction id (xid)")
    family: str = Field(description="dhcpv4 or dhcpv6")
    client: str | None = Field(None, description="the client's address, when it has one")
    server: str | None = Field(
        None,
        description="the answering server: the one the client's REQUEST chose (server "
        "identifier) when it answered, else the one that sent the last ACK/NAK (v6: REPLY), "
        "else the first to offer; every server's offers are in the summary's servers",
    )
    mac: str | None = Field(None, description="client hardware address (chaddr; v6: from DUID)")
    host_name: str | None = Field(
        None, description="option 12: the client's own, else the one a server gave it"
    )
    client_fqdn: str | None = None
    domain: str | None = None
    requested_addr: str | None = Field(None, description="the address the client asked for")
    offered_addr: str | None = Field(
        None, description="the address `server` offered (without one: the first offer)"
    )
    assigned_addr: str | None = Field(
        None,
        description="the last ACK's yiaddr, the chosen server's when it sent one (v6: the "
        "REPLY's IA_NA address)",
    )
    lease_time: int | None = Field(
        None, description="seconds, from the ACK, else the offer (v6: the valid lifetime)"
    )
    msg_types: list[str] = Field(description="message types in order")
    frames: list[int] = Field(description="the frame of each message, parallel to msg_types")
    client_message: str | None = None
    server_message: str | None = None
    duration: float = Field(description="seconds from the first to the last message")
    vendor_class: str | None = None
    relay: dict[str, Any] | None = Field(
        None, description="giaddr and relay agent options (v6: link and peer address)"
    )
    duid: str | None = Field(None, description="DHCPv6 client DUID, hex")
    outcome: str = Field(description="ack, nak, offered, unanswered or other")
    addr_clients: int = Field(
        0, description="how many MACs the capture gave assigned_addr to (filter addr_clients>1)"
    )
    mac_addrs: int = Field(
        0, description="how many addresses the capture gave this MAC (filter mac_addrs>1)"
    )
    messages: list[DhcpMessage] = Field(description="each message with its options by name")


class ServerOffers(Result):
    """One answering server and what it gave (a rogue's offers show here too)."""

    server: str
    transactions: int = Field(description="exchanges it answered in")
    offers: int = Field(description="OFFER (v6: ADVERTISE) messages it sent")
    acks: int = Field(description="ACK (v6: REPLY) messages it sent")
    naks: int
    offered_addrs: list[str] = Field(
        description="the addresses it offered, first offered first (at most 20)"
    )
    offered_addrs_total: int = Field(description="how many different addresses it offered")


class Assignment(Result):
    address: str
    mac: str | None
    host_name: str | None
    first_time: str
    last_time: str
    count: int = Field(description="exchanges that assigned it")


class AddressList(Result):
    key: str
    values: list[str]


class DhcpTimeline(Result):
    """Exchanges per bucket of `interval` seconds from `start`, by when they began."""

    start: float | None = Field(description="epoch seconds of the first bucket")
    start_time: str | None
    interval: float
    exchanges: list[int]
    acks: list[int]
    naks: list[int]


class DhcpSummary(Result):
    schema_version: str = SCHEMA_VERSION
    exchanges: int
    messages: int
    completed: int = Field(description="exchanges ending in an ACK (v6: a REPLY)")
    naks: int
    unanswered: int = Field(description="exchanges no server answered")
    malformed: dict[str, int] = Field(description="messages with a defect, by reason")
    families: dict[str, int]
    servers: list[ServerOffers] = Field(
        description="every server that answered, with the addresses it offered"
    )
    rogue_server_hint: bool = Field(description="more than one DHCP server answered")
    assignments: list[Assignment] = Field(description="address -> mac -> host name (first N)")
    assignments_total: int
    clients_with_several_addresses: list[AddressList]
    addresses_given_to_several_clients: list[AddressList]
    vendor_classes: list[NameCount]
    timeline: DhcpTimeline
