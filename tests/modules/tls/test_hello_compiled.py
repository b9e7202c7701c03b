"""The ClientHello's C twin (`_hello.c`, `wire.client_hello_fields`) against its reference,
`wire.python_client_hello_fields`: the same fields for every hello, the same `Malformed` for
every hello that does not parse, and the C doing the clean ones itself (the fallback is
counted, so the comparison is not all Python)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpcap.modules.tls import wire
from tests.fixtures.make_tls_captures import (
    alpn_ext,
    client_hello,
    ext,
    foxio_extensions,
    sni_ext,
    tls12_client_hello,
    u16,
    vec,
)

pytestmark = pytest.mark.skipif(
    wire.client_hello_fields is wire.python_client_hello_fields,
    reason="the compiled code is turned off (MCPCAP_PURE_PYTHON)",
)
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _body(message: bytes) -> bytes:
    """A handshake message's body (the 4-byte header off)."""
    return message[4:]


class _Twin:
    """The compiled function with a fallback that counts what it was handed."""

    def __init__(self) -> None:
        from mcpcap.modules.tls import _hello

        self.handed = 0

        def fallback(data: bytes) -> tuple:
            self.handed += 1
            return wire.python_client_hello_fields(data)

        self.fields = _hello.bind(fallback)

    def check(self, data: bytes) -> tuple | None:
        """The C's value (or error) is the Python's; the value, or None for a `Malformed`."""
        try:
            expected = wire.python_client_hello_fields(data)
        except wire.Malformed as error:
            with pytest.raises(wire.Malformed) as raised:
                self.fields(data)
            assert (str(raised.value), raised.value.code) == (str(error), error.code)
            return None
        assert self.fields(data) == expected
        return expected


CLEAN = [
    _body(client_hello([0x0A0A, 0x1301], foxio_extensions("a.example", 29))),
    _body(tls12_client_hello("x.test", session_id=bytes(32))),
    _body(client_hello([0x1301], [sni_ext("caf\u00e9.test"), alpn_ext([b"h2", b""])])),
    _body(client_hello([0x1301], [ext(0, vec(2, b"\x01" + vec(2, b"other")))])),  # no host name
    _body(client_hello([0x1301], [ext(0, b""), ext(0xFE0D, b"x"), ext(41, b"")])),
    _body(client_hello([0x1301], [ext(35, b"ticket"), ext(35, b"")])),  # the last one counts
    _body(client_hello([0x1301], [ext(35, b"ticket")])),
    _body(client_hello([0x1301], [ext(43, vec(1, u16(0x0304))), ext(11, vec(1, b"\x00\x01"))])),
    _body(client_hello([0x1301], [])),
    u16(0x0303) + bytes(32) + vec(1, b"") + vec(2, b"\x13\x01") + vec(1, b"\x00"),  # no block
]
NOT_CLEAN = [
    CLEAN[0][:30],  # cut in the random
    u16(0x0303) + bytes(32) + vec(1, b"") + vec(2, b"\x13\x01\x13") + vec(1, b"\x00"),  # odd
    _body(client_hello([0x1301], [sni_ext("kept.test"), u16(0x0010) + u16(400) + b"h2"])),
    _body(client_hello([0x1301], [ext(43, vec(1, b"\x03\x04\x03"))])),  # odd versions
    _body(client_hello([0x1301], [ext(16, vec(2, b"\x05h2"))])),  # a protocol past its list
]


@pytest.mark.parametrize("data", CLEAN)
def test_clean_hellos_are_read_in_c(data):
    twin = _Twin()
    assert twin.check(data) is not None
    assert twin.handed == 0


@pytest.mark.parametrize("data", NOT_CLEAN)
def test_the_rest_is_left_to_the_python(data):
    twin = _Twin()
    twin.check(data)
    assert twin.handed == 1


def test_a_bytearray_goes_to_the_python():
    twin = _Twin()
    assert twin.fields(bytearray(CLEAN[0])) == wire.python_client_hello_fields(CLEAN[0])
    assert twin.handed == 1


def test_a_non_utf8_server_name_is_escaped_as_the_python_escapes_it():
    data = _body(client_hello([0x1301], [ext(0, vec(2, b"\x00" + vec(2, b"bad\xffname")))]))
    fields = _Twin().check(data)
    assert fields is not None and fields[5] == "bad\\xffname"


@FUZZ
@given(
    st.sampled_from(CLEAN + NOT_CLEAN),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=6),
    st.integers(0, 700),
)
def test_mutated_hellos_give_the_same_fields(base, edits, cut):
    data = bytearray(base)
    for where, value in edits:
        data[where % len(data)] = value
    _Twin().check(bytes(data[:cut]))


@FUZZ
@given(
    st.lists(st.tuples(st.sampled_from([0, 10, 11, 13, 16, 35, 41, 43, 0xFE0D, 0x0A0A, 51]),
                       st.binary(max_size=24)), max_size=8),
    st.binary(max_size=40),
)  # fmt: skip
def test_random_extension_bodies_give_the_same_fields(extensions, tail):
    data = _body(client_hello([0x1301, 0x1302], [ext(kind, body) for kind, body in extensions]))
    _Twin().check(data + tail)
