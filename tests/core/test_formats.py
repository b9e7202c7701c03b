"""formats: recognising captures by their first bytes, and the plain-byte stream."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import pytest

from mcpcap.core.formats import CaptureFormat, open_capture_stream, sniff, sniff_file, sniff_plain

PCAP_LE = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
PCAP_BE = struct.pack(">IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
PCAP_NS_LE = struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1)
PCAP_NS_BE = struct.pack(">IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1)
PCAPNG_LE = b"\x0a\x0d\x0d\x0a" + struct.pack("<II", 28, 0x1A2B3C4D)
PCAPNG_BE = b"\x0a\x0d\x0d\x0a" + struct.pack(">II", 28, 0x1A2B3C4D)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (PCAP_LE, CaptureFormat.PCAP),
        (PCAP_BE, CaptureFormat.PCAP),
        (PCAP_NS_LE, CaptureFormat.PCAP_NS),
        (PCAP_NS_BE, CaptureFormat.PCAP_NS),
        (PCAPNG_LE, CaptureFormat.PCAPNG),
        (PCAPNG_BE, CaptureFormat.PCAPNG),
    ],
)
def test_sniff_plain_and_gzip(head: bytes, expected: CaptureFormat) -> None:
    assert sniff(head) == (expected, False)
    assert sniff(gzip.compress(head + b"\x00" * 100)) == (expected, True)


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"\x0a\x0d\x0d\x0a",  # pcapng block type without a byte-order magic
        b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00nope",
        b"<html>",
        b"\x1f\x8b",  # gzip magic alone
        b"\x1f\x8b\x08\x00garbage garbage",
        gzip.compress(b"plain text inside"),
    ],
)
def test_sniff_rejects(head: bytes) -> None:
    assert sniff(head) is None


def test_pcap_ns_family() -> None:
    assert sniff_plain(PCAP_NS_LE) is CaptureFormat.PCAP_NS
    assert CaptureFormat.PCAP_NS.family == "pcap"
    assert CaptureFormat.PCAPNG.family == "pcapng"


def test_sniff_file_and_stream_gunzip(tmp_path: Path) -> None:
    body = PCAP_LE + b"\x01" * 5000
    path = tmp_path / "a.pcap.gz"
    path.write_bytes(gzip.compress(body))
    assert sniff_file(str(path)) == (CaptureFormat.PCAP, True)
    with open_capture_stream(str(path)) as stream:
        assert stream.read() == body
    plain = tmp_path / "b.pcap"
    plain.write_bytes(body)
    assert sniff_file(str(plain)) == (CaptureFormat.PCAP, False)
    with open_capture_stream(str(plain)) as stream:
        assert stream.read(24) == PCAP_LE
