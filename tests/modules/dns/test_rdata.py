"""RDATA presentation format, one record type at a time (dig / RFC zone-file syntax)."""

from __future__ import annotations

import base64
import struct

import pytest
from scapy.layers.dns import (
    DNS,
    DNSQR,
    DNSRRDNSKEY,
    DNSRRDS,
    DNSRRHTTPS,
    DNSRRMX,
    DNSRRNSEC,
    DNSRRNSEC3,
    DNSRRNSEC3PARAM,
    DNSRRRSIG,
    DNSRRSOA,
    DNSRRSRV,
    DNSRRSVCB,
    DNSRRTSIG,
    SvcParam,
)

from mcpcap.modules.dns.decoder import decode_message
from mcpcap.modules.dns.rdata import generic, quoted, type_bitmap
from tests.modules.dns.test_decoder import header, one_record, question, rr, wire_name

EXAMPLE_NAME = wire_name("host.example.net")


def data_of(rtype: int, rdata: bytes) -> str:
    msg = one_record(rtype, rdata)
    assert msg.malformed is None, msg.malformed
    return msg.answers[0][4]


def test_generic_form() -> None:
    assert generic(b"\x01\xab", 0, 2) == "\\# 2 01AB"
    assert generic(b"", 0, 0) == "\\# 0"


