"""The lean DNS decoder: header, sections, names, mDNS bits, EDNS, UPDATE and malformed input.

Messages are built by hand (exact bytes) with the helpers below, or with scapy's DNS layer.
"""

from __future__ import annotations

import struct

import pytest
from scapy.layers.dns import (
    DNS,
    DNSQR,
    DNSRR,
    DNSRROPT,
    DNSRRSOA,
    EDNS0COOKIE,
    EDNS0PADDING,
    EDNS0TLV,
    EDNS0ClientSubnet,
    EDNS0ExtendedDNSError,
)

from mcpcap.modules.dns.decoder import MALFORMED_REASONS, DnsMessage, decode_message
from mcpcap.modules.dns.rdata import generic
from mcpcap.modules.dns.records import format_time, format_ts, message_record


# ----------------------------------------------------------------------------- wire helpers
def wire_name(name: str | bytes) -> bytes:
    """Uncompressed wire form of a dotted name (bytes labels allowed: b'a.b' is one label)."""
    if name in (".", b"."):
        return b"\0"
    labels = name.split(".") if isinstance(name, str) else [name]
    out = b""
    for label in labels:
        raw = label.encode() if isinstance(label, str) else label
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def header(
    ident: int = 0x1234, flags: int = 0x0100, qd: int = 0, an: int = 0, ns: int = 0, ar: int = 0
) -> bytes:
    return struct.pack("!6H", ident, flags, qd, an, ns, ar)


def question(name: bytes, qtype: int = 1, qclass: int = 1) -> bytes:
    return name + struct.pack("!2H", qtype, qclass)


def rr(name: bytes, rtype: int, rdata: bytes, rclass: int = 1, ttl: int = 300) -> bytes:
    return name + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def opt(options: bytes = b"", udp: int = 1232, ext_rcode: int = 0, flags: int = 0) -> bytes:
    return rr(b"\0", 41, options, rclass=udp, ttl=(ext_rcode << 24) | flags)


def option(code: int, data: bytes) -> bytes:
    return struct.pack("!2H", code, len(data)) + data


def one_record(rtype: int, rdata: bytes, **kw: int) -> DnsMessage:
    """Decode a response carrying one record of `rtype` with `rdata` for example.com."""
    buf = header(flags=0x8180, qd=1, an=1) + question(wire_name("example.com"), rtype)
    buf += rr(b"\xc0\x0c", rtype, rdata, **kw)
    return decode_message(buf)


# A typical compressed response: www.example.com CNAME cdn.example.com, two A, an OPT.
TYPICAL = (
    header(flags=0x8180, qd=1, an=3, ar=1)
    + question(wire_name("www.example.com"))
    + rr(b"\xc0\x0c", 5, b"\x03cdn\xc0\x10")
    + rr(b"\xc0\x2d", 1, bytes([93, 184, 216, 34]), ttl=60)
    + rr(b"\xc0\x2d", 1, bytes([93, 184, 216, 35]), ttl=60)
    + opt(flags=0x8000)
)


# ----------------------------------------------------------------------------- header
def test_typical_response_decodes_every_field() -> None:
    msg = decode_message(TYPICAL)
    assert (msg.id, msg.flags, msg.qr, msg.opcode, msg.rcode) == (0x1234, 0x8180, True, 0, 0)
    assert (msg.rd, msg.ra, msg.aa, msg.tc, msg.z, msg.ad, msg.cd) == (
        True, True, False, False, False, False, False,
    )  # fmt: skip
    assert msg.counts == (1, 3, 0, 1)
    assert msg.questions == [("www.example.com", 1, 1, False)]
    assert msg.answers == [
        ("www.example.com", 5, 1, 300, "cdn.example.com", False),
        ("cdn.example.com", 1, 1, 60, "93.184.216.34", False),
        ("cdn.example.com", 1, 1, 60, "93.184.216.35", False),
    ]
    assert msg.additional[0][:4] == (".", 41, 1232, 0x8000)
    assert msg.edns is not None and msg.edns["do"] is True
    assert msg.malformed is None


