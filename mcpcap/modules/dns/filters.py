"""Transaction filters: one contract for CLI options, MCP tool arguments and TUI tokens.

`TransactionFilter` holds validated values; `filter_sql` turns them into a WHERE clause over the
store (`filter_terms`: one condition per filter). With the store at hand, a network (or, on
request, a name pattern) becomes the store's matching values, compared without Python per row
and usable by an index. A bad value is a `BadArgumentError` that names the accepted values.
"""

from __future__ import annotations

import ipaddress
import json
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict

from mcpcap.core.addresses import in_network
from mcpcap.core.errors import BadArgumentError
from mcpcap.core.filtering import (
    Condition,
    Filter,
    compile_sql,
    name_and_below,
    parse_and_bind,
)
from mcpcap.core.timefmt import parse_time
from mcpcap.core.wording import QUOTE_CHARS, closest, did_you_mean, quoted
from mcpcap.modules.dns.registry import RCODES, RR_TYPES, parse_rcode, parse_type
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
    # conditions the fields above cannot say (OR, negation, comparisons, a field twice): SQL
    # over `dns_transactions t` compiled from the filter language, and its parameters
    expression: tuple[str, tuple[Any, ...]] | None = None

    def is_empty(self) -> bool:
        return not self.model_dump(exclude_none=True)


FILTER_NAMES = tuple(name for name in TransactionFilter.model_fields if name != "expression")


def transaction_filter(flt: Filter) -> TransactionFilter:
    """A bound filter of the `dns.transactions` kind as the store's query filter.

    A plain `field:value` token becomes the field (the store's fast paths know those); the
    rest (OR, negation, comparisons, repeats) is compiled to SQL from the kind's declaration.
    """
    fields: dict[str, Any] = {}
    rest = []
    for condition in flt.conditions:
        plain = condition.op == ":" and not condition.negated and len(condition.values) == 1
        if plain and condition.field in FILTER_NAMES and condition.field not in fields:
            fields[condition.field] = condition.values[0]
        else:
            rest.append(condition)
    if rest:
        sql, params = compile_sql(Filter(tuple(rest), flt.specs))
        fields["expression"] = (sql, tuple(params))
    return TransactionFilter(**fields)


def _name(value: Any) -> str:
    text = str(value).strip().lower()
    if text not in (".", ""):
        text = text.rstrip(".")
    if not text:
        raise BadArgumentError("a name filter needs a name, e.g. example.com")
    return text


def network_value(option: str, value: Any) -> str:
    try:
        return str(ipaddress.ip_network(str(value).strip(), strict=False))
    except ValueError:
        raise BadArgumentError(
            f"{option} must be an IP address or CIDR (192.0.2.1, 10.0.0.0/8, 2001:db8::/32), "
            f"not {quoted(value)}"
        ) from None


def _choice(option: str, value: Any, choices: tuple[str, ...]) -> str:
    text = str(value).strip().lower()
    if text not in choices:
        raise BadArgumentError(f"{option} must be one of {', '.join(choices)}, not {quoted(value)}")
    return text


