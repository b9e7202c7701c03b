"""TLS over TCP chunks: records split anyhow, preambles, release after the handshake, claiming."""

from __future__ import annotations

from mcpcap.modules.tls.handshake import Handshake
from mcpcap.modules.tls.module import TlsModule
from mcpcap.modules.tls.store import COLUMNS
from mcpcap.modules.tls.tcp import TcpTls
from tests.fixtures.make_tls_captures import (
    CCS,
    GOOD_CERT,
    SERVER_HELLO_DONE,
    certificate,
    client_hello,
    encrypted,
    ext,
    handshake,
    record,
    server_hello,
    ske_named_curve,
    sni_ext,
    sslv2_client_hello,
    sslv2_server_hello,
    tls12_client_hello,
    u16,
    vec,
)

CLIENT, SERVER = ("10.0.0.1", 40000), ("10.0.0.2", 443)
HELLO = record(22, tls12_client_hello("chunks.test"))
FLIGHT = record(22, server_hello(0xC02F, [ext(0xFF01, b"\x00")]) + certificate([GOOD_CERT])
                + ske_named_curve(23) + SERVER_HELLO_DONE)  # fmt: skip


def conversation(step: int) -> list[tuple[bool, bytes]]:
    """The TLS 1.2 exchange cut into pieces of `step` bytes (records and messages split anyhow)."""
    sides = [(True, HELLO), (False, FLIGHT), (True, CCS + encrypted(22, 40, 1)),
             (False, CCS + encrypted(22, 40, 2)), (True, encrypted(23, 100, 3))]  # fmt: skip
    return [(side, data[i : i + step]) for side, data in sides for i in range(0, len(data), step)]


def run(pieces: list[tuple[bool, bytes]]) -> tuple[TcpTls, int]:
    conn = TcpTls(Handshake("tcp", CLIENT, SERVER, 0.0))
    for n, (from_client, data) in enumerate(pieces, 1):
        if not conn.feed(from_client, data, False, False, n, float(n)):
            return conn, n
    return conn, 0


def test_any_split_gives_the_same_handshake_and_releases_it():
    whole, released = run(conversation(100_000))
    hs = whole.handshake
    assert hs.client_hello.server_name == "chunks.test"
    assert hs.server_hello.cipher == 0xC02F and hs.curve == 23
    assert hs.cert.subject == "CN=www.example.com"
    assert hs.established and released == 4  # the server's CCS ends it: app data never read
    for step in (1, 3, 7, 100):
        split, _ = run(conversation(step))
        assert _same(split, whole)


def _same(a: TcpTls, b: TcpTls) -> bool:
    """Rows agree bar the time and frames (a message completes in another piece)."""
    skip = {COLUMNS.index(name) for name in ("ts", "client_hello_frame", "server_hello_frame")}
    ra, rb = a.handshake.row(str), b.handshake.row(str)
    return all(x == y for i, (x, y) in enumerate(zip(ra, rb, strict=True)) if i not in skip)


def test_a_preamble_is_skipped():
    conn = TcpTls(Handshake("tcp", CLIENT, SERVER, 0.0))
    conn.feed(True, b"CONNECT chunks.test:443 HTTP/1.1\r\n\r\n", False, False, 1, 1.0)
    conn.feed(False, b"HTTP/1.1 200 OK\r\n\r\n", False, False, 2, 2.0)
    conn.feed(True, HELLO, False, False, 3, 3.0)
    conn.feed(False, FLIGHT, False, False, 4, 4.0)
    assert conn.handshake.client_hello_frame == 3 and conn.handshake.server_hello_frame == 4


def test_a_gap_or_both_ends_release():
    conn = TcpTls(Handshake("tcp", CLIENT, SERVER, 0.0))
    assert conn.feed(True, HELLO[:50], False, False, 1, 1.0)
    assert conn.feed(True, HELLO[80:], True, False, 2, 2.0)  # bytes missing: this side stops
    assert conn.handshake.malformed[:2] == (
        "TCP bytes missing inside the handshake",
        "missing_bytes",
    )
    assert not conn.feed(False, b"", False, True, 3, 3.0)  # the other side ended


def test_garbage_and_huge_records_are_malformed_never_raised():
    conn = TcpTls(Handshake("tcp", CLIENT, SERVER, 0.0))
    conn.feed(True, HELLO, False, False, 1, 1.0)
    conn.feed(False, b"\x16\x03\x03\xff\xff" + bytes(10), False, False, 2, 2.0)
    assert conn.handshake.malformed[:3] == (
        "TLS record of 65535 bytes (bound 18432)",
        "record_too_long",
        2,
    )
    other = TcpTls(Handshake("tcp", CLIENT, SERVER, 0.0))
    other.feed(True, HELLO + b"\x99\x99\x99\x99\x99", False, False, 1, 1.0)
    assert other.handshake.malformed[1] == "not_a_record"
    assert other.handshake.client_hello is not None


