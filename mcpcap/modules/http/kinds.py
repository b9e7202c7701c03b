"""The HTTP module's record kind, `http.requests`, and where its records lie in the store.

Every face reads this declaration: the fields a table shows, the filters (CLI options, MCP
arguments, `field:value` tokens, SQL), the sorts, the ranking fields with their weights and the
Zeek http.log export. `TableResults` answers pages, single records and rankings from `TABLES`.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from mcpcap.core.export import CONNECTION_FIELDS, ZeekField, ZeekLog
from mcpcap.core.filtering import FilterSpec, like_escape, name_and_below
from mcpcap.core.modules.kinds import FieldSpec, RankSpec, RecordKind
from mcpcap.core.modules.malformed_kind import malformed_kind, malformed_table
from mcpcap.core.modules.tables import (
    KindTable,
    RankColumn,
    address_filter,
    flag_filter,
    number_filter,
    text_filter,
)
from mcpcap.core.timefmt import iso_time, round_ts
from mcpcap.modules.http.scan import COLUMNS
from mcpcap.modules.http.tags import TAGS

METHODS = ("GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE")
STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")
RANKED = (
    "host", "uri", "method", "status_code", "user_agent", "client", "server",
    "response_content_type", "username", "referrer",
)  # fmt: skip
RANK_NOTES = {"uri": "the path, without its query string"}
BYTES = "coalesce(request_body_len, 0) + coalesce(response_body_len, 0)"
# a request was seen: its body length is known (0 or more), also when its method is not
# (a malformed request line)
REQUESTED = "(request_body_len IS NOT NULL)"
# a response was seen: likewise, also for HTTP/0.9's, which has no status line
ANSWERED = "(response_body_len IS NOT NULL)"

HTTP_LOG = ZeekLog(
    path="http",
    fields=(
        *CONNECTION_FIELDS,
        ZeekField("trans_depth", "count"),
        ZeekField("method", "string"),
        ZeekField("host", "string"),
        ZeekField("uri", "string"),
        ZeekField("referrer", "string"),
        ZeekField("version", "string"),
        ZeekField("user_agent", "string"),
        ZeekField("origin", "string"),
        ZeekField("request_body_len", "count"),
        ZeekField("response_body_len", "count"),
        ZeekField("status_code", "count"),
        ZeekField("status_msg", "string"),
        ZeekField("username", "string"),
        ZeekField("tags", "set[enum]"),
        ZeekField("proxied", "set[string]"),
        ZeekField("request_content_type", "string"),
        ZeekField("response_content_type", "string"),
        ZeekField("response_body_sha256", "string"),
    ),
)


def _lower(value: str) -> str:
    return value.lower()


def _contains(value: str) -> tuple[str]:
    return (f"%{like_escape(value)}%",)


def _status_class(value: str) -> int:
    if value not in STATUS_CLASSES:
        raise ValueError(value)
    return int(value[0])


def _tag(value: str) -> str:
    if value not in TAGS:
        raise ValueError(value)
    return value


# the Host header's name: without the port it may carry (`example.com:8080`, `[2001:db8::1]:80`)
# and any case, so that a host filter finds the host on every port
HOST_NAME = (
    "lower(CASE WHEN host LIKE '[%' THEN substr(host, 1, instr(host, ']')) "
    "WHEN instr(host, ':') THEN substr(host, 1, instr(host, ':') - 1) ELSE host END)"
)
FILTERS = (
    FilterSpec("host", "Host header's name (any case, any port)",
               sql=f"{HOST_NAME} = ?", parse=_lower, example="host:example.com"),
    FilterSpec("host_suffix", "host and names below it (any port)",
               sql=f"({HOST_NAME} = ? OR {HOST_NAME} LIKE ? ESCAPE '\\')",
               parse=_lower, params=name_and_below,
               example="host_suffix:example.com"),
    FilterSpec("uri_contains", "part of the URI", sql="uri LIKE ? ESCAPE '\\'",
               params=_contains, example="uri_contains:login"),
    text_filter("method", "method", "request method",
                example="method:POST"),
    number_filter("status_code", "status_code", "status code",
                  integer=True, example="status_code>=400"),
    FilterSpec("status_class", "status class", sql="status_code / 100 = ?",
               parse=_status_class, choices=STATUS_CLASSES, example="status_class:4xx,5xx"),
    address_filter("client", "client", "client address"),
    address_filter("server", "server", "server address"),
    number_filter("server_port", "server_port", "server port", integer=True,
                  example="server_port:8080"),
    FilterSpec("user_agent_contains", "part of the User-Agent",
               sql="user_agent LIKE ? ESCAPE '\\'", params=_contains,
               example="user_agent_contains:curl"),
    FilterSpec("content_type", "response media type prefix",
               sql="lower(response_content_type) LIKE ? ESCAPE '\\'", parse=_lower,
               params=lambda v: (like_escape(v) + "%",),
               example="content_type:text/html"),
    text_filter("username", "username", "Basic auth user", example="username:admin"),
    text_filter("version", "version", "HTTP version", choices=("1.1", "1.0", "0.9"),
                example="version:1.0"),
    FilterSpec("tag", "has this tag", sql="(',' || tags || ',') LIKE ?",
               parse=_tag, params=lambda v: (f"%,{v},%",), choices=TAGS,
               example="tag:missing_response"),
    flag_filter("answered", ANSWERED, "a final response was seen (HTTP/0.9's has no status)"),
    flag_filter("malformed", "(malformed IS NOT NULL)", "a message was malformed"),
    number_filter("rtt", "rtt", "seconds to the response",
                  example="rtt>0.5"),
    number_filter("response_body_len", "response_body_len", "response body bytes",
                  integer=True, example="response_body_len>1000000"),
)  # fmt: skip

FIELDS = (
    FieldSpec("time", "time", 24, "time"),
    FieldSpec("client", "client", 39, "address", drop=3),
    FieldSpec("server", "server", 39, "address", drop=2),
    FieldSpec("method", "method", 7),
    FieldSpec("host", "host", 30),
    FieldSpec("uri", "uri", 40),
    FieldSpec("status_code", "status", 6, "int"),
    FieldSpec("response_body_len", "resp. bytes", 10, "bytes", drop=1),
    FieldSpec("rtt", "rtt", 9, "seconds", drop=1),
    FieldSpec("user_agent", "user agent", 30, drop=4),
    FieldSpec("response_content_type", "content type", 20, drop=4),
    FieldSpec("request_frame", "req. frame", 8, "int", drop=5),
    FieldSpec("response_frame", "resp. frame", 8, "int", drop=5),
    FieldSpec("tags", "tags", 20, "list", drop=3),
)


@cache
def http_kinds() -> tuple[RecordKind, ...]:
    from mcpcap.modules.http.models import HttpRequest

    requests = RecordKind(
        name="http.requests",
        title="Requests",
        description="HTTP/1.x request and response on any TCP port (Zeek http.log).",
        model=HttpRequest,
        fields=FIELDS,
        filters=FILTERS,
        sorts=("ts", "-ts", "rtt", "-rtt", "response_body_len", "-response_body_len",
               "status_code", "-status_code", "host"),
        default_sort="ts",
        rank_by=tuple(
            RankSpec(name, RANK_NOTES.get(name, ""), weights=("count", "bytes")) for name in RANKED
        ),
        exports=("jsonl", "json", "csv", "zeek"),
        zeek=HTTP_LOG,
    )  # fmt: skip
    return (requests, malformed_kind("http", "HTTP messages"))


def _record(row: tuple) -> dict[str, Any]:
    record = dict(zip(COLUMNS, row, strict=True))
    del record["uri_path"]
    ts = record["ts"]
    record["ts"] = round_ts(ts)
    record["time"] = iso_time(ts)
    record["proxied"] = json.loads(record["proxied"]) if record["proxied"] else []
    record["tags"] = record["tags"].split(",") if record["tags"] else []
    return record


TABLES = (
    KindTable(
        kind="http.requests",
        source="http_requests",
        id_column="id",
        columns=COLUMNS,
        to_record=_record,
        sorts={"ts": "ts", "rtt": "rtt", "response_body_len": "response_body_len",
               "status_code": "status_code", "host": "lower(host)"},
        rank={**{name: name for name in RANKED}, "uri": "uri_path",
              "status_code": RankColumn("status_code", label=lambda v: str(int(v)))},
        weights={"bytes": BYTES},
    ),
    malformed_table("http"),
)  # fmt: skip
