"""Transaction filters: one contract for CLI options, MCP tool arguments and TUI tokens.

`TransactionFilter` holds validated values; `filter_sql` turns them into a WHERE clause over the
store. A bad value is a `BadArgumentError` that names the accepted values.
"""

from __future__ import annotations

import ipaddress
import shlex
import sqlite3
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict

from mcpcap.core.errors import BadArgumentError
from mcpcap.core.timefmt import parse_time
from mcpcap.modules.dns.registry import parse_rcode, parse_type
from mcpcap.modules.dns.store_schema import normalise_answer

TRANSPORTS = ("udp", "tcp")
PROTOCOLS = ("dns", "mdns", "llmnr")
TRUE_WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


class TransactionFilter(BaseModel):
    """Validated filter values (None means: do not filter on this)."""

    model_config = ConfigDict(frozen=True)

    qname: str | None = None
    qname_suffix: str | None = None
    qname_contains: str | None = None
    qtype: int | None = None
    rcode: int | None = None
    client: str | None = None
    server: str | None = None
    answer: str | None = None
    transport: str | None = None
    protocol: str | None = None
    answered: bool | None = None
    min_rtt: float | None = None
    since: float | None = None
    until: float | None = None

    def is_empty(self) -> bool:
        return not self.model_dump(exclude_none=True)


FILTER_NAMES = tuple(TransactionFilter.model_fields)


def _name(value: Any) -> str:
    text = str(value).strip().lower()
    if text not in (".", ""):
        text = text.rstrip(".")
    if not text:
        raise BadArgumentError("a name filter needs a name, e.g. example.com")
    return text


def _network(option: str, value: Any) -> str:
    try:
        return str(ipaddress.ip_network(str(value).strip(), strict=False))
    except ValueError:
        raise BadArgumentError(
            f"{option} must be an IP address or CIDR (192.0.2.1, 10.0.0.0/8, 2001:db8::/32), "
            f"not {value!r}"
        ) from None


def _choice(option: str, value: Any, choices: tuple[str, ...]) -> str:
    text = str(value).strip().lower()
    if text not in choices:
        raise BadArgumentError(f"{option} must be one of {', '.join(choices)}, not {value!r}")
    return text


