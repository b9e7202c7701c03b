"""Cases found by the differential run against tshark and FoxIO's JA4 spec
(benchmarks/conformance/tls.py), each built with scapy and scanned end to end."""

from __future__ import annotations

import pytest

from mcpcap.modules.tls.module import TlsModule
from mcpcap.modules.tls.streams import NO_HELLO, NO_TLS
from tests.fixtures.make_tls_captures import (
    CCS,
    SERVER_HELLO_DONE,
    certificate,
    encrypted,
    ext,
    handshake,
    record,
    server_hello,
    tls12_client_hello,
    tls12_ja4,
    u16,
    vec,
)
from tests.modules.http.captured import Segments, records, tallies

HELLO = record(22, tls12_client_hello("split.example"), version=0x0301)
REPLY = record(22, server_hello(0xC02F, [ext(0xFF01, b"\x00")])) + CCS + encrypted(22, 40, 1)


@pytest.mark.parametrize("cuts", [(1,), (2,), (1, 2, 3, 4, 5)], ids=["16", "16-03", "bytewise"])
def test_a_client_hello_whose_first_segment_is_one_or_two_bytes_is_read(tmp_path, cuts):
    """The claim looked only at the first segment: `\\x16` alone lost the whole handshake."""
    conn = Segments(server_port=443)
    conn.send("client", HELLO, cuts)
    conn.send("server", REPLY)
    conn.send("client", CCS + encrypted(22, 40, 2))
    (record_,) = records(tmp_path, conn.close(), "tls.handshakes", ("tls",))
    assert record_["server_name"] == "split.example"
    assert record_["ja4"] == tls12_ja4(True)
    assert (record_["version"], record_["cipher_id"]) == ("TLSv12", 0xC02F)
    assert record_["client_hello_frame"] == 3 + len(cuts) + 1


def test_one_or_two_bytes_that_cannot_begin_a_record_are_not_claimed():
    module = TlsModule()
    assert module.claims_tcp(40000, 443, b"\x16") and module.claims_tcp(40000, 443, b"\x16\x03")
    for data in (b"\x17", b"\x16\x02", b"G", b"\x03"):
        assert not module.claims_tcp(40000, 443, data), data


def test_a_stream_claimed_on_one_byte_that_is_no_tls_gives_nothing(tmp_path):
    conn = Segments(server_port=443)
    conn.send("client", b"\x16 not a record at all" + bytes(40) + u16(7), (1,))
    conn.send("server", b"\x00" * 30)
    packets = conn.close()
    assert records(tmp_path, packets, "tls.handshakes", ("tls",)) == []
    assert records(tmp_path, packets, "tls.malformed", ("tls",)) == []
    # no TLS record ever came: no handshake that lost its hellos
    detail = tallies(tmp_path, packets, "tls")
    assert detail[NO_TLS] == 1 and NO_HELLO not in detail


def _mysql(seq: int, payload: bytes) -> bytes:
    return len(payload).to_bytes(3, "little") + bytes([seq]) + payload


