"""CaptureReader: pcap/pcapng in every byte order and resolution, gzip, damage and lies."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpcap.core.decap import Decapsulator
from mcpcap.core.errors import CaptureReadError, NotACaptureError
from mcpcap.core.formats import CaptureFormat
from mcpcap.core.reader import CaptureReader
from tests.corpus import CORPUS

FRAME_A = bytes(range(60))
FRAME_B = b"\xff" * 42 + b"payload"
# Ethernet / IPv4 / UDP 1234 -> 53 with a 4-byte payload
FRAME_DNS = (
    bytes.fromhex(
        "020000000002020000000001080045000020000100004011f9c60a0000010a00000204d20035000c0000"
    )
    + b"abcd"
)


# -- writers (struct only, so the tests do not trust scapy's writers) --------------------------


def pcap_bytes(
    frames: list[tuple[float, bytes]],
    *,
    endian: str = "<",
    nanoseconds: bool = False,
    linktype: int = 1,
    snaplen: int = 65535,
) -> bytes:
    magic = 0xA1B23C4D if nanoseconds else 0xA1B2C3D4
    units = 1_000_000_000 if nanoseconds else 1_000_000
    out = [struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    for ts, data in frames:
        sec = int(ts)
        frac = round((ts - sec) * units)
        out.append(struct.pack(endian + "IIII", sec, frac, len(data), len(data)) + data)
    return b"".join(out)


def _block(endian: str, block_type: int, body: bytes) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    length = len(body) + 12
    return struct.pack(endian + "II", block_type, length) + body + struct.pack(endian + "I", length)


def _option(endian: str, code: int, value: bytes) -> bytes:
    return struct.pack(endian + "HH", code, len(value)) + value + b"\x00" * (-len(value) % 4)


def shb(endian: str = "<") -> bytes:
    body = struct.pack(endian + "IHHq", 0x1A2B3C4D, 1, 0, -1)
    return _block(endian, 0x0A0D0D0A, body)


def idb(
    linktype: int,
    endian: str = "<",
    *,
    snaplen: int = 0,
    tsresol: int | None = None,
    tsoffset: int | None = None,
) -> bytes:
    options = b""
    if tsresol is not None:
        options += _option(endian, 9, bytes([tsresol]))
    if tsoffset is not None:
        options += _option(endian, 14, struct.pack(endian + "q", tsoffset))
    if options:
        options += struct.pack(endian + "HH", 0, 0)
    return _block(endian, 1, struct.pack(endian + "HHI", linktype, 0, snaplen) + options)


def epb(interface: int, ticks: int, data: bytes, endian: str = "<") -> bytes:
    header = struct.pack(
        endian + "IIIII", interface, ticks >> 32, ticks & 0xFFFFFFFF, len(data), len(data)
    )
    return _block(endian, 6, header + data)


def opb(interface: int, ticks: int, data: bytes, endian: str = "<") -> bytes:
    header = struct.pack(
        endian + "HHIIII", interface, 0, ticks >> 32, ticks & 0xFFFFFFFF, len(data), len(data)
    )
    return _block(endian, 2, header + data)


def spb(data: bytes, orig_len: int | None = None, endian: str = "<") -> bytes:
    return _block(endian, 3, struct.pack(endian + "I", orig_len or len(data)) + data)


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def read_all(path: Path) -> tuple[list[tuple[float, int, bytes, int]], CaptureReader]:
    with CaptureReader(path) as reader:
        records = list(reader)
    return records, reader


# -- pcap --------------------------------------------------------------------------------------


@pytest.mark.parametrize("endian", ["<", ">"])
def test_a_modified_pcap_has_longer_record_headers(tmp_path: Path, endian: str) -> None:
    """Kuznetzov's modified pcap (magic a1b2cd34, as tshark reads it): 8 bytes more in each
    record header (interface index, protocol, packet type, padding)."""
    out = [struct.pack(endian + "IHHiIII", 0xA1B2CD34, 2, 4, 0, 0, 65535, 1)]
    for sec, frame in ((1_700_000_000, FRAME_A), (1_700_000_001, FRAME_B)):
        header = struct.pack(endian + "IIII", sec, 250_000, len(frame), len(frame))
        out.append(header + struct.pack(endian + "IHBB", 2, 0x0800, 0, 0) + frame)
    records, reader = read_all(write(tmp_path, "modified.pcap", b"".join(out)))
    assert reader.format is CaptureFormat.PCAP_MODIFIED and reader.pcap_layout is None
    assert [r[2] for r in records] == [FRAME_A, FRAME_B]
    assert [r[0] for r in records] == [1_700_000_000.25, 1_700_000_001.25]
    assert reader.warnings == []


@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize("nanoseconds", [False, True])
def test_pcap_byte_orders_and_resolutions(tmp_path: Path, endian: str, nanoseconds: bool) -> None:
    frames = [(1700000000.123456, FRAME_A), (1700000001.5, FRAME_B)]
    path = write(tmp_path, "x.pcap", pcap_bytes(frames, endian=endian, nanoseconds=nanoseconds))
    records, reader = read_all(path)
    assert reader.format is (CaptureFormat.PCAP_NS if nanoseconds else CaptureFormat.PCAP)
    assert not reader.compressed
    assert reader.link_types == [1]
    assert [r[2] for r in records] == [FRAME_A, FRAME_B]
    assert records[0][0] == pytest.approx(1700000000.123456, abs=1e-6)
    assert records[1][0] == pytest.approx(1700000001.5, abs=1e-6)
    assert [r[3] for r in records] == [60, len(FRAME_B)]
    assert reader.warnings == []
    assert reader.bytes_read == reader.size == path.stat().st_size


def test_nanoseconds_are_read_to_the_microsecond(tmp_path: Path) -> None:
    """What results show (`ts`, `time`): a float of epoch seconds cannot hold a nanosecond
    today, so the fraction is rounded once, from its integer (test_reader_times.py)."""
    raw = pcap_bytes([], nanoseconds=True) + struct.pack("<IIII", 10, 123456789, 4, 4) + b"abcd"
    records, _ = read_all(write(tmp_path, "ns.pcap", raw))
    assert records[0][0] == pytest.approx(10.123457, abs=1e-9)


def test_pcap_linktype_fcs_bits_are_masked(tmp_path: Path) -> None:
    fcs_linktype = (1 << 28) | (4 << 29) | 113  # F bit and an FCS length in the upper bits
    path = write(tmp_path, "fcs.pcap", pcap_bytes([(1.0, FRAME_A)], linktype=fcs_linktype))
    records, reader = read_all(path)
    assert reader.link_types == [113]
    assert records[0][1] == 113


def test_pcap_record_spanning_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mcpcap.core.reader.CHUNK_SIZE", 37)
    frames = [(float(i), bytes([i]) * (i * 7 % 90 + 1)) for i in range(50)]
    records, reader = read_all(write(tmp_path, "small.pcap", pcap_bytes(frames)))
    assert [r[2] for r in records] == [f[1] for f in frames]
    assert reader.packets == 50


@pytest.mark.parametrize("cut", [10, 24 + 8, 24 + 16 + 30, 24 + 16 + 60 + 5])
def test_truncated_pcap_keeps_what_was_read(tmp_path: Path, cut: int) -> None:
    full = pcap_bytes([(1.0, FRAME_A), (2.0, FRAME_A)])
    records, reader = read_all(write(tmp_path, "cut.pcap", full[:cut]))
    expected = 1 if cut > 24 + 16 + 60 else 0
    assert len(records) == expected
    assert reader.warnings == [f"capture ends mid-record after {expected} packets"]


def test_record_lying_about_its_length_stops_reading(tmp_path: Path) -> None:
    lie = struct.pack("<IIII", 3, 0, 0x7FFFFFF0, 0x7FFFFFF0) + b"x" * 100
    content = pcap_bytes([(1.0, FRAME_A), (2.0, FRAME_B)]) + lie
    records, reader = read_all(write(tmp_path, "lie.pcap", content))
    assert len(records) == 2
    assert len(reader.warnings) == 1
    assert "record 3 claims" in reader.warnings[0]
    assert "after 2 packets" in reader.warnings[0]


def test_record_larger_than_256k_but_within_snaplen_is_read(tmp_path: Path) -> None:
    big = b"z" * 300_000
    content = pcap_bytes([(1.0, big)], snaplen=400_000)
    records, reader = read_all(write(tmp_path, "big.pcap", content))
    assert records[0][2] == big
    assert reader.warnings == []


def test_record_over_256k_with_small_snaplen_is_a_lie(tmp_path: Path) -> None:
    content = pcap_bytes([(1.0, b"z" * 300_000)], snaplen=65535)
    records, reader = read_all(write(tmp_path, "lie2.pcap", content))
    assert records == []
    assert "claims 300000" in reader.warnings[0]


# -- gzip --------------------------------------------------------------------------------------


def test_gzip_pcap(tmp_path: Path) -> None:
    content = gzip.compress(pcap_bytes([(1.0, FRAME_A), (2.0, FRAME_B)], endian=">"))
    records, reader = read_all(write(tmp_path, "x.pcap.gz", content))
    assert reader.compressed
    assert reader.format is CaptureFormat.PCAP
    assert [r[2] for r in records] == [FRAME_A, FRAME_B]
    assert reader.bytes_read == reader.size == len(content)


def test_gzip_pcapng(tmp_path: Path) -> None:
    content = gzip.compress(shb() + idb(1) + epb(0, 5_000_000, FRAME_A))
    records, reader = read_all(write(tmp_path, "x.pcapng.gz", content))
    assert reader.compressed and reader.format is CaptureFormat.PCAPNG
    assert records == [(5.0, 1, FRAME_A, 60)]


def test_gzip_cut_short(tmp_path: Path) -> None:
    frames = [(float(i), bytes([i % 256]) * 200) for i in range(2000)]
    content = gzip.compress(pcap_bytes(frames), compresslevel=1)
    records, reader = read_all(write(tmp_path, "cut.pcap.gz", content[: len(content) // 2]))
    assert 0 < len(records) < 2000
    assert [r[2] for r in records] == [f[1] for f in frames[: len(records)]]
    assert len(reader.warnings) >= 1
    assert any("cut short" in w or "mid-record" in w for w in reader.warnings)
    # every warning names the packets read before the break (not the count before its read)
    assert f"the compressed data is cut short after {len(records)} packets" in reader.warnings


def test_gzip_corrupt_in_the_middle(tmp_path: Path) -> None:
    frames = [(float(i), bytes([i % 256]) * 200) for i in range(2000)]
    content = bytearray(gzip.compress(pcap_bytes(frames), compresslevel=1))
    for i in range(len(content) // 2, len(content) // 2 + 64):
        content[i] ^= 0xA5
    records, reader = read_all(write(tmp_path, "bad.pcap.gz", bytes(content)))
    assert len(records) < 2000
    assert reader.warnings


# -- pcapng ------------------------------------------------------------------------------------


@pytest.mark.parametrize("endian", ["<", ">"])
def test_pcapng_two_interfaces_with_different_link_types(tmp_path: Path, endian: str) -> None:
    content = (
        shb(endian)
        + idb(1, endian)
        + idb(113, endian, tsresol=9)
        + epb(0, 1_500_000, FRAME_A, endian)
        + epb(1, 2_250_000_000, FRAME_B, endian)
        + _block(endian, 5, b"\x00" * 16)  # interface statistics: skipped
        + _block(endian, 0xBAD, b"whatever")  # unknown block: skipped
    )
    records, reader = read_all(write(tmp_path, "two.pcapng", content))
    assert reader.format is CaptureFormat.PCAPNG
    assert reader.link_types == [1, 113]
    assert records == [(1.5, 1, FRAME_A, 60), (2.25, 113, FRAME_B, len(FRAME_B))]


def test_pcapng_tsresol_power_of_two_and_offset(tmp_path: Path) -> None:
    content = shb() + idb(101, tsresol=0x80 | 10, tsoffset=1000) + epb(0, 1024 * 3 + 512, FRAME_A)
    records, _ = read_all(write(tmp_path, "p2.pcapng", content))
    assert records[0][0] == pytest.approx(1003.5)
    assert records[0][1] == 101


def test_pcapng_new_section_resets_interfaces(tmp_path: Path) -> None:
    content = (
        shb("<")
        + idb(1, "<")
        + epb(0, 1_000_000, FRAME_A, "<")
        + shb(">")
        + idb(228, ">")
        + epb(0, 2_000_000, FRAME_B, ">")
        + shb("<")
        + epb(0, 3_000_000, FRAME_A, "<")  # no interface declared in this section
    )
    records, reader = read_all(write(tmp_path, "sections.pcapng", content))
    assert [(r[0], r[1]) for r in records] == [(1.0, 1), (2.0, 228)]
    assert reader.link_types == [1, 228]
    assert any("undeclared interface 0" in w for w in reader.warnings)


def test_pcapng_simple_and_obsolete_packet_blocks(tmp_path: Path) -> None:
    content = (
        shb()
        + idb(1, snaplen=50)
        + epb(0, 7_000_000, FRAME_B)
        + spb(FRAME_A)  # 60 bytes but interface 0 snaplen is 50
        + opb(0, 8_000_000, FRAME_A)
    )
    records, _ = read_all(write(tmp_path, "spb.pcapng", content))
    assert records[1] == (7.0, 1, FRAME_A[:50], 60)  # SPB: previous time, cut to snaplen
    assert records[2] == (8.0, 1, FRAME_A, 60)


@pytest.mark.parametrize("bad_length", [8, 13, 1 << 30])
def test_pcapng_bad_block_length_stops(tmp_path: Path, bad_length: int) -> None:
    content = shb() + idb(1) + epb(0, 1, FRAME_A) + struct.pack("<II", 6, bad_length) + b"\0" * 64
    records, reader = read_all(write(tmp_path, "badlen.pcapng", content))
    assert len(records) == 1
    assert "malformed" in reader.warnings[0]


def test_pcapng_interface_block_too_short_stops(tmp_path: Path) -> None:
    content = shb() + idb(1) + epb(0, 1, FRAME_A) + _block("<", 1, b"\x01\x00")
    records, reader = read_all(write(tmp_path, "shortidb.pcapng", content))
    assert len(records) == 1
    assert reader.warnings == ["interface block too short after 1 packets; stopped reading"]


def test_pcapng_truncated_mid_block(tmp_path: Path) -> None:
    content = shb() + idb(1) + epb(0, 1, FRAME_A) + epb(0, 2, FRAME_B)
    records, reader = read_all(write(tmp_path, "cut.pcapng", content[:-10]))
    assert len(records) == 1
    assert reader.warnings == ["capture ends mid-record after 1 packets"]


def test_pcapng_packet_longer_than_its_block_is_skipped(tmp_path: Path) -> None:
    body = struct.pack("<IIIII", 0, 0, 1, 500, 500) + FRAME_A
    content = shb() + idb(1) + _block("<", 6, body) + epb(0, 2, FRAME_B)
    records, reader = read_all(write(tmp_path, "long.pcapng", content))
    assert [r[2] for r in records] == [FRAME_B]
    assert any("longer than its block" in w for w in reader.warnings)


# -- not captures ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        (b"", "it is empty"),
        (b"<!DOCTYPE html><html><body>404</body></html>", "it starts like an HTML page"),
        (b"  <html lang='en'>", "it starts like an HTML page"),
        (b"hello, this is a text file\n", "it starts like plain text"),
        (gzip.compress(b"just some text, gzipped\n" * 10), "gzip-compressed"),
        (b"\x00\x01\x02\x03\x04\x05garbage", "its first bytes are 00 01 02 03"),
        (b'{"json": true}', "JSON"),
        (b"PK\x03\x04rest", "ZIP"),
        (("a" + "é" * 600).encode(), "it starts like plain text"),  # a character cut at 512
    ],
)
def test_not_a_capture_says_what_it_looks_like(tmp_path: Path, content: bytes, phrase: str) -> None:
    path = write(tmp_path, "x.pcap", content)
    with pytest.raises(NotACaptureError) as info:
        CaptureReader(path)
    assert str(info.value).startswith("x.pcap is not a capture (")
    assert phrase in str(info.value)


def test_missing_file_is_a_read_error(tmp_path: Path) -> None:
    with pytest.raises(CaptureReadError, match="could not be opened"):
        CaptureReader(tmp_path / "nope.pcap")


def test_reader_is_an_iterator_and_closes(tmp_path: Path) -> None:
    path = write(tmp_path, "x.pcap", pcap_bytes([(1.0, FRAME_A), (2.0, FRAME_B)]))
    reader = CaptureReader(path)
    assert reader.link_types == [1]  # known before iterating
    assert next(reader)[2] == FRAME_A
    assert next(iter(reader))[2] == FRAME_B
    with pytest.raises(StopIteration):
        next(reader)
    reader.close()
    assert reader._raw.closed


# -- real captures -----------------------------------------------------------------------------


@pytest.mark.usefixtures("corpus")
@pytest.mark.parametrize(
    ("name", "packets", "link_types"),
    [
        ("zeek-pcapng-multi-interface.pcapng", 6, [1]),
        ("ndpi-tls_heur__trojan-tcp-tls.pcapng", 100, [113]),
        ("ndpi-someip_sd_sample.pcap", 6, [192]),
        ("packetq-sample-rfc1035escape.pcap.gz", 9, [1]),
        ("tcpdump-nflog.pcap", 4, [239]),
        ("dnscap-dns.pcap", 133, [1]),
    ],
)
def test_corpus_packet_counts_match_capinfos(name: str, packets: int, link_types: list) -> None:
    records, reader = read_all(CORPUS / name)
    assert len(records) == packets
    assert reader.link_types[: len(link_types)] == link_types
    assert reader.warnings == []


# -- fuzzing -----------------------------------------------------------------------------------

_SEEDS = [
    pcap_bytes([(1.0, FRAME_A), (2.0, FRAME_B)]),
    pcap_bytes([(1.0, FRAME_A)], endian=">", nanoseconds=True),
    shb() + idb(1, tsresol=9) + epb(0, 1, FRAME_A) + spb(FRAME_B) + opb(0, 3, FRAME_A),
    shb(">") + idb(113, ">") + epb(0, 1, FRAME_A, ">"),
    pcap_bytes([(1.0, FRAME_DNS), (2.0, FRAME_DNS)]),
]


@st.composite
def mutated_capture(draw: st.DrawFn) -> bytes:
    content = bytearray(draw(st.sampled_from(_SEEDS)))
    for _ in range(draw(st.integers(0, 8))):
        if not content:
            break
        position = draw(st.integers(0, len(content) - 1))
        content[position] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(content)))
    content = content[:cut] if draw(st.booleans()) else content
    if draw(st.booleans()):
        return gzip.compress(bytes(content))
    return bytes(content)


@settings(
    max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.one_of(mutated_capture(), st.binary(max_size=200)))
def test_random_bytes_never_raise_anything_unexpected(tmp_path: Path, content: bytes) -> None:
    path = write(tmp_path, "fuzz.pcap", content)
    try:
        reader = CaptureReader(path)
    except NotACaptureError:
        return
    with reader:
        records = list(reader)
    assert len(records) <= 8
    decap = Decapsulator(lambda sport, dport, payload: True, frozenset({53}))
    for ts, linktype, data, orig_len in records:
        assert isinstance(ts, float) and isinstance(data, bytes)
        assert 0 <= linktype <= 0xFFFF and orig_len >= 0
        assert isinstance(decap.decode(linktype, data, ts), list)
