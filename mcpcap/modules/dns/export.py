"""Transaction records as CSV or as a Zeek dns.log (TSV with Zeek's header lines)."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import IO, Any

ZEEK_FIELDS = (
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("proto", "enum"),
    ("trans_id", "count"),
    ("rtt", "interval"),
    ("query", "string"),
    ("qclass", "count"),
    ("qclass_name", "string"),
    ("qtype", "count"),
    ("qtype_name", "string"),
    ("rcode", "count"),
    ("rcode_name", "string"),
    ("AA", "bool"),
    ("TC", "bool"),
    ("RD", "bool"),
    ("RA", "bool"),
    ("Z", "count"),
    ("answers", "vector[string]"),
    ("TTLs", "vector[interval]"),
    ("rejected", "bool"),
)
RECORD_KEYS = {
    "id.orig_h": "client",
    "id.orig_p": "client_port",
    "id.resp_h": "server",
    "id.resp_p": "server_port",
    "proto": "transport",
    "AA": "aa",
    "TC": "tc",
    "RD": "rd",
    "RA": "ra",
    "Z": "z",
    "TTLs": "ttls",
}
UNSET, EMPTY = "-", "(empty)"
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def connection_uid(record: dict[str, Any]) -> str:
    """A stable Zeek-style uid (C + 17 base62 characters) for the transaction's connection."""
    key = (
        f"{record['client']}|{record['client_port']}|{record['server']}|"
        f"{record['server_port']}|{record['transport']}"
    )
    number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:13], "big")
    chars = []
    for _ in range(17):
        number, digit = divmod(number, 62)
        chars.append(BASE62[digit])
    return "C" + "".join(chars)


def _zeek_escape(text: str, in_set: bool = False) -> str:
    """Zeek's ASCII log escaping: control bytes, backslash and (in sets) the separator."""
    if text == "":
        return EMPTY
    if text in (UNSET, EMPTY):
        return "".join(f"\\x{b:02x}" for b in text.encode())
    out = []
    for ch in text:
        code = ord(ch)
        if ch == "\\" or code < 0x20 or code == 0x7F or (in_set and ch == ","):
            out.append(f"\\x{code:02x}")
        else:
            out.append(ch)
    return "".join(out)


def _zeek_value(kind: str, value: Any) -> str:
    if value is None:
        return UNSET
    if kind == "bool":
        return "T" if value else "F"
    if kind in ("time", "interval"):
        return f"{float(value):.6f}"
    if kind.startswith("vector"):
        if not value:
            return EMPTY
        inner = "interval" if "interval" in kind else "string"
        if inner == "interval":
            return ",".join(f"{float(v):.6f}" for v in value)
        return ",".join(_zeek_escape(str(v), in_set=True) for v in value)
    if kind == "string":
        return _zeek_escape(str(value))
    return str(value)


def _zeek_time(ts: float | None) -> str:
    moment = datetime.fromtimestamp(ts or 0, tz=timezone.utc)
    return moment.strftime("%Y-%m-%d-%H-%M-%S")


def zeek_lines(records: Iterable[dict[str, Any]], opened_ts: float | None) -> Iterator[str]:
    """A dns.log: `#` header lines, one TSV line per record, a `#close` line."""
    yield "#separator \\x09"
    yield "#set_separator\t,"
    yield f"#empty_field\t{EMPTY}"
    yield f"#unset_field\t{UNSET}"
    yield "#path\tdns"
    yield f"#open\t{_zeek_time(opened_ts)}"
    yield "#fields\t" + "\t".join(name for name, _ in ZEEK_FIELDS)
    yield "#types\t" + "\t".join(kind for _, kind in ZEEK_FIELDS)
    last = opened_ts
    for record in records:
        values = []
        for name, kind in ZEEK_FIELDS:
            if name == "uid":
                values.append(connection_uid(record))
                continue
            values.append(_zeek_value(kind, record.get(RECORD_KEYS.get(name, name))))
        last = record.get("ts", last)
        yield "\t".join(values)
    yield f"#close\t{_zeek_time(last)}"


def write_csv(records: Iterable[dict[str, Any]], out: IO[str], columns: list[str]) -> None:
    """One row per record; list values joined with commas inside their cell."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([_csv_value(record.get(column)) for column in columns])


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return value
