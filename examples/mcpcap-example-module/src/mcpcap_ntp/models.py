"""What the NTP module returns: its records and its summary (each face reads their schemas)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class NtpExchange(BaseModel):
    id: int = Field(description="the request's frame; fetches this exchange alone")
    ts: float = Field(description="the request's time, epoch seconds")
    time: str = Field(description="the request's time, ISO 8601 UTC")
    uid: str = Field(description="the flow's uid, the same in conn.connections and every module")
    client: str
    client_port: int
    server: str
    server_port: int
    transport: str = Field("udp", description="always udp (NTP over UDP port 123)")
    version: int = Field(description="NTP version of the request")
    stratum: int | None = Field(None, description="the server's stratum (1 = primary)")
    reference_id: str | None = Field(None, description="the server's reference clock or source")
    offset: float | None = Field(
        None, description="client clock offset, seconds: ((T2-T1)+(T3-T4))/2"
    )
    delay: float | None = Field(None, description="round-trip delay, seconds: (T4-T1)-(T3-T2)")
    request_frame: int
    response_frame: int | None = None
    answered: bool


class NtpMalformed(BaseModel):
    id: int
    ts: float
    time: str
    frame: int
    uid: str = Field(description="the datagram's flow uid, the same in conn.connections")
    src: str
    src_port: int
    dst: str
    dst_port: int
    transport: str = "udp"
    reason: str


class OffsetPercentiles(BaseModel):
    """Of the answered exchanges' offsets, in seconds (nearest rank)."""

    min: float
    p50: float
    p90: float
    p99: float
    max: float


class NtpSummary(BaseModel):
    exchanges: int
    answered: int
    clients: int = Field(description="distinct client addresses")
    servers: int = Field(description="distinct server addresses")
    strata: dict[str, int] = Field(description="answered exchanges by the server's stratum")
    offset: OffsetPercentiles | None = Field(None, description="None when nothing was answered")
    malformed: dict[str, int] = Field(description="datagrams on port 123 not decoded, by reason")
