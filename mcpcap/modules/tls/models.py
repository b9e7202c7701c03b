"""What the TLS module returns: its handshake records and its summary."""

from __future__ import annotations

from pydantic import Field

from mcpcap.core import SCHEMA_VERSION
from mcpcap.core.models import NameCount, Result
from mcpcap.core.modules.resolution import ResolvedBy


class TlsHandshake(Result):
    """One TCP or QUIC connection's handshake (Zeek ssl.log meanings)."""

    id: int = Field(description="fetches this handshake alone")
    uid: str = Field(description="the connection's uid, shared with its other modules' records")
    ts: float = Field(description="the (first) ClientHello's time, epoch seconds")
    time: str
    client: str
    client_port: int
    server: str
    server_port: int
    transport: str = Field(description="tcp or quic")
    version: str | None = Field(None, description="negotiated version: TLSv10 ... TLSv13")
    client_version: str | None = Field(None, description="the ClientHello's legacy version")
    client_versions: list[str] = Field(description="supported_versions offered (no GREASE)")
    cipher: str | None = Field(None, description="negotiated cipher suite, IANA name")
    cipher_id: int | None = None
    curve: str | None = Field(None, description="key exchange group (key share or ECDHE curve)")
    server_name: str | None = Field(None, description="SNI (the outer one under ECH)")
    registered_domain: str | None = Field(None, description="the SNI's eTLD+1")
    alpn: list[str] = Field(description="application protocols offered, in order")
    alpn_selected: str | None = None
    resumed: bool
    established: bool = Field(
        description="both sides went on encrypted (QUIC: the server's Initial answered)"
    )
    failed: bool = Field(description="a fatal alert ended the handshake before it completed")
    hrr: bool = Field(description="a HelloRetryRequest happened")
    ech: bool = Field(description="Encrypted Client Hello offered")
    ja4: str | None = Field(None, description="FoxIO's JA4 client fingerprint")
    ja4_r: str | None = Field(None, description="JA4's raw (sorted) form")
    ja3: str | None = None
    ja3s: str | None = None
    client_hello_frame: int | None = None
    server_hello_frame: int | None = None
    cert_subject: str | None = Field(None, description="leaf certificate (TLS 1.2 and below)")
    cert_issuer: str | None = None
    cert_not_before: str | None = None
    cert_not_after: str | None = None
    cert_san_dns: list[str] | None = None
    cert_sha256: str | None = None
    cert_problems: list[str] = Field(
        description="expired_at_capture_time, not_yet_valid, self_signed, name_mismatch"
    )
    resolved_by: ResolvedBy | None = Field(
        None, description="the DNS answer that named the server before the handshake"
    )
    malformed: str | None = Field(None, description="what could not be read, if anything")


class CountItem(Result):
    key: str
    count: int


class TimelineBucket(Result):
    start: float = Field(description="epoch seconds")
    time: str
    handshakes: int
    not_established: int = Field(description="handshakes whose completion was not seen")


class Timeline(Result):
    interval: float = Field(description="seconds per bucket")
    buckets: list[TimelineBucket]


class CertProblems(Result):
    """Handshakes whose leaf certificate has each problem (one may have several); certificates
    are read below TLS 1.3 only (1.3 encrypts them)."""

    with_certificate: int = Field(description="handshakes whose certificate was read")
    with_problems: int = Field(description="of those, handshakes with at least one problem")
    expired: int = Field(description="expired_at_capture_time: expired when captured")
    not_yet_valid: int
    self_signed: int
    name_mismatch: int = Field(description="the certificate does not name the SNI")


class TlsSummary(Result):
    schema_version: str = SCHEMA_VERSION
    handshakes: int
    outcomes: dict[str, int] = Field(
        description="every handshake once: established (both sides went on encrypted; QUIC: "
        "the server's Initial answered), failed (a fatal alert ended it first), incomplete "
        "(the capture shows neither)"
    )
    resumed: int = Field(description="handshakes resuming an earlier session")
    ech: int = Field(description="ClientHellos offering Encrypted Client Hello")
    transports: dict[str, int] = Field(description="handshakes by transport (tcp, quic)")
    versions: dict[str, int] = Field(description="negotiated versions")
    alpn_offered: list[NameCount] = Field(
        description="handshakes whose ClientHello offered each protocol (h2, h3, http/1.1 ...)"
    )
    alpn_selected: dict[str, int] = Field(
        description="the server's choice, where visible: TLS 1.3 and QUIC encrypt it"
    )
    ciphers: list[NameCount]
    server_names: list[NameCount] = Field(description="top SNIs")
    registered_domains: list[NameCount]
    ja4: list[NameCount] = Field(description="top JA4 client fingerprints")
    cert_problems: CertProblems
    timeline: Timeline
    malformed: dict[str, int] = Field(description="what could not be read, by reason")
