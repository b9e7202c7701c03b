"""The lean DNS message decoder (RFC 1035 4.1, RFC 6891 EDNS, RFC 2136 UPDATE, RFC 6762 mDNS).

This is the hot path: one call per DNS message in a capture. It never raises, does O(N) work
for N bytes, and produces tuples rather than objects:

- question: (name, type, class, unicast_response)
- record:   (name, type, class, ttl, data, cache_flush)

A message that cannot be decoded to the end keeps everything decoded before the problem and
names it in `malformed` with one word from `MALFORMED_REASONS`. Bytes after the last counted
record are tolerated, as tshark does and as RFC 1035 does not forbid them.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable

from mcpcap.core import fastpath
from mcpcap.modules.dns.domains import registered_domain
from mcpcap.modules.dns.names import TRUNCATED, NameCache, WireError, read_name
from mcpcap.modules.dns.pairing import lowered, message_view
from mcpcap.modules.dns.rdata import FORMATTERS, generic, parse_opt
from mcpcap.modules.dns.store_schema import ITEM_SEPARATOR, LIST_MARK, answers_digest

Question = tuple[str, int, int, bool]
Record = tuple[str, int, int, int, str, bool]

MALFORMED_REASONS = (
    "truncated_header",
    "truncated_question",
    "truncated_record",
    "count_exceeds_message",
    "compression_loop",
    "bad_pointer",
    "name_too_long",
    "bad_label_type",
    "bad_rdata",
    "bad_opt",  # RFC 6891 6.1.1: a second OPT record, one outside the additional section or
    # not owned by the root (a FORMERR): only the first OPT of the additional section counts
    "internal_error",
)

_HEADER = struct.Struct("!6H")
_QUESTION_TAIL = struct.Struct("!2H")
_RR_HEADER = struct.Struct("!HHIH")
_U16 = struct.Struct("!H")
_OPT = 41
_CLASS_IN = 1
_CLASS_NONE = 254
_CLASS_ANY = 255
# bound once: module globals and attribute lookups cost in the per-record loop
_formatter = FORMATTERS.get
# Recently seen question sections (one uncompressed name, type and class), by their wire bytes:
# a capture asks the same questions over and over, and a dictionary look-up costs much less
# than decoding the name again. Bounded; cleared when full.
_QUESTION_CACHE_SIZE = 8192
_questions_seen: dict[tuple[bytes, bool], tuple[Question, int]] = {}
_query_questions: dict[Question, tuple] = {}
# Recently decoded messages, by their bytes after the id (see `decode_brief`), in two
# generations: when the current one's messages pass the bound, it becomes the older one and the
# older one is dropped; a message found in the older one comes back to the current one. What a
# message decodes to is several times its size (2 MiB of messages held 18 MiB in a span
# worker), so the bound is small; the older generation keeps the messages a capture repeats
# across the turn, which a cache emptied at once decoded again (a span worker at 1M packets:
# 86k decodes with one generation of 512 KiB, 65k with two; one of 1 MiB: 72k). Two of 256 KiB
# decode 77k (about 30 ms more, at 2.3 µs each in C) and hold 5 MiB less in each span worker,
# which the worker's two spans a job (`parallel.SPANS_PER_JOB`) use.
_BRIEF_CACHE_BYTES = 256 << 10
_briefs_seen: dict[bytes, tuple] = {}
_mdns_briefs_seen: dict[bytes, tuple] = {}  # the same bytes decode differently as mDNS
_briefs_older: dict[bytes, tuple] = {}
_mdns_briefs_older: dict[bytes, tuple] = {}
_brief_bytes = 0
# What one message keeps for the scan (a `Brief`): a message decodes to at most a few times its
# bytes, but 64 KiB of 10-byte questions is 6,500 of them, held by pairing and written to the
# store. Real messages ask one question and rarely carry more than a few dozen records, so a
# brief keeps the first questions and records up to these counts; the message's raw bytes, kept
# in the store, still hold them all for a full decode.
MAX_BRIEF_QUESTIONS = 32
MAX_BRIEF_RECORDS = 256
_inet_ntoa = socket.inet_ntoa
_inet_ntop = socket.inet_ntop
_AF_INET6 = socket.AF_INET6


class DnsMessage:
    """One decoded DNS message: header fields, four sections, EDNS and a malformed reason."""

    __slots__ = (
        "additional",
        "answers",
        "authority",
        "counts",
        "edns",
        "flags",
        "id",
        "malformed",
        "opcode",
        "questions",
        "rcode",
    )

    def __init__(self, ident: int, flags: int, counts: tuple[int, int, int, int]) -> None:
        self.id = ident
        self.flags = flags
        self.opcode = (flags >> 11) & 0xF
        self.rcode = flags & 0xF
        self.counts = counts
        self.questions: list[Question] = []
        self.answers: list[Record] = []
        self.authority: list[Record] = []
        self.additional: list[Record] = []
        self.edns: dict | None = None
        self.malformed: str | None = None

    # The flag bits are read from `flags` on demand: most messages never need them all.
    @property
    def qr(self) -> bool:
        return bool(self.flags & 0x8000)

    @property
    def aa(self) -> bool:
        return bool(self.flags & 0x0400)

    @property
    def tc(self) -> bool:
        return bool(self.flags & 0x0200)

    @property
    def rd(self) -> bool:
        return bool(self.flags & 0x0100)

    @property
    def ra(self) -> bool:
        return bool(self.flags & 0x0080)

    @property
    def z(self) -> bool:
        """The one reserved Z bit (bit 6; AD and CD took the other two)."""
        return bool(self.flags & 0x0040)

    @property
    def ad(self) -> bool:
        return bool(self.flags & 0x0020)

    @property
    def cd(self) -> bool:
        return bool(self.flags & 0x0010)

    def __repr__(self) -> str:
        return (
            f"DnsMessage(id={self.id}, qr={self.qr}, opcode={self.opcode}, rcode={self.rcode}, "
            f"questions={self.questions!r}, answers={len(self.answers)}, "
            f"authority={len(self.authority)}, additional={len(self.additional)}, "
            f"malformed={self.malformed!r})"
        )


# A `Brief` is a decoded message cut to what a scan needs, as a plain tuple so that a worker
# process can ship it with `marshal` (several times cheaper than pickling objects):
#
#   (id, flags, rcode, opcode, malformed, questions, answers, records, keys, raw, view)
#
# - questions: the decoded question tuples; a query's carry two more items, (..., lowered name,
#   registered domain), so the process that decodes (a worker) also does that per-name work
# - answers: what a transaction keeps of the answer records (`store_schema.answers_digest`)
# - records: how many records the message has, in all three sections
#   (questions, answers and keys hold at most `MAX_BRIEF_QUESTIONS` and `MAX_BRIEF_RECORDS`)
# - keys: for a message without questions, the (lowered name, type) of its non-OPT answer and
#   additional records (what a multicast answer is paired by), else ()
# - raw: the message bytes
# - view: what pairing keeps of the message (`pairing.message_view`), all a worker process
#   sends the scanning process of a message it has counted and stored itself
Brief = tuple
BRIEF_FIELDS = (
    "id",
    "flags",
    "rcode",
    "opcode",
    "malformed",
    "questions",
    "answers",
    "records",
    "keys",
    "raw",
    "view",
)


def decode_brief(buf: bytes, *, mdns: bool = False) -> Brief:
    """`decode_message`, reduced to a `Brief`; a message seen before is looked up instead.

    A brief depends on nothing but the bytes after the id (and `mdns`), and a capture repeats
    whole messages over and over: a client asks the same question again and again, a server
    gives the same answer (with the same TTLs) to every client that asks within a second. A
    look-up costs a slice and a hash, a decode tens of times more.
    """
    if type(buf) is not bytes:
        buf = bytes(buf)
    if len(buf) < 12:  # a shorter one keeps only the id bytes it has, and is not remembered
        return _decode_brief(buf, mdns)
    seen = remember_brief(buf, mdns)
    return ((buf[0] << 8) | buf[1], *seen[:8], buf, seen[8])


def python_remember_brief(buf: bytes, mdns: bool) -> tuple:
    """What `decode_brief` keeps of a message of 12 bytes or more (its `Brief` without the id
    and the raw bytes): looked up in the two generations, else decoded, and remembered in the
    current one. `remember_brief` is this, or its compiled twin (`_brief.c`), which a worker's
    compiled decoder (`_worker.c`) calls for each message it has not seen."""
    global _brief_bytes
    key = buf[2:]
    briefs = _mdns_briefs_seen if mdns else _briefs_seen
    seen = briefs.get(key)
    if seen is None:
        seen = (_mdns_briefs_older if mdns else _briefs_older).get(key)
        if seen is None:
            brief = _decode_brief(buf, mdns)
            seen = (*brief[1:9], brief[10])
        _brief_bytes += len(buf)
        if _brief_bytes > _BRIEF_CACHE_BYTES:
            _next_generation()
            _brief_bytes = len(buf)
        briefs[key] = seen
    return seen


def _next_generation() -> None:
    """The current generation of briefs becomes the older one (the dictionaries of the current
    one stay the same objects: compiled code holds them)."""
    global _briefs_older, _mdns_briefs_older
    _briefs_older, _mdns_briefs_older = dict(_briefs_seen), dict(_mdns_briefs_seen)
    _briefs_seen.clear()
    _mdns_briefs_seen.clear()


def seen_briefs() -> tuple[dict[bytes, tuple], dict[bytes, tuple]]:
    """The briefs `decode_brief` remembers, by message bytes after the id: DNS and LLMNR, mDNS
    (always these two dicts: they are emptied, never replaced)."""
    return _briefs_seen, _mdns_briefs_seen


def forget_seen() -> None:
    """Empty the caches of questions and messages seen before (they are bounded anyway)."""
    global _brief_bytes
    for seen in (_questions_seen, _query_questions, _briefs_seen, _mdns_briefs_seen,
                 _briefs_older, _mdns_briefs_older):  # fmt: skip
        seen.clear()
    _brief_bytes = 0


def python_decode_brief(buf: bytes, mdns: bool) -> Brief:
    """The `Brief` of a message `decode_brief` has not seen (`_brief.c` is its compiled twin
    for the common message)."""
    msg = decode_message(buf, mdns=mdns, brief=True)
    questions = msg.questions
    answers, additional = msg.answers, msg.additional
    records = len(answers) + len(msg.authority) + len(additional)
    if len(questions) > MAX_BRIEF_QUESTIONS:
        questions = questions[:MAX_BRIEF_QUESTIONS]
    if records > MAX_BRIEF_RECORDS:
        answers = answers[:MAX_BRIEF_RECORDS]
        additional = additional[: MAX_BRIEF_RECORDS - len(answers)]
    if not questions:
        keys = tuple((rr[0].lower(), rr[1]) for rr in (*answers, *additional) if rr[1] != _OPT)
    else:
        keys = ()
        if not msg.flags & 0x8000:
            questions = [_query_question(q) for q in questions]
    digest = answers_digest(answers)
    flags, rcode = msg.flags, msg.rcode
    return (
        msg.id,
        flags,
        rcode,
        msg.opcode,
        msg.malformed,
        questions,
        digest,
        records,
        keys,
        buf,
        message_view(flags, rcode, questions, digest, records, keys),
    )


def _query_question(question: Question) -> tuple:
    """A query's question with its lowered name and registered domain (remembered, bounded)."""
    extended = _query_questions.get(question)
    if extended is None:
        if len(_query_questions) >= _QUESTION_CACHE_SIZE:
            _query_questions.clear()
        low = lowered(question[0])
        domain = registered_domain(low)
        if domain == low:
            domain = low
        extended = _query_questions[question] = (*question, low, domain)
    return extended


