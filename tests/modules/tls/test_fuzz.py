"""Arbitrary bytes never crash or hang the parsers: only `Malformed`, counted by the scan."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from mcpcap.modules.tls import quic, wire
from mcpcap.modules.tls.handshake import Handshake
from mcpcap.modules.tls.scan import decode_datagram
from mcpcap.modules.tls.tcp import TcpTls
from tests.fixtures.make_tls_captures import record, tls12_client_hello

HELLO = tls12_client_hello("fuzz.test")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.integers(0, len(HELLO)))
def test_hello_parsers(noise, at):
    mutated = HELLO[4:at] + noise
    for parse in (wire.parse_client_hello, wire.parse_server_hello, wire.parse_certificates,
                  wire.parse_sslv2_client_hello):  # fmt: skip
        with contextlib.suppress(wire.Malformed):
            parse(mutated)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.binary(max_size=300)), max_size=12))
def test_tcp_streams(pieces):
    conn = TcpTls(Handshake("tcp", ("10.0.0.1", 1), ("10.0.0.2", 443), 0.0))
    conn.feed(True, record(22, HELLO)[:20], False, False, 1, 1.0)
    for n, (from_client, data) in enumerate(pieces, 2):
        conn.feed(from_client, data, False, False, n, float(n))
    assert conn.handshake.client_hello is None or conn.handshake.client_hello.ciphers


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=1300))
def test_quic_datagrams(noise):
    datagram = b"\xc0\x00\x00\x00\x01" + noise
    decoded = decode_datagram(datagram)
    assert decoded == datagram or isinstance(decoded, list)
    with contextlib.suppress(wire.Malformed):
        for header in quic.long_headers(datagram):
            assert header.end <= len(datagram)
