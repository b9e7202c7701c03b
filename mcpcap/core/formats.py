"""Recognise capture files by their first bytes, never by their name."""

from __future__ import annotations

import gzip
import zlib
from enum import Enum

# magic -> (byte order, timestamp units per second, bytes of a record header)
PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1_000_000, 16),  # little-endian, microseconds
    b"\xa1\xb2\xc3\xd4": (">", 1_000_000, 16),  # big-endian, microseconds
    b"\x4d\x3c\xb2\xa1": ("<", 1_000_000_000, 16),  # little-endian, nanoseconds
    b"\xa1\xb2\x3c\x4d": (">", 1_000_000_000, 16),  # big-endian, nanoseconds
    # Alexey Kuznetzov's "modified" pcap (old Red Hat tcpdump): microseconds, and 8 more bytes
    # in each record header (interface index, protocol, packet type), which tshark reads too
    b"\x34\xcd\xb2\xa1": ("<", 1_000_000, 24),
    b"\xa1\xb2\xcd\x34": (">", 1_000_000, 24),
}
PCAP_RECORD_HEADER = 16  # the bytes of a classic pcap record header
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
GZIP_MAGIC = b"\x1f\x8b"
SNIFF_BYTES = 64


class CaptureFormat(str, Enum):
    PCAP = "pcap"
    PCAP_NS = "pcap-ns"
    PCAP_MODIFIED = "pcap-modified"
    PCAPNG = "pcapng"

    @property
    def family(self) -> str:
        return "pcapng" if self is CaptureFormat.PCAPNG else "pcap"


def sniff_plain(head: bytes) -> CaptureFormat | None:
    """The format of uncompressed capture bytes, or None."""
    magic = head[:4]
    if magic in PCAP_MAGICS:
        _, units, record_header = PCAP_MAGICS[magic]
        if record_header > PCAP_RECORD_HEADER:
            return CaptureFormat.PCAP_MODIFIED
        return CaptureFormat.PCAP_NS if units > 1_000_000 else CaptureFormat.PCAP
    if (
        magic == PCAPNG_MAGIC
        and len(head) >= 12
        and head[8:12]
        in (
            b"\x1a\x2b\x3c\x4d",
            b"\x4d\x3c\x2b\x1a",
        )
    ):
        return CaptureFormat.PCAPNG
    return None


def sniff(head: bytes) -> tuple[CaptureFormat, bool] | None:
    """(format, compressed) from a file's first bytes, or None when it is no capture.

    A gzip member is inflated only as far as its first few bytes, so a huge or hostile gzip file
    costs nothing to recognise.
    """
    if head[:2] == GZIP_MAGIC:
        inner = _gunzip_prefix(head)
        fmt = sniff_plain(inner) if inner else None
        return (fmt, True) if fmt else None
    fmt = sniff_plain(head)
    return (fmt, False) if fmt else None


def _gunzip_prefix(head: bytes, want: int = 16) -> bytes:
    try:
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        return inflater.decompress(head, want)
    except zlib.error:
        return b""


def sniff_file(path: str) -> tuple[CaptureFormat, bool] | None:
    """Read just enough of the file to recognise it (a few KiB when gzip-compressed)."""
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES if not _is_gzip(fh) else 4096)
    return sniff(head)


def _is_gzip(fh) -> bool:
    magic = fh.read(2)
    fh.seek(0)
    return magic == GZIP_MAGIC


def open_capture_stream(path: str):
    """A binary file object over the capture's plain bytes (gunzipped on the fly)."""
    fh = open(path, "rb")  # noqa: SIM115 - the caller owns the stream
    if _is_gzip(fh):
        return gzip.GzipFile(fileobj=fh, mode="rb")
    return fh
