"""What the conn module returns: its connection records and the capture overview."""

from __future__ import annotations

from pydantic import BaseModel, Field

from mcpcap.core.modules.resolution import ResolvedBy


class Connection(BaseModel):
    """One connection, with Zeek conn.log meanings."""

    id: int = Field(description="the record's number in time order; fetches this connection")
    uid: str = Field(description="the connection's uid, shared by every module's records of it")
    ts: float = Field(description="the first packet's time, epoch seconds")
    time: str = Field(description="the first packet's time, ISO 8601 UTC")
    client: str = Field(
        description="the originator: the first SYN's sender, else the first "
        "packet's (Zeek's port heuristics may flip it: history starts with ^)"
    )
    client_port: int = Field(description="its port (ICMP: the type)")
    server: str
    server_port: int = Field(description="its port (ICMP: the counterpart type or the code)")
    transport: str = Field(description="tcp, udp, icmp, icmpv6, or the IP protocol number")
    service: list[str] = Field(
        description="what the payload showed (dns, http, ssl, quic, dhcp, "
        "ssh), from ports and first bytes"
    )
    duration: float = Field(
        description="seconds from the first packet to the last (TCP: to the FIN that closed "
        "the second side, as Zeek counts)"
    )
    client_bytes: int = Field(
        description="payload bytes the client sent (TCP: from sequence numbers, as Zeek counts)"
    )
    server_bytes: int
    client_packets: int
    server_packets: int
    client_ip_bytes: int = Field(description="IP header + payload bytes the client sent")
    server_ip_bytes: int
    conn_state: str = Field(
        description="Zeek's code: S0, S1, SF, REJ, S2, S3, RSTO, RSTR, RSTOS0, RSTRH, SH, SHR, OTH"
    )
    history: str = Field(description="Zeek's history letters (upper case: the client)")
    missed_bytes: int = Field(description="bytes in sequence gaps (never captured)")
    syn_rtt: float | None = Field(None, description="seconds from the SYN to the SYN/ACK")
    retransmissions: int = Field(description="TCP segments carrying data already seen")
    zero_windows: int = Field(description="TCP segments advertising a zero window")
    vlan: int | None = Field(None, description="the outermost 802.1Q VLAN id")
    tunnel_parents: list[str] = Field(description="uids of the tunnels carrying it")
    community_id: str = Field(description="the Community ID v1 flow hash")
    first_frame: int
    last_frame: int
    resolved_by: ResolvedBy | None = Field(
        None,
        description="the client's latest DNS transaction, at or before the connection, whose "
        "answers named the server: {dns_uid, query, time}; null without one or without DNS",
    )


class ProtocolLayer(BaseModel):
    layer: str = Field(
        description="the layer's path from the link layer (eth/vlan/ipv4/udp/vxlan/eth/ipv4/tcp), "
        "as Wireshark's protocol hierarchy nests them; `frames` is every frame, `other` the "
        "frames no layer named, `service/NAME` the connections' packets per service"
    )
    packets: int = Field(description="frames that have this layer")
    bytes: int = Field(
        description="those frames' bytes as sent, as Wireshark counts them (a snapshot length "
        "does not shorten them; `service/`: IP bytes)"
    )


class TcpHealth(BaseModel):
    handshakes: int = Field(description="connections with a SYN and its SYN/ACK")
    syn_rtt_p50: float | None = Field(None, description="SYN -> SYN/ACK, seconds, median")
    syn_rtt_p90: float | None = None
    syn_rtt_p99: float | None = None
    syn_rtt_max: float | None = None
    retransmissions: int
    connections_with_retransmissions: int
    zero_windows: int
    missed_bytes: int


class TimelineBucket(BaseModel):
    ts: float
    time: str
    packets: int
    bytes: int = Field(description="IP bytes")


class ConnSummary(BaseModel):
    """The capture overview: layers, hosts, talkers, ports, states, failures, time, TCP health."""

    connections: int
    hosts: int = Field(description="distinct addresses")
    frames: int = Field(description="frames in the capture")
    ip_packets: int = Field(description="IP packets outside tunnels")
    evicted: int = Field(
        0, description="connections finished early: the table of active connections was full"
    )
    protocols: list[ProtocolLayer] = Field(description="packets and bytes per protocol layer")
    transports: dict[str, int] = Field(description="IP packets by transport")
    services: dict[str, int] = Field(description="connections by service")
    conn_states: dict[str, int] = Field(description="connections by Zeek conn_state")
    # a connection counts for both its hosts: the hosts' shares of a total would mislead
    top_hosts_by_bytes: dict[str, int] = Field(
        description="IP bytes sent and received", json_schema_extra={"shares": False}
    )
    top_hosts_by_packets: dict[str, int] = Field(
        description="packets sent and received", json_schema_extra={"shares": False}
    )
    top_pairs_by_bytes: dict[str, int] = Field(description="IP bytes between two hosts")
    top_pairs_by_packets: dict[str, int]
    top_server_ports: dict[str, int] = Field(description="connections by transport/port")
    failed_connections: dict[str, int] = Field(
        description="connections that were tried and never answered, by server and port: TCP "
        "REJ and S0, and UDP and ICMP S0 to one host (one-way datagrams to multicast or "
        "broadcast addresses, such as LLMNR, SSDP or a DHCP discover, expect no answer)"
    )
    tcp_health: TcpHealth
    timeline: list[TimelineBucket] = Field(description="packets and bytes over time")
    malformed: dict[str, int] = Field(
        default_factory=dict,
        description="frames whose headers did not decode, by reason (conn.malformed lists them)",
    )