@pytest.mark.parametrize(
    ("rtype", "rdata", "text"),
    [
        (1, bytes([192, 0, 2, 1]), "192.0.2.1"),
        (28, bytes.fromhex("20010db8000000000000000000000001"), "2001:db8::1"),
        (28, bytes.fromhex("20010db8000000010000000000000001"), "2001:db8:0:1::1"),
        (28, bytes.fromhex("20010db8000100010001000100010001"), "2001:db8:1:1:1:1:1:1"),
        (28, bytes(16), "::"),
        (28, bytes.fromhex("00000000000000000000ffffc0000201"), "::ffff:192.0.2.1"),
        (2, EXAMPLE_NAME, "host.example.net"),
        (5, EXAMPLE_NAME, "host.example.net"),
        (12, EXAMPLE_NAME, "host.example.net"),
        (39, EXAMPLE_NAME, "host.example.net"),
        (3, EXAMPLE_NAME, "host.example.net"),
        (4, EXAMPLE_NAME, "host.example.net"),
        (7, EXAMPLE_NAME, "host.example.net"),
        (8, EXAMPLE_NAME, "host.example.net"),
        (9, EXAMPLE_NAME, "host.example.net"),
        (15, b"\x00\x0a" + EXAMPLE_NAME, "10 host.example.net"),
        (18, b"\x00\x01" + EXAMPLE_NAME, "1 host.example.net"),
        (21, b"\x00\x02" + EXAMPLE_NAME, "2 host.example.net"),
        (36, b"\x00\x03" + EXAMPLE_NAME, "3 host.example.net"),
        (107, b"\x00\x04" + EXAMPLE_NAME, "4 host.example.net"),
        (14, EXAMPLE_NAME + wire_name("err.example"), "host.example.net err.example"),
        (17, wire_name("admin.example") + wire_name("txt.example"), "admin.example txt.example"),
        (26, b"\x00\x05" + wire_name("a.b") + wire_name("c.d"), "5 a.b c.d"),
        (16, b"\x05hello", '"hello"'),
        (16, b'\x03a b\x00\x04q"\\\x01', '"a b" "" "q\\"\\\\\\001"'),
        (99, b"\x0bv=spf1 -all", '"v=spf1 -all"'),
        (13, b"\x03x86\x05Linux", '"x86" "Linux"'),
        (19, b"\x0c311061700956", '"311061700956"'),
        (20, b"\x0f150862028003217\x03004", '"150862028003217" "004"'),
        (33, struct.pack("!3H", 10, 60, 5060) + EXAMPLE_NAME, "10 60 5060 host.example.net"),
        (
            35,
            struct.pack("!2H", 100, 10) + b"\x01U\x07E2U+sip\x00" + wire_name("_sip._udp.ex"),
            '100 10 "U" "E2U+sip" "" _sip._udp.ex',
        ),
        (257, b"\x00\x05issueletsencrypt.org", '0 issue "letsencrypt.org"'),
        (257, b"\x80\x05iodefmailto:a@b", '128 iodef "mailto:a@b"'),
        (43, struct.pack("!HBB", 20326, 8, 2) + bytes.fromhex("e06d44b8"), "20326 8 2 E06D44B8"),
        (59, struct.pack("!HBB", 1, 13, 2) + b"\xaa", "1 13 2 AA"),
        (32769, struct.pack("!HBB", 1, 13, 2) + b"\xaa", "1 13 2 AA"),
        (48, struct.pack("!HBB", 257, 3, 13) + b"\x01\x02\x03", "257 3 13 AQID"),
        (60, struct.pack("!HBB", 256, 3, 8) + b"\xff", "256 3 8 /w=="),
        (25, struct.pack("!HBB", 0, 3, 5) + b"k", "0 3 5 aw=="),
        (44, b"\x01\x01" + bytes.fromhex("f90fd396"), "1 1 F90FD396"),
        (52, b"\x03\x01\x01" + bytes.fromhex("abcdef"), "3 1 1 ABCDEF"),
        (53, b"\x03\x00\x02" + b"\x00", "3 0 2 00"),
        (256, struct.pack("!2H", 10, 1) + b"https://example.com/", '10 1 "https://example.com/"'),
        (61, b"\x01\x02\x03\x04", "AQIDBA=="),
        (49, b"\x00\x01\x01\xff", "AAEB/w=="),
        (37, struct.pack("!HHB", 1, 12345, 8) + b"\x00\x01", "1 12345 8 AAE="),
        (63, struct.pack("!IBB", 2021071219, 1, 1) + b"\xab" * 4, "2021071219 1 1 ABABABAB"),
        (62, struct.pack("!IH", 66, 3) + b"\x00\x04\x60\x00\x00\x08", "66 3 A NS AAAA"),
        (108, bytes.fromhex("00005e0053ff"), "00-00-5e-00-53-ff"),
        (109, bytes.fromhex("00005e0000005300"), "00-00-5e-00-00-00-53-00"),
        (104, struct.pack("!5H", 10, 0x14, 0x4FFF, 0xFF20, 0xEE64), "10 0014:4fff:ff20:ee64"),
        (106, struct.pack("!5H", 10, 0x2001, 0xDB8, 0x1140, 0x1000), "10 2001:0db8:1140:1000"),
        (105, b"\x00\x0a\x0a\x01\x02\x03", "10 10.1.2.3"),
        (11, bytes([192, 0, 2, 1, 6, 0b00000000, 0b00000000, 0b00000010]), "192.0.2.1 6 22"),
        (
            47,
            wire_name("b.example") + b"\x00\x06\x40\x01\x00\x00\x00\x03",
            "b.example A MX RRSIG NSEC",
        ),
        (
            47,
            wire_name("next") + b"\x00\x01\x40" + b"\x01\x01\x40",
            "next A CAA",
        ),
        (
            50,
            b"\x01\x01\x00\x0c\x04\xaa\xbb\xcc\xdd\x14" + bytes(20) + b"\x00\x01\x62",
            "1 1 12 AABBCCDD " + "0" * 32 + " A NS SOA",
        ),
        (50, b"\x01\x00\x00\x00\x00\x05" + b"\xff" * 5, "1 0 0 - VVVVVVVV"),
        (51, b"\x01\x00\x00\x0a\x02\xbe\xef", "1 0 10 BEEF"),
        (51, b"\x01\x00\x00\x00\x00", "1 0 0 -"),
        (10, b"\x01\x02", "\\# 2 0102"),
        (42, b"\x00\x01\x18\x03\xc0\x00\x02", "1:192.0.2.0/24"),
        (42, b"\x00\x02\x20\x82\x20\x01" + b"\x00\x01\x08\x00", "!2:2001::/32 1:0.0.0.0/8"),
        (42, b"", ""),
        (45, b"\x0a\x01\x02" + bytes([192, 0, 2, 38]) + b"\x01\x02", "10 1 2 192.0.2.38 AQI="),
        (45, b"\x0a\x00\x02\x01", "10 0 2 . AQ=="),
        (45, b"\x0a\x03\x02" + wire_name("gw.example") + b"\x01", "10 3 2 gw.example AQ=="),
        (29, b"\x01" + bytes(15), "\\# 16 01" + "00" * 15),
        (65280, b"", "\\# 0"),
    ],
)
def test_rdata_presentation(rtype: int, rdata: bytes, text: str) -> None:
    assert data_of(rtype, rdata) == text