@pytest.mark.parametrize(
    ("bit", "attr"),
    [(0x8000, "qr"), (0x0400, "aa"), (0x0200, "tc"), (0x0100, "rd"), (0x0080, "ra"),
     (0x0040, "z"), (0x0020, "ad"), (0x0010, "cd")],
)  # fmt: skip
def test_each_flag_bit_maps_to_one_attribute(bit: int, attr: str) -> None:
    msg = decode_message(header(flags=bit))
    names = ("qr", "aa", "tc", "rd", "ra", "z", "ad", "cd")
    assert {name: getattr(msg, name) for name in names} == {name: name == attr for name in names}


def test_opcode_and_rcode_come_from_their_bit_fields() -> None:
    msg = decode_message(header(flags=(4 << 11) | 0x8000 | 3))
    assert (msg.opcode, msg.rcode) == (4, 3)


def test_message_object_has_slots_and_no_dict() -> None:
    msg = decode_message(TYPICAL)
    assert not hasattr(msg, "__dict__")
    assert "DnsMessage(id=4660" in repr(msg)


# ----------------------------------------------------------------------------- names
def test_root_name_is_a_dot() -> None:
    msg = decode_message(header(qd=1) + question(b"\0", 2))
    assert msg.questions == [(".", 2, 1, False)]


def test_case_is_kept_as_on_the_wire() -> None:
    msg = decode_message(header(qd=1) + question(wire_name("WwW.ExAmple.COM")))
    assert msg.questions[0][0] == "WwW.ExAmple.COM"


@pytest.mark.parametrize(
    ("label", "text"),
    [
        (b"a.b", "a\\.b"),
        (b"back\\slash", "back\\\\slash"),
        (b"sp ace", "sp\\032ace"),
        (b"tab\t", "tab\\009"),
        (b"\x00\x7f\xff", "\\000\\127\\255"),
        (b'quo"te', 'quo\\"te'),
        (b"semi;(paren)", "semi\\;\\(paren\\)"),
        (b"at@dollar$", "at\\@dollar\\$"),
        (b"under_score-dash*", "under_score-dash*"),
        ("caf\u00e9".encode(), "caf\\195\\169"),
    ],
)
def test_labels_are_escaped_as_dig_prints_them(label: bytes, text: str) -> None:
    name = bytes([len(label)]) + label + wire_name("example")
    msg = decode_message(header(qd=1) + question(name))
    assert msg.malformed is None
    assert msg.questions[0][0] == f"{text}.example"


def test_pointer_to_a_suffix_is_followed() -> None:
    msg = decode_message(
        header(qd=2) + question(wire_name("www.example.com")) + question(b"\x03ftp\xc0\x10")
    )
    assert [q[0] for q in msg.questions] == ["www.example.com", "ftp.example.com"]


def test_pointer_chain_is_followed() -> None:
    # name 2 = "b" + ptr(name 1 = "a" + ptr(question)), three levels of compression
    first = header(flags=0x8000, qd=1, an=2) + question(wire_name("example.com"))
    a_off = len(first)
    first += rr(b"\x01a\xc0\x0c", 16, b"\x01x")
    b_rdata_off = len(first)
    buf = first + rr(b"\x01b" + struct.pack("!H", 0xC000 | a_off), 16, b"\x01y")
    msg = decode_message(buf)
    assert b_rdata_off > a_off
    assert [r[0] for r in msg.answers] == ["a.example.com", "b.a.example.com"]
    assert msg.malformed is None


def test_forward_pointer_is_followed_like_tshark_does() -> None:
    # the question's name points forward into the answer's RDATA (RFC 1035 says "prior",
    # tshark and real resolvers accept any offset inside the message)
    head = header(flags=0x8000, qd=1, an=1)
    target = len(head) + 2 + 4 + 2 + 10  # question (ptr + tail), answer owner ptr + RR header
    buf = head + question(struct.pack("!H", 0xC000 | target)) + rr(b"\xc0\x0c", 5, b"")
    buf = buf[: -2 - 10] + rr(b"\xc0\x0c", 5, wire_name("fwd.example"))
    msg = decode_message(buf)
    assert msg.malformed is None
    assert msg.questions[0][0] == "fwd.example"
    assert msg.answers[0][0] == "fwd.example"
    assert msg.answers[0][4] == "fwd.example"


