"""The pairer's C twin (`_pairing.c`, `Pairer.add` where it was built) against
`Pairer.python_add`, its reference.

Two pairers get the same messages: each emitted transaction (row, extra questions, answer
values) and each count must be equal, in the same order. The C pairs the usual query and
response itself and hands the rest to the Python methods on the same state, so the messages
here are made to mix both: every capture's DNS datagrams, and random conversations on few
flows and ids with retransmissions, duplicates, mDNS, time jumps past the timeouts, and bounds
small enough to be reached. The tests also check that the C took its share.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpcap.modules.dns import pairing
from mcpcap.modules.dns.module import DnsModule
from mcpcap.modules.dns.pairing import Pairer
from mcpcap.modules.dns.scan import (
    _COMPILED_DECODED,
    _COMPILED_STORE,
    WELL_KNOWN,
    DnsScan,
    decode_udp,
    protocol_of,
)
from tests.modules.dns.test_pairing import message
from tests.twins import captures, segments

pytestmark = pytest.mark.skipif(
    pairing._COMPILED_BIND is None, reason="the compiled code is turned off (MCPCAP_PURE_PYTHON)"
)
Message = tuple[int, tuple, tuple]  # (id, view, meta) as `add` takes them


class _Counting(Pairer):
    """A pairer that counts the messages its Python methods were handed."""

    def __init__(self, emit) -> None:
        self.handed = 0
        super().__init__(emit)

    def _add_query(self, *args) -> None:
        self.handed += 1
        super()._add_query(*args)

    def _add_response(self, *args) -> None:
        self.handed += 1
        super()._add_response(*args)


def _pair(messages: list[Message], compiled: bool) -> tuple[list, tuple, int]:
    emitted: list = []
    pairer = _Counting(lambda *out: emitted.append(out))
    add = pairer.add if compiled else pairer.python_add
    assert (add == pairer.python_add) is not compiled
    for trans_id, view, meta in messages:
        add(trans_id, view, meta)
    pairer.finish()
    counts = (pairer.opened, pairer.retransmissions, pairer.duplicate_responses,
              pairer.unsolicited)  # fmt: skip
    return emitted, counts, pairer.handed


def _assert_twins(messages: list[Message]) -> tuple[int, int]:
    """Both pairers alike; (messages, the ones the compiled pairer handed to Python)."""
    python = _pair(messages, compiled=False)
    compiled = _pair(messages, compiled=True)
    assert compiled[0] == python[0]
    assert compiled[1] == python[1]
    return len(messages), compiled[2]


def _capture_messages(path: Path) -> list[Message]:
    """The DNS messages of a capture's datagrams on the DNS ports, as the scan pairs them."""
    found = []
    for frame, ts, seg in segments(path):
        if seg.transport != "udp" or not {seg.sport, seg.dport} & WELL_KNOWN:
            continue
        msg = decode_udp(frame, ts, seg)
        if msg is not None:
            protocol = protocol_of(seg.sport, seg.dport)
            meta = (frame, ts, seg.src, seg.sport, seg.dst, seg.dport, "udp", protocol)
            found.append((msg[0], msg[10], meta))
    return found


def test_the_same_transactions_for_every_capture(tmp_path):
    paths = captures(tmp_path, ("captures", "hunting"), seed=21, packets=8000)
    total = handed = 0
    for path in paths:
        messages = _capture_messages(path)
        if messages:
            count, fallbacks = _assert_twins(messages)
            total, handed = total + count, handed + fallbacks
    assert total > 3000
    assert handed < total * 0.2  # the C paired most of them itself


def test_the_same_transactions_on_the_corpus(corpus):
    paths = sorted(path for path in corpus.rglob("*") if ".pcap" in path.name)
    total = 0
    for path in paths:
        messages = _capture_messages(path)
        if messages:
            total += _assert_twins(messages)[0]
    assert total > 1000


