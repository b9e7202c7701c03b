"""The brief decode's C twin (`_brief.c`) against `python_decode_brief`, its reference.

Every message goes through both; the two briefs must be equal. The C side makes the brief of
a common message and hands every other to the Python: the tests also check that it made a fair
share, so the comparison is not all fallback, and that the cases it must leave to the Python
(each malformation, escapes, other types) are indeed left.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpcap.modules.dns import decoder
from mcpcap.modules.dns.decoder import python_decode_brief, python_remember_brief
from tests.modules.dns.test_decoder import TYPICAL, header, opt, option, question, rr, wire_name
from tests.modules.dns.test_decoder_fuzz import VALID
from tests.twins import captures, segments

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
pytestmark = pytest.mark.skipif(
    decoder._decode_brief is python_decode_brief,
    reason="the compiled code is turned off (MCPCAP_PURE_PYTHON)",
)
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class _Twin:
    """The compiled decode with a fallback that counts what it was handed."""

    def __init__(self) -> None:
        from mcpcap.modules.dns import _brief

        self.handed = 0

        def fallback(buf: bytes, mdns: bool) -> tuple:
            self.handed += 1
            return python_decode_brief(buf, mdns)

        self.decode = _brief.bind(fallback, decoder._query_question)

    def check(self, buf: bytes, mdns: bool = False) -> tuple:
        brief = self.decode(buf, mdns)
        assert brief == python_decode_brief(buf, mdns)
        return brief


def _payloads(path: Path) -> list[bytes]:
    """Every UDP payload of a capture (DNS or not: the rest is good noise)."""
    return [bytes(seg.payload) for _, _, seg in segments(path)
            if seg.transport == "udp" and seg.payload]  # fmt: skip


def _on_dns_ports(path: Path) -> list[bytes]:
    return [bytes(seg.payload) for _, _, seg in segments(path)
            if seg.transport == "udp" and 53 in (seg.sport, seg.dport) and seg.payload]  # fmt: skip


@pytest.fixture(scope="module")
def paths(tmp_path_factory) -> list[Path]:
    return captures(
        tmp_path_factory.mktemp("generated"), ("captures", "dhcp_icmp", "gaps"), seed=11
    )


def test_the_same_briefs_for_every_datagram_of_the_captures(paths):
    twin = _Twin()
    checked = 0
    for path in paths:
        for payload in _payloads(path):
            for mdns in (False, True):
                twin.check(payload, mdns)
                checked += 1
    assert checked > 4000


def test_the_c_makes_most_briefs_of_a_typical_capture(paths):
    """The benchmark capture's DNS: all but the HTTPS answers (left to the Python)."""
    twin = _Twin()
    messages = _on_dns_ports(paths[0])
    for payload in messages:
        twin.check(payload)
    assert len(messages) > 1000
    assert twin.handed < len(messages) * 0.1, (twin.handed, len(messages))


def test_the_same_briefs_on_the_corpus(corpus):
    paths = sorted(path for path in corpus.rglob("*") if ".pcap" in path.name)
    assert paths
    twin = _Twin()
    for path in paths:
        for payload in _payloads(path):
            twin.check(payload, mdns=False)
            twin.check(payload, mdns=True)


def _answer(*records: bytes, flags: int = 0x8180, qname: str = "www.example.com", ar: int = 0,
            ns: int = 0, qtype: int = 1, qclass: int = 1) -> bytes:  # fmt: skip
    body = question(wire_name(qname), qtype, qclass) + b"".join(records)
    return header(flags=flags, qd=1, an=len(records) - ar - ns, ns=ns, ar=ar) + body