def test_a_question_pointing_to_offset_256_is_decoded_again_in_each_message() -> None:
    """`C1 00` ends at a zero byte as a plain name does: remembered by its bytes, the second
    message took the first one's name (the bytes the pointer reaches differ)."""
    names = []
    for owner in ("one.example", "two.example"):
        head = header(qd=1, ar=1) + question(b"\xc1\x00")
        filler = rr(b"\x01x\x00", 10, b"")  # a NULL record whose RDATA pads to offset 256
        filler = filler[:-2] + struct.pack("!H", 256 - len(head) - len(filler))
        buf = head + filler + bytes(256 - len(head) - len(filler)) + wire_name(owner)
        assert buf[256:] == wire_name(owner)
        names.append(decode_message(buf).questions[0][0])
    assert names == ["one.example", "two.example"]


def test_cached_suffix_still_counts_towards_255_octets() -> None:
    long_label = b"\x3f" + b"a" * 63
    base = long_label * 3 + b"\0"  # 193 octets
    buf = header(qd=2) + question(base) + question(long_label + b"\xc0\x0c")  # 257 octets
    msg = decode_message(buf)
    assert len(msg.questions) == 1
    assert msg.malformed == "name_too_long"


def test_name_of_exactly_255_octets_is_accepted() -> None:
    name = (b"\x3f" + b"b" * 63) * 3 + b"\x3d" + b"c" * 61 + b"\0"
    assert len(name) == 255
    msg = decode_message(header(qd=1) + question(name))
    assert msg.malformed is None
    assert len(msg.questions[0][0]) == 253


# ----------------------------------------------------------------------------- malformed
def test_self_pointer_is_a_compression_loop() -> None:
    msg = decode_message(header(qd=1) + question(b"\xc0\x0c"))
    assert msg.malformed == "compression_loop"
    assert msg.questions == []


def test_two_pointers_pointing_at_each_other_are_a_loop() -> None:
    # question name at 12 points to 18, where a pointer points back to 12
    buf = header(qd=1) + b"\xc0\x12" + struct.pack("!2H", 1, 1) + b"\xc0\x0c"
    assert decode_message(buf).malformed == "compression_loop"


def test_label_then_pointer_back_to_itself_is_a_loop() -> None:
    msg = decode_message(header(qd=1) + question(b"\x01a\xc0\x0c"))
    assert msg.malformed == "compression_loop"


def test_pointer_beyond_the_message_is_a_bad_pointer() -> None:
    msg = decode_message(header(qd=1) + question(b"\xcf\xff"))
    assert msg.malformed == "bad_pointer"


def test_reserved_label_types_are_rejected() -> None:
    for first in (0x40, 0x80):
        msg = decode_message(header(qd=1) + question(bytes([first, 1, 2, 0])))
        assert msg.malformed == "bad_label_type"


def test_name_longer_than_255_octets_is_rejected() -> None:
    name = (b"\x3f" + b"x" * 63) * 4 + b"\0"
    assert decode_message(header(qd=1) + question(name)).malformed == "name_too_long"


@pytest.mark.parametrize("size", range(12))
def test_short_header(size: int) -> None:
    msg = decode_message(TYPICAL[:size])
    assert msg.malformed == "truncated_header"
    assert msg.questions == [] and msg.answers == []
    if size >= 2:
        assert msg.id == 0x1234


def test_truncated_question_keeps_the_header() -> None:
    buf = header(qd=1) + question(wire_name("example.com"))
    for cut in (14, len(buf) - 1, len(buf) - 3):
        msg = decode_message(buf[:cut])
        assert msg.malformed == "truncated_question", cut
        assert msg.id == 0x1234 and msg.questions == []


def test_truncated_record_keeps_what_came_before() -> None:
    for cut in range(len(TYPICAL) - 40, len(TYPICAL) - 11):
        msg = decode_message(TYPICAL[:cut])
        assert msg.questions == [("www.example.com", 1, 1, False)]
        assert msg.malformed in ("truncated_record", "count_exceeds_message"), cut
        assert msg.answers[0][4] == "cdn.example.com"


