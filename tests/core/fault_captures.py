"""Captures for the fault tests, big enough to be caught mid-scan and quick to write.

Scapy builds a few DNS frames once; the records are then repeated with `struct` (a new DNS id
and timestamp each), so a few MB take a fraction of a second.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

from tests.fixtures.packets import dns_query, dns_response, ether, mac_for, udp_packet

PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
DNS_ID_AT = 14 + 20 + 8  # Ethernet + IPv4 + UDP: where the DNS id sits in these frames
TEMPLATES = 16


def _templates() -> list[tuple[bytes, bytes]]:
    """Query and response frames for a few names and clients (UDP checksum left out)."""
    pairs = []
    for n in range(TEMPLATES):
        client = f"10.0.0.{n + 2}"
        query = dns_query(0, f"host{n}.example.com")
        response = dns_response(query)
        q = ether(udp_packet(client, "10.0.0.1", 40000 + n, 53, query), mac_for(n + 2))
        r = ether(udp_packet("10.0.0.1", client, 53, 40000 + n, response), mac_for(1))
        pairs.append((_no_udp_checksum(bytes(q)), _no_udp_checksum(bytes(r))))
    return pairs


def _no_udp_checksum(frame: bytes) -> bytes:
    return frame[:40] + b"\0\0" + frame[42:]


def dns_records(pairs: int, start: int = 1_714_557_600) -> bytes:
    """`pairs` query/response records (without the file header), ids and times all distinct."""
    templates = _templates()
    out = []
    record = struct.Struct("<IIII").pack
    for i in range(pairs):
        query, response = templates[i % TEMPLATES]
        ident = struct.pack(">H", i & 0xFFFF)
        sec, usec = start + i // 1000, (i % 1000) * 1000
        for frame, later in ((query, 0), (response, 500)):
            data = frame[:DNS_ID_AT] + ident + frame[DNS_ID_AT + 2 :]
            out.append(record(sec, usec + later, len(data), len(data)) + data)
    return b"".join(out)


def write_dns_capture(path: Path, pairs: int) -> Path:
    """A classic pcap of `pairs` DNS transactions (about 200 bytes each)."""
    path.write_bytes(PCAP_HEADER + dns_records(pairs))
    return path


def write_zero_bomb(path: Path, zeros: int) -> Path:
    """A .pcap.gz whose pcap header is followed by `zeros` zero bytes: empty records forever."""
    chunk = bytes(1 << 20)
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(PCAP_HEADER)
        for _ in range(zeros // len(chunk)):
            out.write(chunk)
        out.write(bytes(zeros % len(chunk)))
    return path


def write_tiny_record_bomb(path: Path, inflated: int) -> Path:
    """A .pcap.gz of about `inflated` bytes of 1-byte records (17 bytes each, a microsecond
    apart every 1024 records), at about 385 times compression: one gzip member of 1 MiB-worth
    of records written again and again (a reader takes the members as one stream), so 2 GiB
    take a second to write."""
    record = struct.Struct("<IIII").pack
    per_member = (1 << 20) // 17
    block = b"".join(record(1_714_557_600, i // 1024, 1, 1) + b"\x01" for i in range(per_member))
    member = gzip.compress(block, compresslevel=9, mtime=0)
    with path.open("wb") as out:
        out.write(gzip.compress(PCAP_HEADER, mtime=0))
        for _ in range(max(1, inflated // len(block))):
            out.write(member)
    return path