def decode_message(buf: bytes, *, mdns: bool = False, brief: bool = False) -> DnsMessage:
    """Decode one DNS message (without the TCP length prefix). Never raises.

    `brief` (for `decode_brief`): the additional section's OPT record is only checked, and its
    data left empty; `edns` then holds only `ext_rcode`. Everything else is decoded in full.
    """
    if type(buf) is not bytes:
        buf = bytes(buf)
    if len(buf) < 12:
        return _short_header(buf)
    ident, flags, qd, an, ns, ar = _HEADER.unpack_from(buf)
    msg = DnsMessage(ident, flags, (qd, an, ns, ar))
    cache: NameCache = {}
    try:
        if qd == 1:
            pos = _read_one_question(buf, mdns, cache, msg.questions)
        else:
            pos = _read_questions(buf, 12, qd, mdns, cache, msg.questions) if qd else 12
        if an:
            pos = _read_records(buf, pos, an, mdns, cache, msg, msg.answers)
        if ns:
            pos = _read_records(buf, pos, ns, mdns, cache, msg, msg.authority)
        if ar:
            _read_records(buf, pos, ar, mdns, cache, msg, msg.additional, brief)
    except WireError as err:
        msg.malformed = err.reason
    except Exception:  # a bug must not stop a capture: count the message as malformed
        msg.malformed = "internal_error"
    if msg.edns is not None:
        msg.rcode |= msg.edns["ext_rcode"] << 4
    return msg