def test_counts_larger_than_the_message_stop_when_bytes_run_out() -> None:
    buf = header(flags=0x8000, qd=1, an=0xFFFF, ns=0xFFFF, ar=0xFFFF)
    buf += question(wire_name("example.com")) + rr(b"\xc0\x0c", 1, b"\x01\x02\x03\x04")
    msg = decode_message(buf)
    assert msg.malformed == "count_exceeds_message"
    assert msg.counts == (1, 0xFFFF, 0xFFFF, 0xFFFF)
    assert msg.answers == [("example.com", 1, 1, 300, "1.2.3.4", False)]


def test_question_count_larger_than_the_message() -> None:
    msg = decode_message(header(qd=0xFFFF) + question(wire_name("a")))
    assert msg.malformed == "count_exceeds_message"
    assert len(msg.questions) == 1


def test_trailing_bytes_after_the_last_record_are_tolerated() -> None:
    msg = decode_message(TYPICAL + b"\0\0\0garbage")
    assert msg.malformed is None
    assert len(msg.answers) == 3


def test_rdlength_past_the_end_is_a_truncated_record() -> None:
    buf = header(flags=0x8000, an=1) + wire_name("a") + struct.pack("!HHIH", 1, 1, 0, 50) + b"1234"
    msg = decode_message(buf)
    assert msg.malformed == "truncated_record"
    assert msg.answers == []


def test_rdata_that_does_not_fit_its_type_is_kept_in_rfc3597_form() -> None:
    buf = header(flags=0x8000, an=2) + rr(wire_name("a"), 1, b"\x01\x02\x03")
    buf += rr(wire_name("b"), 1, b"\x05\x06\x07\x08")
    msg = decode_message(buf)
    assert msg.malformed == "bad_rdata"
    assert msg.answers == [
        ("a", 1, 1, 300, "\\# 3 010203", False),
        ("b", 1, 1, 300, "5.6.7.8", False),
    ]


def test_name_in_rdata_running_past_rdlength_is_bad_rdata() -> None:
    buf = header(flags=0x8000, an=1) + wire_name("a") + struct.pack("!HHIH", 5, 1, 0, 3)
    buf += wire_name("target.example")
    msg = decode_message(buf)
    assert msg.answers[0][4] == "\\# 3 067461"
    assert msg.malformed == "bad_rdata"


def test_loop_inside_rdata_keeps_the_record_and_names_the_reason() -> None:
    head = header(flags=0x8000, an=1) + wire_name("a") + struct.pack("!HHIH", 5, 1, 0, 2)
    ptr_at = len(head)
    msg = decode_message(head + struct.pack("!H", 0xC000 | ptr_at))
    assert msg.malformed == "compression_loop"
    assert msg.answers == [("a", 5, 1, 0, f"\\# 2 {0xC000 | ptr_at:04X}", False)]


def test_first_malformed_reason_wins() -> None:
    buf = header(flags=0x8000, an=2) + rr(wire_name("a"), 1, b"\x01") + rr(wire_name("b"), 28, b"")
    buf += b"\x07"
    msg = decode_message(buf)
    assert msg.malformed == "bad_rdata"
    assert len(msg.answers) == 2


def test_malformed_reasons_are_a_fixed_snake_case_vocabulary() -> None:
    assert all(r.isidentifier() and r == r.lower() for r in MALFORMED_REASONS)
    for buf in (b"", TYPICAL[:20], header(qd=1) + b"\xc0\x0c", header(qd=1) + b"\x80"):
        assert decode_message(buf).malformed in MALFORMED_REASONS


def test_non_bytes_buffers_are_accepted() -> None:
    assert decode_message(bytearray(TYPICAL)).answers == decode_message(TYPICAL).answers
    assert decode_message(memoryview(TYPICAL)).answers == decode_message(TYPICAL).answers


