"""Records written out: JSON Lines, JSON, CSV for every kind; a Zeek log where a kind has one.

Writers stream: memory stays flat whatever the number of records. A kind that has a Zeek log
declares it (`ZeekLog`: the log's path and its fields with Zeek types and record keys), and the
same writer serves every module, so `conn.log` and `dns.log` share escaping, headers and uids.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import IO, TYPE_CHECKING, Any

from mcpcap.core import fastpath
from mcpcap.core.errors import BadArgumentError

if TYPE_CHECKING:
    from mcpcap.core.modules.kinds import RecordKind

UNSET, EMPTY = "-", "(empty)"
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class ZeekField:
    name: str  # the column name in the log (id.orig_h ...)
    type: str  # Zeek's type: time, string, addr, port, count, interval, bool, vector[...] ...
    key: str | None = None  # the record's key when it differs from `name`
    default: Any = None  # what Zeek writes for a record without a value (its `&default`)
    optional: bool = False  # an empty list is unset, "-" (an `&optional` field never filled)


@dataclass(frozen=True)
class ZeekLog:
    """A kind's Zeek log: `#path` and its columns, in Zeek's order."""

    path: str
    fields: tuple[ZeekField, ...]


# The columns every connection's Zeek log starts with: its time, its uid and its endpoints
CONNECTION_FIELDS = (
    ZeekField("ts", "time"),
    ZeekField("uid", "string"),
    ZeekField("id.orig_h", "addr", "client"),
    ZeekField("id.orig_p", "port", "client_port"),
    ZeekField("id.resp_h", "addr", "server"),
    ZeekField("id.resp_p", "port", "server_port"),
)


def connection_uid(record: dict[str, Any], occurrence: int = 0) -> str:
    """A stable Zeek-style uid (C + 17 base62 characters) of the record's connection.

    It depends on the connection's transport and its two endpoints only, taken in a canonical
    order (so it does not matter which side a module calls the client): every record of the
    same flow, from any module, shows the same uid. `occurrence` n > 0 names the n-th later
    connection of the same endpoints (split by an inactivity timeout or a new SYN): only the
    conn module, which sees those splits, passes it.
    """
    return flow_uid(
        record["client"],
        record["client_port"],
        record["server"],
        record["server_port"],
        record["transport"],
        occurrence,
    )


def python_flow_uid(
    a: str, a_port: int, b: str, b_port: int, transport: str, occurrence: int = 0
) -> str:
    """`connection_uid` of the endpoints (a, a_port) and (b, b_port), in either order
    (`flow_uid`: in C where `_flowhash.c` was built).

    The uid is the SHA-256 of "end|end|transport[|occurrence]" (ends as "address|port", in
    text order), its first 13 bytes as a number written with 17 base62 digits, the least
    significant first; two digits at a time here (`_BASE62_PAIRS`), which halves the divisions.
    """
    x = f"{a}|{a_port}"
    y = f"{b}|{b_port}"
    key = f"{x}|{y}|{transport}" if x <= y else f"{y}|{x}|{transport}"
    if occurrence:
        key += f"|{occurrence}"
    n = int.from_bytes(_sha256(key.encode()).digest()[:13], "big") % _BASE62_17
    pairs = _BASE62_PAIRS
    n, d1 = divmod(n, 3844)
    n, d2 = divmod(n, 3844)
    n, d3 = divmod(n, 3844)
    n, d4 = divmod(n, 3844)
    n, d5 = divmod(n, 3844)
    n, d6 = divmod(n, 3844)
    n, d7 = divmod(n, 3844)
    n, d8 = divmod(n, 3844)
    return (
        f"C{pairs[d1]}{pairs[d2]}{pairs[d3]}{pairs[d4]}{pairs[d5]}{pairs[d6]}{pairs[d7]}"
        f"{pairs[d8]}{BASE62[n]}"
    )


_sha256 = hashlib.sha256
_BASE62_17 = 62**17
_BASE62_PAIRS = tuple(BASE62[i % 62] + BASE62[i // 62] for i in range(62 * 62))


def _compiled_flow_uid() -> Callable[..., str]:
    compiled = fastpath.compiled("mcpcap.core._flowhash")
    return python_flow_uid if compiled is None else compiled.bind_flow_uid(python_flow_uid, _sha256)


flow_uid = _compiled_flow_uid()


def write_records(
    records: Iterable[dict[str, Any]],
    out: IO[str],
    fmt: str,
    kind: RecordKind,
    first_ts: float | None = None,
) -> int:
    """Write `records` of `kind` in `fmt`; returns how many were written."""
    if fmt not in kind.exports:
        raise BadArgumentError(f"{kind.name} is written as {', '.join(kind.exports)}, not {fmt!r}")
    count = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal count
        for record in records:
            count += 1
            yield record

    if fmt == "jsonl":
        for record in counted():
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    elif fmt == "json":
        out.write("[")
        for i, record in enumerate(counted()):
            out.write(("," if i else "") + "\n" + json.dumps(record, ensure_ascii=False))
        out.write("\n]\n")
    elif fmt == "csv":
        write_csv(counted(), out, list(kind.model.model_fields))
    elif fmt == "zeek" and kind.zeek is not None:
        for line in zeek_lines(kind.zeek, counted(), first_ts):
            out.write(line + "\n")
    else:
        raise BadArgumentError(f"{kind.name} has no {fmt} writer")
    return count


def write_csv(records: Iterable[dict[str, Any]], out: IO[str], columns: list[str]) -> None:
    """One row per record; list values joined with commas inside their cell."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([_csv_value(record.get(column)) for column in columns])


