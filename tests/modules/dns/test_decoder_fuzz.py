"""The decoder never raises and does bounded work, whatever the bytes."""

from __future__ import annotations

import struct
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpcap.modules.dns import decoder
from mcpcap.modules.dns.decoder import MALFORMED_REASONS, DnsMessage, decode_message
from mcpcap.modules.dns.records import message_record
from tests.modules.dns.test_decoder import TYPICAL, header, opt, option, question, rr, wire_name

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

VALID = [
    TYPICAL,
    header(flags=0x8400, qd=1, an=1) + question(wire_name("x.local"), 1, 0x8001)
    + rr(b"\xc0\x0c", 16, b"\x03a=b", rclass=0x8001),
    header(flags=5 << 11, qd=1, ns=1) + question(wire_name("example.com"), 6)
    + rr(wire_name("h.example.com"), 255, b"", rclass=255, ttl=0),
    header(flags=0x8000, qd=1, an=1, ar=1) + question(wire_name("example.com"), 65)
    + rr(b"\xc0\x0c", 65, b"\x00\x01\x00\x00\x01\x00\x03\x02h2\x00\x04\x00\x04\x01\x02\x03\x04")
    + opt(option(8, b"\x00\x01\x18\x00\xc0\x00\x02") + option(10, bytes(8)) + option(15, b"\0\1")),
    header(flags=0x8000, qd=1, an=2) + question(wire_name("example.com"), 46)
    + rr(b"\xc0\x0c", 46, struct.pack("!HBBIIIH", 1, 8, 2, 60, 1, 2, 3) + b"\xc0\x0c\x01")
    + rr(b"\xc0\x0c", 47, b"\x01z\xc0\x0c\x00\x01\x40"),
    header(flags=0x8000, qd=1, an=3, ar=2) + question(wire_name("example.com"), 29)
    + rr(b"\xc0\x0c", 29, bytes([0, 0x12, 0x16, 0x13]) + bytes(12))
    + rr(b"\xc0\x0c", 42, b"\x00\x01\x18\x03\xc0\x00\x02")
    + rr(b"\xc0\x0c", 45, b"\x0a\x03\x02\xc0\x0c\x01")
    + rr(wire_name("key"), 250, wire_name("hmac-sha256") + bytes(6) + b"\x01\x2c\x00\x01\xff"
         + b"\x00\x01\x00\x00\x00\x00", rclass=255, ttl=0)
    + opt(option(13, wire_name("example.com")) + option(3, b"ns1") + option(14, b"\x00\x01")
          + option(12, bytes(4)) + option(9, b"\x00\x00\x00\x01")),
]  # fmt: skip


def check(msg: DnsMessage) -> None:
    """Invariants every result keeps, valid or not."""
    assert isinstance(msg, DnsMessage)
    assert msg.malformed is None or msg.malformed in MALFORMED_REASONS
    assert 0 <= msg.rcode < 4096 and 0 <= msg.opcode < 16
    for q in msg.questions:
        assert isinstance(q[0], str) and len(q) == 4
    for section in (msg.answers, msg.authority, msg.additional):
        for record in section:
            assert len(record) == 6 and isinstance(record[4], str)
            assert 0 <= record[3] < 2**32
    record = message_record(
        msg, frame=1, ts=0.0, src="a", sport=1, dst="b", dport=2, transport="udp", protocol="dns"
    )
    assert record["malformed"] == msg.malformed


@FUZZ
@given(st.binary(max_size=600), st.booleans())
def test_random_bytes_never_raise(buf: bytes, mdns: bool) -> None:
    check(decode_message(buf, mdns=mdns))


@FUZZ
@given(st.binary(min_size=12, max_size=300))
def test_random_bodies_behind_a_plausible_header_never_raise(body: bytes) -> None:
    check(decode_message(header(flags=0x8180, qd=1, an=2, ns=1, ar=1) + body[12:]))


@FUZZ
@given(
    st.sampled_from(VALID),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=8),
    st.integers(0, 400),
    st.booleans(),
)
def test_mutated_valid_messages_never_raise(
    base: bytes, edits: list[tuple[int, int]], cut: int, mdns: bool
) -> None:
    buf = bytearray(base)
    for where, value in edits:
        buf[where % len(buf)] = value
    check(decode_message(bytes(buf[: max(cut, 12)]), mdns=mdns))


def test_valid_samples_decode_cleanly() -> None:
    for buf in VALID:
        msg = decode_message(buf)
        assert msg.malformed is None, msg
        assert msg.questions


def _timed(buf: bytes) -> tuple[DnsMessage, float]:
    """The decode and its CPU time (not wall time: other processes on the machine don't count)."""
    start = time.process_time()
    msg = decode_message(buf)
    return msg, time.process_time() - start


def test_huge_counts_with_few_bytes_stop_early() -> None:
    msg, seconds = _timed(header(qd=0xFFFF, an=0xFFFF, ns=0xFFFF, ar=0xFFFF) + b"\0" * 5)
    assert msg.malformed == "count_exceeds_message"
    assert seconds < 0.2