# ----------------------------------------------------------------------------- mDNS
def test_mdns_top_class_bit_is_unicast_response_and_cache_flush() -> None:
    buf = header(flags=0x8400, qd=1, an=1) + question(wire_name("printer.local"), 1, 0x8001)
    buf += rr(b"\xc0\x0c", 1, b"\xc0\xa8\x01\x02", rclass=0x8001, ttl=120)
    mdns = decode_message(buf, mdns=True)
    assert mdns.questions == [("printer.local", 1, 1, True)]
    assert mdns.answers == [("printer.local", 1, 1, 120, "192.168.1.2", True)]
    plain = decode_message(buf)
    assert plain.questions == [("printer.local", 1, 0x8001, False)]
    assert plain.answers[0][2] == 0x8001 and plain.answers[0][5] is False


def test_mdns_without_the_bit_reports_false() -> None:
    buf = header(qd=1) + question(wire_name("_http._tcp.local"), 12, 1)
    assert decode_message(buf, mdns=True).questions == [("_http._tcp.local", 12, 1, False)]


# ----------------------------------------------------------------------------- EDNS
def test_edns_header_fields() -> None:
    buf = header(flags=0x8000 | 0x0001, ar=1) + opt(udp=4096, ext_rcode=1, flags=0x8000)
    msg = decode_message(buf)
    assert msg.edns == {
        "version": 0, "udp_size": 4096, "do": True, "flags": 0x8000, "ext_rcode": 1,
        "options": [],
    }  # fmt: skip
    assert msg.rcode == (1 << 4) | 1  # 17: BADKEY
    assert msg.additional == [(".", 41, 4096, 0x01008000, "version=0 udp=4096 do", False)]


def test_badvers_extended_rcode() -> None:
    msg = decode_message(header(flags=0x8000, ar=1) + opt(ext_rcode=1))
    assert msg.rcode == 16


def test_no_opt_means_header_rcode_and_no_edns() -> None:
    msg = decode_message(header(flags=0x8003))
    assert (msg.rcode, msg.edns) == (3, None)


def test_edns_version_and_non_do_flags() -> None:
    buf = header(ar=1) + rr(b"\0", 41, b"", rclass=512, ttl=(0 << 24) | (1 << 16) | 0x4001)
    edns = decode_message(buf).edns
    assert edns is not None
    assert (edns["version"], edns["do"], edns["flags"]) == (1, False, 0x4001)


def test_edns_options_from_scapy() -> None:
    pkt = DNS(
        id=9,
        qd=[DNSQR(qname="example.com")],
        ar=[
            DNSRROPT(
                rclass=1232,
                rdata=[
                    EDNS0ClientSubnet(source_plen=24, scope_plen=0, address="192.0.2.0"),
                    EDNS0COOKIE(client_cookie=bytes.fromhex("0102030405060708")),
                    EDNS0TLV(optcode=3, optdata=b""),
                    EDNS0PADDING(padding=b"\0" * 17),
                ],
            )
        ],
    )
    msg = decode_message(bytes(pkt))
    assert msg.malformed is None
    assert msg.edns is not None
    ecs, cookie, nsid, padding = msg.edns["options"]
    assert ecs == {
        "code": 8, "name": "ECS", "data": "192.0.2.0/24/0", "family": 1, "source_prefix": 24,
        "scope_prefix": 0, "address": "192.0.2.0",
    }  # fmt: skip
    assert (cookie["name"], cookie["client"], cookie["server"]) == (
        "COOKIE", "0102030405060708", None,
    )  # fmt: skip
    assert (nsid["name"], nsid["hex"], nsid["text"]) == ("NSID", "", "")
    assert (padding["name"], padding["length"]) == ("PADDING", 17)
    assert msg.additional[0][4] == (
        "version=0 udp=1232 do ECS=192.0.2.0/24/0 COOKIE=0102030405060708 NSID PADDING=17"
    )