def _bool(option: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in TRUE_WORDS:
        raise BadArgumentError(f"{option} must be true or false, not {value!r}")
    return TRUE_WORDS[text]


def _seconds(option: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if not number >= 0:
        raise BadArgumentError(f"{option} must be a number of seconds (0.1), not {value!r}")
    return number


VALIDATORS = {
    "qname": lambda v: _name(v),
    "qname_suffix": lambda v: _name(v),
    "qname_contains": lambda v: str(v).strip().lower(),
    "qtype": lambda v: parse_type(str(v)),
    "rcode": lambda v: parse_rcode(str(v)),
    "client": lambda v: _network("client", v),
    "server": lambda v: _network("server", v),
    "answer": lambda v: normalise_answer(str(v).strip()),
    "transport": lambda v: _choice("transport", v, TRANSPORTS),
    "protocol": lambda v: _choice("protocol", v, PROTOCOLS),
    "answered": lambda v: _bool("answered", v),
    "min_rtt": lambda v: _seconds("min_rtt", v),
    "since": lambda v: parse_time(v, "since"),
    "until": lambda v: parse_time(v, "until"),
}


def build_filter(**values: Any) -> TransactionFilter:
    """Validate raw values (strings from a CLI, JSON from a model); None values are skipped."""
    unknown = sorted(set(values) - set(FILTER_NAMES))
    if unknown:
        raise BadArgumentError(
            f"unknown filter {unknown[0]!r}; filters are: {', '.join(FILTER_NAMES)}"
        )
    clean = {
        name: _validate(name, value)
        for name, value in values.items()
        if value is not None and value != ""
    }
    return TransactionFilter(**clean)


def _validate(name: str, value: Any) -> Any:
    """The validated value; the error names the filter, so a model knows what to fix."""
    try:
        return VALIDATORS[name](value)
    except BadArgumentError as exc:
        if exc.message.startswith(name):
            raise
        raise BadArgumentError(f"{name}: {exc.message}") from None


def parse_filter_text(text: str) -> TransactionFilter:
    """`qname_suffix:example.com rcode:NXDOMAIN` (the TUI filter bar; shell-style quoting)."""
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise BadArgumentError(f"cannot read the filter: {exc}") from None
    values: dict[str, str] = {}
    for token in tokens:
        name, sep, value = token.partition(":")
        if not sep or not value:
            raise BadArgumentError(
                f"{token!r} is not name:value; filters are: {', '.join(FILTER_NAMES)}"
            )
        values[name.strip().lower().replace("-", "_")] = value
    return build_filter(**values)


def filter_text(flt: TransactionFilter) -> str:
    """The filter-bar text of a filter (inverse of `parse_filter_text` up to normalisation)."""
    parts = []
    for name, value in flt.model_dump(exclude_none=True).items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        parts.append(f"{name}:{shlex.quote(text)}")
    return " ".join(parts)


@lru_cache(maxsize=4096)
def in_network(address: str | None, network: str) -> int:
    if address is None:
        return 0
    try:
        return int(ipaddress.ip_address(address) in ipaddress.ip_network(network))
    except ValueError:
        return 0


# filter name -> SQL over the transaction row `t` (one `?` per value, in order)
FILTER_CLAUSES = {
    "qname": "t.qname = ?",
    "qname_suffix": "(t.qname = ? OR t.qname LIKE ? ESCAPE '\\')",
    "qname_contains": "instr(t.qname, ?) > 0",
    "qtype": "t.qtype = ?",
    "rcode": "t.rcode = ?",
    "client": "in_network(t.client, ?)",
    "server": "in_network(t.server, ?)",
    "answer": "EXISTS (SELECT 1 FROM dns_answers x WHERE x.value = ? AND x.tx_id = t.id)",
    "transport": "t.transport = ?",
    "protocol": "t.protocol = ?",
    "answered": "t.answered = ?",
    "min_rtt": "t.rtt >= ?",
    "since": "t.ts >= ?",
    "until": "t.ts <= ?",
}


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


MAX_LISTED_ADDRESSES = 900  # below SQLite's oldest limit on query parameters


def filter_sql(
    flt: TransactionFilter, db: sqlite3.Connection | None = None
) -> tuple[str, list[Any]]:
    """A WHERE clause over `dns_transactions t` (or '') and its parameters.

    With `db`, a client or server CIDR becomes the list of the capture's addresses inside it
    (there are few distinct addresses, and a list is far cheaper than calling Python per row);
    otherwise, and for very many addresses, the store's `in_network` SQL function decides.
    """
    clauses: list[str] = []
    params: list[Any] = []
    for name, value in flt.model_dump(exclude_none=True).items():
        if name in ("client", "server") and db is not None:
            inside = addresses_in(db, name, value)
            if len(inside) <= MAX_LISTED_ADDRESSES:
                clauses.append(f"t.{name} IN ({','.join('?' * len(inside))})" if inside else "0")
                params += inside
                continue
        clauses.append(FILTER_CLAUSES[name])
        if name == "qname_suffix":
            params += [value, "%." + _like_escape(value)]
        else:
            params.append(int(value) if isinstance(value, bool) else value)
    return " AND ".join(clauses), params


def addresses_in(db: sqlite3.Connection, side: str, network: str) -> list[str]:
    """The capture's distinct client (or server) addresses inside `network`."""
    column = {"client": "client", "server": "server"}[side]
    rows = db.execute(f"SELECT DISTINCT {column} FROM dns_transactions")
    return sorted(address for (address,) in rows if in_network(address, network))
