"""The one filter language every face speaks, and the declaration it is checked against.

A filter is text: `field:value` tokens separated by white space and combined with AND.

- `rcode:NXDOMAIN,SERVFAIL`: a comma means OR within a field;
- `-qtype:PTR`: a leading `-` negates the token;
- `duration>10`, `client_bytes>=1000000`, `rtt<0.5`: comparisons on ordered fields;
- `qname:"with space"`: double quotes wrap a value (and protect commas in it).

A record kind declares its filters once (`FilterSpec`); from that declaration come the CLI
options, the MCP tool arguments, the TUI filter bar's tokens, the validation with its "did you
mean" and the SQL (`compile_sql`), or for records that are not rows of a table, the Python test
(`compile_test`). Named arguments (`--qname-suffix x`, `{"qname_suffix": "x"}`)
are the same conditions as the tokens `qname_suffix:x` (`conditions_from_arguments`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from mcpcap.core.errors import BadArgumentError
from mcpcap.core.wording import did_you_mean, quoted

OPERATORS = (">=", "<=", ">", "<", ":")
ORDERED_OPERATORS = frozenset((">=", "<=", ">", "<"))
FIELD_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\Z")
TYPE_WORDS = {"string": "text", "integer": "an integer", "number": "a number"}
SQL_INTEGERS = range(-(1 << 63), 1 << 63)  # what SQLite holds as an INTEGER (64 bits, signed)


def like_escape(text: str) -> str:
    """`text` for a pattern of `LIKE ? ESCAPE '\\'` that matches it literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def name_and_below(name: str) -> tuple[str, str]:
    """The parameters of `(column = ? OR column LIKE ? ESCAPE '\\')`: the name itself, and
    the names below it (a label boundary: `example.com` takes `www.example.com`, never
    `notexample.com` nor `example.com.evil.net`)."""
    return name, "%." + like_escape(name)


def sql_integer(value: Any) -> int:
    """`int(value)` when SQLite can hold it; OverflowError beyond (sqlite3 would raise it when
    the value is bound, too late to say which filter it came from)."""
    number = int(value)
    if number not in SQL_INTEGERS:
        raise OverflowError(f"{value} is beyond a 64-bit integer")
    return number


@dataclass(frozen=True)
class Condition:
    """One token: `field op value[,value...]`, maybe negated. Values are raw text until bound."""

    field: str
    op: str
    values: tuple[Any, ...]
    negated: bool = False

    def text(self) -> str:
        """The token as the filter bar writes it (inverse of `parse_filter` up to spacing)."""
        sign = "-" if self.negated else ""
        return f"{sign}{self.field}{self.op}{','.join(_quote(v) for v in self.values)}"


@dataclass(frozen=True)
class FilterSpec:
    """A filter a record kind accepts: its name, meaning, accepted values and SQL.

    `parse` turns one raw value into the value bound to the SQL (raising `BadArgumentError`
    with a sentence); `choices` are the accepted values shown in errors and offered for typos;
    `sql` is the condition for one value, with `?` placeholders filled by `params(value)`;
    `column` is the SQL expression compared by `>`, `>=`, `<`, `<=` (only where `ordered`).

    A kind whose records are not rows of a table gives `test(record, value)` (whether the
    record passes for one bound value) instead of `sql`, and `key(record)` (the value the
    ordered comparisons compare) instead of `column`.
    """

    name: str
    description: str
    sql: str = ""
    parse: Callable[[str], Any] = str
    params: Callable[[Any], Sequence[Any]] = lambda value: (value,)
    choices: tuple[str, ...] = ()
    column: str | None = None
    ordered: bool = False
    type: str = "string"  # JSON type of the named argument: string, number, integer, boolean
    example: str = ""
    test: Callable[[Any, Any], bool] | None = None
    key: Callable[[Any], Any] | None = None

    def accepted(self) -> str:
        """A short phrase saying what values the filter takes (for errors and help)."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        return self.description

    def expects(self) -> str:
        """What a value must be, its type first: "an integer (the server's stratum)"."""
        if self.type == "boolean":
            return "true or false"
        if self.choices:
            return self.accepted()
        kind = " or ".join(TYPE_WORDS.get(name, name) for name in self.type.split("|"))
        return f"{kind} ({self.description})"


@dataclass(frozen=True)
class Filter:
    """Validated conditions, ready for SQL; empty means every record."""

    conditions: tuple[Condition, ...] = ()
    specs: Mapping[str, FilterSpec] = field(default_factory=dict, compare=False, repr=False)
    written: tuple[Condition, ...] = field(default=(), compare=False, repr=False)

    def __bool__(self) -> bool:
        return bool(self.conditions)

    def text(self) -> str:
        """The filter as tokens, with values as they were written (NXDOMAIN, not 3)."""
        return " ".join(condition.text() for condition in self.written or self.conditions)


def parse_filter(text: str) -> list[Condition]:
    """The conditions written in `text` (raw values); a malformed token is one sentence."""
    return [_parse_token(token) for token in _tokens(text)]


def _tokens(text: str) -> Iterable[list[tuple[str, bool]]]:
    """White-space separated tokens as (character, quoted) pairs, so quotes keep commas."""
    token: list[tuple[str, bool]] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
            token.append(("", True))  # marks that a quoted (maybe empty) value was written
        elif char.isspace() and not quoted:
            if token:
                yield token
            token = []
        else:
            token.append((char, quoted))
    if quoted:
        raise BadArgumentError(f"the filter has an unclosed double quote: {_shown(text)}")
    if token:
        yield token


def _parse_token(chars: list[tuple[str, bool]]) -> Condition:
    written = "".join(c for c, _ in chars)
    negated = bool(chars) and chars[0] == ("-", False)
    if negated:
        chars = chars[1:]
    position = next((i for i, (c, q) in enumerate(chars) if not q and c in ":<>"), None)
    if position is None:
        raise BadArgumentError(
            f"{_shown(written)} is not a filter token; write field:value (e.g. rcode:NXDOMAIN)"
        )
    name = "".join(c for c, _ in chars[:position]).strip().lower().replace("-", "_")
    op = chars[position][0]
    rest = chars[position + 1 :]
    if op in "<>" and rest and rest[0] == ("=", False):
        op += "="
        rest = rest[1:]
    if not FIELD_PATTERN.match(name):
        raise BadArgumentError(f"{_shown(written)} does not start with a field name")
    values = _split_values(rest) if op == ":" else ["".join(c for c, _ in rest)]
    if not values or (any(value == "" for value in values) and not _has_quotes(rest)):
        raise BadArgumentError(f"{_shown(written)} has no value after {op!r}")
    return Condition(name, op, tuple(values), negated)


def _split_values(chars: list[tuple[str, bool]]) -> list[str]:
    values, current = [], []
    for char, in_quotes in chars:
        if char == "," and not in_quotes:
            values.append("".join(current))
            current = []
        else:
            current.append(char)
    values.append("".join(current))
    return values


def _has_quotes(chars: list[tuple[str, bool]]) -> bool:
    return any(quoted for _, quoted in chars)


def _quote(value: Any) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if text == "" or any(c.isspace() or c in ',"' for c in text):
        return '"' + text.replace('"', "") + '"'
    return text


def _shown(value: Any) -> str:
    """A value as an error quotes it: repr, cut to a short prefix."""
    return quoted(str(value))


def bind(conditions: Iterable[Condition], specs: Sequence[FilterSpec]) -> Filter:
    """Check conditions against a kind's filters and parse their values (one sentence if not)."""
    by_name = {spec.name: spec for spec in specs}
    written = tuple(conditions)
    bound = tuple(_bind_one(condition, by_name) for condition in written)
    return Filter(bound, by_name, written)