def test_soa() -> None:
    rdata = wire_name("ns1.example.com") + wire_name("hostmaster.example.com")
    rdata += struct.pack("!5I", 2024010101, 7200, 3600, 1209600, 300)
    assert data_of(6, rdata) == (
        "ns1.example.com hostmaster.example.com 2024010101 7200 3600 1209600 300"
    )


def test_soa_with_compressed_names() -> None:
    # question example.com at 12: mname ns1 + ptr, rname pointer to the question name
    rdata = b"\x03ns1\xc0\x0c\xc0\x0c" + struct.pack("!5I", 1, 2, 3, 4, 5)
    assert data_of(6, rdata) == "ns1.example.com example.com 1 2 3 4 5"


def test_loc() -> None:
    # 52 22 23.000 N 4 53 32.000 E -2.00m 1m 10000m 10m (RFC 1876 example, as dig prints it)
    lat = 2**31 + ((52 * 60 + 22) * 60 + 23) * 1000
    lon = 2**31 + ((4 * 60 + 53) * 60 + 32) * 1000
    rdata = bytes([0, 0x12, 0x16, 0x13]) + struct.pack("!3I", lat, lon, 10_000_000 - 200)
    assert data_of(29, rdata) == "52 22 23.000 N 4 53 32.000 E -2.00m 1m 10000m 10m"
    south = bytes([0, 0x11, 0x16, 0x13]) + struct.pack("!3I", 2**31 - 1500, 2**31 - 1, 10_000_050)
    assert data_of(29, south) == "0 0 1.500 S 0 0 0.001 W 0.50m 0.10m 10000m 10m"


def test_rrsig() -> None:
    rdata = struct.pack("!HBBIIIH", 1, 13, 2, 3600, 1700000000, 1690000000, 12345)
    rdata += wire_name("example.com") + b"\x01\x02\x03"
    assert data_of(46, rdata) == (
        "A 13 2 3600 20231114221320 20230722042640 12345 example.com AQID"
    )


def test_tsig() -> None:
    rdata = wire_name("hmac-sha256") + (1700000000).to_bytes(6, "big")
    rdata += struct.pack("!HH", 300, 4) + b"\xde\xad\xbe\xef" + struct.pack("!3H", 4660, 16, 0)
    assert data_of(250, rdata) == "hmac-sha256 1700000000 300 3q2+7w== 4660 BADSIG 0"


def test_tsig_with_other_data_and_empty_mac() -> None:
    rdata = wire_name("hmac-md5.sig-alg.reg.int") + (5).to_bytes(6, "big")
    rdata += struct.pack("!HH", 300, 0) + struct.pack("!3H", 1, 18, 6) + (7).to_bytes(6, "big")
    assert data_of(250, rdata) == "hmac-md5.sig-alg.reg.int 5 300 - 1 BADTIME 6 AAAAAAAH"


def test_tkey() -> None:
    rdata = wire_name("gss-tsig") + struct.pack("!IIHHH", 1700000000, 1700003600, 3, 0, 2)
    rdata += b"\x01\x02" + b"\x00\x00"
    assert data_of(249, rdata) == "gss-tsig 20231114221320 20231114231320 3 NOERROR AQI= 0"