def decode_questions(buf: bytes, *, mdns: bool = False) -> list[Question]:
    """The question section alone, as `decode_message` decodes it (the questions before a
    malformed one, if any): what a filter on names and types needs, at a fraction of the cost."""
    if len(buf) < 12:
        return []
    count = _HEADER.unpack_from(buf)[2]
    questions: list[Question] = []
    try:
        if count == 1:
            _read_one_question(buf, mdns, {}, questions)
        elif count:
            _read_questions(buf, 12, count, mdns, {}, questions)
    except WireError:
        pass
    return questions


def _short_header(buf: bytes) -> DnsMessage:
    """A message shorter than its 12-byte header: keep the id/flags that are there."""
    padded = buf + bytes(12 - len(buf))
    ident, flags = struct.unpack_from("!2H", padded)
    msg = DnsMessage(ident if len(buf) >= 2 else 0, flags if len(buf) >= 4 else 0, (0, 0, 0, 0))
    msg.malformed = "truncated_header"
    return msg


def _read_one_question(buf: bytes, mdns: bool, cache: NameCache, out: list[Question]) -> int:
    """The usual question section: one question at offset 12, looked up before it is decoded.

    The key runs from offset 12 to four bytes past the first zero byte. Only a name whose root
    label is that zero byte (no pointer, no zero inside a label) is remembered, so equal keys
    mean equal bytes up to the end of the question, hence an equal decode. (A name ending in a
    pointer to offset 256, `C1 00`, also ends at that zero byte: its decode depends on bytes
    the key does not hold, so it is never remembered.)
    """
    root = buf.find(0, 12)
    key = (buf[12 : root + 5], mdns)
    seen = _questions_seen.get(key) if root > 0 else None
    if seen is not None and root + 5 <= len(buf):
        question, used = seen
        cache[12] = (question[0], used)
        out.append(question)
        return root + 5
    pos = _read_questions(buf, 12, 1, mdns, cache, out)
    if pos == root + 5 and _plain_name_ends_at(buf, root):
        if len(_questions_seen) >= _QUESTION_CACHE_SIZE:
            _questions_seen.clear()
        _questions_seen[key] = (out[0], root - 11)
    return pos