def _csv_value(value: Any) -> Any:
    """One CSV cell. A list of plain values that a comma cannot confuse is one cell joined by
    commas (`192.0.2.1,192.0.2.2`); any other list, and every mapping, is JSON (a cell that
    starts with `[` or `{`), so a reader can always split it back."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(_plain_cell(v) for v in value):
        return ",".join(str(v) for v in value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


def _plain_cell(value: Any) -> bool:
    """A number, or text without a comma that does not look like JSON."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and "," not in value and not value.startswith(("[", "{"))


def zeek_lines(
    log: ZeekLog, records: Iterable[dict[str, Any]], opened_ts: float | None
) -> Iterator[str]:
    """A Zeek ASCII log: `#` header lines, one TSV line per record, a `#close` line."""
    yield "#separator \\x09"
    yield "#set_separator\t,"
    yield f"#empty_field\t{EMPTY}"
    yield f"#unset_field\t{UNSET}"
    yield f"#path\t{log.path}"
    yield f"#open\t{_zeek_time(opened_ts)}"
    yield "#fields\t" + "\t".join(f.name for f in log.fields)
    yield "#types\t" + "\t".join(f.type for f in log.fields)
    last = opened_ts
    for record in records:
        values = []
        for f in log.fields:
            if f.name == "uid" and record.get("uid") is None:
                values.append(connection_uid(record))
            else:
                value = record.get(f.key or f.name)
                if value is None or (f.optional and not value):
                    value = f.default
                values.append(_zeek_value(f.type, value))
        last = record.get("ts", last)
        yield "\t".join(values)
    yield f"#close\t{_zeek_time(last)}"


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
    if kind.startswith(("vector", "set")):
        if not value:
            return EMPTY
        if "interval" in kind:
            return ",".join(f"{float(v):.6f}" for v in value)
        return ",".join(_zeek_escape(str(v), in_set=True) for v in value)
    if kind == "string":
        return _zeek_escape(str(value))
    return str(value)


def _zeek_time(ts: float | None) -> str:
    moment = datetime.fromtimestamp(ts or 0, tz=timezone.utc)
    return moment.strftime("%Y-%m-%d-%H-%M-%S")
