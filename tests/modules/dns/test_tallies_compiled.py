"""The hunt tallies' C twin (`_tallies.c`, `HuntTallies.add` where it was built) against
`HuntTallies.python_add`, its reference.

Both get the same transaction rows in the same batches: the three groupings must then be equal,
value for value and type for type (a count that starts as a bool stays what the Python makes
of it). The rows are those the scan stores for the fixture captures, and random rows that
reach every branch: every protocol, null columns, the unusual, private and DNSSEC types, NXDOMAIN,
more distinct addresses than the cap, private and public answers.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpcap.core.config import build_settings
from mcpcap.core.errors import McpcapError
from mcpcap.core.service import Analyzer
from mcpcap.modules.dns.hunting import tallies
from mcpcap.modules.dns.hunting.tallies import HuntTallies
from tests.twins import captures

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
pytestmark = pytest.mark.skipif(
    tallies._COMPILED_ADD is None, reason="the compiled code is turned off (MCPCAP_PURE_PYTHON)"
)
ROW_WIDTH = 28  # store_schema.TRANSACTION_COLUMNS


def _typed(value):
    """A tally value with its type: True and 1 are equal in Python, not here."""
    if isinstance(value, (list, tuple)):
        return [_typed(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return ("set", sorted(value))
    return (type(value).__name__, value)


def _state(tally: HuntTallies) -> list:
    return [
        {key: _typed(value) for key, value in grouping.items()}
        for grouping in (tally.names, tally.resolvers, tally.answer_names)
    ]


def _both(batches: list[tuple[list[tuple], list]]) -> tuple[HuntTallies, HuntTallies]:
    python, compiled = HuntTallies(), HuntTallies()
    assert compiled.add != compiled.python_add  # (the compiled one, bound to its own dicts)
    for rows, values in batches:
        python.python_add(rows, values)
        compiled.add(rows, values)
    return python, compiled


def _stored_rows(path: Path) -> tuple[list[tuple], list[list[str]]]:
    """The transaction rows a scan stored for a capture, in id order, and their answer values."""
    with Analyzer(build_settings({"no_cache": True})).analyze(path, path.name) as analysis:
        db = analysis.db
        rows = db.execute("SELECT * FROM dns_transactions ORDER BY id").fetchall()
        values: dict[int, list[str]] = {}
        for tx_id, value in db.execute("SELECT tx_id, value FROM dns_answers ORDER BY rowid"):
            values.setdefault(tx_id, []).append(value)
    return rows, [values.get(row[0], []) for row in rows]


def test_the_same_tallies_for_the_rows_of_every_capture(tmp_path):
    paths = captures(tmp_path, ("captures", "hunting"), seed=11, packets=8000)
    checked = 0
    for path in paths:
        try:
            rows, values = _stored_rows(path)
        except McpcapError:  # (the fixtures include files that are not captures)
            continue
        if not rows:
            continue
        checked += 1
        for batch in (1, 7, 5000):
            pieces = [
                (rows[i : i + batch], values[i : i + batch]) for i in range(0, len(rows), batch)
            ]
            python, compiled = _both(pieces)
            assert _state(compiled) == _state(python), (path.name, batch)
    assert checked >= 10


def test_the_same_tallies_on_the_corpus(corpus):
    paths = sorted(path for path in corpus.rglob("*") if ".pcap" in path.name)
    rows_seen = 0
    for path in paths:
        try:
            rows, values = _stored_rows(path)
        except McpcapError:
            continue
        rows_seen += len(rows)
        python, compiled = _both([(rows[i : i + 500], values[i : i + 500])
                                  for i in range(0, len(rows), 500)])  # fmt: skip
        assert _state(compiled) == _state(python), path.name
    assert rows_seen > 1000


QNAMES = ["a.example", "b.example", "A.example", "c.test", "x" * 60 + ".example"]
VALUES = ["10.0.0.1", "192.168.1.9", "8.8.8.8", "1.1.1.1", "fd00::1", "2001:db8::5", "::1",
          "host.example", "172.20.0.3", "9.9.9.9", "4.4.4.4", "5.5.5.5", "6.6.6.6"]  # fmt: skip
QTYPES = [None, 1, 28, 5, 16, 43, 46, 255, 65280, 65534, 65535, 12]
row_values = st.tuples(
    st.sampled_from(["dns", "mdns", "llmnr"]),
    st.sampled_from([None, *QNAMES]),
    st.sampled_from(QTYPES),
    st.sampled_from([None, 0, 2, 3]),
    st.sampled_from([None, "", "1.2.3.4", "x|y|z"]),
    st.booleans(),  # asked (a query frame)
    st.booleans(),  # answered (a response frame)
    st.sampled_from([None, "10.0.0.53", "8.8.8.8"]),
    st.sampled_from([None, "example", "test"]),
    st.lists(st.sampled_from(VALUES), max_size=12),
)


def _row(seq: int, rng: random.Random, drawn: tuple) -> tuple[tuple, list[str]]:
    protocol, qname, qtype, rcode, answers, asked, answered, server, domain, values = drawn
    row = [None] * ROW_WIDTH
    row[0], row[1] = seq, round(rng.uniform(0, 100), 3)
    row[2], row[3] = (seq * 2 if asked else None), (seq * 2 + 1 if answered else None)
    row[4], row[6], row[7] = rng.choice(["10.0.0.5", "10.0.0.6"]), server, 53
    row[9], row[12], row[13], row[14] = protocol, qname and qname.upper(), qname, domain
    row[16], row[17], row[23] = qtype, rcode, answers
    return tuple(row), values


@settings(max_examples=300, deadline=None)
@given(st.lists(row_values, min_size=1, max_size=60), st.integers(1, 9), st.integers(0, 9999))
def test_the_same_tallies_for_any_rows(drawn, batch, seed):
    rng = random.Random(seed)
    made = [_row(rng.randrange(1, 50), rng, one) for one in drawn]  # (ids repeat, and go back)
    rows, values = [row for row, _ in made], [v for _, v in made]
    pieces = [(rows[i : i + batch], values[i : i + batch]) for i in range(0, len(rows), batch)]
    python, compiled = _both(pieces)
    assert _state(compiled) == _state(python)


def test_merged_tallies_go_on_alike():
    """Tallies that `merge` changed (as the scan's end merges DNS over TCP) are added to alike."""
    rng = random.Random(4)
    made = [_row(i, rng, (
        "dns", rng.choice(QNAMES), rng.choice([1, 28]), rng.choice([0, 3]), "1.2.3.4", True,
        True, "10.0.0.53", "example", rng.sample(VALUES, 4))) for i in range(1, 40)]  # fmt: skip
    rows, values = [row for row, _ in made], [v for _, v in made]
    python, compiled = _both([(rows[:20], values[:20])])
    other = HuntTallies()
    other.python_add(rows[20:30], values[20:30])
    python.merge(other, id_shift=100)
    compiled.merge(other, id_shift=100)
    python.python_add(rows[30:], values[30:])
    compiled.add(rows[30:], values[30:])
    assert _state(compiled) == _state(python)


def test_rows_and_values_of_unequal_lengths_fail_alike():
    rng = random.Random(2)
    made = [_row(i, rng, ("dns", "a.example", 1, 0, "1.2.3.4", True, True, "10.0.0.53",
                          "example", ["1.2.3.4"])) for i in range(1, 4)]  # fmt: skip
    rows, values = [row for row, _ in made], [v for _, v in made]
    python, compiled = HuntTallies(), HuntTallies()
    for add in (python.python_add, compiled.add):
        with pytest.raises(ValueError, match="shorter"):
            add(rows, values[:2])
        with pytest.raises(ValueError, match="longer"):
            add(rows[:1], values)
    assert _state(compiled) == _state(python)
    assert python.names["a.example"][2] == 3  # the rows before the shorter end were tallied


def test_a_row_that_is_not_a_tuple_is_an_error_not_a_crash():
    compiled = HuntTallies()
    with pytest.raises(TypeError):
        compiled.add([["dns"] * 5], [[]])
    with pytest.raises(TypeError):
        compiled.add([None], [[]])
    with pytest.raises(TypeError):
        compiled.add(3, [])