def _plain_name_ends_at(buf: bytes, root: int) -> bool:
    """Whether the name at offset 12 is labels only, its root label the zero byte at `root`."""
    pos = 12
    while pos < root:
        length = buf[pos]
        if length & 0xC0:  # a pointer (or a label type RFC 6891 retired)
            return False
        pos += 1 + length
    return pos == root


def _read_questions(
    buf: bytes, pos: int, count: int, mdns: bool, cache: NameCache, out: list[Question]
) -> int:
    end = len(buf)
    for _ in range(count):
        if pos >= end:
            raise WireError("count_exceeds_message")
        try:
            name, pos = read_name(buf, pos, cache)
        except WireError as err:
            raise _section_error(err, "truncated_question") from None
        if pos + 4 > end:
            raise WireError("truncated_question")
        qtype, qclass = _QUESTION_TAIL.unpack_from(buf, pos)
        pos += 4
        if mdns and qclass & 0x8000:
            out.append((name, qtype, qclass & 0x7FFF, True))
        else:
            out.append((name, qtype, qclass, False))
    return pos


def _section_error(err: WireError, truncated: str) -> WireError:
    return WireError(truncated) if err.reason == TRUNCATED else err


def _read_records(
    buf: bytes,
    pos: int,
    count: int,
    mdns: bool,
    cache: NameCache,
    msg: DnsMessage,
    out: list[Record],
    brief: bool = False,
) -> int:
    end = len(buf)
    for _ in range(count):
        if pos >= end:
            raise WireError("count_exceeds_message")
        first = buf[pos]
        hit = (
            cache.get(((first & 0x3F) << 8) | buf[pos + 1])
            if first >= 0xC0 and pos + 1 < end
            else None
        )
        if hit is not None:  # the usual owner: a pointer to a name decoded before
            name = hit[0]
            pos += 2
        elif first == 0:  # the root (OPT owner)
            name = "."
            pos += 1
        else:
            try:
                name, pos = read_name(buf, pos, cache)
            except WireError as err:
                raise _section_error(err, "truncated_record") from None
        if pos + 10 > end:
            raise WireError("truncated_record")
        rtype, rclass, ttl, rdlen = _RR_HEADER.unpack_from(buf, pos)
        pos += 10
        rd_end = pos + rdlen
        if rd_end > end:
            raise WireError("truncated_record")
        flush = False
        if mdns and rclass & 0x8000 and rtype != _OPT:
            rclass &= 0x7FFF
            flush = True
        if rtype == 1 and rdlen == 4 and rclass == _CLASS_IN:  # the common cases, no call
            data = _inet_ntoa(buf[pos:rd_end])
        elif rtype == 28 and rdlen == 16 and rclass == _CLASS_IN:
            data = _inet_ntop(_AF_INET6, buf[pos:rd_end])
        elif rtype == _OPT:
            if name != "." or out is not msg.additional or msg.edns is not None:
                data = _misplaced_opt(buf, pos, rd_end, rclass, ttl, msg)
            elif brief:
                data = _opt_checked(buf, pos, rd_end, ttl, msg)
            else:
                data = _opt(buf, pos, rd_end, rclass, ttl, msg)
        elif rdlen == 0 and rclass in (_CLASS_ANY, _CLASS_NONE):
            data = ""  # RFC 2136 prerequisites and deletions carry no RDATA
        elif rtype in _IN_ONLY and rclass in _OTHER_CLASSES:
            data = generic(buf, pos, rd_end)  # another class's RDATA (Chaosnet's A, RFC 1035)
        else:
            fmt = _formatter(rtype)
            if fmt is None:
                data = generic(buf, pos, rd_end)
            else:
                try:
                    data = fmt(buf, pos, rd_end, cache)
                except Exception as err:  # any failure inside RDATA only spoils this RDATA
                    data = _bad_rdata(buf, pos, rd_end, err, msg)
        out.append((name, rtype, rclass, ttl, data, flush))
        pos = rd_end
    return pos


