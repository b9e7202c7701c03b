"""The DHCPv4 decoder's C twin (`_wire.c`, `wire.decode_v4`) against its reference,
`wire.python_decode_v4`: the same message for every payload, with its keys and options in the
same order (the stored messages' JSON keeps that order), and the C reading the clean messages
itself (the fallback is counted, so the comparison is not all Python)."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpcap.modules.dhcp import wire
from tests.twins import FIXTURES, captures, segments

sys.path.insert(0, str(FIXTURES))
import make_dhcp_icmp_captures as gen

pytestmark = pytest.mark.skipif(
    wire.decode_v4 is wire.python_decode_v4,
    reason="the compiled code is turned off (MCPCAP_PURE_PYTHON)",
)
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class _Twin:
    """The compiled function, bound to wire.py's tables with a fallback that counts."""

    def __init__(self) -> None:
        from mcpcap.modules.dhcp import _wire

        self.handed = 0

        def fallback(payload: bytes) -> wire.Message | None:
            self.handed += 1
            return wire.python_decode_v4(payload)

        self.decode = _wire.bind(fallback, *wire.decode_v4.__self__[1:])

    def check(self, payload: bytes) -> wire.Message | None:
        expected = wire.python_decode_v4(payload)
        got = self.decode(payload)
        assert got == expected
        if expected is not None:
            assert list(got) == list(expected)
            assert list(got["opts"]) == list(expected["opts"])
        return got


def _clean_messages() -> list[bytes]:
    """Messages of every clean shape: client and server, each kind of option `_wire.c` reads."""
    mac = gen.MAC["A"]
    return [
        gen.client(gen.DISCOVER, 1, mac, gen.opt(12, b"laptop\0\0"), gen.opt(60, b"MSFT 5.0"),
                   gen.opt(55, bytes(range(1, 90))), gen.opt(50, gen.ip4("10.0.0.50")),
                   gen.opt(61, b"\x01" + bytes.fromhex("02000000000d")), gen.opt(224, b"\xde")),
        gen.client(gen.REQUEST, 2, mac, gen.opt(61, b"\x00client-7"), gen.opt(12, b"h\xffst"),
                   gen.opt(57, struct.pack("!H", 1500)), gen.opt(43, b""), ciaddr="10.0.0.7"),
        gen.server(gen.OFFER, 3, mac, "10.0.0.1", "10.0.0.9", gen.LEASE, gen.NET, gen.DOMAIN,
                   gen.opt(2, struct.pack("!i", -3600)), gen.opt(42, gen.ip4("1.1.1.1") * 63),
                   gen.opt(58, struct.pack("!I", 1800)), gen.opt(26, struct.pack("!H", 9000))),
        gen.server(gen.ACK, 4, mac, "10.0.0.1", "10.0.0.9", gen.LEASE, giaddr="10.0.9.1"),
        gen.server(99, 5, mac, "10.0.0.1", "0.0.0.0", gen.opt(3, b"")),  # a type of no name
        gen.bootp(2, 6, mac, b"\0\0" + gen.opt(1, gen.ip4("255.0.0.0"))),  # BOOTP: no type
    ]  # fmt: skip


def test_clean_messages_are_read_in_c_as_the_python_reads_them():
    twin = _Twin()
    for payload in _clean_messages():
        assert twin.check(payload) is not None
    assert twin.handed == 0
    assert twin.decode(_clean_messages()[2])["opts"]["time_offset"] == -3600
    assert len(twin.decode(_clean_messages()[2])["opts"]["ntp_servers"]) == 63
    requested = twin.decode(_clean_messages()[0])["opts"]["parameter_request_list"]
    assert len(requested) == wire.MAX_LIST


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\x01" * 100,  # shorter than the BOOTP header
        gen.bootp(1, 1, gen.MAC["A"], b"", cookie=b"\x63\x82\x53\x00"),  # wrong magic cookie
        gen.client(gen.INFORM, 1, gen.MAC["C"], gen.opt(12, b"long-"), gen.opt(12, b"host")),
        gen.client(gen.INFORM, 1, gen.MAC["C"], gen.opt(52, b"\x03")),  # overload
        gen.client(gen.INFORM, 1, gen.MAC["C"], gen.opt(50, b"\x01\x02\x03")),  # wrong length
        gen.client(gen.INFORM, 1, gen.MAC["C"], gen.opt(81, b"\x05\0\0\x03abc\0")),  # FQDN
        gen.client(gen.INFORM, 1, gen.MAC["C"])[:-1] + b"\x0c\x09ab",  # past the end
        gen.bootp(1, 1, gen.MAC["C"], gen.opt(53, b"\x01\x02")),  # a type of two bytes
    ],
)
def test_what_the_c_does_not_read_is_left_to_the_python(payload):
    twin = _Twin()
    twin.check(payload)
    assert twin.handed == 1


def test_a_payload_that_is_not_bytes_is_left_to_the_python():
    twin = _Twin()
    payload = _clean_messages()[0]
    assert twin.decode(bytearray(payload)) == wire.python_decode_v4(payload)
    assert twin.handed == 1


def test_bind_checks_its_tables():
    from mcpcap.modules.dhcp import _wire

    fallback, options, types, from_server, names, max_list = wire.decode_v4.__self__
    with pytest.raises(TypeError):
        _wire.bind(fallback, options[:-1], types, from_server, names, max_list)
    with pytest.raises(TypeError):
        _wire.bind(fallback, options, types, from_server[:-1], names, max_list)
    with pytest.raises(TypeError):
        _wire.bind(fallback, ((options[0][0], len(_wire.KINDS)),) * 256, types, from_server,
                   names, max_list)  # fmt: skip
    with pytest.raises(TypeError):
        _wire.bind(fallback, options, types, from_server, names)


# options of every code, of lengths around the ones each kind takes
_OPTION = st.tuples(
    st.integers(0, 255),
    st.one_of(st.binary(max_size=8), st.sampled_from([b"\x01", b"\x05", b"\x00\x00\x00\x01"])),
).map(lambda pair: gen.opt(*pair))


@FUZZ
@given(
    op=st.integers(0, 3),
    htype=st.integers(0, 7),
    hlen=st.integers(0, 20),
    header=st.binary(min_size=236 - 28, max_size=236 - 28),
    options=st.lists(_OPTION, max_size=12),
    tail=st.binary(max_size=3),
)
def test_messages_of_random_options_read_alike(op, htype, hlen, header, options, tail):
    head = bytes((op, htype, hlen, 0)) + struct.pack("!I", 7) + bytes(20)
    twin = _Twin()
    twin.check(head + header + gen.COOKIE + b"".join(options) + tail)


@FUZZ
@given(st.data())
def test_clean_messages_mutated_read_alike(data):
    payload = bytearray(data.draw(st.sampled_from(_clean_messages())))
    for _ in range(data.draw(st.integers(1, 4))):
        payload[data.draw(st.integers(0, len(payload) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(payload)))
    _Twin().check(bytes(payload[: len(payload) - cut if cut < 8 else len(payload)]))


def test_every_dhcpv4_datagram_of_the_fixtures_reads_alike(tmp_path):
    twin = _Twin()
    seen = 0
    for path in captures(tmp_path, ("dhcp_icmp",), seed=3):
        for _frame, _ts, seg in segments(Path(path)):
            if seg.transport == "udp" and min(seg.sport, seg.dport) in wire.V4_PORTS:
                twin.check(seg.payload)
                seen += 1
    assert seen > 50
    assert twin.handed < seen  # (the hostile ones are the Python's)
