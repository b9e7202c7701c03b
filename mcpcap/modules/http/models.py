"""What the HTTP module returns: its records and its summary (each face reads their schemas)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from mcpcap.modules.http.tags import tags_description


class HttpRequest(BaseModel):
    """One request with its response (Zeek http.log meanings)."""

    id: int = Field(description="the record's id in this capture's results (record fetches it)")
    ts: float = Field(description="when the request began (or the response, without one)")
    time: str
    uid: str = Field(description="the connection's uid, shared by its records in every module")
    client: str
    client_port: int
    server: str
    server_port: int
    trans_depth: int = Field(description="the pair's position on its connection (1 = first)")
    method: str | None = None
    host: str | None = Field(None, description="the Host header, exactly as sent")
    uri: str | None = Field(
        None,
        description="the request target, exactly as sent but for a password in it "
        "(http://user:****@host/: never stored)",
    )
    referrer: str | None = Field(None, description="the Referer header (a password in it: ****)")
    version: str | None = Field(None, description="1.1, 1.0 or 0.9 (the request's)")
    user_agent: str | None = None
    origin: str | None = None
    request_body_len: int | None = Field(None, description="after transfer decoding")
    response_body_len: int | None = Field(
        None,
        description="after transfer decoding, before content decoding (as Zeek counts: a hole "
        "inside a body of known length counts, and tags the record gap)",
    )
    status_code: int | None = Field(None, description="of the final response")
    status_msg: str | None = None
    request_content_type: str | None = None
    response_content_type: str | None = None
    response_body_sha256: str | None = Field(
        None, description="of the transfer-decoded body; only when all of it was seen"
    )
    username: str | None = Field(
        None,
        description="the Basic authentication user, of Authorization or Proxy-Authorization "
        "(the password is never kept)",
    )
    proxied: list[str] = Field(default_factory=list, description="proxy headers: NAME -> value")
    rtt: float | None = Field(
        None,
        description="seconds from the end of the request to the first byte of its first "
        "response begun after it (an interim 1xx, such as 103, included)",
    )
    request_frame: int | None = Field(None, description="frame completing the request's header")
    response_frame: int | None = Field(
        None, description="frame completing the final response's header"
    )
    tags: list[str] = Field(
        default_factory=list,
        description=tags_description(),
    )
    malformed: str | None = Field(None, description="why a message was malformed, if one was")


class Percentiles(BaseModel):
    """Nearest-rank percentiles in seconds."""

    count: int
    min: float
    p50: float
    p90: float
    p99: float
    max: float


class KeyCount(BaseModel):
    key: str
    count: int


class TimelineBucket(BaseModel):
    start: float = Field(description="epoch seconds")
    time: str
    requests: int
    errors: int = Field(description="responses with status 400 or above")


class Timeline(BaseModel):
    interval: float = Field(description="seconds per bucket")
    buckets: list[TimelineBucket]


class HttpSummary(BaseModel):
    requests: int = Field(description="requests seen")
    responses: int = Field(
        description="final responses seen (an HTTP/0.9 response, without a status line, included)"
    )
    unanswered: int = Field(description="requests without a response")
    connections: int = Field(description="TCP connections read as HTTP")
    methods: dict[str, int]
    status_classes: dict[str, int] = Field(description="1xx .. 5xx")
    status_codes: dict[str, int]
    top_hosts: list[KeyCount]
    top_uris: list[KeyCount] = Field(description="paths, without query strings")
    top_user_agents: list[KeyCount]
    content_types: list[KeyCount] = Field(description="of responses")
    request_body_bytes: int = Field(description="client to server, bodies after transfer decoding")
    response_body_bytes: int = Field(description="server to client, likewise")
    latency: Percentiles | None = Field(
        None, description="rtt percentiles: end of request to first byte of response, 1xx included"
    )
    errors_by_host: list[KeyCount] = Field(description="responses 400 and above, by host")
    malformed: int = Field(description="records with a malformed message")
    malformed_reasons: dict[str, int] = Field(
        description="malformed items (http.malformed) by reason"
    )
    tags: dict[str, int] = Field(description="records by tag")
    timeline: Timeline
