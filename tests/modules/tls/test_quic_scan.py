"""QUIC connections in the scan: keys follow the client's DCID (Retry included), late and repeated
Initials make no second record, and the worker's forms (a client's first flight opened, a server
Initial opened where its client's was) give what raw bytes give."""

from __future__ import annotations

import sqlite3

import pytest

from mcpcap.modules.tls.scan import QuicDecoder, TlsScan, decode_datagram
from mcpcap.modules.tls.store import COLUMNS, create_tables
from tests.fixtures.make_tls_captures import (
    QUIC_V1,
    crypto_frame,
    ext,
    protect_initial,
    quic_client_hello,
    server_hello,
    u16,
    vec,
)

CLIENT, SERVER = ("10.9.0.1", 50500), ("10.9.0.2", 443)
SCID = b"\xaa" * 4
HELLO = quic_client_hello("scan.test")
REPLY = server_hello(0x1302, [ext(0x002B, u16(0x0304)), ext(0x0033, u16(29) + vec(2, bytes(32)))])


def client_initial(dcid: bytes, number: int = 0, data: bytes = HELLO) -> bytes:
    return protect_initial(QUIC_V1, dcid, dcid, SCID, number, crypto_frame(0, data),
                           server=False, pad_to=1200)  # fmt: skip


def server_initial(key_dcid: bytes) -> bytes:
    return protect_initial(QUIC_V1, key_dcid, SCID, b"\xbb" * 8, 0, crypto_frame(0, REPLY),
                           server=True)  # fmt: skip


WORKER_FORMS = ["raw", "first flights", "decoder"]


def scan(datagrams: list[tuple[bool, bytes]], form: str, counts=None) -> list[dict]:
    """The rows of a scan fed datagrams in one worker form: raw bytes, `decode_datagram`
    (first flights opened) or the module's worker decoder (server Initials opened too)."""
    db = sqlite3.connect(":memory:")
    create_tables(db)
    tls = TlsScan(db)
    decoder = QuicDecoder()
    for frame, (from_client, payload) in enumerate(datagrams, 1):
        source, destination = (CLIENT, SERVER) if from_client else (SERVER, CLIENT)
        if form == "decoder":
            decoded = decoder.decode(payload, source, destination)
        else:
            decoded = decode_datagram(payload) if form == "first flights" else payload
        tls.on_udp_decoded(frame, float(frame), *source, *destination, decoded)
    if counts is not None:
        counts.append(tls.finish(db))
    else:
        tls.finish(db)
    rows = db.execute(f"SELECT {', '.join(COLUMNS)} FROM tls_handshakes ORDER BY id").fetchall()
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows]


@pytest.mark.parametrize("form", WORKER_FORMS)
def test_a_repeated_initial_after_the_server_answered_is_no_new_handshake(form):
    dcid = b"\x01" * 8
    rows = scan([(True, client_initial(dcid)), (False, server_initial(dcid)),
                 (True, client_initial(dcid, 1))], form)  # fmt: skip
    assert len(rows) == 1
    assert rows[0]["cipher_id"] == 0x1302 and rows[0]["client_hello_frame"] == 1
    assert rows[0]["server_hello_frame"] == 2


@pytest.mark.parametrize("form", WORKER_FORMS)
def test_a_new_dcid_after_the_first_connection_is_a_new_connection(form):
    first, second = b"\x01" * 8, b"\x02" * 8
    rows = scan([(True, client_initial(first)), (False, server_initial(first)),
                 (True, client_initial(second)), (False, server_initial(second))],
                form)  # fmt: skip
    assert [row["client_hello_frame"] for row in rows] == [1, 3]
    assert all(row["cipher_id"] == 0x1302 for row in rows)


@pytest.mark.parametrize("form", WORKER_FORMS)
def test_after_a_retry_the_new_dcid_keys_both_sides(form):
    first, retried = b"\x03" * 8, b"\x04" * 10
    rows = scan([(True, client_initial(first)), (True, client_initial(retried)),
                 (False, server_initial(retried))], form)  # fmt: skip
    assert len(rows) == 1 and rows[0]["version"] == "TLSv13"
    assert rows[0]["malformed"] is None


def server_close(key_dcid: bytes, code: int) -> bytes:
    """A server Initial that closes the connection (ACK, then CONNECTION_CLOSE 0x1c)."""
    frames = bytes((0x02, 0, 0, 0, 0)) + bytes((0x1C, 0x40 | code >> 8, code & 0xFF, 0, 0))
    return protect_initial(QUIC_V1, key_dcid, SCID, b"\xbb" * 8, 0, frames, server=True)


@pytest.mark.parametrize("form", WORKER_FORMS)
@pytest.mark.parametrize(("code", "failed"), [(0x128, 1), (0x178, 1), (0x0A, 0)])
def test_a_tls_alert_as_a_quic_close_fails_the_handshake(form, code, failed):
    """RFC 9001, 4.8: a TLS alert ends a QUIC handshake as CONNECTION_CLOSE with the error
    0x100 + its description (0x128 handshake_failure, 0x178 no_application_protocol)."""
    dcid = b"\x06" * 8
    (row,) = scan([(True, client_initial(dcid)), (False, server_close(dcid, code))], form)
    assert (row["failed"], row["established"]) == (failed, 0)
    assert row["malformed"] is None


@pytest.mark.parametrize("form", WORKER_FORMS)
def test_undecryptable_and_truncated_initials_are_counted(form):
    dcid = b"\x05" * 8
    broken = client_initial(dcid)
    broken = broken[:-1] + bytes([broken[-1] ^ 0xFF])
    counts: list = []
    rows = scan([(True, broken), (True, client_initial(dcid)[:40])], form, counts)
    assert rows == []  # no hello was ever read
    assert counts[0].detail["malformed"] == {"quic_undecryptable": 1, "quic_truncated": 1}