def test_claims():
    module = TlsModule()
    assert module.claims_tcp(40000, 8443, HELLO)
    assert module.claims_tcp(443, 40000, FLIGHT)
    assert module.claims_tcp(40000, 3128, b"CONNECT a:443 HTTP/1.1\r\n")
    assert module.claims_tcp(40000, 1080, b"\x05\x01\x00")
    assert not module.claims_tcp(40000, 443, b"GET / HTTP/1.1\r\n")
    assert not module.claims_tcp(40000, 443, record(23, bytes(20)))  # mid-connection data
    assert not module.claims_tcp(40000, 443, b"\x16\x03\x03" + u16(20) + b"\x0b")
    assert module.claims_tcp(40000, 443, b"\x80\x2e\x01\x03\x01")  # SSLv2-format hello


def test_a_server_talking_alone_after_the_handshake_is_let_go():
    """A one-sided capture: the client's Finished never shows, the server's records are not
    read for ever (a long download costs a dozen record headers)."""
    conn = TcpTls(Handshake("tcp", CLIENT, SERVER, 0.0))
    conn.feed(True, HELLO, False, False, 1, 1.0)
    conn.feed(False, FLIGHT + CCS + encrypted(22, 40, 2), False, False, 2, 2.0)
    fed = 2
    while conn.feed(False, encrypted(23, 1000, fed), False, False, fed + 1, 3.0):
        fed += 1
        assert fed < 50
    assert not conn.handshake.established and conn.handshake.server_hello is not None


def test_a_socks5_preamble_is_skipped():
    conn = TcpTls(Handshake("tcp", CLIENT, SERVER, 0.0))
    request = b"\x05\x01\x00\x03\x0bchunks.test\x01\xbb"
    conn.feed(True, b"\x05\x01\x00", False, False, 1, 1.0)
    conn.feed(False, b"\x05\x00", False, False, 2, 2.0)
    conn.feed(True, request, False, False, 3, 3.0)
    conn.feed(False, b"\x05\x00\x00\x01\x0a\x00\x00\x02\x01\xbb", False, False, 4, 4.0)
    conn.feed(True, HELLO, False, False, 5, 5.0)
    conn.feed(False, FLIGHT, False, False, 6, 6.0)
    hs = conn.handshake
    assert (hs.client_hello_frame, hs.server_hello_frame) == (5, 6)
    assert hs.client_hello.server_name == "chunks.test" and hs.malformed is None


def test_a_socks_preamble_sent_without_waiting_for_the_proxy_is_claimed_and_skipped():
    """An optimistic client sends its SOCKS greeting with the request (SOCKS5), or its
    request with the ClientHello (SOCKS4), in one segment."""
    module = TlsModule()
    greeting_and_request = b"\x05\x01\x00" + b"\x05\x01\x00\x03\x0bchunks.test\x01\xbb"
    assert module.claims_tcp(40000, 1080, greeting_and_request)
    socks4 = b"\x04\x01\x01\xbb\x0a\x00\x00\x02user\x00"
    assert module.claims_tcp(40000, 1080, socks4 + HELLO)
    assert not module.claims_tcp(40000, 1080, b"\x04\x01\x01\xbb\x0a\x00\x00\x02user")
    conn = TcpTls(Handshake("tcp", CLIENT, SERVER, 0.0))
    conn.feed(True, greeting_and_request, False, False, 1, 1.0)
    conn.feed(
        False, b"\x05\x00" + b"\x05\x00\x00\x01\x0a\x00\x00\x02\x01\xbb", False, False, 2, 2.0
    )
    conn.feed(True, HELLO, False, False, 3, 3.0)
    conn.feed(False, FLIGHT, False, False, 4, 4.0)
    hs = conn.handshake
    assert (hs.client_hello_frame, hs.server_hello_frame) == (3, 4)
    assert hs.client_hello.server_name == "chunks.test" and hs.malformed is None


def test_no_handshake_within_the_preamble_bound_gives_up():
    conn = TcpTls(Handshake("tcp", CLIENT, SERVER, 0.0))
    conn.feed(True, b"CONNECT x:443 HTTP/1.1\r\n\r\n", False, False, 1, 1.0)
    kept = conn.feed(False, b"HTTP/1.1 407 Proxy Authentication Required\r\n" + bytes(20_000),
                     False, False, 2, 2.0)  # fmt: skip
    assert kept  # the client side may still start a handshake
    assert not conn.feed(True, bytes(20_000), False, False, 3, 3.0)
    assert conn.handshake.client_hello is None