CLIENTS = [("10.0.0.2", 40000), ("10.0.0.3", 40001), ("fe80::1", 5353)]
SERVERS = [("10.0.0.1", 53), ("224.0.0.251", 5353), ("10.0.0.9", 5355)]
NAMES = ["a.example", "b.example", "B.example", None]
step = st.tuples(
    st.booleans(),  # a response
    st.integers(0, 2),  # client
    st.integers(0, 2),  # server
    st.integers(0, 3),  # id
    st.integers(0, 3),  # name
    st.sampled_from([1, 28, 255]),
    st.sampled_from([0.001, 0.5, 3.0, 11.0, 40.0, 130.0]),  # time to the next message
    st.booleans(),  # RD set in a response
)


def _random_messages(steps: list[tuple], rng: random.Random) -> list[Message]:
    messages, ts = [], 1000.0
    for frame, (reply, client, server, trans_id, name, qtype, gap, rd) in enumerate(steps, 1):
        client_end, server_end = CLIENTS[client], SERVERS[server]
        protocol = protocol_of(client_end[1], server_end[1])
        answers = [f"192.0.2.{rng.randrange(1, 9)}"] * rng.randrange(0, 3)
        msg = message(trans_id, reply, NAMES[name], qtype, rcode=rng.choice([0, 0, 3]),
                      answers=answers if reply else (), owner="a.example")  # fmt: skip
        view = msg[10]
        if reply and not rd:  # a response whose RD bit is not its query's
            view = (view[0], (*view[1][:3], 0, *view[1][4:]), *view[2:])
        ends = (*server_end, *client_end) if reply else (*client_end, *server_end)
        messages.append((trans_id, view, (frame, ts, *ends, "udp", protocol)))
        ts += gap
    return messages


@pytest.fixture
def small_bounds(monkeypatch):
    """Bounds the random conversations reach (the pairer reads them when it is made)."""
    monkeypatch.setattr(pairing, "MAX_PENDING_PER_FLOW", 3)
    monkeypatch.setattr(pairing, "MAX_PENDING_TOTAL", 5)
    monkeypatch.setattr(pairing, "MAX_RECENT_ANSWERED", 4)


@settings(max_examples=400, deadline=None)
@given(st.lists(step, min_size=1, max_size=80), st.integers(0, 9999))
def test_the_same_transactions_for_any_conversation(steps, seed):
    _assert_twins(_random_messages(steps, random.Random(seed)))


# (the fixture's bounds hold for every example alike)
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(step, min_size=1, max_size=80), st.integers(0, 9999))
def test_the_same_transactions_at_small_bounds(small_bounds, steps, seed):
    _assert_twins(_random_messages(steps, random.Random(seed)))


def test_a_long_conversation_at_small_bounds_is_mostly_paired_in_c(small_bounds):
    rng = random.Random(8)
    steps = [(rng.random() < 0.5, rng.randrange(2), 0, rng.randrange(4), rng.randrange(3), 1,
              rng.choice([0.001, 0.01, 0.2]), True) for _ in range(3000)]  # fmt: skip
    total, handed = _assert_twins(_random_messages(steps, rng))
    assert handed < total * 0.8


def test_arguments_it_cannot_read_go_to_the_python():
    """A call of another shape is the Python's, with the Python's answer (here its errors)."""
    pairer = Pairer(lambda *out: None)
    with pytest.raises(TypeError):
        pairer.add(1, (0,))
    query = message(1, False)[10]
    meta = [1, 1.0, "10.0.0.2", 4000, "10.0.0.1", 53, "udp", "dns"]
    for add in (pairer.python_add, pairer.add):
        with pytest.raises(TypeError, match="unhashable"):
            add(1, query, meta)
        with pytest.raises(TypeError):
            add(1, query, None)
    pairer.add(1, query, tuple(meta))
    assert pairer.opened == 1


class _Recorder:
    """What `DnsScan.python_on_udp_decoded` touches: its pairer's `add` and `_candidate`."""

    def __init__(self) -> None:
        self.calls: list = []
        self._pairer = self  # (python_on_udp_decoded calls self._pairer.add)

    def add(self, *args) -> None:
        self.calls.append(("add", args))

    def _candidate(self, *args) -> None:
        self.calls.append(("candidate", args))