UPGRADES = {  # the plain-text dialogue each protocol speaks before its ClientHello
    "smtp": (25, [("server", b"220 mx.example ESMTP\r\n"), ("client", b"EHLO c.example\r\n"),
                  ("server", b"250-mx.example\r\n250 STARTTLS\r\n"), ("client", b"STARTTLS\r\n"),
                  ("server", b"220 Ready to start TLS\r\n")]),
    "imap": (143, [("server", b"* OK IMAP4rev1 ready\r\n"), ("client", b"a1 STARTTLS\r\n"),
                   ("server", b"a1 OK Begin TLS negotiation now\r\n")]),
    "pop3": (110, [("server", b"+OK ready\r\n"), ("client", b"STLS\r\n"), ("server", b"+OK\r\n")]),
    "ftp": (21, [("server", b"220 FTP\r\n"), ("client", b"AUTH TLS\r\n"),
                 ("server", b"234 OK\r\n")]),
    "postgres": (5432, [("client", bytes.fromhex("0000000804d2162f")), ("server", b"S")]),
    "xmpp": (5222, [("client", b"<?xml version='1.0'?><stream:stream xmlns='jabber:client'>"),
                    ("server", b"<stream:stream xmlns='jabber:client'><stream:features/>"),
                    ("client", b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
                    ("server", b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")]),
    "ldap": (389, [("client", bytes.fromhex("301d02010177188016") + b"1.3.6.1.4.1.1466.20037"),
                   ("server", bytes.fromhex("300c02010178070a010004000400"))]),
    "mysql": (3306, [("server", _mysql(0, b"\x0a8.0.36\x00" + bytes(4) + b"abcdefgh\x00"
                                       + b"\xff\xff\xff\x02\x00\xff\xdf\x15" + bytes(23))),
                     ("client", _mysql(1, b"\x85\xae\x0f\x00" + bytes(4) + b"\xff" + bytes(23)))]),
}  # fmt: skip


@pytest.mark.parametrize("protocol", list(UPGRADES))
def test_tls_after_a_plain_text_upgrade_is_read_with_the_right_client(tmp_path, protocol):
    """STARTTLS and its kin: the handshake after the dialogue, the client being the side that
    sent the ClientHello even when the server spoke first."""
    port, dialogue = UPGRADES[protocol]
    conn = Segments(server_port=port)
    for side, data in dialogue:
        conn.send(side, data)
    conn.send("client", HELLO)
    conn.send("server", REPLY)
    conn.send("client", CCS + encrypted(22, 40, 2))
    (record_,) = records(tmp_path, conn.close(), "tls.handshakes", ("tls",))
    assert (record_["client_port"], record_["server_port"]) == (41000, port)
    assert (record_["server_name"], record_["version"]) == ("split.example", "TLSv12")
    assert record_["client_hello_frame"] == 3 + len(dialogue) + 1


def test_a_plain_text_dialogue_without_an_upgrade_gives_nothing(tmp_path):
    conn = Segments(server_port=25)
    conn.send("server", b"220 mx.example ESMTP\r\n")
    conn.send("client", b"EHLO c.example\r\nMAIL FROM:<a@b>\r\n")
    conn.send("server", b"250 OK\r\n" * 2)
    packets = conn.close()
    assert records(tmp_path, packets, "tls.handshakes", ("tls",)) == []
    assert records(tmp_path, packets, "tls.malformed", ("tls",)) == []
    # claimed on its greeting, it is no TLS handshake that lost its hellos
    detail = tallies(tmp_path, packets, "tls")
    assert detail[NO_TLS] == 1 and NO_HELLO not in detail


def test_a_certificate_of_garbage_is_malformed_and_the_handshake_goes_on(tmp_path):
    """A Certificate message whose framing holds but whose leaf is no X.509: counted, and the
    rest of the flight (ServerHelloDone) and both ChangeCipherSpecs are still read."""
    flight = record(22, server_hello(0xC02F, []) + certificate([b"\x30\x82\x01\x00" + bytes(8)])
                    + SERVER_HELLO_DONE)  # fmt: skip
    conn = Segments(server_port=443)
    conn.send("client", HELLO)
    conn.send("server", flight)
    conn.send("client", record(22, handshake(16, vec(1, bytes(32)))) + CCS + encrypted(22, 40, 1))
    conn.send("server", CCS + encrypted(22, 40, 2))
    packets = conn.close()
    (record_,) = records(tmp_path, packets, "tls.handshakes", ("tls",))
    assert (record_["established"], record_["cert_subject"]) == (True, None)
    assert record_["malformed"] == "certificate is not X.509 DER"
    (bad,) = records(tmp_path, packets, "tls.malformed", ("tls",))
    assert (bad["reason"], bad["src_port"], bad["frame"]) == ("bad_certificate", 443, 5)


@pytest.mark.parametrize("cuts", [(1,), (2,), (5,)], ids=["16", "16-03", "header"])
def test_a_server_hello_first_seen_in_a_segment_too_short_to_tell_keeps_the_server(tmp_path, cuts):
    """A capture that starts after the ClientHello: the first bytes are the server's, too few to
    show the handshake type. The ports decide then, as Zeek's heuristics do (443 serves)."""
    conn = Segments(server_port=443, handshake=False)
    conn.send("server", REPLY, cuts)
    conn.send("client", CCS + encrypted(22, 40, 2))
    (record_,) = records(tmp_path, conn.close(), "tls.handshakes", ("tls",))
    assert (record_["client"], record_["client_port"]) == ("10.9.0.1", 41000)
    assert (record_["server"], record_["server_port"]) == ("10.9.0.2", 443)
    assert (record_["version"], record_["cipher_id"]) == ("TLSv12", 0xC02F)
