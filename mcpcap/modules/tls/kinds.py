"""The TLS module's record kind (`tls.handshakes`) and where its records lie.

Fields, filters, sorts and ranking fields are declared once here; every face (CLI, MCP, TUI,
`describe`) is generated from this declaration, and `TableResults` answers pages, single records
and rankings from the `KindTable`.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from mcpcap.core.export import ZeekField, ZeekLog
from mcpcap.core.filtering import FilterSpec
from mcpcap.core.modules.kinds import FieldSpec, RankSpec, RecordKind
from mcpcap.core.modules.tables import (
    KindTable,
    address_filter,
    flag_filter,
    number_filter,
    text_filter,
)
from mcpcap.core.timefmt import iso_time, parse_time, round_ts
from mcpcap.modules.tls.names import VERSIONS
from mcpcap.modules.tls.store import COLUMNS

HANDSHAKES = "tls.handshakes"
RANK_BY = ("server_name", "registered_domain", "ja4", "version", "cipher", "client", "server",
           "alpn_selected", "curve", "transport")  # fmt: skip
CERT_PROBLEMS = ("expired_at_capture_time", "not_yet_valid", "self_signed", "name_mismatch")
VERSION_NAMES = tuple(name for name in VERSIONS.values() if not name.startswith("DTLS"))


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _name(text: str) -> str:
    value = str(text).strip().lower().rstrip(".")
    if not value:
        raise ValueError(text)
    return value


def _in_list(name: str, column: str, description: str, **extra: Any) -> FilterSpec:
    """A value among a JSON list column's items (`alpn:h2`, `cert_problem:self_signed`)."""
    return FilterSpec(
        name,
        description,
        sql=f"EXISTS (SELECT 1 FROM json_each({column}) WHERE value = ?)",
        **extra,
    )


def _time_filter(name: str, op: str, description: str) -> FilterSpec:
    return FilterSpec(
        name,
        description,
        sql=f"ts {op} ?",
        parse=lambda text: parse_time(text, name),
        type="string|number",
        example=f"{name}:2024-01-01T00:00:00Z",
    )


FILTERS = (
    FilterSpec("server_name", "SNI, exact and case-insensitive", sql="lower(server_name) = ?",
               parse=_name, example="server_name:www.example.com"),
    FilterSpec("server_name_suffix", "the SNI and every name below it",
               sql="(lower(server_name) = ? OR lower(server_name) LIKE ? ESCAPE '\\')",
               parse=_name, params=lambda v: (v, "%." + _like_escape(v)),
               example="server_name_suffix:example.com"),
    FilterSpec("server_name_contains", "part of the SNI",
               sql="instr(lower(server_name), ?) > 0", parse=_name,
               example="server_name_contains:login"),
    text_filter("registered_domain", "registered_domain", "the SNI's registered domain (eTLD+1)",
                example="registered_domain:example.co.uk"),
    flag_filter("sni", "(server_name IS NOT NULL)", "whether the ClientHello named a server"),
    text_filter("version", "version", "negotiated version", choices=VERSION_NAMES,
                example="version:TLSv13"),
    text_filter("cipher", "cipher", "negotiated cipher suite, IANA name",
                example="cipher:TLS_AES_128_GCM_SHA256"),
    number_filter("cipher_id", "cipher_id", "negotiated cipher suite number", integer=True,
                  example="cipher_id:4865"),
    text_filter("curve", "curve", "key exchange group", example="curve:x25519"),
    text_filter("ja4", "ja4", "JA4 client fingerprint",
                example="ja4:t13d1516h2_8daaf6152771_e5627efa2ab1"),
    text_filter("ja3", "ja3", "JA3 client fingerprint (MD5)"),
    address_filter("client", "client", "client address"),
    address_filter("server", "server", "server address"),
    number_filter("server_port", "server_port", "server port", integer=True,
                  example="server_port:443"),
    text_filter("transport", "transport", "tcp or quic", choices=("tcp", "quic")),
    _in_list("alpn", "alpn", "an application protocol the client offered",
             example="alpn:h2"),
    text_filter("alpn_selected", "alpn_selected", "the application protocol negotiated",
                example="alpn_selected:h2"),
    flag_filter("established", "established", "whether the handshake completed"),
    flag_filter("failed", "failed", "whether a fatal alert ended the handshake"),
    flag_filter("resumed", "resumed", "whether a session was resumed"),
    flag_filter("hrr", "hrr", "whether a HelloRetryRequest happened"),
    flag_filter("ech", "ech", "whether Encrypted Client Hello was offered"),
    _in_list("cert_problem", "cert_problems", "a problem of the server's certificate",
             choices=CERT_PROBLEMS, example="cert_problem:expired_at_capture_time"),
    text_filter("cert_sha256", "cert_sha256", "SHA-256 of the leaf certificate"),
    _time_filter("since", ">=", "at or after this time (ISO 8601 or epoch seconds)"),
    _time_filter("until", "<=", "at or before this time (ISO 8601 or epoch seconds)"),
)  # fmt: skip