NAME_AT_12 = b"\xc0\x0c"
SOA = (
    wire_name("ns.example.com") + wire_name("h.example") + struct.pack("!5I", 1, 2, 3, 4, 2**32 - 1)
)
SOA_ANSWER = _answer(rr(wire_name("example.com"), 6, SOA), flags=0x8183, ns=1)  # NXDOMAIN
MADE_IN_C = [
    TYPICAL,
    header(flags=0x0100, qd=1) + question(wire_name("WWW.Example.COM"), 28),  # a query
    _answer(rr(NAME_AT_12, 1, bytes(4))),
    _answer(rr(NAME_AT_12, 28, bytes(15) + b"\x01"), qname="Mixed.Case.example"),
    _answer(rr(NAME_AT_12, 28, bytes.fromhex("20010db8000000000000ff0000420001"))),
    _answer(rr(NAME_AT_12, 5, b"\x03CDN\x07example\x03net\x00")),  # values lowered
    _answer(rr(NAME_AT_12, 12, b"\x04host\xc0\x10"), qtype=12),
    _answer(rr(NAME_AT_12, 2, NAME_AT_12), qtype=2),
    _answer(rr(NAME_AT_12, 15, b"\x00\x0a\x04mail\xc0\x10"), qtype=15),
    _answer(rr(NAME_AT_12, 16, b"\x05a b=c\x00\x03xyz"), qtype=16),  # spaces, an empty string
    SOA_ANSWER,
    _answer(rr(NAME_AT_12, 1, bytes(4)), opt(ext_rcode=1), ar=1, flags=0x8182),  # rcode 18
    _answer(rr(b"\xc0\x2d", 1, bytes(4)), rr(NAME_AT_12, 5, b"\x01a" + b"\xc0\x0c")),  # forward
    _answer(flags=0x8182),  # no records at all: rejected
    _answer(rr(NAME_AT_12, 1, bytes(4), rclass=0x8001), qclass=0x8001),  # mDNS bits below
    _answer(rr(NAME_AT_12, 1, bytes(4)), qname=".".join(["a" * 63] * 3) + "." + "b" * 61),
    header(flags=0x8180, qd=1) + question(wire_name("example.com")) + b"trailing bytes",
]
LEFT_TO_PYTHON = [
    header(qd=0),
    header(qd=2) + question(wire_name("a")) + question(wire_name("b")),
    header(qd=1) + question(wire_name("a.b"))[:-1],  # truncated question
    header(qd=1, an=1) + question(wire_name("a")),  # a count past the message
    _answer(rr(NAME_AT_12, 1, bytes(5))),  # bad A
    _answer(rr(NAME_AT_12, 28, bytes(4))),  # bad AAAA
    _answer(rr(NAME_AT_12, 5, b"\x01a\xc0\x0c\x00")),  # a name that does not end the RDATA
    _answer(rr(NAME_AT_12, 65, b"\x00\x01\x00")),  # another type (HTTPS)
    _answer(rr(NAME_AT_12, 16, b"")),  # TXT without strings
    _answer(rr(NAME_AT_12, 1, bytes(4)), opt(option(10, bytes(8))), opt(ext_rcode=3), ar=2),
    _answer(rr(NAME_AT_12, 1, bytes(4)), rr(NAME_AT_12, 41, b"", ttl=1 << 24), ar=1),  # owner
    _answer(rr(NAME_AT_12, 1, bytes(4), rclass=3)),  # Chaosnet's A
    _answer(rr(NAME_AT_12, 16, b'\x02"\\')),  # a string that needs escapes
    _answer(rr(NAME_AT_12, 16, b"\x05abc")),  # a string past its RDATA
    _answer(rr(NAME_AT_12, 16, b"\x02a\x1f")),  # bytes written as \DDD
    _answer(rr(NAME_AT_12, 16, b"\x02a\x7f")),
    _answer(rr(NAME_AT_12, 5, b"\x03a b\x00")),
    _answer(rr(NAME_AT_12, 5, b"\x02a\x7f\x00")),
    _answer(rr(NAME_AT_12, 5, b"\x03a.b\x00")),  # a label that needs escapes
    _answer(rr(NAME_AT_12, 5, b"\x02\x00\xff\x00")),
    _answer(rr(NAME_AT_12, 5, b"\xc0\x0c"[:1] + b"\xff")),  # a pointer past the message
    _answer(rr(b"\xc0\x2a", 5, b"\xc0\x2d")),  # a compression loop
    _answer(rr(NAME_AT_12, 5, b"\x80x")),  # a reserved label type
    _answer(rr(NAME_AT_12, 1, bytes(4)), qname=".".join(["a" * 63] * 3) + "." + "b" * 62),
    _answer(rr(NAME_AT_12, 6, b"\x00\x00" + bytes(19)), ns=1),  # a short SOA
    _answer(rr(NAME_AT_12, 15, b"\x00"), qtype=15),  # a short MX
    _answer(rr(NAME_AT_12, 41, b""), opt()),  # OPT outside the additional section
    _answer(rr(NAME_AT_12, 1, bytes(4)), opt(b"\x00\x0a\x00\x09" + bytes(8)), ar=1),  # framing
    _answer(rr(NAME_AT_12, 1, b"", rclass=255)),  # an UPDATE's empty RDATA
    _answer(*[rr(NAME_AT_12, 1, bytes(4))] * 257),  # more records than a brief keeps
    header(flags=0x8180, qd=1, an=1) + question(wire_name("a")) + rr(NAME_AT_12, 1, b"")[:8],
    header()[:11],
]


@pytest.mark.parametrize("buf", MADE_IN_C)
@pytest.mark.parametrize("mdns", [False, True])
def test_common_messages_are_made_in_c(buf, mdns):
    twin = _Twin()
    brief = twin.check(buf, mdns)
    assert twin.handed == 0
    assert brief[4] is None


