"""The SOCKS exchange before HTTP: taken off both directions byte-exactly, however it is cut."""

from __future__ import annotations

import random

import pytest

from mcpcap.modules.http.socks import SocksPreamble, starts_socks
from tests.modules.http.wire import Wire, response

GET = b"GET /via HTTP/1.1\r\nHost: proxied.example\r\n\r\n"
SOCKS5 = (
    [b"\x05\x02\x00\x02", b"\x01\x04user\x06secret", b"\x05\x01\x00\x03\x07example\x00\x50"],
    [b"\x05\x02", b"\x01\x00", b"\x05\x00\x00\x04" + bytes(16) + b"\x00\x50"],
)
SOCKS4A = ([b"\x04\x01\x00\x50\x00\x00\x00\x09me\x00example\x00"], [b"\x00\x5a" + bytes(6)])


@pytest.mark.parametrize("exchange", [SOCKS5, SOCKS4A], ids=["socks5-auth-ipv6", "socks4a"])
def test_the_exchange_is_taken_off_however_it_is_cut(exchange):
    client, server = (b"".join(side) for side in exchange)
    rng = random.Random(7)
    for _ in range(50):
        preamble = SocksPreamble(client)
        got = {True: b"", False: b""}
        for from_client, data in ((True, client + GET), (False, server + b"HTTP/1.1")):
            at = 0
            while at < len(data):
                step = rng.randint(1, 9)
                got[from_client] += preamble.strip(from_client, data[at : at + step])
                at += step
        assert not preamble.failed
        assert (got[True], got[False]) == (GET, b"HTTP/1.1")


@pytest.mark.parametrize(
    "server",
    [b"\x05\xff", b"\x05\x00\x05\x05\x00\x01" + bytes(6), b"\x00\x5b" + bytes(6)],
    ids=["no-method", "refused", "socks4-rejected"],
)
def test_a_refusal_ends_the_connection_without_a_record(server):
    greeting = b"\x04\x01\x00\x50\x0a\x00\x00\x01\x00" if server[0] == 0 else b"\x05\x01\x00"
    wire = Wire(1080)
    wire.conn.preamble = SocksPreamble(greeting)
    wire.client(greeting)
    assert wire.server(server) is False
    assert wire.records() == [] and wire.conn.notes == []


def test_http_after_the_exchange_is_recorded_and_tls_is_left_alone():
    wire = Wire(1080)
    wire.conn.preamble = SocksPreamble(b"\x05\x01\x00")
    wire.client(b"\x05\x01\x00")
    wire.server(b"\x05\x00")
    wire.client(b"\x05\x01\x00\x01\x0a\x00\x00\x02\x00\x50" + GET)
    wire.server(b"\x05\x00\x00\x01\x0a\x00\x00\x02\x00\x50" + response("200 OK", b"hi"))
    (record,) = wire.close()
    assert (record["uri"], record["status_code"], record["tags"]) == ("/via", 200, ["socks"])
    tls = Wire(1080)
    tls.conn.preamble = SocksPreamble(b"\x05\x01\x00")
    tls.client(b"\x05\x01\x00")
    tls.server(b"\x05\x00")
    tls.client(b"\x05\x01\x00\x01\x0a\x00\x00\x02\x01\xbb")
    tls.server(b"\x05\x00\x00\x01\x0a\x00\x00\x02\x01\xbb")
    assert tls.client(bytes.fromhex("160301002a010000260303") + bytes(40)) is False
    assert tls.records() == [] and tls.conn.notes == []


def test_garbage_or_an_endless_message_is_given_up_bounded():
    socks4 = b"\x04\x01\x00\x50\x0a\x00\x00\x01"
    preamble = SocksPreamble(socks4)
    assert preamble.strip(True, socks4 + b"u" * 300) == b""  # a user id without its end ...
    assert not preamble.failed
    assert preamble.strip(True, b"u" * 300) == b""  # ... is given up past a message's bound
    assert preamble.failed
    junk = SocksPreamble(b"\x05\x01\x00")
    junk.strip(True, b"\x05\x01\x00")
    assert junk.strip(False, b"\x09\x09") == b"" and junk.failed
    rng = random.Random(3)
    for _ in range(2000):
        noise = SocksPreamble(b"\x05\x01\x00")
        for _ in range(4):
            noise.strip(rng.random() < 0.5, rng.randbytes(rng.randint(0, 40)))
        assert sum(map(len, noise.buffers.values())) <= 600


@pytest.mark.parametrize(
    ("first", "socks"),
    [
        (b"\x05\x01\x00", True),
        (b"\x05\x02\x00\x02", True),
        (b"\x05\x01\x00\x05\x01\x00\x01\x0a\x00\x00\x02\x00\x50", True),  # with its request
        (b"\x04\x01\x00\x50\x0a\x00\x00\x01me\x00", True),
        (b"\x05\x03\x00", False),  # three methods announced, one sent
        (b"\x04\x01\x00\x50\x0a\x00\x00\x01me", False),  # the user id goes on
        (b"GET / HTTP/1.1\r\n", False),
        (bytes.fromhex("160301002a01"), False),
    ],
)
def test_a_socks_request_is_recognised_by_its_first_bytes(first, socks):
    assert starts_socks(first) is socks
