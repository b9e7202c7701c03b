"""The TLS module's record kind (`tls.handshakes`) and where its records lie.

Fields, filters, sorts and ranking fields are declared once here; every face (CLI, MCP, TUI,
`describe`) is generated from this declaration, and `TableResults` answers pages, single records
and rankings from the `KindTable`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from typing import Any

from mcpcap.core.export import CONNECTION_FIELDS, ZeekField, ZeekLog
from mcpcap.core.filtering import FilterSpec, name_and_below
from mcpcap.core.modules.kinds import FieldSpec, RankSpec, RecordKind
from mcpcap.core.modules.malformed_kind import malformed_kind, malformed_table
from mcpcap.core.modules.tables import (
    KindTable,
    address_filter,
    number_filter,
    text_filter,
)
from mcpcap.core.timefmt import iso_time, parse_time, round_ts
from mcpcap.modules.tls.names import VERSIONS
from mcpcap.modules.tls.store import COLUMNS

HANDSHAKES = "tls.handshakes"
RANK_BY = (
    "server_name", "registered_domain", "ja4", "alpn", "version", "cipher", "client", "server"
)  # fmt: skip
# `alpn` is a list: its ranking counts each protocol once per handshake offering it (`OFFERED`)
BY_COLUMN = tuple(name for name in RANK_BY if name != "alpn")
CERT_PROBLEMS = ("expired_at_capture_time", "not_yet_valid", "self_signed", "name_mismatch")
TRANSPORTS = ("tcp", "quic")
VERSION_NAMES = tuple(name for name in VERSIONS.values() if not name.startswith("DTLS"))


SNI_NAME = "rtrim(lower(server_name), '.')"  # as `_name` makes the filter's value


def _name(text: str) -> str:
    value = str(text).strip().lower().rstrip(".")
    if not value:
        raise ValueError(text)
    return value


def _one_of(choices: tuple[str, ...]) -> Callable[[str], str]:
    """A filter's value parser: one of `choices`, any case (else a `ValueError` the filter
    language turns into a sentence naming the choices)."""

    def parse(text: str) -> str:
        value = str(text).strip().lower()
        if value not in choices:
            raise ValueError(text)
        return value

    return parse


def _in_list(
    name: str, column: str, description: str, *, choices: tuple[str, ...] = (), **extra: Any
) -> FilterSpec:
    """A value among a JSON list column's items (`alpn:h2`, `cert_problem:self_signed`): one of
    `choices` when there are any."""
    return FilterSpec(
        name,
        description,
        sql=f"EXISTS (SELECT 1 FROM json_each({column}) WHERE value = ?)",
        **({"parse": _one_of(choices), "choices": choices} if choices else {}),
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


FLAGS = ("established", "failed", "resumed", "hrr", "ech", "sni")
FLAG_SQL = (
    "(CASE ? WHEN 'established' THEN established WHEN 'failed' THEN failed "
    "WHEN 'resumed' THEN resumed WHEN 'hrr' THEN hrr WHEN 'ech' THEN ech "
    "WHEN 'sni' THEN server_name IS NOT NULL END) = 1"
)


FILTERS = (
    FilterSpec("server_name", "SNI (any case, a trailing dot or not)",
               sql=f"{SNI_NAME} = ?", parse=_name,
               example="server_name:www.example.com"),
    FilterSpec("server_name_suffix", "the SNI or a name below it",
               sql=f"({SNI_NAME} = ? OR {SNI_NAME} LIKE ? ESCAPE '\\')",
               parse=_name, params=name_and_below,
               example="server_name_suffix:example.com"),
    text_filter("registered_domain", "registered_domain", "the SNI's eTLD+1",
                example="registered_domain:example.co.uk"),
    FilterSpec("is", "a flag that holds: " + ", ".join(FLAGS), sql=FLAG_SQL, parse=_one_of(FLAGS),
               choices=FLAGS, example="is:established"),
    text_filter("version", "version", "negotiated version", choices=VERSION_NAMES,
                example="version:TLSv13"),
    text_filter("cipher", "cipher", "IANA name", example="cipher:TLS_AES_128_GCM_SHA256"),
    text_filter("curve", "curve", "key exchange group", example="curve:x25519"),
    text_filter("ja4", "ja4", "JA4", example="ja4:t13d1516h2_8daaf6152771_e5627efa2ab1"),
    text_filter("ja3", "ja3", "JA3 (MD5)"),
    address_filter("client", "client", "client"),
    address_filter("server", "server", "server"),
    number_filter("server_port", "server_port", "server port", integer=True,
                  example="server_port:443"),
    text_filter("transport", "transport", "tcp or quic", choices=TRANSPORTS),
    _in_list("alpn", "alpn", "offered ALPN", example="alpn:h2"),
    text_filter("alpn_selected", "alpn_selected", "negotiated ALPN", example="alpn_selected:h2"),
    _in_list("cert_problem", "cert_problems", "certificate problem", choices=CERT_PROBLEMS,
             example="cert_problem:self_signed"),
    _time_filter("since", ">=", "at or after (ISO 8601 or epoch)"),
    _time_filter("until", "<=", "at or before (ISO 8601 or epoch)"),
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
        *CONNECTION_FIELDS,
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
        description="A TLS handshake per TCP or QUIC connection (Zeek ssl.log): SNI, "
        "version, cipher, ALPN, JA4, certificate.",
        model=TlsHandshake,
        fields=FIELDS,
        filters=FILTERS,
        sorts=("ts", "-ts", "server_name", "-server_name", "version", "-version"),
        default_sort="ts",
        rank_by=tuple(RankSpec(name) for name in RANK_BY),
        exports=("jsonl", "json", "csv", "zeek"),
        zeek=TLS_LOG,
    )
    return (handshakes, _malformed_kind())


def _malformed_kind() -> RecordKind:
    """The core's `tls.malformed`, whose items over QUIC say `quic`, as `tls.handshakes` do."""
    kind = malformed_kind("tls", "TLS")
    transport = text_filter("transport", "transport", "tcp or quic", choices=TRANSPORTS)
    filters = tuple(transport if spec.name == "transport" else spec for spec in kind.filters)
    return replace(kind, filters=filters)


def _malformed_record(row: tuple) -> dict[str, Any]:
    """The core's item; its uid is the connection's, whose transport is `udp` under QUIC."""
    *head, transport, reason = row
    item = _MALFORMED.to_record((*head, "udp" if transport == "quic" else transport, reason))
    item["transport"] = transport
    return item


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


_MALFORMED = malformed_table("tls")
TABLES = (
    replace(_MALFORMED, to_record=_malformed_record),
    KindTable(
        kind=HANDSHAKES,
        source="tls_handshakes",
        id_column="id",
        columns=("id", *COLUMNS),
        to_record=to_record,
        sorts={"ts": "ts", "server_name": "lower(server_name)", "version": "version"},
        rank={name: name for name in BY_COLUMN},
    ),
)
# the handshakes once per protocol their ClientHello offered (a list naming one twice counts
# once), for the `alpn` ranking: filters read the same columns
_EACH_OFFERED = "FROM tls_handshakes AS h, json_each(h.alpn) AS j"
OFFERED = replace(
    TABLES[1],
    source=f"(SELECT h.*, j.value AS offered_alpn {_EACH_OFFERED} GROUP BY h.id, j.value)",
    rank={"alpn": "offered_alpn"},
)
# the same pairs without the other columns, for the summary's tally (which filters nothing):
# five times faster at the 1M-packet benchmark capture, in the scan's end
OFFERED_ALPN = f"(SELECT DISTINCT h.id, j.value AS offered_alpn {_EACH_OFFERED})"
