"""`Decapsulator._ethernet_ipv4_packet` compiled (`mcpcap/core/_decap.c`) against its Python.

Every frame of the fixture captures (and of the shared corpus, when it is there), frames cut at
every length, and random mutations of real frames go through both; the results must be equal,
down to the type of every segment and the identity of its layer tuple.
"""

from __future__ import annotations

import random
import shutil
import struct
from pathlib import Path

import pytest

from mcpcap.core import decap, fastpath
from mcpcap.core.decap import Decapsulator, Segment
from mcpcap.core.reader import CaptureReader

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MODULE_FIXTURES = [FIXTURES / name for name in ("captures", "conn", "tls", "http", "dhcp_icmp")]
COMPILED = fastpath.compiled("mcpcap.core._decap")
C_ETHERNET_PACKET = decap._COMPILED_ETHERNET_PACKET
C_ETHERNET_DATAGRAM = decap._COMPILED_ETHERNET_DATAGRAM
TCP_PORTS = frozenset({53, 443})


needs_compiled = pytest.mark.skipif(
    C_ETHERNET_PACKET is None, reason="the accelerator is turned off (MCPCAP_PURE_PYTHON)"
)


def _python_and_c(buf: bytes, start: int, end: int, frame_len: int) -> tuple:
    """`_ethernet_ipv4_packet` of each path, with decapsulators of their own."""
    reference, compiled = Decapsulator(_any, frozenset()), Decapsulator(_any, frozenset())
    reference._frame_len = frame_len
    expected = reference._ethernet_ipv4_packet(buf, start, end)
    got = C_ETHERNET_PACKET(buf, start, end, frame_len, compiled._address_text, compiled._format)
    return expected, got


def _any(sport: int, dport: int, payload: bytes) -> bool:
    return True


def _some(sport: int, dport: int, payload: bytes) -> bool:
    """A filter that keeps some datagrams and not others."""
    return (sport + dport + len(payload)) % 3 != 0


def _datagram_python_and_c(buf: bytes, start: int, end: int) -> tuple:
    """`_ethernet_datagram` of each path (outside packet mode), with their own decapsulators."""
    reference, compiled = Decapsulator(_some, TCP_PORTS), Decapsulator(_some, TCP_PORTS)
    expected = reference._ethernet_datagram(buf, start, end) if end - start >= 40 else None
    got = C_ETHERNET_DATAGRAM(buf, start, end, 0, compiled._address_text, compiled._format,
                              _some, TCP_PORTS)  # fmt: skip
    return expected, got


def _assert_same_datagram(expected, got) -> None:
    assert got == expected
    if expected:
        assert type(got[0]) is Segment
        assert [type(value) for value in got[0]] == [type(value) for value in expected[0]]


def _assert_same(expected, got) -> None:
    assert got == expected
    if expected is None:
        return
    assert type(got) is list and len(got) == 1
    seg, ref = got[0], expected[0]
    assert type(seg) is Segment
    assert seg.layers is ref.layers  # the shared tuple, as the protocol hierarchy counts it
    assert [type(value) for value in seg] == [type(value) for value in ref]


def _frames(paths: list[Path]) -> list[bytes]:
    frames = []
    for folder in paths:
        for path in sorted(folder.glob("*.pcap*")):
            try:
                with CaptureReader(str(path)) as reader:
                    frames += [data for _, linktype, data, _ in reader if linktype == 1]
            except Exception:  # (the fixtures include captures that are not captures)
                continue
    return frames


@pytest.fixture(scope="module")
def frames(tmp_path_factory) -> list[bytes]:
    """The fixtures' Ethernet frames, the bundled example's, and those of a small benchmark
    capture (every protocol mcpcap reads, IPv4 and IPv6)."""
    from benchmarks import generate

    folder = tmp_path_factory.mktemp("generated")
    generate.generate(folder / "bench.pcap", 3000, seed=5, write_truth=False)
    shutil.copy(FIXTURES.parents[1] / "example.pcap", folder)
    return _frames([*MODULE_FIXTURES, folder])


@needs_compiled
def test_every_frame_alone_and_inside_a_span(frames):
    assert len(frames) > 3000
    decided = 0
    for data in frames:
        if len(data) < 34:
            continue
        expected, got = _python_and_c(data, 0, len(data), len(data) + 7)
        _assert_same(expected, got)
        decided += expected is not None
        span = b"\xff" * 5 + data + b"\xee" * 9  # read where it lies in a worker's span
        _assert_same(*_python_and_c(span, 5, 5 + len(data), len(data)))
        _assert_same_datagram(*_datagram_python_and_c(data, 0, len(data)))
        _assert_same_datagram(*_datagram_python_and_c(span, 5, 5 + len(data)))
    assert decided > 2000  # most frames take the fast path: the comparison is not all None


@needs_compiled
def test_frames_cut_at_every_length_and_mutated(frames):
    rng = random.Random(20261205)
    frames = [data for data in frames if len(data) >= 34]
    for data in rng.sample(frames, 300):
        for end in range(34, len(data) + 1):
            _assert_same(*_python_and_c(data, 0, end, len(data)))
            _assert_same_datagram(*_datagram_python_and_c(data, 0, end))
        for _ in range(40):
            mutated = bytearray(data)
            for _ in range(rng.randint(1, 4)):
                mutated[rng.randrange(12, min(len(data), 80))] = rng.randrange(256)
            _assert_same(*_python_and_c(bytes(mutated), 0, len(mutated), len(mutated)))
            _assert_same_datagram(*_datagram_python_and_c(bytes(mutated), 0, len(mutated)))