def _decoded_calls(compiled: bool, items: list[tuple]) -> list:
    recorder = _Recorder()

    def python(*item):
        return DnsScan.python_on_udp_decoded(recorder, *item)

    on_udp_decoded = _COMPILED_DECODED(recorder.add, python, WELL_KNOWN) if compiled else python
    for item in items:
        try:
            recorder.calls.append(("returned", on_udp_decoded(*item)))
        except Exception as error:  # (both must raise the same)
            recorder.calls.append(("raised", type(error)))
    return recorder.calls


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 9),
            st.floats(0, 9),
            st.sampled_from(["10.0.0.1", "ff02::fb"]),
            st.sampled_from([53, 5353, 5355, 40000, 2**70, 53.0, [53]]),
            st.sampled_from(["10.0.0.2", "224.0.0.251"]),
            st.sampled_from([53, 5353, 40001, True]),
            st.one_of(
                st.tuples(st.integers(0, 65535), st.sampled_from(["dns", "mdns"]), st.just(())),
                st.just(None),
                st.just((1, "dns")),
                st.just([1, "dns", ()]),
            ),
        ),
        max_size=10,
    )
)
def test_a_workers_message_reaches_the_pairer_as_the_python_hands_it(items):
    """Messages on the DNS ports go to `add` with the Python's meta; those on other ports, and
    arguments of other shapes (a message that is not a 3-tuple, an unhashable port), to the
    Python, with the same calls and errors."""
    assert _decoded_calls(True, items) == _decoded_calls(False, items)


def test_the_scan_uses_the_compiled_hand_over(tmp_path):
    db = sqlite3.connect(tmp_path / "store.sqlite")
    DnsModule().create_tables(db)
    scan = DnsScan(db, {})
    assert scan.on_udp_decoded != scan.python_on_udp_decoded
    assert scan.on_udp_decoded.__self__[0] == scan._pairer.add


def _stored(compiled: bool, transactions: list[tuple], batch: int, row_batch: int) -> list:
    """What `_store_transaction` leaves in the scan's lists, and each flush it asked for."""
    lists: tuple[list, list, list, list] = ([], [], [], [])
    flushed: list = []

    def flush() -> None:
        flushed.append([list(each) for each in lists])
        for each in lists:
            each.clear()

    if compiled:
        store = _COMPILED_STORE(*lists, flush, batch, row_batch)
    else:
        scan = DnsScan.__new__(DnsScan)
        (scan._transactions, scan._answer_values, scan._extra_questions,
         scan._answers) = lists  # fmt: skip
        scan._flush_transactions = flush

        def store(row, extra, values):
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr("mcpcap.modules.dns.scan.BATCH", batch)
                patch.setattr("mcpcap.modules.dns.scan.ROW_BATCH", row_batch)
                return scan.python_store_transaction(row, extra, values)

    for row, extra, values in transactions:
        try:
            store(row, extra, values)
        except Exception as error:  # (both must raise the same)
            flushed.append(type(error))
    return [*flushed, [list(each) for each in lists]]


_QUESTIONS = st.lists(st.tuples(st.sampled_from(["a.example", "B.example"]), st.integers(1, 28)),
                      max_size=3)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.tuples(st.integers(1, 10**6), st.floats(0, 9)),
            st.one_of(_QUESTIONS.map(tuple), _QUESTIONS, st.just(()), st.just(None)),
            st.one_of(
                st.lists(st.sampled_from(["10.0.0.1", "x.example"]), max_size=4).map(tuple),
                st.just([]),
                st.just(7),
            ),
        ),
        max_size=12,
    ),
    st.sampled_from([1, 3, 5000]),
    st.sampled_from([1, 4, 50000]),
)
def test_a_transaction_is_stored_as_the_python_stores_it(transactions, batch, row_batch):
    """Each row, its answer values, its extra questions and answers under its id, a flush when
    either batch is full; arguments the Python cannot read raise the same."""
    assert _stored(True, transactions, batch, row_batch) == _stored(
        False, transactions, batch, row_batch
    )


def test_the_scan_stores_through_the_compiled_store(tmp_path):
    db = sqlite3.connect(tmp_path / "store.sqlite")
    DnsModule().create_tables(db)
    scan = DnsScan(db, {})
    assert scan._store_transaction != scan.python_store_transaction
    assert scan._pairer._emit is scan._store_transaction