def test_a_client_alone_after_its_change_cipher_spec_sends_encrypted_handshake_records():
    """A one-direction capture (client to server): no ServerHello is seen, yet the Finished
    after the client's CCS is ciphertext, never a handshake message of millions of bytes."""
    conn = TcpTls(Handshake("tcp", CLIENT, SERVER, 0.0))
    key_exchange = record(22, b"\x10\x00\x00\x21\x20" + bytes(32))
    conn.feed(True, HELLO, False, False, 1, 1.0)
    conn.feed(True, key_exchange + CCS + encrypted(22, 40, 1), False, False, 2, 2.0)
    conn.feed(True, encrypted(23, 100, 2), False, True, 3, 3.0)
    hs = conn.handshake
    assert hs.malformed is None and hs.client_hello.server_name == "chunks.test"
    assert not hs.established


def test_handshake_bytes_left_incomplete_by_a_fin_or_another_record_are_malformed():
    claims_more = b"\x01" + (2000).to_bytes(3, "big") + bytes(196)
    cases = [
        ([(record(22, claims_more), True)], "handshake_cut_short"),
        ([(record(22, claims_more) + encrypted(23, 5, 1), False)], "handshake_interleaved"),
        ([(record(22, claims_more) + CCS, False)], "handshake_interleaved"),
        ([(HELLO[:-10], True)], "record_cut_short"),
        ([(HELLO[:3], True)], "record_cut_short"),
    ]
    for pieces, reason in cases:
        conn = TcpTls(Handshake("tcp", CLIENT, SERVER, 0.0))
        for n, (data, end) in enumerate(pieces, 1):
            conn.feed(True, data, False, end, n, float(n))
        assert conn.handshake.malformed[1] == reason, (pieces, reason)


def test_a_capture_ending_inside_a_record_is_not_malformed():
    """Only the sender's FIN or RST says its bytes ended: a capture that stops is no proof."""
    conn = TcpTls(Handshake("tcp", CLIENT, SERVER, 0.0))
    conn.feed(True, HELLO[:-10], False, False, 1, 1.0)
    assert conn.handshake.malformed is None


def test_an_sslv2_server_hello_gives_version_cipher_and_certificate():
    """SSL 2.0: the ServerHello (here in two segments) carries the certificate and the
    server's cipher kinds; the first is the cipher, as Zeek's ssl.log has it."""
    conn = TcpTls(Handshake("tcp", CLIENT, SERVER, 0.0))
    answer = sslv2_server_hello(GOOD_CERT, [0x0700C0, 0x010080])
    conn.feed(True, sslv2_client_hello([0x0700C0, 0x010080, 0x000004]), False, False, 1, 1.0)
    assert conn.feed(False, answer[:100], False, False, 2, 2.0)
    conn.feed(False, answer[100:], False, False, 3, 3.0)
    row = dict(zip(COLUMNS, conn.handshake.row(str), strict=True))
    assert (row["version"], row["client_version"]) == ("SSLv2", "SSLv2")
    assert (row["cipher"], row["cipher_id"]) == ("SSLv20_CK_DES_192_EDE3_CBC_WITH_MD5", 0x0700C0)
    assert row["cert_subject"] == "CN=www.example.com" and row["server_hello_frame"] == 3
    assert row["resumed"] == 0 and row["ja3s"] is None and row["malformed"] is None
    resumed = TcpTls(Handshake("tcp", CLIENT, SERVER, 0.0))
    resumed.feed(True, sslv2_client_hello([0x010080]), False, False, 1, 1.0)
    resumed.feed(False, sslv2_server_hello(b"", [], hit=True), False, False, 2, 2.0)
    assert resumed.handshake.resumed and resumed.handshake.server_hello.cipher is None


def test_an_sslv2_compatible_hello_answered_in_tls_goes_on_in_tls_records():
    """RFC 5246, appendix E.2: the client's SSL 2.0-format hello, then TLS records both ways."""
    conn = TcpTls(Handshake("tcp", CLIENT, SERVER, 0.0))
    conn.feed(True, sslv2_client_hello([0x00002F, 0x000035]), False, False, 1, 1.0)
    conn.feed(False, record(22, server_hello(0x002F, []) + certificate([GOOD_CERT])
                            + SERVER_HELLO_DONE), False, False, 2, 2.0)  # fmt: skip
    conn.feed(True, record(22, handshake(16, vec_key())) + CCS + encrypted(22, 40, 1),
              False, False, 3, 3.0)  # fmt: skip
    assert not conn.handshake.established
    assert not conn.feed(False, CCS + encrypted(22, 40, 2), False, False, 4, 4.0)
    row = dict(zip(COLUMNS, conn.handshake.row(str), strict=True))
    assert (row["version"], row["cipher_id"], row["established"]) == ("TLSv12", 0x002F, 1)
    assert row["malformed"] is None