def test_edns_server_cookie_nsid_text_ede_and_unknown_options() -> None:
    options = (
        option(10, bytes(range(8)) + bytes(range(16, 32)))
        + option(3, b"gpdns-ams")
        + option(15, b"\x00\x0fblocked by policy")
        + option(65001, b"\xab\xcd")
        + option(8, b"\x00\x02\x38\x00" + bytes.fromhex("20010db8000000"))
    )
    msg = decode_message(header(flags=0x8000, ar=1) + opt(options))
    cookie, nsid, ede, unknown, ecs6 = msg.edns["options"]  # type: ignore[index]
    assert cookie["server"] == bytes(range(16, 32)).hex()
    assert (nsid["hex"], nsid["text"]) == (b"gpdns-ams".hex(), "gpdns-ams")
    assert (ede["info_code"], ede["extra_text"]) == (15, "blocked by policy")
    assert ede["data"] == '15 (Blocked) "blocked by policy"'
    assert unknown == {"code": 65001, "name": "OPT65001", "data": "abcd"}
    assert (ecs6["family"], ecs6["address"], ecs6["source_prefix"]) == (2, "2001:db8::", 56)


def test_edns_option_that_does_not_parse_keeps_its_hex() -> None:
    msg = decode_message(header(ar=1) + opt(option(10, b"\x01\x02")))
    assert msg.edns["options"] == [{"code": 10, "name": "COOKIE", "data": "0102"}]  # type: ignore[index]
    assert msg.malformed is None


def test_edns_options_with_bad_contents_keep_their_hex() -> None:
    options = option(13, b"\x03abc") + option(13, b"\xc0\x00") + option(15, b"\x01")
    options += option(8, b"\x00\x01\x18")
    msg = decode_message(header(ar=1) + opt(options))
    assert msg.malformed is None
    assert msg.edns["options"] == [  # type: ignore[index]
        {"code": 13, "name": "CHAIN", "data": "03616263"},
        {"code": 13, "name": "CHAIN", "data": "c000"},
        {"code": 15, "name": "EDE", "data": "01"},
        {"code": 8, "name": "ECS", "data": "000118"},
    ]


def test_edns_option_overrunning_the_opt_rdata_is_bad_rdata() -> None:
    buf = header(ar=1) + rr(b"\0", 41, struct.pack("!2H", 3, 40) + b"abc", rclass=512, ttl=0)
    msg = decode_message(buf)
    assert msg.malformed == "bad_rdata"
    assert msg.edns is not None and msg.edns["options"] == []


def test_edns_chain_keytag_dau_expire_keepalive() -> None:
    options = (
        option(13, wire_name("example.com"))
        + option(14, b"\x4f\x66\x00\x01")
        + option(5, b"\x08\x0d")
        + option(9, b"\x00\x00\x0e\x10")
        + option(11, b"\x00\x64")
    )
    msg = decode_message(header(ar=1) + opt(options))
    datas = [o["data"] for o in msg.edns["options"]]  # type: ignore[index]
    assert datas == ["example.com", "20326 1", "8 13", "3600", "100"]


def test_only_the_first_opt_in_additional_sets_edns() -> None:
    buf = header(flags=0x8000, ar=2) + opt(udp=1000) + opt(udp=2000, ext_rcode=1)
    msg = decode_message(buf)
    assert msg.edns["udp_size"] == 1000  # type: ignore[index]
    assert msg.rcode == 0
    assert len(msg.additional) == 2


def test_opt_in_the_answer_section_does_not_set_edns() -> None:
    msg = decode_message(header(flags=0x8000, an=1) + opt(ext_rcode=1))
    assert msg.edns is None and msg.rcode == 0
    assert msg.answers[0][1] == 41


def test_scapy_extended_dns_error() -> None:
    pkt = DNS(
        qr=1,
        ar=[DNSRROPT(rdata=[EDNS0ExtendedDNSError(info_code=18, extra_text="nope")])],
    )
    ede = decode_message(bytes(pkt)).edns["options"][0]  # type: ignore[index]
    assert (ede["name"], ede["info_code"], ede["extra_text"]) == ("EDE", 18, "nope")


