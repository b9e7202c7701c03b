"""`WorkerDecoder`'s C twin (`_worker.c`, its `compiled_call`) against `__call__`, its reference.

Both decoders get the same datagrams, in the same frames, and flush at the same places: each
call's value and each flush must be equal. The C side takes only the messages the decoder has
seen before and hands the rest to the Python: the tests also check that it took a fair share,
so the comparison is not all fallback.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpcap.core.decap import Segment
from mcpcap.modules.dns import decoder, scan
from mcpcap.modules.dns.scan import WorkerDecoder
from tests.modules.conn.flowkit import udp
from tests.twins import captures, segments

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
pytestmark = pytest.mark.skipif(
    scan._COMPILED_BIND is None, reason="the compiled code is turned off (MCPCAP_PURE_PYTHON)"
)

Datagram = tuple[int, float, Segment]


@pytest.fixture(autouse=True)
def _room_for_every_message(monkeypatch):
    """The fixtures' messages all remembered, whatever the production bound: what the C takes
    is then every repeated message, and the share below does not move with that bound."""
    monkeypatch.setattr(decoder, "_BRIEF_CACHE_BYTES", 64 << 20)


class _Twins:
    """A Python decoder and a compiled one, fed alike; `handed` counts the compiled one's
    fallbacks to Python."""

    def __init__(self) -> None:
        decoder.forget_seen()
        self.python = WorkerDecoder()
        self.compiled = WorkerDecoder()
        self.handed = self.calls = 0  # (calls: of datagrams on the DNS ports)
        python_call = self.compiled.__call__

        def fallback(frame: int, ts: float, seg: Segment):
            self.handed += {seg.sport, seg.dport} & scan.WELL_KNOWN != set()
            return python_call(frame, ts, seg)

        self.compiled.compiled_call = scan._COMPILED_BIND(
            self.compiled, fallback, *decoder.seen_briefs(), decoder.remember_brief
        )

    def feed(self, datagrams: list[Datagram], flush_every: int = 0) -> None:
        for count, (frame, ts, seg) in enumerate(datagrams, start=1):
            self.calls += {seg.sport, seg.dport} & scan.WELL_KNOWN != set()
            # the compiled one first: when it meets a message first, its fallback decodes it
            assert self.compiled.compiled_call(frame, ts, seg) == self.python(frame, ts, seg)
            if flush_every and count % flush_every == 0:
                assert self.compiled.flush() == self.python.flush()
        assert self.compiled.flush() == self.python.flush()


def _datagrams(path: Path) -> list[Datagram]:
    """The UDP datagrams of a capture, numbered and timed as a scan does."""
    return [found for found in segments(path) if found[2].transport == "udp"]


@pytest.fixture(scope="module")
def capture_datagrams(tmp_path_factory) -> list[list[Datagram]]:
    """The fixture captures' datagrams, and a small benchmark capture's, capture by capture."""
    paths = captures(
        tmp_path_factory.mktemp("generated"), ("captures", "dhcp_icmp", "gaps"), seed=5
    )
    return [found for found in (_datagrams(path) for path in paths) if found]


@pytest.mark.parametrize("flush_every", [0, 1, 97])
def test_the_same_values_and_flushes_on_every_capture(capture_datagrams, flush_every):
    handed = calls = 0
    for datagrams in capture_datagrams:
        twins = _Twins()
        twins.feed(datagrams, flush_every)
        handed += twins.handed
        calls += twins.calls
    assert calls > 1500
    assert handed < calls * 0.1, (handed, calls)  # the C side answered nearly all


def test_the_same_values_and_flushes_on_the_corpus(corpus):
    paths = sorted(path for path in corpus.rglob("*") if ".pcap" in path.name)
    assert paths
    rng = random.Random(5)
    for path in paths:
        datagrams = _datagrams(path)
        if datagrams:
            _Twins().feed(datagrams, rng.choice((0, 16, 4096)))


QUERY = bytes.fromhex("12340100000100000000000003777777076578616d706c6503636f6d0000010001")
ANSWER = bytes.fromhex(
    "12348180000100010000000003777777076578616d706c6503636f6d0000010001"
    "c00c000100010000012c00045db8d822"
)
NXDOMAIN = bytes(ANSWER[:3]) + b"\x83" + ANSWER[4:]
MALFORMED = QUERY[:-3]  # the question is cut short
PORTS = ((40000, 53), (53, 40000), (5353, 5353), (40001, 5355), (5355, 40001), (40000, 40001))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                (QUERY, ANSWER, NXDOMAIN, MALFORMED, b"", QUERY[:11], bytearray(QUERY))
            ),
            st.sampled_from(PORTS),
            st.integers(0, 2),  # frames go forward by 0 (another message of the frame) to 2
            st.sampled_from((0.0, 0.5, 1.0, -1.5, 1e16)),
            st.integers(0, 0xFFFF),  # the message's id
        ),
        max_size=40,
    ),
    st.integers(0, 7),
)
def test_the_same_values_for_any_mix_of_messages(messages, flush_every):
    """Seen and new messages, the three protocols and another port, several messages in one
    frame (the index within the frame goes on across the two sides), NXDOMAIN, malformed,
    empty and short messages, a bytearray, negative times and times past what the C takes."""
    datagrams: list[Datagram] = []
    frame = 1
    for payload, (sport, dport), step, ts, ident in messages:
        frame += step
        message = type(payload)(ident.to_bytes(2, "big") + bytes(payload[2:])) if payload else b""
        seg = udp(("10.0.0.1", sport), ("10.0.0.2", dport), message)
        datagrams.append((frame, 1_700_000_000.25 + ts if abs(ts) < 10 else ts, seg))
    twins = _Twins()
    twins.feed(datagrams + datagrams, flush_every)  # (the second time round, all seen)


def test_new_and_repeated_messages_are_answered_in_c():
    seg = udp(("10.0.0.1", 40000), ("10.0.0.2", 53), QUERY)
    twins = _Twins()
    twins.feed([(frame, 5.0, seg) for frame in range(1, 11)])
    assert twins.handed == 0  # the first one too: decoded, remembered, then taken in C
    assert bytes(QUERY[2:]) in decoder.seen_briefs()[0]


def test_mdns_and_dns_are_remembered_apart():
    """The same bytes decode differently as mDNS: each protocol's first message is decoded."""
    dns = udp(("10.0.0.1", 40000), ("10.0.0.2", 53), QUERY)
    mdns = udp(("10.0.0.1", 5353), ("224.0.0.251", 5353), QUERY)
    twins = _Twins()
    twins.feed([(1, 1.0, dns), (2, 1.0, mdns), (3, 1.0, dns), (4, 1.0, mdns)])
    assert twins.handed == 0
    dns_seen, mdns_seen = decoder.seen_briefs()
    assert bytes(QUERY[2:]) in dns_seen and bytes(QUERY[2:]) in mdns_seen


