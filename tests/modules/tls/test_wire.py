"""TLS handshake messages: parsing, reassembly of messages from fragments, bounds, names."""

from __future__ import annotations

import pytest

from mcpcap.modules.tls import names, wire
from mcpcap.modules.tls.certs import parse_leaf
from tests.fixtures.make_tls_captures import (
    BAD_CERT,
    GOOD_CERT,
    HRR_RANDOM,
    alpn_ext,
    certificate,
    client_hello,
    ext,
    foxio_extensions,
    server_hello,
    ske_named_curve,
    sni_ext,
    tls12_client_hello,
    u16,
    vec,
)


def body(message: bytes) -> bytes:
    ((_, content),) = wire.HandshakeReader().feed(message)
    return content


def test_client_hello_fields():
    message = client_hello([0x0A0A, 0x1301], foxio_extensions("a.example", 29))
    hello = wire.parse_client_hello(body(message))
    assert hello.ciphers == [0x0A0A, 0x1301]
    assert hello.server_name == "a.example"
    assert hello.alpn == ["h2", "http/1.1"]
    assert wire.supported_versions(hello) == [0x0304, 0x0303]
    assert hello.groups == [0x0A0A, 0x001D, 0x0017, 0x0018]
    assert hello.point_formats == [0]
    assert hello.sig_algs[:2] == [0x0403, 0x0804]
    assert hello.extensions[0] == 0x0A0A and len(hello.extensions) == 18
    assert hello.error is None and not hello.ech


def test_server_hello_fields_and_hrr():
    extensions = [ext(43, u16(0x0304)), ext(51, u16(29) + vec(2, bytes(32))), alpn_ext([b"h2"])]
    message = server_hello(0x1302, extensions, session_id=b"\x01" * 32)
    hello = wire.parse_server_hello(body(message))
    assert (hello.cipher, hello.version, hello.group, hello.alpn) == (0x1302, 0x0304, 29, "h2")
    assert hello.session_id == b"\x01" * 32 and not hello.hrr
    retry = wire.parse_server_hello(body(server_hello(0x1301, [], random=HRR_RANDOM)))
    assert retry.hrr and retry.version == 0x0303


def test_certificates_and_curve():
    chain = wire.parse_certificates(body(certificate([GOOD_CERT, BAD_CERT])))
    assert chain == [GOOD_CERT, BAD_CERT]
    assert wire.parse_server_key_exchange(body(ske_named_curve(29))) == 29
    assert wire.parse_server_key_exchange(b"\x01\x00") is None


def test_certificate_fields_and_problems():
    good = parse_leaf(GOOD_CERT)
    assert good.subject == "CN=www.example.com" and good.issuer == "CN=Example Test CA"
    assert good.san_dns == ["www.example.com", "*.example.com"]
    at = 1_714_554_000.0  # 2024-05-01
    assert good.problems(at, "www.example.com") == []
    assert good.problems(at, "api.example.com") == []  # the wildcard covers one label
    assert good.problems(at, "a.b.example.com") == ["name_mismatch"]
    assert good.problems(at, "example.com") == ["name_mismatch"]
    assert good.problems(1_800_000_000.0, None) == ["expired_at_capture_time"]
    assert good.problems(1_600_000_000.0, None) == ["not_yet_valid"]
    bad = parse_leaf(BAD_CERT)
    assert bad.problems(at, "secure.example.org") == [
        "expired_at_capture_time", "self_signed", "name_mismatch"]  # fmt: skip
    with pytest.raises(wire.Malformed, match=r"X\.509"):
        parse_leaf(b"\x30\x03abc")


def test_handshake_reader_joins_fragments_and_splits_messages():
    messages = tls12_client_hello("x.test") + ske_named_curve(23)
    reader = wire.HandshakeReader()
    out = []
    for i in range(len(messages)):  # one byte at a time
        out += reader.feed(messages[i : i + 1])
    assert [kind for kind, _ in out] == [1, 12]
    assert wire.parse_client_hello(out[0][1]).server_name == "x.test"
    assert reader.buf == b""


def test_bounds_and_truncation_are_malformed():
    with pytest.raises(wire.Malformed, match="16777215 bytes"):
        wire.HandshakeReader().feed(b"\x01\xff\xff\xff")
    message = body(tls12_client_hello("x.test"))
    with pytest.raises(wire.Malformed, match="truncated"):
        wire.parse_client_hello(message[:30])
    with pytest.raises(wire.Malformed):
        wire.parse_server_hello(b"\x03\x03")
    with pytest.raises(wire.Malformed):
        wire.parse_certificates(b"\x00\x00\x10\x00")


def test_a_bad_extension_keeps_what_came_before():
    message = client_hello([0x1301], [sni_ext("kept.test"), u16(0x0010) + u16(400) + b"h2"])
    hello = wire.parse_client_hello(body(message))
    assert hello.server_name == "kept.test"
    assert str(hello.error) == "ClientHello: a length beyond its message"
    assert hello.error.code == "length_overrun"


def test_sslv2_client_hello():
    specs = bytes.fromhex("010080") + bytes.fromhex("00002f")
    data = b"\x01\x03\x01" + u16(len(specs)) + u16(0) + u16(16) + specs + bytes(16)
    hello = wire.parse_sslv2_client_hello(data)
    assert hello.sslv2 and hello.legacy_version == 0x0301 and hello.ciphers == [0x2F]


def test_names():
    assert names.is_grease(0x0A0A) and names.is_grease(0xFAFA)
    assert not names.is_grease(0x0A1A) and not names.is_grease(0x1301)
    assert names.version_name(0x0303) == "TLSv12" and names.version_name(0x7F1C) == "TLSv13"
    assert names.version_name(0x1234) == "unknown-0x1234"
    assert names.cipher_name(0xC02F) == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
    assert names.cipher_name(0x0A0A) == "unknown-0x0a0a"
    assert names.group_name(29) == "x25519" and names.group_name(4588) == "X25519MLKEM768"


def test_a_certificate_is_parsed_once_per_distinct_bytes():
    parse_leaf.cache_clear()
    first = parse_leaf(bytes(GOOD_CERT))
    again = parse_leaf(bytes(bytearray(GOOD_CERT)))  # equal bytes, another object
    assert again is first and parse_leaf.cache_info().hits == 1
    for _ in range(2):  # garbage is never cached as a result: it fails every time
        with pytest.raises(wire.Malformed):
            parse_leaf(b"\x30\x03abc")
    assert parse_leaf.cache_info().currsize == 1