# ----------------------------------------------------------------------------- UPDATE
def test_dns_update_sections_and_empty_rdata() -> None:
    zone = question(wire_name("example.com"), 6, 1)
    prereq = rr(wire_name("host.example.com"), 255, b"", rclass=254, ttl=0)  # name not in use
    updates = (
        rr(wire_name("host.example.com"), 255, b"", rclass=255, ttl=0)  # delete all RRsets
        + rr(wire_name("old.example.com"), 1, b"\x0a\x00\x00\x01", rclass=254, ttl=0)
        + rr(wire_name("host.example.com"), 1, b"\x0a\x00\x00\x02", ttl=3600)
    )
    buf = header(flags=5 << 11, qd=1, an=1, ns=3) + zone + prereq + updates
    msg = decode_message(buf)
    assert msg.malformed is None
    assert msg.opcode == 5
    assert msg.questions == [("example.com", 6, 1, False)]
    assert msg.answers == [("host.example.com", 255, 254, 0, "", False)]
    assert msg.authority == [
        ("host.example.com", 255, 255, 0, "", False),
        ("old.example.com", 1, 254, 0, "10.0.0.1", False),
        ("host.example.com", 1, 1, 3600, "10.0.0.2", False),
    ]


def test_update_with_soa_from_scapy() -> None:
    pkt = DNS(
        opcode=5,
        qd=[DNSQR(qname="example.com", qtype="SOA")],
        ns=[DNSRRSOA(rrname="example.com", mname="ns.example.com", rname="h.example.com")],
    )
    msg = decode_message(bytes(pkt))
    assert msg.malformed is None
    assert msg.authority[0][4].startswith("ns.example.com h.example.com ")


# ----------------------------------------------------------------------------- scapy parity
def test_scapy_built_response_matches_scapy_parse() -> None:
    pkt = DNS(
        id=77,
        qr=1,
        aa=1,
        rcode=3,
        qd=[DNSQR(qname="nope.example.org", qtype="AAAA")],
        an=[
            DNSRR(rrname="nope.example.org", type="AAAA", rdata="2001:db8::1", ttl=5),
            DNSRR(rrname="nope.example.org", type="TXT", rdata=[b"hello", b"world"]),
        ],
    )
    raw = bytes(pkt)
    msg = decode_message(raw)
    parsed = DNS(raw)
    assert (msg.id, msg.qr, msg.aa, msg.rcode) == (parsed.id, True, True, parsed.rcode)
    assert msg.answers == [
        ("nope.example.org", 28, 1, 5, "2001:db8::1", False),
        ("nope.example.org", 16, 1, 0, '"hello" "world"', False),
    ]


# ----------------------------------------------------------------------------- records
def _record(msg: DnsMessage, protocol: str = "dns") -> dict:
    return message_record(
        msg, frame=3, ts=1700000000.1234565, src="192.0.2.1", sport=53, dst="192.0.2.2",
        dport=40000, transport="udp", protocol=protocol, index=1,
    )  # fmt: skip


def test_message_record_contract_keys_and_values() -> None:
    rec = _record(decode_message(TYPICAL))
    assert list(rec) == [
        "frame", "index", "ts", "time", "uid", "src", "sport", "dst", "dport", "transport",
        "protocol", "record_id", "id", "trans_id", "qr", "opcode", "opcode_name", "rcode",
        "rcode_name", "flags", "questions", "answers", "authority", "additional", "edns",
        "malformed", "info",
    ]  # fmt: skip
    assert (rec["frame"], rec["index"], rec["record_id"], rec["id"]) == (3, 1, "3:1", 0x1234)
    assert rec["trans_id"] == rec["id"]
    assert rec["qr"] is True
    assert rec["ts"] == 1700000000.123457 or rec["ts"] == 1700000000.123456
    assert rec["time"].startswith("2023-11-14T22:13:20.12345") and rec["time"].endswith("Z")
    assert (rec["opcode_name"], rec["rcode_name"]) == ("QUERY", "NOERROR")
    assert rec["flags"] == {
        "aa": False, "tc": False, "rd": True, "ra": True, "z": False, "ad": False, "cd": False,
    }  # fmt: skip
    assert rec["questions"] == [
        {"name": "www.example.com", "type": 1, "type_name": "A", "class": 1, "class_name": "IN"}
    ]
    assert rec["answers"][0] == {
        "name": "www.example.com", "type": 5, "type_name": "CNAME", "class": 1,
        "class_name": "IN", "ttl": 300, "data": "cdn.example.com",
    }  # fmt: skip
    assert rec["additional"][0]["type_name"] == "OPT"
    assert rec["edns"]["do"] is True
    assert rec["malformed"] is None
    assert rec["info"].startswith("response 0x1234 A www.example.com CNAME cdn.example.com")