def test_malformed_messages_go_to_the_python():
    """What the C does not count itself is decoded (and remembered) once, then handed on; an
    NXDOMAIN response is counted in C, its question names too."""
    twins = _Twins()
    for frame, payload in enumerate((MALFORMED, NXDOMAIN, MALFORMED, NXDOMAIN), start=1):
        twins.feed([(frame, 1.0, udp(("10.0.0.2", 53), ("10.0.0.1", 40000), payload))])
    assert twins.handed == 2


def test_an_nxdomain_responses_names_are_counted_in_lower_case():
    """`MessageCounts.add` counts an NXDOMAIN response's question names, lowered: the C does
    the same, without the Python."""
    shouted = NXDOMAIN.replace(b"\x03www\x07example", b"\x03WwW\x07Example")
    twins = _Twins()
    datagrams = [
        (frame, 2.0, udp(("10.0.0.2", 53), ("10.0.0.1", 40000), payload))
        for frame, payload in enumerate((NXDOMAIN, shouted, shouted), start=1)
    ]
    for frame, ts, seg in datagrams:
        twins.calls += 1
        assert twins.compiled.compiled_call(frame, ts, seg) == twins.python(frame, ts, seg)
    assert twins.handed == 0
    assert twins.compiled._counts.nxdomain_names == {"www.example.com": 3}
    assert twins.compiled.flush() == twins.python.flush()


def test_rows_the_c_cannot_write_as_marshal_does_go_to_the_python():
    """A frame number past 4-byte ints and an address beyond ASCII are written otherwise by
    marshal: those messages go to the Python, the others around them stay in C, and the chunk
    is the same bytes either way."""
    twins = _Twins()
    plain = udp(("10.0.0.1", 40000), ("10.0.0.2", 53), QUERY)
    accented = udp(("hôte", 40000), ("10.0.0.2", 53), QUERY)
    datagrams = [(1, 1.0, plain), (2, 1.0, accented), (3, 1.0, plain), (2**31, 1.0, plain)]
    twins.feed([*datagrams, (2**31 + 1, 1.0, plain)])
    assert twins.handed == 3  # the address beyond ASCII, and the two frames past 2^31 - 1