FIELDS = (
    FieldSpec("time", "time", 24, "time"),
    FieldSpec("client", "client", 39, "address", drop=3),
    FieldSpec("server", "server", 39, "address", drop=2),
    FieldSpec("server_name", "server name", 36),
    FieldSpec("version", "version", 7),
    FieldSpec("cipher", "cipher", 40, drop=4),
    FieldSpec("alpn_selected", "alpn", 8, drop=5),
    FieldSpec("established", "est.", 5, "flag", drop=1),
    FieldSpec("ja4", "ja4", 36, drop=6),
    FieldSpec("transport", "transport", 5, drop=7),
    FieldSpec("cert_problems", "cert problems", 24, "list", drop=8),
    FieldSpec("client_hello_frame", "hello frame", 8, "int", drop=9),
)

TLS_LOG = ZeekLog(
    "ssl",
    (
        ZeekField("ts", "time"),
        ZeekField("uid", "string"),
        ZeekField("id.orig_h", "addr", "client"),
        ZeekField("id.orig_p", "port", "client_port"),
        ZeekField("id.resp_h", "addr", "server"),
        ZeekField("id.resp_p", "port", "server_port"),
        ZeekField("version", "string"),
        ZeekField("cipher", "string"),
        ZeekField("curve", "string"),
        ZeekField("server_name", "string"),
        ZeekField("resumed", "bool"),
        ZeekField("next_protocol", "string", "alpn_selected"),
        ZeekField("established", "bool"),
        ZeekField("ja4", "string"),
    ),
)


@cache
def tls_kinds() -> tuple[RecordKind, ...]:
    from mcpcap.modules.tls.models import TlsHandshake

    handshakes = RecordKind(
        name=HANDSHAKES,
        title="Handshakes",
        description="One per TCP or QUIC connection with a TLS handshake (Zeek ssl.log "
        "meanings): server name, versions, cipher, ALPN, JA4/JA3, certificate and its problems.",
        model=TlsHandshake,
        fields=FIELDS,
        filters=FILTERS,
        sorts=("ts", "-ts", "server_name", "-server_name", "version", "-version"),
        default_sort="ts",
        rank_by=tuple(RankSpec(name) for name in RANK_BY),
        exports=("jsonl", "json", "csv", "zeek"),
        zeek=TLS_LOG,
    )
    return (handshakes,)


def _list(text: str | None) -> list[str] | None:
    return None if text is None else json.loads(text)


def to_record(row: tuple) -> dict[str, Any]:
    record = dict(zip(("id", *COLUMNS), row, strict=True))
    ts = record["ts"]
    record["ts"] = round_ts(ts)
    record["time"] = iso_time(ts)
    for name in ("client_versions", "alpn", "cert_problems"):
        record[name] = _list(record[name]) or []
    record["cert_san_dns"] = _list(record["cert_san_dns"])
    for name in ("cert_not_before", "cert_not_after"):
        record[name] = iso_time(record[name])
    for name in ("resumed", "established", "failed", "hrr", "ech"):
        record[name] = bool(record[name])
    return record


TABLES = (
    KindTable(
        kind=HANDSHAKES,
        source="tls_handshakes",
        id_column="id",
        columns=("id", *COLUMNS),
        to_record=to_record,
        sorts={"ts": "ts", "server_name": "lower(server_name)", "version": "version"},
        rank={name: name for name in RANK_BY},
    ),
)