def test_message_record_uses_the_extended_rcode_name() -> None:
    rec = _record(decode_message(header(flags=0x8000, ar=1) + opt(ext_rcode=1)))
    assert (rec["rcode"], rec["rcode_name"]) == (16, "BADVERS")
    assert rec["info"] == f"response 0x{rec['id']:04x} BADVERS"


def test_message_info_leads_with_an_opcode_other_than_query() -> None:
    update = header(flags=0x5 << 11, qd=1) + question(wire_name("example.com"), 6, 1)
    assert _record(decode_message(update))["info"].startswith("UPDATE query 0x")


def test_message_record_mdns_bits_only_for_mdns() -> None:
    buf = header(flags=0x8400, qd=1, an=1) + question(wire_name("x.local"), 1, 0x8001)
    buf += rr(b"\xc0\x0c", 1, b"\x0a\x00\x00\x01", rclass=0x8001)
    mdns = _record(decode_message(buf, mdns=True), "mdns")
    assert mdns["questions"][0]["unicast_response"] is True
    assert mdns["answers"][0]["cache_flush"] is True
    plain = _record(decode_message(buf))
    assert "unicast_response" not in plain["questions"][0]
    assert "cache_flush" not in plain["answers"][0]
    assert plain["answers"][0]["class_name"] == "CLASS32769"


def test_format_time_and_ts() -> None:
    assert format_time(0) == "1970-01-01T00:00:00.000000Z"
    assert format_time(1.000001) == "1970-01-01T00:00:01.000001Z"
    assert format_time(4294967295.999999) == "2106-02-07T06:28:15.999999Z"
    assert format_ts(1.23456789) == 1.234568


# ----------------------------------------------------------------------------- classes, OPT
def test_a_chaosnet_a_record_is_no_ipv4_address() -> None:
    """RFC 1035 3.4.1 defines A's 32-bit address for class IN; Chaosnet's A (class CH) is a
    domain name and a 16-bit address: shown in the generic form, and not malformed."""
    chaos = wire_name("mit.edu") + b"\x0d\x54"
    buf = header(flags=0x8180, qd=1, an=2) + question(wire_name("x.example"), 1, 3)
    buf += rr(b"\xc0\x0c", 1, chaos, rclass=3) + rr(b"\xc0\x0c", 1, bytes((10, 0, 0, 1)), rclass=3)
    msg = decode_message(buf)
    assert msg.malformed is None
    assert [a[4] for a in msg.answers] == [generic(chaos, 0, len(chaos)), "\\# 4 0A000001"]
    in_class = decode_message(header(flags=0x8180, qd=1, an=1) + question(wire_name("x"))
                              + rr(b"\xc0\x0c", 1, bytes((10, 0, 0, 1))))  # fmt: skip
    assert in_class.answers[0][4] == "10.0.0.1"


def test_opt_records_rfc_6891_refuses_are_malformed_and_set_no_rcode() -> None:
    """6.1.1: a second OPT is a FORMERR, and OPT's owner MUST be the root; only the first
    OPT of the additional section, owned by the root, gives the extended rcode."""
    base = header(flags=0x8180, qd=1, ar=2) + question(wire_name("x"))
    two = decode_message(base + opt(ext_rcode=1) + opt(ext_rcode=2))
    assert two.malformed == "bad_opt" and two.rcode == 16  # the first's: 1 << 4
    owned = header(flags=0x8180, qd=1, ar=1) + question(wire_name("x"))
    owned += rr(wire_name("x.example"), 41, b"", rclass=1232, ttl=1 << 24)
    msg = decode_message(owned)
    assert msg.malformed == "bad_opt" and msg.rcode == 0 and msg.edns is None
    answered = header(flags=0x8180, qd=1, an=1) + question(wire_name("x")) + opt(ext_rcode=1)
    msg = decode_message(answered)
    assert msg.malformed == "bad_opt" and msg.rcode == 0