def vec_key() -> bytes:
    return u16(128) + bytes(128)  # a ClientKeyExchange's encrypted premaster secret


def test_sslv2_is_established_once_both_sides_go_on_past_the_hellos():
    """SSL 2.0: the client's master key, then the server's encrypted verify (Zeek's ssl.log
    says established at the master key)."""
    conn = TcpTls(Handshake("tcp", CLIENT, SERVER, 0.0))
    conn.feed(True, sslv2_client_hello([0x0700C0]), False, False, 1, 1.0)
    conn.feed(False, sslv2_server_hello(GOOD_CERT, [0x0700C0]), False, False, 2, 2.0)
    master_key = b"\x80\x0a\x02\x07\x00\xc0" + bytes(6)  # CLIENT-MASTER-KEY's start
    conn.feed(True, master_key, False, False, 3, 3.0)
    assert not conn.handshake.established
    assert not conn.feed(False, b"\x80\x21" + bytes(33), False, False, 4, 4.0)
    assert conn.handshake.established and conn.handshake.malformed is None


def test_a_dhe_key_exchange_names_no_curve_whatever_its_prime_length():
    """A DHE ServerKeyExchange starts with its prime's length: 768 bytes (6144 bits) is 0x0300,
    whose 3 is `named_curve` in an ECDHE one (RFC 8422, 5.4)."""
    for bits in (2048, 6144):
        prime = bits // 8
        ske = handshake(
            12, u16(prime) + bytes(prime) + u16(1) + b"\x02" + u16(prime) + bytes(prime)
        )
        conn = TcpTls(Handshake("tcp", CLIENT, SERVER, 0.0))
        conn.feed(True, HELLO, False, False, 1, 1.0)
        conn.feed(False, record(22, server_hello(0x009E, []) + certificate([GOOD_CERT]) + ske
                                + SERVER_HELLO_DONE), False, False, 2, 2.0)  # fmt: skip
        assert conn.handshake.server_hello.cipher == 0x009E  # TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
        assert conn.handshake.curve is None, bits


def _resumption(client_hello: bytes, server_session: bytes, client_flight: bytes) -> Handshake:
    """A TLS 1.2 exchange: the hello, the server's ServerHello (with `server_session`), its CCS
    and Finished, then the client's flight."""
    conn = TcpTls(Handshake("tcp", CLIENT, SERVER, 0.0))
    conn.feed(True, record(22, client_hello), False, False, 1, 1.0)
    answer = record(22, server_hello(0xC02F, [], session_id=server_session))
    conn.feed(False, answer + CCS + encrypted(22, 40, 2), False, False, 2, 2.0)
    conn.feed(True, client_flight, False, False, 3, 3.0)
    return conn.handshake


def _ticket_hello(ticket: bytes, session_id: bytes = b"") -> bytes:
    return client_hello([0xC02F], [sni_ext("t.test"), ext(0x0023, ticket)], session_id=session_id)


def test_a_session_ticket_taken_with_no_session_id_is_resumed_as_zeek_tells_it():
    """RFC 5077 3.1: the server takes the ticket and answers with its CCS at once; the client
    sends its CCS with no ClientKeyExchange. Zeek's `ssl/main.zeek` marks that resumed."""
    key_exchange = record(22, handshake(16, vec(1, bytes(32))))
    finished = CCS + encrypted(22, 40, 3)
    resumed = _resumption(_ticket_hello(b"T" * 64), b"", finished)
    assert resumed.resumed and resumed.established
    # a full handshake: the client's key exchange comes first
    assert not _resumption(_ticket_hello(b"T" * 64), b"", key_exchange + finished).resumed
    # an empty extension offers no ticket: the client only says it takes them
    assert not _resumption(_ticket_hello(b""), b"", finished).resumed


def test_a_session_id_of_32_zero_bytes_names_no_session():
    zeros = bytes(32)
    full = record(22, handshake(16, vec(1, bytes(32)))) + CCS + encrypted(22, 40, 3)
    echoed = _resumption(tls12_client_hello("z.test", session_id=zeros), zeros, full)
    assert not echoed.resumed  # Zeek: `session_id != /^\x00{32}$/`
    named = bytes(range(1, 33))
    again = _resumption(tls12_client_hello("z.test", session_id=named), named, CCS)
    assert again.resumed