def _bad_rdata(buf: bytes, pos: int, end: int, err: Exception, msg: DnsMessage) -> str:
    """RDATA that does not parse for its type: RFC 3597 form, and the first malformed reason."""
    if msg.malformed is None:
        reason = getattr(err, "reason", TRUNCATED)
        msg.malformed = "bad_rdata" if reason == TRUNCATED else reason
    return generic(buf, pos, end)


def _opt(buf: bytes, pos: int, end: int, udp_size: int, ttl: int, msg: DnsMessage) -> str:
    """The OPT pseudo-RR (the first of the additional section, owned by the root): msg.edns."""
    edns, summary, ok = parse_opt(buf, pos, end, udp_size, ttl)
    if not ok and msg.malformed is None:
        msg.malformed = "bad_rdata"
    msg.edns = edns
    return summary


def _misplaced_opt(buf: bytes, pos: int, end: int, udp_size: int, ttl: int, msg: DnsMessage) -> str:
    """An OPT record RFC 6891 6.1.1 refuses (a FORMERR): shown, never the message's EDNS."""
    if msg.malformed is None:
        msg.malformed = "bad_opt"
    return parse_opt(buf, pos, end, udp_size, ttl)[1]


# types whose RDATA format RFC 1035 3.4 and RFC 3596 define for class IN only, and the other
# classes RFC 1035 defines, CH and HS (Chaosnet's A is a name and a 16-bit address): their
# RDATA in the generic form (RFC 3597 5). An UPDATE's NONE and ANY carry the zone's.
_IN_ONLY = frozenset((1, 28))
_OTHER_CLASSES = frozenset((3, 4))


def _opt_checked(buf: bytes, pos: int, end: int, ttl: int, msg: DnsMessage) -> str:
    """The OPT record as a brief decode needs it: its options' framing checked (as `_opt` does)
    and the extended rcode kept; no option is parsed and no text made."""
    while pos < end:
        if pos + 4 > end or pos + 4 + _U16.unpack_from(buf, pos + 2)[0] > end:
            if msg.malformed is None:
                msg.malformed = "bad_rdata"
            break
        pos += 4 + _U16.unpack_from(buf, pos + 2)[0]
    msg.edns = {"ext_rcode": ttl >> 24}
    return ""


def _compiled_decode_brief() -> Callable[[bytes, bool], Brief]:
    """`python_decode_brief`, in C for the common message where `_brief.c` was built; the
    list marks and record bound it makes briefs with must be this module's."""
    compiled = fastpath.compiled("mcpcap.modules.dns._brief")
    if compiled is None:
        return python_decode_brief
    ours = (MAX_BRIEF_RECORDS, LIST_MARK, ITEM_SEPARATOR)
    theirs = (compiled.MAX_RECORDS, compiled.LIST_MARK, compiled.ITEM_SEPARATOR)
    if ours != theirs:
        raise RuntimeError(f"_brief.c makes briefs with {theirs}, decoder.py with {ours}")
    return compiled.bind(python_decode_brief, _query_question)


_decode_brief = _compiled_decode_brief()


def _compiled_remember_brief() -> Callable[[bytes, bool], tuple]:
    """`python_remember_brief`, in C where `_brief.c` was built (it reads this module's
    generations, counter and bound at each call, as the Python does)."""
    compiled = fastpath.compiled("mcpcap.modules.dns._brief")
    if compiled is None:
        return python_remember_brief
    return compiled.bind_remember(globals())


remember_brief = _compiled_remember_brief()
