"""QUIC Initial protection against RFC 9001 appendix A and RFC 9369 appendix A (known answers)."""

from __future__ import annotations

import pytest

from mcpcap.modules.tls import quic, wire
from tests.fixtures.make_tls_captures import crypto_frame, protect_initial, quic_client_hello

RFC_DCID = bytes.fromhex("8394c8f03e515708")
# RFC 9001 A.3: the server's Initial, protected (its DCID is empty, its SCID f067a5502a4262b5)
RFC_SERVER_INITIAL = bytes.fromhex(
    "cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a"
    "5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3"
    "dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84"
    "022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4"
    "2158407dd074ee"
)
RFC_SERVER_PAYLOAD = bytes.fromhex(
    "02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf739"
    "88cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c94"
    "0d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00020304"
)


def test_rfc9001_initial_keys():
    client = quic.initial_keys(quic.V1, RFC_DCID, False)
    server = quic.initial_keys(quic.V1, RFC_DCID, True)
    assert client.key.hex() == "1f369613dd76d5467730efcbe3b1a22d"
    assert client.iv.hex() == "fa044b2f42a3fd3b46fb255c"
    assert client.hp.hex() == "9f50449e04a0e810283a1e9933adedd2"
    assert server.key.hex() == "cf3a5331653c364c88f0f379b6067e37"
    assert server.iv.hex() == "0ac1493ca1905853b0bba03e"
    assert server.hp.hex() == "c206b8d9b9f0f37644430b490eeaa314"


def test_rfc9369_initial_keys():
    client = quic.initial_keys(quic.V2, RFC_DCID, False)
    server = quic.initial_keys(quic.V2, RFC_DCID, True)
    assert client.key.hex() == "8b1a0bc121284290a29e0971b5cd045d"
    assert client.iv.hex() == "91f73e2351d8fa91660e909f"
    assert client.hp.hex() == "45b95e15235d6f45a6b19cbcb0294ba9"
    assert server.key.hex() == "82db637861d55e1d011f19ea71d5d2a7"
    assert server.iv.hex() == "dd13c276499c0249d3310652"
    assert server.hp.hex() == "edf6d05c83121201b436e16877593c3a"


def test_rfc9001_server_initial_decrypts_to_its_server_hello():
    (header,) = quic.long_headers(RFC_SERVER_INITIAL)
    assert header.initial and header.dcid == b"" and header.scid.hex() == "f067a5502a4262b5"
    number, plain = quic.decrypt(
        RFC_SERVER_INITIAL, header, quic.initial_keys(quic.V1, RFC_DCID, True)
    )
    assert number == 1
    assert plain == RFC_SERVER_PAYLOAD
    ((offset, data),) = quic.crypto_frames(plain)  # an ACK frame comes first
    assert offset == 0
    ((kind, body),) = wire.HandshakeReader().feed(data)
    hello = wire.parse_server_hello(body)
    assert (kind, hello.cipher, hello.selected_version, hello.group) == (2, 0x1301, 0x0304, 29)


def test_wrong_keys_or_a_flipped_bit_do_not_decrypt():
    (header,) = quic.long_headers(RFC_SERVER_INITIAL)
    with pytest.raises(wire.Malformed, match="does not decrypt"):
        quic.decrypt(RFC_SERVER_INITIAL, header, quic.initial_keys(quic.V1, RFC_DCID, False))
    flipped = RFC_SERVER_INITIAL[:-1] + bytes([RFC_SERVER_INITIAL[-1] ^ 1])
    with pytest.raises(wire.Malformed):
        quic.decrypt(flipped, header, quic.initial_keys(quic.V1, RFC_DCID, True))


@pytest.mark.parametrize("version", [quic.V1, quic.V2])
def test_an_initial_made_by_the_fixture_round_trips(version):
    hello = quic_client_hello("round.trip")
    dcid = bytes(range(8))
    packet = protect_initial(version, dcid, dcid, b"\x01", 7, crypto_frame(0, hello),
                             server=False, pad_to=1200)  # fmt: skip
    assert len(packet) == 1200 and quic.is_initial(packet)
    (header,) = quic.long_headers(packet)
    number, plain = quic.decrypt(packet, header, quic.initial_keys(version, dcid, False))
    assert number == 7
    assert quic.crypto_frames(plain) == [(0, hello)]


def test_is_initial_is_strict():
    assert quic.is_initial(RFC_SERVER_INITIAL)
    assert not quic.is_initial(b"\x40" + RFC_SERVER_INITIAL[1:])  # short header
    version_2_bits = RFC_SERVER_INITIAL[:1] + b"\x00\x00\x00\x02" + RFC_SERVER_INITIAL[5:]
    assert not quic.is_initial(version_2_bits)  # an unknown version
    assert not quic.is_initial(bytes([0xE0]) + RFC_SERVER_INITIAL[1:])  # v1 Handshake type
    assert not quic.is_initial(b"\xc0\x00")


def test_packet_number_decoding_rfc9000_a3():
    assert quic.decode_packet_number(0xA82F30EA, 0x9B32, 16) == 0xA82F9B32
    assert quic.decode_packet_number(-1, 0, 32) == 0


def test_crypto_stream_reorders_and_bounds():
    stream = quic.CryptoStream()
    assert stream.add(5, b"fghij") == b""
    assert stream.add(0, b"abc") == b"abc"
    assert stream.add(2, b"cde") == b"defghij"  # overlaps what was delivered, fills the hole
    assert stream.add(0, b"abcdefghij") == b""  # a repeat
    with pytest.raises(wire.Malformed):
        stream.add(100, bytes(quic.CryptoStream.MAX_PENDING + 1))


def test_padding_is_skipped_wherever_it_lies():
    crypto = b"\x06\x00\x03abc"  # CRYPTO at offset 0, 3 bytes
    assert quic.crypto_frames(bytes(40) + crypto) == [(0, b"abc")]  # padding first
    assert quic.crypto_frames(crypto + bytes(40)) == [(0, b"abc")]  # padding to the end
    between = crypto + bytes(7) + b"\x01" + bytes(3) + b"\x06\x03\x02de"  # ... PING ...
    assert quic.crypto_frames(between) == [(0, b"abc"), (3, b"de")]
    assert quic.crypto_frames(bytes(1)) == []


def test_truncated_and_hostile_headers():
    with pytest.raises(wire.Malformed):
        quic.long_headers(RFC_SERVER_INITIAL[:10])
    too_long_cid = RFC_SERVER_INITIAL[:5] + b"\x30" + bytes(60)
    with pytest.raises(wire.Malformed, match="connection id"):
        quic.long_headers(too_long_cid)
    with pytest.raises(wire.Malformed, match="frame type"):
        quic.crypto_frames(b"\x08\x00")  # a STREAM frame cannot be in an Initial


def test_one_key_set_opens_many_packets():
    """The cipher objects made once per key set serve every packet of the connection."""
    dcid = bytes(range(10, 18))
    keys = quic.initial_keys(quic.V1, dcid, False)
    for number in (0, 1, 5, 2):
        data = quic_client_hello(f"n{number}.test")
        packet = protect_initial(quic.V1, dcid, dcid, b"\x01", number, crypto_frame(0, data),
                                 server=False, pad_to=1200)  # fmt: skip
        (header,) = quic.long_headers(packet)
        assert quic.decrypt(packet, header, keys, number - 1) == (
            number,
            quic.decrypt(
                packet, header, quic.initial_keys.__wrapped__(quic.V1, dcid, False), number - 1
            )[1],
        )
        assert quic.crypto_frames(quic.decrypt(packet, header, keys)[1]) == [(0, data)]