def test_long_pointer_chain_is_cut_at_the_hop_limit() -> None:
    # 2000 pointers, each to the one before it; the question uses the last one
    chain = bytearray(header(qd=1))
    chain += b"\0"  # root at 12
    for i in range(2000):
        chain += struct.pack("!H", 0xC000 | (12 if i == 0 else 13 + 2 * (i - 1)))
    last = len(chain) - 2
    buf = bytes(header(qd=1, an=0)) + bytes(chain[12:])
    buf = buf[:12] + struct.pack("!H", 0xC000 | last) + b"\0\1\0\1" + buf[12:]
    msg, seconds = _timed(buf)
    assert msg.malformed == "compression_loop"
    assert seconds < 0.2


def test_worst_case_64k_message_is_linear() -> None:
    """Many records, each owner a pointer to a different offset inside long names."""
    long_name = (b"\x01a" * 126) + b"\0"  # 253 octets, 126 label offsets
    body = bytearray(question(long_name))
    records = 0
    while len(body) < 65000:
        target = 12 + 2 * (records % 126)
        body += rr(struct.pack("!H", 0xC000 | target), 5, struct.pack("!H", 0xC000 | target + 2))
        records += 1
    buf = header(flags=0x8000, qd=1, an=records) + bytes(body)
    msg, seconds = _timed(buf)
    assert msg.malformed is None
    assert len(msg.answers) == records
    assert seconds < 1.0


def test_many_distinct_long_names_stay_linear() -> None:
    """Each record owner: 60 fresh labels then a pointer into the previous record's name."""
    parts = [header(flags=0x8000, an=0)]
    size = 12
    records = 0
    previous = 0
    while size < 60000:
        owner = (b"\x01b" * 60) + (struct.pack("!H", 0xC000 | previous) if previous else b"\0")
        record = rr(owner, 1, b"\x01\x02\x03\x04")
        previous = size
        parts.append(record)
        size += len(record)
        records += 1
    buf = bytearray(b"".join(parts))
    buf[6:8] = struct.pack("!H", records)
    msg, seconds = _timed(bytes(buf))
    assert msg.malformed == "name_too_long"  # the third name in a row passes 255 octets
    assert len(msg.answers) == 2
    assert seconds < 0.2


def _decoded(msg: DnsMessage) -> tuple:
    return (msg.questions, msg.answers, msg.authority, msg.additional, msg.malformed, msg.rcode)


def _cold(buf: bytes, mdns: bool) -> tuple:
    decoder._questions_seen.clear()
    return _decoded(decode_message(buf, mdns=mdns))


# Questions the cache must tell apart: a zero byte inside a label, a pointer at offset 12, a name
# cut short, the same name in mDNS (unicast bit) and plain DNS, a different type.
TRICKY_QUESTIONS = [
    header(qd=1) + question(wire_name(b"a\x00b")),
    header(qd=1) + question(wire_name(b"a\x00c")),
    header(qd=1) + question(b"\xc0\x0c"),
    header(qd=1) + question(wire_name("example.com"), 1, 0x8001),
    header(qd=1) + question(wire_name("example.com"), 28, 1),
    header(qd=1) + question(wire_name("example.com"))[:-2],
    header(qd=1, an=1) + question(wire_name("example.com")) + rr(b"\xc0\x0c", 1, bytes(4)),
    header(qd=1, an=1) + question(wire_name("example.com")) + rr(b"\xc0\x0e", 1, bytes(4)),
]


@FUZZ
@given(st.lists(st.sampled_from(TRICKY_QUESTIONS + VALID), min_size=2, max_size=12), st.booleans())
def test_remembered_questions_decode_exactly_like_fresh_ones(bufs: list[bytes], mdns: bool) -> None:
    decoder._questions_seen.clear()
    warm = [_decoded(decode_message(buf, mdns=mdns)) for buf in bufs]  # the cache fills up
    assert warm == [_cold(buf, mdns) for buf in bufs]


@FUZZ
@given(st.sampled_from(VALID), st.binary(min_size=1, max_size=8), st.booleans())
def test_a_remembered_question_then_other_records(buf: bytes, tail: bytes, mdns: bool) -> None:
    decoder._questions_seen.clear()
    decode_message(buf, mdns=mdns)
    changed = buf[: -len(tail)] + tail if len(tail) < len(buf) - 12 else buf
    assert _decoded(decode_message(changed, mdns=mdns)) == _cold(changed, mdns)


def _without_opt_data(msg: DnsMessage) -> tuple:
    additional = [rr if rr[1] != 41 else (*rr[:4], "", rr[5]) for rr in msg.additional]
    return (*_decoded(msg)[:3], additional, msg.malformed, msg.rcode)


# OPT records a brief decode only checks: options that fit, overrun, stop mid-header, or none
OPT_CASES = [
    header(qd=1, ar=1) + question(wire_name("example.com")) + opt(option(10, bytes(8))),
    header(qd=1, ar=1) + question(wire_name("example.com")) + opt(b"\x00\x0a\x00\x09" + bytes(8)),
    header(qd=1, ar=1) + question(wire_name("example.com")) + opt(b"\x00\x0a\x00"),
    header(qd=1, ar=1) + question(wire_name("example.com")) + opt(ext_rcode=1, flags=0x8000),
    header(qd=1, ar=2) + question(wire_name("example.com")) + opt(ext_rcode=2) * 2,
]