def test_svcb_and_https_keys() -> None:
    params = b"".join(
        struct.pack("!2H", key, len(value)) + value
        for key, value in [
            (0, b"\x00\x01\x00\x04"),
            (1, b"\x02h2\x02h3"),
            (2, b""),
            (3, b"\x01\xbb"),
            (4, bytes([192, 0, 2, 1, 192, 0, 2, 2])),
            (5, b"\x00\x01"),
            (6, bytes.fromhex("20010db8000000000000000000000001")),
            (7, b"/dns-query{?dns}"),
            (8, b""),
            (65000, b"a,b"),
            (65001, b""),
        ]
    )
    rdata = b"\x00\x01" + b"\0" + params
    expected = (
        "1 . mandatory=alpn,ipv4hint alpn=h2,h3 no-default-alpn port=443 "
        "ipv4hint=192.0.2.1,192.0.2.2 ech=AAE= ipv6hint=2001:db8::1 dohpath=/dns-query{?dns} "
        "ohttp key65000=a\\,b key65001"
    )
    assert data_of(65, rdata) == expected
    assert data_of(64, b"\x00\x00" + wire_name("svc.example")) == "0 svc.example"


def test_svcb_alias_and_scapy_https() -> None:
    pkt = DNS(
        qr=1,
        qd=[DNSQR(qname="example.com", qtype="HTTPS")],
        an=[
            DNSRRHTTPS(
                rrname="example.com",
                svc_priority=1,
                target_name=".",
                svc_params=[
                    SvcParam(key="alpn", value=["h3", "h2"]),
                    SvcParam(key="ipv4hint", value=["104.16.132.229"]),
                ],
            ),
            DNSRRSVCB(rrname="example.com", svc_priority=0, target_name="alias.example"),
        ],
    )
    msg = decode_message(bytes(pkt))
    assert msg.malformed is None
    assert [r[4] for r in msg.answers] == [
        "1 . alpn=h3,h2 ipv4hint=104.16.132.229",
        "0 alias.example",
    ]


def test_scapy_built_dnssec_and_other_types() -> None:
    pkt = DNS(
        qr=1,
        qd=[DNSQR(qname="example.com", qtype=255)],
        an=[
            DNSRRSOA(rrname="example.com", mname="ns.example.com", rname="h.example.com",
                     serial=7, refresh=1, retry=2, expire=3, minimum=4),
            DNSRRMX(rrname="example.com", preference=10, exchange="mx.example.com"),
            DNSRRSRV(rrname="_s._tcp.example.com", priority=1, weight=2, port=3,
                     target="t.example.com"),
            DNSRRDS(rrname="example.com", keytag=1, algorithm=8, digesttype=2,
                    digest=b"\x12\x34"),
            DNSRRDNSKEY(rrname="example.com", flags=257, protocol=3, algorithm=8,
                        publickey=b"\x01\x02"),
            DNSRRRSIG(rrname="example.com", typecovered=1, algorithm=8, labels=2,
                      originalttl=60, expiration=0, inception=0, keytag=5,
                      signersname="example.com", signature=b"\x00"),
            DNSRRNSEC(rrname="example.com", nextname="z.example.com", typebitmaps=[1, 2, 46]),
            DNSRRNSEC3(rrname="example.com", hashalg=1, flags=0, iterations=0, saltlength=0,
                       hashlength=1, nexthashedownername=b"\x00", typebitmaps=[1]),
            DNSRRNSEC3PARAM(rrname="example.com", hashalg=1, iterations=5, saltlength=1,
                            salt=b"\xab"),
            DNSRRTSIG(rrname="key.example", algo_name="hmac-sha1", time_signed=10, fudge=300,
                      mac_len=1, mac_data=b"\xff", original_id=1, error=0, other_len=0),
        ],
    )  # fmt: skip
    msg = decode_message(bytes(pkt))
    assert msg.malformed is None
    assert [r[4] for r in msg.answers] == [
        "ns.example.com h.example.com 7 1 2 3 4",
        "10 mx.example.com",
        "1 2 3 t.example.com",
        "1 8 2 1234",
        "257 3 8 AQI=",
        "A 8 2 60 19700101000000 19700101000000 5 example.com AA==",
        "z.example.com A NS RRSIG",
        "1 0 0 - 00 A",
        "1 0 5 AB",
        "hmac-sha1 10 300 /w== 1 NOERROR 0",
    ]


