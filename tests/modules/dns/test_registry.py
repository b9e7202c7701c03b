"""IANA registries: names, RFC 3597 generic forms and the reverse parsers."""

from __future__ import annotations

import pytest

from mcpcap.core.errors import BadArgumentError
from mcpcap.modules.dns import registry
from mcpcap.modules.dns.registry import (
    class_name,
    edns_option_name,
    opcode_name,
    parse_class,
    parse_opcode,
    parse_rcode,
    parse_type,
    rcode_name,
    svc_param_key_name,
    tsig_rcode_name,
    type_name,
)

# fmt: off
BRIEF_TYPES = [
    "A", "NS", "CNAME", "SOA", "PTR", "HINFO", "MX", "TXT", "RP", "AFSDB", "SIG", "KEY", "AAAA",
    "LOC", "SRV", "NAPTR", "KX", "CERT", "DNAME", "OPT", "APL", "DS", "SSHFP", "IPSECKEY",
    "RRSIG", "NSEC", "DNSKEY", "DHCID", "NSEC3", "NSEC3PARAM", "TLSA", "SMIMEA", "HIP", "CDS",
    "CDNSKEY", "OPENPGPKEY", "CSYNC", "ZONEMD", "SVCB", "HTTPS", "SPF", "NID", "L32", "L64", "LP",
    "EUI48", "EUI64", "TKEY", "TSIG", "IXFR", "AXFR", "MAILB", "MAILA", "ANY", "URI", "CAA",
    "AVC", "DOA", "AMTRELAY", "RESINFO", "WALLET", "TA", "DLV", "NULL", "WKS", "MINFO", "MB",
    "MG", "MR", "MD", "MF", "X25", "ISDN", "RT", "NSAP", "NSAP-PTR", "PX", "GPOS", "A6", "ATMA",
    "EID", "NIMLOC", "SINK", "UINFO", "UID", "GID", "UNSPEC",
]
# fmt: on


@pytest.mark.parametrize(
    ("number", "name"),
    [(1, "A"), (28, "AAAA"), (41, "OPT"), (65, "HTTPS"), (255, "ANY"), (256, "URI"),
     (257, "CAA"), (261, "RESINFO"), (262, "WALLET"), (32768, "TA"), (32769, "DLV"),
     (23, "NSAP-PTR"), (0, "TYPE0"), (54, "TYPE54"), (65280, "TYPE65280"), (65535, "TYPE65535")],
)  # fmt: skip
def test_type_names(number: int, name: str) -> None:
    assert type_name(number) == name


def test_every_type_the_brief_lists_is_known_and_round_trips() -> None:
    for name in BRIEF_TYPES:
        number = parse_type(name)
        assert type_name(number) == name


def test_type_numbers_are_unique() -> None:
    assert len(set(registry.RR_TYPES.values())) == len(registry.RR_TYPES)


def test_class_names() -> None:
    assert [class_name(n) for n in (1, 2, 3, 4, 254, 255, 0x8001)] == [
        "IN", "CLASS2", "CH", "HS", "NONE", "ANY", "CLASS32769",
    ]  # fmt: skip


def test_rcode_names_including_extended() -> None:
    assert [rcode_name(n) for n in (0, 3, 5, 9, 10, 11, 12, 16, 17, 22, 23, 24, 4095)] == [
        "NOERROR", "NXDOMAIN", "REFUSED", "NOTAUTH", "NOTZONE", "DSOTYPENI", "RCODE12",
        "BADVERS", "BADKEY", "BADTRUNC", "BADCOOKIE", "RCODE24", "RCODE4095",
    ]  # fmt: skip
    assert tsig_rcode_name(16) == "BADSIG"
    assert tsig_rcode_name(18) == "BADTIME"


def test_opcode_names() -> None:
    assert [opcode_name(n) for n in range(8)] == [
        "QUERY", "IQUERY", "STATUS", "OPCODE3", "NOTIFY", "UPDATE", "DSO", "OPCODE7",
    ]  # fmt: skip


def test_edns_option_and_svc_key_names() -> None:
    assert [edns_option_name(n) for n in (3, 8, 10, 12, 15, 19, 4, 65001)] == [
        "NSID", "ECS", "COOKIE", "PADDING", "EDE", "ZONEVERSION", "OPT4", "OPT65001",
    ]  # fmt: skip
    assert [svc_param_key_name(n) for n in (1, 3, 5, 7, 8, 65535)] == [
        "alpn", "port", "ech", "dohpath", "ohttp", "key65535",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "number"),
    [("A", 1), ("aaaa", 28), (" Mx ", 15), ("*", 255), ("any", 255), ("TYPE65280", 65280),
     ("type99", 99), ("12", 12), (33, 33), ("nsap-ptr", 23), ("TYPE0", 0)],
)  # fmt: skip
def test_parse_type(text: str, number: int) -> None:
    assert parse_type(text) == number


@pytest.mark.parametrize("text", ["", "AAAAA", "TYPE65536", "65536", "-1", "TYPE", "TYPEx", "١"])
def test_parse_type_rejects_with_a_helpful_message(text: str) -> None:
    with pytest.raises(BadArgumentError) as info:
        parse_type(text)
    assert "AAAA" in str(info.value) and "TYPE<n>" in str(info.value)
    assert info.value.code == "bad_argument"


def test_parse_rcode() -> None:
    texts = ("NXDOMAIN", "noerror", "badsig", "BADVERS", "RCODE30", "3")
    assert [parse_rcode(t) for t in texts] == [3, 0, 16, 16, 30, 3]
    with pytest.raises(BadArgumentError, match="NXDOMAIN"):
        parse_rcode("NXDOMIAN")
    with pytest.raises(BadArgumentError):
        parse_rcode("4096")


def test_parse_class_and_opcode() -> None:
    assert [parse_class(t) for t in ("in", "CH", "chaos", "HS", "none", "ANY", "CLASS7", "1")] == [
        1, 3, 3, 4, 254, 255, 7, 1,
    ]  # fmt: skip
    assert [parse_opcode(t) for t in ("query", "NOTIFY", "update", "OPCODE9", "6")] == [
        0, 4, 5, 9, 6,
    ]  # fmt: skip
    with pytest.raises(BadArgumentError, match="IN"):
        parse_class("INET")
    with pytest.raises(BadArgumentError):
        parse_opcode("16")