def _udp_frame(src: bytes, dst: bytes) -> bytes:
    """An Ethernet frame of one small UDP datagram from `src` to `dst` (IPv4 or IPv6)."""
    udp = struct.pack(">HHHH", 5353, 53, 12, 0) + b"data"
    if len(src) == 4:
        header = struct.pack(">BBHHHBBH", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0)
        return b"\x02" * 12 + b"\x08\x00" + header + src + dst + udp
    header = struct.pack(">IHBB", 6 << 28, len(udp), 17, 64)
    return b"\x02" * 12 + b"\x86\xdd" + header + src + dst + udp


@needs_compiled
def test_address_texts_stay_right_when_many_addresses_share_the_compiled_slots():
    """The compiled path keeps the last text of each hash of an address in a slot: thousands of
    addresses (far more than its slots), seen again and again in random order and by two
    decapsulators taking turns, each get the text of their own bytes and of no other."""
    rng = random.Random(7)
    addresses = [rng.randbytes(4) for _ in range(3000)] + [rng.randbytes(16) for _ in range(3000)]
    # neighbours that differ in one byte, and a crowd of IPv6 addresses that differ only in
    # their last bytes (several of them share a slot: only their whole bytes tell them apart)
    addresses += [a[:-1] + bytes([a[-1] ^ 1]) for a in addresses[:500]]
    addresses += [addresses[3000][:12] + rng.randbytes(4) for _ in range(1500)]
    turns = [Decapsulator(_any, frozenset()), Decapsulator(_any, frozenset())]
    for n in range(20_000):
        src, dst = rng.choice(addresses), rng.choice(addresses)
        if len(src) != len(dst):
            dst = rng.choice(addresses[:3000]) if len(src) == 4 else addresses[-1]
        data = _udp_frame(src, dst)
        own = turns[n % 2]
        got = C_ETHERNET_PACKET(data, 0, len(data), len(data), own._address_text, own._format)
        assert (got[0].src, got[0].dst) == (decap.format_address(src), decap.format_address(dst))
        _assert_same(*_python_and_c(data, 0, len(data), len(data)))


@needs_compiled
def test_random_bytes_that_claim_ipv4_or_ipv6():
    rng = random.Random(7)
    for _ in range(20_000):
        size = rng.randint(34, 200)
        frame = bytearray(rng.randbytes(size))
        frame[12:14] = rng.choice((b"\x08\x00", b"\x86\xdd", b"\x81\x00"))
        frame[14] = rng.choice((0x45, 0x46, 0x60, 0x65, frame[14]))
        frame[23] = rng.choice((6, 17, 1, frame[23]))
        frame[20] = rng.choice((6, 17, 58, frame[20]))
        frame[20:22] = rng.choice((b"\x00\x00", b"\x40\x00", bytes(frame[20:22])))
        _assert_same(*_python_and_c(bytes(frame), 0, size, size))
        _assert_same_datagram(*_datagram_python_and_c(bytes(frame), 0, size))


@needs_compiled
def test_the_corpus_frames(corpus):
    frames = _frames([corpus])
    assert frames
    for data in frames:
        if len(data) >= 34:
            _assert_same(*_python_and_c(data, 0, len(data), len(data)))
            _assert_same_datagram(*_datagram_python_and_c(data, 0, len(data)))


@needs_compiled
def test_bad_arguments_are_errors_not_crashes():
    cache: dict = {}
    frame = bytes(60)
    with pytest.raises(ValueError):
        C_ETHERNET_PACKET(frame, 0, 61, 60, cache, str)  # past the buffer's end
    with pytest.raises(ValueError):
        C_ETHERNET_PACKET(frame, 40, 60, 60, cache, str)  # shorter than Ethernet and IPv4
    with pytest.raises(TypeError):
        C_ETHERNET_PACKET(frame, 0, 60, 60, [], str)
    with pytest.raises(TypeError):
        C_ETHERNET_PACKET(frame, 0, 60)
    with pytest.raises(ValueError):
        C_ETHERNET_DATAGRAM(frame, 0, 61, 0, cache, str, _some, TCP_PORTS)
    with pytest.raises(TypeError):
        C_ETHERNET_DATAGRAM(frame, 0, 60, 0, cache, str, _some, [53])
    assert C_ETHERNET_DATAGRAM(frame, 0, 39, 0, cache, str, _some, TCP_PORTS) is None


@needs_compiled
def test_a_filter_that_fails_fails_the_call():
    """An exception in the caller's UDP filter reaches the caller, as in Python."""
    frame = bytes.fromhex("020000000002020000000001080045000030000100004011f9b6c0000201c0000202")
    frame += bytes.fromhex("30390035001c0000") + bytes(20)

    def broken(sport, dport, payload):
        raise LookupError("filter failed")

    with pytest.raises(LookupError, match="filter failed"):
        C_ETHERNET_DATAGRAM(frame, 0, len(frame), 0, {}, str, broken, TCP_PORTS)