def _bind_one(condition: Condition, specs: Mapping[str, FilterSpec]) -> Condition:
    spec = specs.get(condition.field)
    if spec is None:
        hint = did_you_mean(condition.field, specs)
        raise BadArgumentError(
            f"unknown filter {_shown(condition.field)}"
            + (hint or f"; filters are: {', '.join(specs)}")
        )
    if condition.op in ORDERED_OPERATORS and not spec.ordered:
        raise BadArgumentError(
            f"{condition.field} is not ordered: write {condition.field}:value, not "
            f"{condition.field}{condition.op}value"
        )
    return replace(condition, values=tuple(_parse_value(spec, v) for v in condition.values))


def _parse_value(spec: FilterSpec, raw: Any) -> Any:
    try:
        return spec.parse(raw)
    except BadArgumentError as exc:
        message = exc.message if exc.message.startswith(spec.name) else f"{spec.name}: {exc}"
    except (TypeError, ValueError, OverflowError):
        message = f"{spec.name} takes {spec.expects()}, not {_shown(raw)}"
    if spec.choices and "did you mean" not in message:
        message += did_you_mean(str(raw), spec.choices)
    raise BadArgumentError(message) from None


def parse_and_bind(text: str | None, specs: Sequence[FilterSpec]) -> Filter:
    """`bind(parse_filter(text))`; None or blank text is the empty filter."""
    return bind(parse_filter(text or ""), specs)


def conditions_from_arguments(arguments: Mapping[str, Any]) -> list[Condition]:
    """Named filter arguments (CLI options, MCP arguments) as conditions; None is skipped."""
    return [
        Condition(name, ":", (value,))
        for name, value in arguments.items()
        if value is not None and value != ""
    ]


def compile_sql(flt: Filter) -> tuple[str, list[Any]]:
    """A WHERE condition (without WHERE; '' for no filter) and its parameters.

    A negated token keeps rows where the condition is not true, NULLs included: `-rcode:3`
    keeps unanswered queries, whose rcode is NULL.
    """
    parts: list[str] = []
    params: list[Any] = []
    for condition in flt.conditions:
        spec = flt.specs[condition.field]
        if condition.op == ":":
            alternatives = [f"({spec.sql})" for _ in condition.values]
            for value in condition.values:
                params.extend(spec.params(value))
            sql = alternatives[0] if len(alternatives) == 1 else f"({' OR '.join(alternatives)})"
        else:
            sql = f"({spec.column} {condition.op} ?)"
            params.append(condition.values[0])
        parts.append(f"NOT COALESCE({sql}, 0)" if condition.negated else sql)
    return " AND ".join(parts), params


COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def compile_test(flt: Filter) -> Callable[[Any], bool] | None:
    """What `compile_sql` says in SQL, as one Python test of a record (None for no filter):
    every condition holds; a comma is OR; a negated condition keeps records where it does not
    hold; an ordered comparison with no value to compare (`key` gives None) does not hold."""
    tests = [_condition_test(flt.specs[c.field], c) for c in flt.conditions]
    if not tests:
        return None
    return lambda record: all(test(record) for test in tests)


def _condition_test(spec: FilterSpec, condition: Condition) -> Callable[[Any], bool]:
    if condition.op == ":":
        assert spec.test is not None, f"{spec.name} has no Python test"
        check, values = spec.test, condition.values

        def holds(record: Any) -> bool:
            return any(check(record, value) for value in values)

    else:
        assert spec.key is not None, f"{spec.name} has no key to compare"
        key, compare, bound = spec.key, COMPARE[condition.op], condition.values[0]

        def holds(record: Any) -> bool:
            value = key(record)
            return value is not None and compare(value, bound)

    if condition.negated:
        return lambda record: not holds(record)
    return holds