def test_worker_form_is_marshal_friendly():
    import marshal

    opened = decode_datagram(client_initial(b"\x06" * 8))
    assert isinstance(opened, list) and marshal.loads(marshal.dumps(opened)) == opened
    assert decode_datagram(server_initial(b"\x06" * 8))[:1] == server_initial(b"\x06" * 8)[:1]


def test_open_handshakes_are_bounded(monkeypatch):
    from mcpcap.modules.tls import scan as scan_module

    monkeypatch.setattr(scan_module, "MAX_OPEN", 2)
    db = sqlite3.connect(":memory:")
    create_tables(db)
    tls = TlsScan(db)
    for n in range(5):
        packet = decode_datagram(client_initial(bytes([n]) * 8))
        tls.on_udp_decoded(n + 1, 1.0, "10.9.0.1", 40000 + n, "10.9.0.2", 443, packet)
    assert len(tls.quic) == 2 and len(tls.rows) == 3  # the oldest were written out already
    tls.finish(db)
    assert db.execute("SELECT count(*) FROM tls_handshakes").fetchone()[0] == 5


def test_a_worker_opens_the_server_initial_of_a_client_it_opened():
    dcid = b"\x07" * 8
    decoder = QuicDecoder()
    assert decoder.decode(server_initial(dcid), SERVER, CLIENT) == server_initial(dcid)  # unknown
    assert isinstance(decoder.decode(client_initial(dcid), CLIENT, SERVER), list)
    datagram, hints = decoder.decode(server_initial(dcid), SERVER, CLIENT)
    assert datagram == server_initial(dcid)
    assert hints == {0: (dcid, 0, 32, [(0, REPLY)])}  # keyed by the client's DCID
    assert decoder.decode(server_initial(dcid), ("10.9.0.3", 443), CLIENT) == server_initial(dcid)


@pytest.mark.parametrize(
    "forged",
    [
        (b"\x09" * 8, 0, 8, [(0, b"\x02garbage")]),  # keyed by another DCID
        (b"\x08" * 8, 300, 8, [(0, b"\x02garbage")]),  # a packet number it cannot be
    ],
)
def test_a_hint_the_connection_disagrees_with_is_not_taken(forged):
    dcid = b"\x08" * 8
    expected = scan([(True, client_initial(dcid)), (False, server_initial(dcid))], "raw")
    db = sqlite3.connect(":memory:")
    create_tables(db)
    tls = TlsScan(db)
    tls.on_udp_decoded(1, 1.0, *CLIENT, *SERVER, decode_datagram(client_initial(dcid)))
    tls.on_udp_decoded(2, 2.0, *SERVER, *CLIENT, (server_initial(dcid), {0: forged}))
    tls.finish(db)
    rows = db.execute(f"SELECT {', '.join(COLUMNS)} FROM tls_handshakes ORDER BY id").fetchall()
    assert [dict(zip(COLUMNS, row, strict=True)) for row in rows] == expected
    assert expected[0]["cipher_id"] == 0x1302


def test_the_module_gives_workers_the_hinting_decoder():
    import marshal

    from mcpcap.modules.tls.module import TlsModule

    decoder = TlsModule().worker_decoder()
    assert isinstance(decoder, QuicDecoder)
    dcid = b"\x0a" * 8
    decoder.decode(client_initial(dcid), CLIENT, SERVER)
    hinted = decoder.decode(server_initial(dcid), SERVER, CLIENT)
    assert marshal.loads(marshal.dumps(hinted)) == hinted


def test_a_worker_reads_the_client_hello_that_starts_the_stream():
    from mcpcap.modules.tls import wire

    ((dcid, number, frames, hello),) = decode_datagram(client_initial(b"\x0b" * 8))
    assert (dcid, number, frames) == (b"\x0b" * 8, 0, [(0, HELLO)])
    length, values = hello
    assert length == len(HELLO) - 4
    assert wire.hello_from_fields(values) == wire.parse_client_hello(HELLO[4:])
    later = client_initial(b"\x0b" * 8, 1, HELLO[:40])  # not all of it: nothing read
    assert decode_datagram(later)[0][3] is None


def test_a_client_hello_read_elsewhere_stands_only_for_the_streams_start():
    """A worker's reading is taken for the first message of a stream nothing came to before,
    never once some of the stream came (then the message is not all the worker's frame)."""
    dcid = b"\x0c" * 8
    start = decode_datagram(client_initial(dcid, 0, HELLO[:40]))  # the start, and no reading
    whole = decode_datagram(client_initial(dcid, 1))  # all of it again, read by the worker
    forged = [(d, n, f, (h[0], (0x0301, *h[1][1:5], "forged.test", *h[1][6:])))
              for d, n, f, h in whole]  # fmt: skip
    db = sqlite3.connect(":memory:")
    create_tables(db)
    tls = TlsScan(db)
    tls.on_udp_decoded(1, 1.0, *CLIENT, *SERVER, start)
    tls.on_udp_decoded(2, 2.0, *CLIENT, *SERVER, forged)
    tls.finish(db)
    assert db.execute("SELECT server_name, client_version FROM tls_handshakes").fetchall() == [
        ("scan.test", "TLSv12")
    ]


def test_client_hello_fields_round_trip_with_their_error():
    import marshal

    from mcpcap.modules.tls import wire

    hello = wire.parse_client_hello(HELLO[4:])
    hello.error = wire.Malformed("ClientHello truncated", "truncated_message")
    values = marshal.loads(marshal.dumps(wire.hello_fields(hello)))
    again = wire.hello_from_fields(values)
    assert (str(again.error), again.error.code) == ("ClientHello truncated", "truncated_message")
    again.error = hello.error
    assert again == hello