def boolean_value(option: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in TRUE_WORDS:
        raise BadArgumentError(f"{option} must be true or false, not {quoted(value)}")
    return TRUE_WORDS[text]


def _seconds(option: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if not number >= 0:
        raise BadArgumentError(f"{option} must be a number of seconds (0.1), not {quoted(value)}")
    return number


VALIDATORS = {
    "qname": lambda v: _name(v),
    "qname_suffix": lambda v: _name(v),
    "qname_contains": lambda v: str(v).strip().lower(),
    "qtype": lambda v: parse_type(str(v)),
    "rcode": lambda v: parse_rcode(str(v)),
    "client": lambda v: network_value("client", v),
    "server": lambda v: network_value("server", v),
    "answer": lambda v: normalise_answer(str(v).strip()),
    "transport": lambda v: _choice("transport", v, TRANSPORTS),
    "protocol": lambda v: _choice("protocol", v, PROTOCOLS),
    "answered": lambda v: boolean_value("answered", v),
    "min_rtt": lambda v: _seconds("min_rtt", v),
    "since": lambda v: parse_time(v, "since"),
    "until": lambda v: parse_time(v, "until"),
}


# names a misspelt value of these filters is compared with, for "did you mean"
VOCABULARY: dict[str, tuple[str, ...]] = {
    "qtype": tuple(RR_TYPES.values()),
    "rcode": tuple(RCODES.values()),
    "transport": TRANSPORTS,
    "protocol": PROTOCOLS,
    "answered": ("true", "false"),
}
MAX_VALUE_CHARS = 1024  # longer than any name, address or time a filter takes


def build_filter(**values: Any) -> TransactionFilter:
    """Validate raw values (strings from a CLI, JSON from a model); None values are skipped."""
    unknown = sorted(set(values) - set(FILTER_NAMES))
    if unknown:
        raise BadArgumentError(unknown_filter(unknown[0]))
    clean = {
        name: validate(name, value)
        for name, value in values.items()
        if value is not None and value != ""
    }
    return TransactionFilter(**clean)


def unknown_filter(name: str) -> str:
    """The sentence for a filter name that does not exist, with the closest one."""
    hint = did_you_mean(name, FILTER_NAMES)
    return f"unknown filter {quoted(name)}" + (hint or f"; filters are: {', '.join(FILTER_NAMES)}")


def validate(name: str, value: Any) -> Any:
    """The validated value; the error names the filter, so a model knows what to fix."""
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        raise BadArgumentError(
            f"{name}: {quoted(value)} is too long (at most {MAX_VALUE_CHARS:,} characters)"
        )
    try:
        return VALIDATORS[name](value)
    except BadArgumentError as exc:
        message = exc.message
    except (ValueError, TypeError, OverflowError):  # e.g. a number too large for a float
        message = f"{quoted(value)} is not a valid value"
    if len(str(value)) > QUOTE_CHARS:  # a validator quoted all of it: quote the start
        forms = {repr(value), repr(str(value)), repr(str(value).strip())}
        for shown in sorted(forms, key=len, reverse=True):
            message = message.replace(shown, quoted(value))
    elif (match := closest(str(value).strip(), VOCABULARY.get(name, ()))) is not None:
        message = f"{quoted(value)} is unknown; did you mean {match!r}?"
    if message.startswith(name):
        raise BadArgumentError(message) from None
    raise BadArgumentError(f"{name}: {message}") from None


def parse_filter_text(text: str) -> TransactionFilter:
    """`qname_suffix:example.com rcode:NXDOMAIN,SERVFAIL` (the filter language, see `filtering`)."""
    from mcpcap.modules.dns.kinds import TRANSACTION_FILTERS

    return transaction_filter(parse_and_bind(text, TRANSACTION_FILTERS))


def filter_text(flt: TransactionFilter) -> str:
    """The filter-bar text of a filter's plain fields (inverse of `parse_filter_text`)."""
    values = flt.model_dump(exclude_none=True, exclude={"expression"})
    return " ".join(Condition(name, ":", (value,)).text() for name, value in values.items())


# filter name -> SQL over the transaction row `t` (one `?` per value, in order)
FILTER_CLAUSES = {
    "qname": "t.qname = ?",
    "qname_suffix": "(t.qname = ? OR t.qname LIKE ? ESCAPE '\\')",
    "qname_contains": "instr(t.qname, ?) > 0",
    "qtype": "t.qtype = ?",
    "rcode": "t.rcode = ?",
    "client": "in_network(t.client, ?)",
    "server": "in_network(t.server, ?)",
    "answer": "t.id IN (SELECT x.tx_id FROM dns_answers x WHERE x.value = ?)",
    "transport": "t.transport = ?",
    "protocol": "t.protocol = ?",
    "answered": "t.answered = ?",
    "min_rtt": "t.rtt >= ?",
    "since": "t.ts >= ?",
    "until": "t.ts <= ?",
}
# Filters on these columns become, with the store at hand, the store's distinct values that pass
# the filter's own test (in Python, deciding exactly as the clause above): a range or a list
# an index can use, instead of a pattern or a Python call on every row.
LISTED = {"client": "client", "server": "server", "qname_suffix": "qname",
          "qname_contains": "qname"}  # fmt: skip
MAX_LISTED = 50_000  # a column with more distinct values keeps the per-row clause
TESTED_LAST = {"qname_suffix", "qname_contains", "client", "server", "answer", "expression"}


def filter_terms(
    flt: TransactionFilter, db: sqlite3.Connection | None = None, *, names: bool = False
) -> list[tuple[str, str, list[Any]]]:
    """(filter name, SQL over `dns_transactions t`, parameters) for each filter that is set.

    With `db`, a client or server network becomes the store's matching addresses; with `names`
    too, a name suffix or substring becomes the store's matching names, for the qname index to
    find rows by (where rows are read anyway, the pattern costs less than a long list).
    """
    terms = []
    values = flt.model_dump(exclude_none=True)
    expression = values.pop("expression", None)
    for name, value in values.items():
        listed = None
        if db is not None and name in LISTED and (names or LISTED[name] != "qname"):
            listed = _listed_term(db, name, value)
        if listed is not None:
            terms.append((name, *listed))
        elif name == "qname_suffix":
            terms.append((name, FILTER_CLAUSES[name], list(name_and_below(value))))
        else:
            param = int(value) if isinstance(value, bool) else value
            terms.append((name, FILTER_CLAUSES[name], [param]))
    if expression is not None:
        terms.append(("expression", expression[0], list(expression[1])))
    # SQLite tests a row's conditions in the order written: plain comparisons first, then
    # patterns, lists and subqueries (only on the rows that passed)
    return sorted(terms, key=lambda term: term[0] in TESTED_LAST)


def filter_sql(
    flt: TransactionFilter, db: sqlite3.Connection | None = None
) -> tuple[str, list[Any]]:
    """A WHERE clause over `dns_transactions t` (or '') and its parameters (see `filter_terms`)."""
    terms = filter_terms(flt, db)
    return " AND ".join(sql for _, sql, _ in terms), [p for _, _, params in terms for p in params]


def _listed_term(db: sqlite3.Connection, name: str, value: str) -> tuple[str, list[Any]] | None:
    """SQL naming exactly the store's values that pass the filter (None: too many to list).

    Matching addresses are usually one run of the sorted distinct values (10.1.0.0/16 is every
    stored text from "10.1.0.1" to "10.1.9.9"), and a range from the first to the last of a run
    holds no other stored value; several runs are listed inside that range.
    """
    column = LISTED[name]
    values = distinct_values(db, column)
    if values is None:
        return None
    passes = _test(name, value)
    flags = [passes(v) for v in values]
    inside = [v for v, ok in zip(values, flags, strict=True) if ok]
    if not inside:
        return "0", []
    listed = f"t.{column} IN (SELECT value FROM json_each(?))"
    if column == "qname":  # a name list: found through the qname index
        return listed, [json.dumps(inside)]
    runs = sum(ok and not before for ok, before in zip(flags, [False, *flags], strict=False))
    ranged = f"t.{column} BETWEEN ? AND ?"
    if runs == 1:
        return ranged, [inside[0], inside[-1]]
    return f"{ranged} AND {listed}", [inside[0], inside[-1], json.dumps(inside)]


def _test(name: str, value: str) -> Callable[[str], bool]:
    """The Python test a stored value passes exactly when the per-row clause keeps its row."""
    if name in ("client", "server"):
        return lambda address: bool(in_network(address, value))
    if name == "qname_suffix":
        tail = "." + value
        return lambda qname: qname == value or qname.endswith(tail)
    return lambda qname: value in qname  # qname_contains: instr(qname, value) > 0


_distinct: dict[tuple[str, str], tuple[str, ...] | None] = {}  # (store key, column) -> values
_distinct_lock = threading.Lock()
DISTINCT_REMEMBERED = 96  # lists kept (three columns of 32 stores)


def distinct_values(db: sqlite3.Connection, column: str) -> tuple[str, ...] | None:
    """The sorted distinct non-NULL values of a transaction column (None: over MAX_LISTED).

    A complete result store never changes (its key names its content), so its lists are read
    once per process; any other database (a test's, a store being built) every time.
    """
    column = {"client": "client", "server": "server", "qname": "qname"}[column]
    key = _complete_store_key(db)
    with _distinct_lock:
        if key is not None and (key, column) in _distinct:
            return _distinct[key, column]
    found = db.execute(f"SELECT DISTINCT {column} FROM dns_transactions LIMIT ?", (MAX_LISTED + 2,))
    # sorted as SQLite compares text (UTF-8 bytes, the same order as code points)
    values: tuple[str, ...] | None = tuple(sorted(v for (v,) in found if v is not None))
    if len(values) > MAX_LISTED:
        values = None
    if key is not None:
        with _distinct_lock:
            while len(_distinct) >= DISTINCT_REMEMBERED:
                del _distinct[next(iter(_distinct))]
            _distinct[key, column] = values
    return values


def _complete_store_key(db: sqlite3.Connection) -> str | None:
    try:
        meta = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('key', 'complete')"))
    except sqlite3.Error:
        return None
    return meta.get("key") if meta.get("complete") == "1" else None