@FUZZ
@given(st.sampled_from(OPT_CASES + VALID), st.binary(max_size=6), st.integers(0, 200))
def test_a_brief_decode_equals_the_full_one_but_for_opt_data(
    buf: bytes, tail: bytes, cut: int
) -> None:
    """Everything but the OPT record's text is decoded alike, malformed reason and extended
    rcode included, whatever the bytes after the question section."""
    changed = (buf + tail)[: max(12, len(buf) + len(tail) - cut)]
    full, brief = decode_message(changed), decode_message(changed, brief=True)
    assert _without_opt_data(brief) == _without_opt_data(full)
    if full.edns is not None:
        assert brief.edns == {"ext_rcode": full.edns["ext_rcode"]}


def _fresh_brief(buf: bytes, mdns: bool) -> tuple:
    decoder.forget_seen()
    return decoder.decode_brief(buf, mdns=mdns)


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.sampled_from(OPT_CASES + TRICKY_QUESTIONS + VALID + [b"", b"\x12", bytes(11)]),
            st.integers(0, 0xFFFF),  # the id, which a remembered message must not keep
            st.sampled_from([None, 0x0000, 0x8000, 0x8403, 0x2800]),  # another flags word
            st.binary(max_size=3),  # more bytes at the end
            st.booleans(),
        ),
        min_size=2,
        max_size=12,
    )
)
def test_remembered_messages_decode_exactly_like_fresh_ones(cases: list) -> None:
    """A brief looked up from an earlier message with the same bytes after the id is the brief
    a fresh decode gives: the message's own id and bytes, everything else equal."""
    decoder.forget_seen()
    bufs = [
        (
            struct.pack("!H", ident) + (buf[2:] if flags is None else _flagged(buf, flags)) + tail,
            mdns,
        )
        for buf, ident, flags, tail, mdns in cases
    ]
    warm = [decoder.decode_brief(buf, mdns=mdns) for buf, mdns in bufs]  # the cache fills up
    assert warm == [_fresh_brief(buf, mdns) for buf, mdns in bufs]
    assert all(brief[9] is buf for brief, (buf, _) in zip(warm, bufs, strict=True))


def _flagged(buf: bytes, flags: int) -> bytes:
    """`buf` after its id, with another flags word."""
    return struct.pack("!H", flags) + buf[4:] if len(buf) >= 4 else buf[2:]


def _variant(n: int) -> bytes:
    """TYPICAL with other bytes after the id (a different flags word for each `n`)."""
    return TYPICAL[:2] + struct.pack("!H", n) + TYPICAL[4:]


def test_remembered_messages_are_bounded_by_their_bytes(monkeypatch) -> None:
    monkeypatch.setattr(decoder, "_BRIEF_CACHE_BYTES", 10 * len(TYPICAL))
    decoder.forget_seen()
    for ident in range(100):  # distinct bytes after the id: a different flags word each time
        decoder.decode_brief(_variant(ident))
        assert len(decoder._briefs_seen) <= 10
        assert len(decoder._briefs_older) <= 10  # the generation before: bounded alike


def test_a_message_of_the_generation_before_comes_back_without_a_decode(monkeypatch) -> None:
    """When the remembered messages pass their bound they become the older generation; one of
    them seen again is looked up there (and is current again), one of the generation before
    that is decoded again."""
    monkeypatch.setattr(decoder, "_BRIEF_CACHE_BYTES", 10 * len(TYPICAL))
    decodes = []
    real = decoder._decode_brief
    monkeypatch.setattr(
        decoder, "_decode_brief", lambda buf, mdns: decodes.append(buf) or real(buf, mdns)
    )
    decoder.forget_seen()
    for n in range(15):  # the 11th message turns the generation: 0-9 are the older one
        decoder.decode_brief(_variant(n))
    assert len(decodes) == 15
    again = decoder.decode_brief(TYPICAL[:1] + b"\x77" + _variant(3)[2:])  # another id
    assert len(decodes) == 15  # found in the older generation
    assert again == _fresh_brief(TYPICAL[:1] + b"\x77" + _variant(3)[2:], False)
    assert _variant(3)[2:] in decoder._briefs_seen  # current again
    for n in range(100, 130):  # two more turns: 0-9 are gone
        decoder.decode_brief(_variant(n))
    decodes.clear()
    decoder.decode_brief(_variant(5))
    assert decodes == [_variant(5)]


def test_the_same_bytes_are_remembered_apart_as_mdns_and_dns() -> None:
    buf = VALID[1]  # a question and a record with the mDNS top bit in their class
    decoder.forget_seen()
    warm = [decoder.decode_brief(buf, mdns=mdns) for mdns in (True, False, True)]
    assert warm == [_fresh_brief(buf, mdns) for mdns in (True, False, True)]
    assert warm[0] != warm[1]