@pytest.mark.parametrize(
    ("rtype", "rdata"),
    [
        (1, b"\x01\x02\x03\x04\x05"),
        (28, b"\x00" * 4),
        (15, b"\x00"),
        (16, b"\x05abc"),
        (6, wire_name("a") + wire_name("b") + b"\x00" * 19),
        (6, wire_name("a") + wire_name("b") + b"\x00" * 21),
        (33, b"\x00\x01\x00\x02"),
        (43, b"\x00\x01\x08"),
        (46, b"\x00\x01"),
        (47, wire_name("a") + b"\x00\x21" + bytes(33)),
        (47, wire_name("a") + b"\x00\x05\x40"),
        (50, b"\x01\x00\x00\x00\x05\x01"),
        (51, b"\x01\x00\x00\x00\x01"),
        (51, b"\x01\x00\x00\x00\x00\xff"),
        (65, b"\x00\x01\x00\x00\x03\x00\x01\x01"),
        (65, b"\x00\x01\x00\x00\x04\x00\x03\x01\x02\x03"),
        (65, b"\x00\x01\x00\x00\x02\x00\x01\x00"),
        (65, b"\x00\x01\x00\x00\x01\x00\x00"),
        (257, b"\x00\x00"),
        (257, b"\x00\x03is"),
        (250, wire_name("alg") + b"\x00" * 9),
        (249, wire_name("alg") + b"\x00" * 13),
        (108, b"\x00" * 8),
        (109, b"\x00" * 6),
        (104, b"\x00" * 9),
        (105, b"\x00" * 5),
        (13, b"\x01a"),
        (2, b"\x01a\x00\x00"),
        (29, bytes([0, 0xA0, 0, 0]) + bytes(12)),
        (42, b"\x00\x03\x08\x01\x01"),
        (45, b"\x0a\x04\x02"),
        (16, b""),  # RFC 1035 3.3.14: one or more character-strings
        (99, b""),  # SPF, as TXT
        (65, b"\x00\x01\x00" + b"\x00\x03\x00\x02\x01\xbb" + b"\x00\x01\x00\x03\x02h2"),  # 3, 1
        (65, b"\x00\x01\x00" + b"\x00\x03\x00\x02\x01\xbb" * 2),  # a key twice
    ],
)
def test_rdata_that_does_not_parse_falls_back_to_rfc3597(rtype: int, rdata: bytes) -> None:
    msg = one_record(rtype, rdata)
    assert msg.malformed == "bad_rdata"
    assert msg.answers[0][4] == generic(rdata, 0, len(rdata))


def test_an_alpn_id_is_escaped_twice_as_rfc_9460_writes_it() -> None:
    """Appendix A.1: a value-list item's comma and backslash take a backslash, and the
    character-string that holds the list doubles every backslash."""
    alpn = b"\x00\x01\x00\x07" + b"\x04h3,x\x02h2\x03a\\b"
    value = b"\x00\x01\x00" + b"\x00\x01" + len(alpn[4:]).to_bytes(2, "big") + alpn[4:]
    assert data_of(65, value) == "1 . alpn=h3\\\\,x,h2,a\\\\\\\\b"


def test_quoted_strings() -> None:
    assert quoted(b"") == '""'
    assert quoted(b"plain text") == '"plain text"'
    assert quoted(b'say "hi" \\ \x7f\xc3\xa9') == '"say \\"hi\\" \\\\ \\127\\195\\169"'


def test_type_bitmap_windows_and_unknown_types() -> None:
    bitmap = b"\x00\x01\x40" + b"\x01\x01\x80" + b"\xff\x01\x01"
    assert type_bitmap(bitmap, 0, len(bitmap)) == "A URI TYPE65287"


def test_nsec3_next_hashed_owner_is_base32hex_uppercase() -> None:
    hashed = base64.b32hexdecode("2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S")
    rdata = b"\x01\x01\x00\x0a\x00" + bytes([len(hashed)]) + hashed
    assert data_of(50, rdata) == "1 1 10 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S"


def test_update_delete_with_rdata_keeps_presentation() -> None:
    buf = header(flags=5 << 11, qd=1, ns=1) + question(wire_name("example.com"), 6)
    buf += rr(wire_name("mx.example.com"), 15, b"\x00\x0a\xc0\x0c", rclass=254, ttl=0)
    msg = decode_message(buf)
    assert msg.authority == [("mx.example.com", 15, 254, 0, "10 example.com", False)]
