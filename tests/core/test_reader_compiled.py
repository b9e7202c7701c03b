"""The walk over pcap record headers compiled (`mcpcap/core/_reader.c`) against its Python."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest

from mcpcap.core import reader
from mcpcap.core.reader import CaptureReader, python_walk_records

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
compiled = None if reader.walk_records is python_walk_records else reader.walk_records
pytestmark = pytest.mark.skipif(
    compiled is None, reason="the compiled code is turned off (MCPCAP_PURE_PYTHON)"
)


def _records(rng: random.Random, little: bool, count: int) -> bytes:
    """Record headers with random captured lengths (some huge), each followed by its bytes."""
    order = "<" if little else ">"
    out = bytearray()
    for _ in range(count):
        incl = rng.choice(
            (0, 1, 60, 1514, 65535, 65536, 262_144, rng.randrange(70_000), rng.randrange(1 << 32))
        )  # (limits below: 65535, 262_144)
        body = min(incl, 2000)
        out += struct.pack(order + "IIII", 1, 2, incl, incl) + rng.randbytes(body)
    return bytes(out)


def test_random_windows_walk_alike():
    rng = random.Random(11)
    for _ in range(4000):
        little = rng.random() < 0.5
        data = _records(rng, little, rng.randrange(1, 12))
        cut = rng.randrange(len(data) + 1)  # the window may end anywhere
        window = data[:cut]
        base = rng.choice((0, 24, 1 << 33))  # file offsets past 4 GiB too
        args = (
            window,
            base,
            base,
            rng.randrange(5),
            base - rng.randrange(100),
            rng.choice((1, 100, 5000, 1 << 21)),
            rng.choice((65535, 262_144)),
            base + rng.choice((len(data), cut, len(data) + 100)),
            rng.choice((-1, 0, 1, 3, 7)),
            little,
        )
        assert compiled(*args) == python_walk_records(*args), args[1:]


def test_an_empty_window_and_a_bad_position():
    assert compiled(b"", 24, 24, 0, 24, 10, 100, 24, -1, True) == (0, 24, 0)
    with pytest.raises(ValueError):
        compiled(bytes(64), 100, 50, 0, 0, 10, 100, 1000, -1, True)


@pytest.mark.parametrize("span_bytes", [1, 700, 1 << 21])
@pytest.mark.parametrize("max_packets", [None, 1, 5])
def test_the_same_spans_and_warnings_for_every_fixture(monkeypatch, span_bytes, max_packets):
    paths = [p for p in sorted((FIXTURES / "captures").glob("*.pcap")) if p.stat().st_size]
    seen = 0
    for path in paths:
        results = []
        for walk in (compiled, python_walk_records):
            monkeypatch.setattr(reader, "walk_records", walk)
            try:
                with CaptureReader(str(path)) as capture:
                    if capture.pcap_layout is None:
                        break
                    spans = list(capture.pcap_spans(span_bytes, max_packets))
                    results.append((spans, capture.warnings, capture.packets,
                                    capture.stopped_early))  # fmt: skip
            except Exception as error:  # (a fixture that is no capture: the same error)
                results.append(repr(error))
        if len(results) == 2:
            assert results[0] == results[1], path.name
            seen += 1
    assert seen >= 20