@pytest.mark.parametrize("buf", LEFT_TO_PYTHON)
def test_the_rest_is_left_to_the_python(buf):
    twin = _Twin()
    twin.check(buf)
    assert twin.handed == 1


@FUZZ
@given(
    st.sampled_from(MADE_IN_C + LEFT_TO_PYTHON + VALID),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=6),
    st.integers(0, 700),
    st.booleans(),
)
def test_mutated_messages_give_the_same_briefs(
    base: bytes, edits: list[tuple[int, int]], cut: int, mdns: bool
) -> None:
    buf = bytearray(base)
    for where, value in edits:
        buf[where % len(buf)] = value
    _Twin().check(bytes(buf[:cut]), mdns)


@FUZZ
@given(st.binary(max_size=300), st.booleans())
def test_random_bytes_behind_a_one_question_header_give_the_same_briefs(body, mdns):
    _Twin().check(header(flags=0x8180, qd=1, an=2, ar=1) + body, mdns)


def test_a_bytearray_goes_to_the_python():
    twin = _Twin()
    assert twin.decode(bytearray(TYPICAL), False) == python_decode_brief(bytes(TYPICAL), False)
    assert twin.handed == 1


def _cache_state() -> tuple:
    """decoder.py's remembered briefs: both generations of both kinds, and the byte counter."""
    return (dict(decoder._briefs_seen), dict(decoder._mdns_briefs_seen),
            dict(decoder._briefs_older), dict(decoder._mdns_briefs_older),
            decoder._brief_bytes)  # fmt: skip


def _remembered_by(remember, messages: list[tuple[bytes, bool]]) -> tuple[list, tuple]:
    """What `remember` gives for each message from an empty cache, and the cache after them."""
    decoder.forget_seen()
    values = [remember(buf, mdns) for buf, mdns in messages]
    return values, _cache_state()


MESSAGES = st.tuples(
    st.sampled_from([*MADE_IN_C, *VALID, TYPICAL]), st.integers(0, 0xFFFF), st.booleans()
)


@given(st.lists(MESSAGES, max_size=40), st.integers(12, 400))
@settings(max_examples=150, deadline=None)
def test_remember_brief_keeps_what_the_python_keeps(messages, bound) -> None:
    """The compiled `remember_brief` gives the same values and leaves the same generations and
    counter as `python_remember_brief`, across generation turns (a small bound) and ids."""
    from mcpcap.modules.dns import _brief

    wire = [(_with_id(base, ident), mdns) for base, ident, mdns in messages if len(base) >= 12]
    compiled = _brief.bind_remember(vars(decoder))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(decoder, "_BRIEF_CACHE_BYTES", bound)
        try:
            assert _remembered_by(compiled, wire) == _remembered_by(python_remember_brief, wire)
        finally:
            decoder.forget_seen()


def _with_id(buf: bytes, ident: int) -> bytes:
    return ident.to_bytes(2, "big") + buf[2:]


def test_remember_brief_turns_generations_and_finds_the_older_one(monkeypatch) -> None:
    """Past the bound the current generation becomes the older one: a message found there
    comes back to the current one without a decode."""
    from mcpcap.modules.dns import _brief

    decodes: list[bytes] = []

    def counting(buf: bytes, mdns: bool) -> tuple:
        decodes.append(buf)
        return python_decode_brief(buf, mdns)

    monkeypatch.setattr(decoder, "_decode_brief", counting)
    monkeypatch.setattr(decoder, "_BRIEF_CACHE_BYTES", len(TYPICAL) + 1)
    remember = _brief.bind_remember(vars(decoder))
    other = next(buf for buf in MADE_IN_C if buf[2:] != TYPICAL[2:])
    decoder.forget_seen()
    try:
        first = remember(TYPICAL, False)
        remember(other, False)  # past the bound: TYPICAL's generation becomes the older one
        assert TYPICAL[2:] in decoder._briefs_older and TYPICAL[2:] not in decoder._briefs_seen
        assert remember(_with_id(TYPICAL, 99), False) is first  # from the older generation
        assert decodes == [TYPICAL, other]
        assert decoder._brief_bytes == len(TYPICAL)
    finally:
        decoder.forget_seen()


def test_remember_brief_refuses_what_it_cannot_remember() -> None:
    from mcpcap.modules.dns import _brief

    remember = _brief.bind_remember(vars(decoder))
    with pytest.raises(TypeError):
        remember(TYPICAL[:11], False)
    with pytest.raises(TypeError):
        remember(bytearray(TYPICAL), False)
