"""The filter language: tokens, negation, OR, comparisons, quotes, errors and SQL."""

import sqlite3

import pytest

from mcpcap.core.errors import BadArgumentError
from mcpcap.core.filtering import (
    Condition,
    FilterSpec,
    bind,
    compile_sql,
    compile_test,
    conditions_from_arguments,
    parse_and_bind,
    parse_filter,
)

RCODES = {"NOERROR": 0, "SERVFAIL": 2, "NXDOMAIN": 3}


def _rcode(text: str) -> int:
    if text.isdigit():
        return int(text)
    if text.upper() not in RCODES:
        raise BadArgumentError(f"rcode must be a name or number, not {text!r}")
    return RCODES[text.upper()]


SPECS = (
    FilterSpec("name", "exact name", "r.name = ?", parse=str.lower),
    FilterSpec("rcode", "response code", "r.rcode = ?", parse=_rcode, choices=tuple(RCODES)),
    FilterSpec("bytes", "bytes sent", "r.bytes = ?", parse=int, column="r.bytes", ordered=True),
)
ROWS = [  # name, rcode, bytes
    ("a.example", 0, 10),
    ("b.example", 3, 2000),
    ("c example", 2, 500),
    ("d,example", None, 0),
]


@pytest.fixture
def db():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE r (name TEXT, rcode INTEGER, bytes INTEGER)")
    db.executemany("INSERT INTO r VALUES (?, ?, ?)", ROWS)
    return db


def names(db, text: str) -> list[str]:
    where, params = compile_sql(parse_and_bind(text, SPECS))
    sql = "SELECT name FROM r" + (f" WHERE {where}" if where else "") + " ORDER BY name"
    return [name for (name,) in db.execute(sql, params)]


def test_tokens_read_as_conditions():
    text = 'rcode:NXDOMAIN,SERVFAIL -name:"c example" bytes>=10 bytes<2000'
    assert parse_filter(text) == [
        Condition("rcode", ":", ("NXDOMAIN", "SERVFAIL")),
        Condition("name", ":", ("c example",), negated=True),
        Condition("bytes", ">=", ("10",)),
        Condition("bytes", "<", ("2000",)),
    ]


def test_a_token_written_back_reads_the_same():
    for text in ("rcode:3,2", '-name:"c example"', "bytes>5", 'name:"d,example"'):
        (condition,) = parse_filter(text)
        assert parse_filter(condition.text()) == [condition]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["a.example", "b.example", "c example", "d,example"]),
        ("rcode:NXDOMAIN", ["b.example"]),
        ("rcode:nxdomain,servfail", ["b.example", "c example"]),
        ("-rcode:NXDOMAIN", ["a.example", "c example", "d,example"]),  # NULL rcode kept
        ("bytes>10", ["b.example", "c example"]),
        ("bytes>=10 bytes<=500", ["a.example", "c example"]),
        ('name:"c example"', ["c example"]),
        ('name:"d,example"', ["d,example"]),
        ("rcode:0,3 -bytes<100", ["b.example"]),
    ],
)
def test_filters_select_rows(db, text, expected):
    assert names(db, text) == expected


# the same filters for records that are not table rows: Python tests instead of SQL
PYTHON_SPECS = (
    FilterSpec("name", "exact name", parse=str.lower, test=lambda r, v: r[0] == v),
    FilterSpec("rcode", "response code", parse=_rcode, choices=tuple(RCODES),
               test=lambda r, v: r[1] == v),
    FilterSpec("bytes", "bytes sent", parse=int, test=lambda r, v: r[2] == v,
               key=lambda r: r[2], ordered=True),
)  # fmt: skip


@pytest.mark.parametrize(
    "text",
    ["", "rcode:NXDOMAIN", "rcode:nxdomain,servfail", "-rcode:NXDOMAIN", "bytes>10",
     "bytes>=10 bytes<=500", 'name:"d,example"', "rcode:0,3 -bytes<100", "-bytes>=10"],
)  # fmt: skip
def test_python_tests_keep_what_the_sql_keeps(db, text):
    passes = compile_test(parse_and_bind(text, PYTHON_SPECS))
    kept = sorted(row[0] for row in ROWS if passes is None or passes(row))
    assert kept == names(db, text)
    assert (passes is None) == (text == "")


def test_named_arguments_are_the_same_conditions(db):
    conditions = conditions_from_arguments({"rcode": "NXDOMAIN", "name": None, "bytes": ""})
    assert conditions == parse_filter("rcode:NXDOMAIN")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("rcod:NXDOMAIN", ["unknown filter 'rcod'", "did you mean 'rcode'"]),
        ("rcode:NXDOMAN", ["rcode", "did you mean 'NXDOMAIN'"]),
        ("rcode>2", ["rcode is not ordered"]),
        ("bytes>lots", ["bytes takes", "'lots'"]),
        ("rcode", ["not a filter token"]),
        ("rcode:", ["no value"]),
        ('name:"open', ["unclosed double quote"]),
    ],
)
def test_bad_tokens_are_one_sentence(text, words):
    with pytest.raises(BadArgumentError) as caught:
        parse_and_bind(text, SPECS)
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_an_error_quotes_only_a_prefix_of_a_huge_value():
    with pytest.raises(BadArgumentError) as caught:
        parse_and_bind("bytes>" + "9x" * 500_000, SPECS)
    assert len(str(caught.value)) < 300


def test_binding_parses_values():
    flt = bind(parse_filter("rcode:nxdomain bytes>7"), SPECS)
    assert [c.values for c in flt.conditions] == [(3,), (7,)]
    assert flt.text() == "rcode:nxdomain bytes>7"  # as written
