"""Stream packet records out of pcap, pcapng and gzip-compressed captures.

The reader never loads a whole file: it reads large chunks and slices records out of them.
A truncated or corrupt tail ends iteration with a warning instead of an exception, so a
damaged capture still yields every packet before the damage.

A file that changes while it is read is another matter: the reader reads no further than the
size the file had when it was opened, and `check_unchanged` (called at the end of a scan) turns
a file that shrank or was rewritten in place into a `CaptureReadError`; one that grew (a capture
still being written) gets a warning, the results covering the bytes it had at the start.
A gzip stream may not inflate to more than `MAX_INFLATE_RATIO` times its size nor hold more than
a record per `MIN_BYTES_PER_RECORD` compressed bytes, and a long run of empty records in one stops
the reading: the work of a decompression bomb (its bytes, and its records, each of which costs a
decode) stays bounded.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import struct
import zlib
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import BinaryIO, NamedTuple

from mcpcap.core import fastpath
from mcpcap.core.errors import CaptureReadError, NotACaptureError
from mcpcap.core.formats import GZIP_MAGIC, PCAP_MAGICS, PCAP_RECORD_HEADER, CaptureFormat, sniff

Record = tuple[float, int, bytes, int]

CHUNK_SIZE = 1 << 20
HEAD_BYTES = 4096
MAX_RECORD_BYTES = 262_144  # libpcap's largest snaplen for any link type
MAX_SNAPLEN_TRUSTED = 16 << 20  # a header snaplen above this is not believed either
MAX_BLOCK_BYTES = 16 << 20  # the largest pcapng block we agree to buffer
LINKTYPE_MASK = 0xFFFF  # upper bits of the pcap linktype field carry FCS information
# decompression bombs: a gzip stream inflates to at most this many times the file's size (real
# captures compress 2 to 20 times), or INFLATE_FLOOR, whichever is more; and this many empty
# records in a row (zeros inflate to nothing else) stop the reading
MAX_INFLATE_RATIO = 100
INFLATE_FLOOR = 64 << 20
MAX_EMPTY_RUN = 100_000
# ... and it holds at most a record per this many compressed bytes, or RECORDS_FLOOR records: a
# record costs a decode whatever its size, so 1-byte records (17 bytes inflated) within the ratio
# were still 30M records (47 s) in a 5 MB file. Small DNS frames repeated from 16 templates
# compress 13 times, 7 compressed bytes a record; one record per 2 bytes needs 38 times.
MIN_BYTES_PER_RECORD = 2
RECORDS_FLOOR = 1_000_000

BT_SHB = 0x0A0D0D0A
BT_IDB = 0x00000001
BT_OPB = 0x00000002
BT_SPB = 0x00000003
BT_EPB = 0x00000006
BYTE_ORDER_MAGIC = 0x1A2B3C4D

OPT_IF_TSRESOL = 9
# the times results can show (ISO 8601, years 1 to 9999): pcapng's 64-bit timestamps, scaled by
# if_tsresol and shifted by if_tsoffset, reach far beyond
MIN_TS, MAX_TS = -62_135_596_800.0, 253_402_300_799.0
OPT_IF_TSOFFSET = 14
# A float of epoch seconds holds about a quarter of a microsecond today, not a nanosecond: a
# finer clock (a nanosecond pcap, pcapng's if_tsresol) is read to the whole microsecond,
# rounded once from its integers (a half to the even one), so `ts` and `time` (both
# microseconds) always agree
NANOSECONDS = 1e-9  # a classic pcap's fraction scale with the nanosecond magic
MICROS_PER_SECOND = 1_000_000

# Errors a gzip stream raises when it is cut short or corrupt.
_STREAM_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile, OSError)


_CLASSIC = (CaptureFormat.PCAP, CaptureFormat.PCAP_NS)


class PcapLayout(NamedTuple):
    """How to read the records of an uncompressed classic pcap file, in any process.

    `identity` is (device, inode, size, mtime in ns) of the file as the scan opened it: a worker
    that opens `path` and finds another file, or a shorter one, stops the scan.
    """

    path: str
    endian: str
    scale: float
    linktype: int
    identity: tuple[int, int, int, int] = (0, 0, 0, 0)


# what ends `walk_records`: a whole window walked, a span complete, or a record the walk stops at
WINDOW_END, SPAN_FULL, RECORD_TOO_BIG, RECORD_PAST_END, STOPPED = range(5)
_UINT = {True: struct.Struct("<I").unpack_from, False: struct.Struct(">I").unpack_from}


def python_walk_records(
    buf: bytes,
    base: int,
    pos: int,
    count: int,
    start: int,
    span_bytes: int,
    limit: int,
    size: int,
    stop: int,
    little: bool,
) -> tuple[int, int, int]:
    """Walk classic pcap record headers in `buf` (the file's bytes from offset `base`) from
    the record at file offset `pos`, the `count`th so far: (event, pos, count) at the first of
    a header past the window (`WINDOW_END`), the span begun at `start` reaching `span_bytes`
    (`SPAN_FULL`, after that record), a record claiming more than `limit` bytes
    (`RECORD_TOO_BIG`) or ending past the file's `size` (`RECORD_PAST_END`), or `count`
    reaching `stop` (`STOPPED`, -1: never); these three at the record they stop before."""
    unpack = _UINT[little]
    last = base + len(buf) - 16
    while pos <= last:
        (incl,) = unpack(buf, pos - base + 8)
        if incl > limit:
            return RECORD_TOO_BIG, pos, count
        if pos + 16 + incl > size:
            return RECORD_PAST_END, pos, count
        if count == stop:
            return STOPPED, pos, count
        pos += 16 + incl
        count += 1
        if pos - start >= span_bytes:
            return SPAN_FULL, pos, count
    return WINDOW_END, pos, count


class PcapSpan(NamedTuple):
    """A run of whole records: file offsets [start, end), `count` records from `first_frame`."""

    start: int
    end: int
    first_frame: int
    count: int


class _Interface:
    """A pcapng interface: its link type, snaplen and clock."""

    __slots__ = ("linktype", "offset", "snaplen", "units_per_second")

    def __init__(self, linktype: int, snaplen: int, units_per_second: int, offset: int) -> None:
        self.linktype = linktype
        self.snaplen = snaplen
        self.units_per_second = units_per_second
        self.offset = offset

    def seconds(self, units: int) -> float:
        """A timestamp of this interface's clock, in epoch seconds (see `NANOSECONDS`)."""
        per_second = self.units_per_second
        if per_second > MICROS_PER_SECOND:
            micros, left = divmod(units * MICROS_PER_SECOND, per_second)
            if 2 * left > per_second or (2 * left == per_second and micros & 1):
                micros += 1  # to the nearest, a half to the even one (as `round`)
            return micros / MICROS_PER_SECOND + self.offset
        return units / per_second + self.offset


class CaptureReader:
    """Iterate `(ts, linktype, data, orig_len)` records of one capture file, in file order.

    Use as a context manager; `bytes_read` and `size` give progress in terms of the file on disk
    (compressed bytes for a gzip file).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self.name = os.path.basename(self.path)
        self.warnings: list[str] = []
        self.link_types: list[int] = []
        self.packets = 0
        self.bytes_read = 0
        self._broken = False
        self._bad_time = False  # a pcapng timestamp out of range was warned about
        self._inflated = 0
        self._bomb: str | None = None  # why inflating stopped, until the warning is out
        self._bomb_reported = False
        self._cut: str | None = None  # what broke the stream, until the warning is out
        try:
            self._file: BinaryIO = open(self.path, "rb")  # noqa: SIM115 - closed by close()
            stat = os.fstat(self._file.fileno())
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise CaptureReadError(f"{self.name} could not be opened ({reason}).") from exc
        self.size = stat.st_size
        self.identity = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
        self._raw = _Bounded(self._file, self.size)
        try:
            self._open_stream()
        except BaseException:
            self._file.close()
            raise
        if self.format is CaptureFormat.PCAPNG:
            self._records = self._iter_pcapng()
        else:
            self._records = self._open_pcap()

    # -- opening -----------------------------------------------------------------------------

    def _open_stream(self) -> None:
        head = self._raw.read(HEAD_BYTES)
        found = sniff(head)
        if found is None:
            raise NotACaptureError(f"{self.name} is not a capture ({describe_bytes(head)}).")
        self.format, self.compressed = found
        self._raw.seek(0)
        self._stream: BinaryIO = (
            gzip.GzipFile(fileobj=self._raw, mode="rb")  # type: ignore[arg-type]
            if self.compressed
            else self._raw  # type: ignore[assignment]
        )
        self._inflate_limit = max(INFLATE_FLOOR, MAX_INFLATE_RATIO * self.size)
        self._record_limit = max(RECORDS_FLOOR, self.size // MIN_BYTES_PER_RECORD)

    def _read(self, size: int) -> bytes:
        """Read up to `size` plain bytes; b"" at the end; a warning when the stream is broken.

        The record loops count `packets` before each read, so a stream past its records limit
        ends before the read, having read at most one chunk's records too many.

        A gzip stream is read in steps (read1) so the bytes inflated before a corrupt or missing
        part are kept rather than lost with the exception.
        """
        if self.compressed and not self._broken and self.packets > self._record_limit:
            self._stop_inflating(
                f"holds more than {self._record_limit:,} records in {self.size:,} bytes "
                f"(one per {MIN_BYTES_PER_RECORD} compressed bytes)"
            )
        if self._broken:
            self._report_bomb()
            self._report_cut()
            return b""
        parts: list[bytes] = []
        got = 0
        try:
            while got < size:
                piece = (
                    self._stream.read1(size - got) if self.compressed else self._stream.read(size)
                )
                if not piece:
                    break
                parts.append(piece)
                got += len(piece)
                if not self.compressed:
                    break
        except _STREAM_ERRORS as exc:
            self._broken = True
            self._warn_broken_stream(exc)
        self.bytes_read = self._raw.tell()
        if self.compressed:
            self._inflated += got
            if self._inflated > self._inflate_limit:
                self._stop_inflating(
                    f"inflates to more than {MAX_INFLATE_RATIO} times its size "
                    f"({self._inflated:,} bytes from {self.size:,})"
                )
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _stop_inflating(self, why: str) -> None:
        """The bytes just inflated are used; nothing after them is read. The warning waits for
        the next read, when the record loop has counted the packets before the stop."""
        self._broken = True
        self._bomb = why

    def _report_bomb(self) -> None:
        if self._bomb is None or self._bomb_reported:
            return
        self._bomb_reported = True
        self.warnings.append(
            f"the compressed data {self._bomb}, as a decompression bomb does; "
            f"stopped reading after {self.packets} packets"
        )

    def check_unchanged(self) -> None:
        """Raise if the file shrank or was rewritten since it was opened; warn if it grew.

        What was read then covers the file as it was at the start (a capture still being
        written grows, and the store's key names that earlier state).
        """
        try:
            stat = os.stat(self.path)
        except OSError:
            return  # removed or renamed: the open file still holds what was read
        if (stat.st_dev, stat.st_ino) != self.identity[:2]:
            return  # replaced by another file: the one read is still whole
        if stat.st_size > self.size:
            self.warnings.append(
                f"the capture grew from {self.size:,} to {stat.st_size:,} bytes while it was "
                f"read; the results cover its first {self.size:,} bytes"
            )
        elif stat.st_size < self.size or stat.st_mtime_ns != self.identity[3]:
            raise changed_error(self.name, self.size, stat.st_size)

    def _warn_broken_stream(self, exc: BaseException) -> None:
        """The warning waits for the next read, as a bomb's does: the records of the bytes
        read before the break are counted by then."""
        if isinstance(exc, EOFError):
            self._cut = "the compressed data is cut short"
        elif self.compressed:
            self._cut = "the compressed data is corrupt"
        else:
            self._cut = f"the file could not be read ({exc})"

    def _report_cut(self) -> None:
        if self._cut is not None:
            self.warnings.append(f"{self._cut} after {self.packets} packets")
            self._cut = None

    # -- context manager and iterator --------------------------------------------------------

    def __enter__(self) -> CaptureReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __iter__(self) -> Iterator[Record]:
        return self._records

    def __next__(self) -> Record:
        return next(self._records)

    def close(self) -> None:
        if self.compressed:
            self._stream.close()
        self._file.close()

    def _truncated(self) -> None:
        if self._bomb:
            return  # the stream was cut here on purpose, and the warning says so
        self.warnings.append(f"capture ends mid-record after {self.packets} packets")

    def _note_linktype(self, linktype: int) -> None:
        if linktype not in self.link_types:
            self.link_types.append(linktype)

    # -- pcap --------------------------------------------------------------------------------

    def _open_pcap(self) -> Iterator[Record]:
        """Read the file header now, so `link_types` is known before iterating."""
        header = self._read(24)
        if len(header) < 24:
            self._truncated()
            return iter(())
        endian, units, record_bytes = PCAP_MAGICS[header[:4]]
        major, _minor, _zone, _sigfigs, snaplen, network = struct.unpack(
            endian + "HHiIII", header[4:]
        )
        if major != 2:
            self.warnings.append(f"pcap version {major} is unusual; reading it as version 2")
        linktype = network & LINKTYPE_MASK
        self._note_linktype(linktype)
        limit = min(max(snaplen, MAX_RECORD_BYTES), MAX_SNAPLEN_TRUSTED)
        self._pcap_params = (endian, 1.0 / units, linktype, limit)
        # a modified pcap's record headers carry more bytes (read serially: spans assume 16)
        extra = record_bytes - PCAP_RECORD_HEADER
        record_header = struct.Struct(f"{endian}IIII{extra}x")
        return self._pcap_records(record_header, 1.0 / units, linktype, limit)

    def _pcap_records(
        self, record_header: struct.Struct, scale: float, linktype: int, limit: int
    ) -> Iterator[Record]:
        """The hot loop: slice records out of 1 MiB chunks with as little work as possible."""
        unpack = record_header.unpack_from
        size = record_header.size  # (16 bytes, or a modified pcap's 24)
        nanos = scale == NANOSECONDS
        read = self._read
        buf = read(CHUNK_SIZE)
        pos = 0
        count = 0
        empty_run = 0
        try:
            while True:
                end = len(buf) - size
                chunk_start, chunk_count = pos, count
                while pos <= end:
                    sec, frac, incl, orig = unpack(buf, pos)
                    if incl > limit:
                        self.packets = count
                        self.warnings.append(
                            f"record {count + 1} claims {incl} captured bytes, more than any "
                            f"capture holds; stopped reading after {count} packets"
                        )
                        return
                    start = pos + size
                    pos = start + incl
                    if pos > end + size:
                        pos = start - size
                        break
                    count += 1
                    if nanos:  # whole microseconds (see `NANOSECONDS`)
                        yield (sec + round(frac / 1000) * 1e-6, linktype, buf[start:pos], orig)
                    else:
                        yield (sec + frac * scale, linktype, buf[start:pos], orig)
                self.packets = count
                if self.compressed:
                    # a chunk of empty records only (a header each) lengthens the run
                    records = count - chunk_count
                    empty = records and pos - chunk_start == size * records
                    empty_run = empty_run + records if empty else 0
                    if empty_run >= MAX_EMPTY_RUN:
                        self._stop(
                            f"{empty_run:,} empty records in a row (a corrupt capture or a "
                            f"decompression bomb) after {count} packets"
                        )
                        return
                chunk = read(CHUNK_SIZE)
                if not chunk:
                    if pos < len(buf):
                        self._truncated()
                    return
                buf = buf[pos:] + chunk if pos < len(buf) else chunk
                pos = 0
        finally:
            self.packets = count

    # -- spans of a plain pcap file, for readers in other processes ------------------------

    @property
    def pcap_layout(self) -> PcapLayout | None:
        """Set for an uncompressed classic pcap file (the case spans can be cut from), of
        microsecond or nanosecond timestamps."""
        params = getattr(self, "_pcap_params", None)
        if params is None or self.compressed or self.format not in _CLASSIC:
            return None
        return PcapLayout(self.path, *params[:3], self.identity)

    def pcap_spans(self, span_bytes: int, max_packets: int | None = None) -> Iterator[PcapSpan]:
        """Cut the records into spans of about `span_bytes`, reading only record headers.

        Iterating records instead is the same walk: the same warnings for a lying or truncated
        record, and `packets` ends the same. With `max_packets`, `stopped_early` tells whether a
        further whole record exists (what a loop that stops after `max_packets` would see).
        Use instead of iterating, not together with it.
        """
        endian, _scale, _linktype, limit = self._pcap_params
        little = endian == "<"
        self.stopped_early = False
        fd = self._file.fileno()
        size = self.size
        pos = start = 24
        count = first = 0
        stop = max_packets if max_packets is not None else -1
        while True:
            # a window of the file at the next header (pread: no file pages stay mapped here)
            # (never past the size the file had when opened: bytes added since are not read)
            want = min(CHUNK_SIZE, size - pos)
            buf = os.pread(fd, want, pos)
            if len(buf) < want:
                raise changed_error(self.name, size, os.fstat(fd).st_size)
            base = pos
            while True:
                event, pos, count = walk_records(buf, base, pos, count, start, span_bytes, limit,
                                                 size, stop, little)  # fmt: skip
                if event != SPAN_FULL:
                    break
                self.packets = count
                self.bytes_read = pos
                yield PcapSpan(start, pos, first + 1, count - first)
                start, first = pos, count
            if event == RECORD_TOO_BIG:
                (incl,) = _UINT[little](buf, pos - base + 8)
                self.warnings.append(
                    f"record {count + 1} claims {incl} captured bytes, more than any "
                    f"capture holds; stopped reading after {count} packets"
                )
            elif event == RECORD_PAST_END:
                self.packets = count
                self._truncated()
            elif event == STOPPED:
                self.stopped_early = True
            elif pos + 16 <= size:
                continue  # the next header starts beyond this window
            elif pos < size:
                self.packets = count
                self._truncated()
            break
        self.packets = count
        self.bytes_read = pos
        if count > first:
            yield PcapSpan(start, pos, first + 1, count - first)

    # -- pcapng ------------------------------------------------------------------------------

    def _iter_pcapng(self) -> Iterator[Record]:
        """Walk pcapng blocks; the byte order may change at every section header.

        Enhanced packet blocks on a known interface take an inlined fast path; every other
        block goes through the general (slower, more careful) code.
        """
        endian = "<"
        header, epb = _PCAPNG_HEADER["<"], _PCAPNG_EPB["<"]
        interfaces: list[_Interface] = []
        buf = self._read(CHUNK_SIZE)
        pos = 0
        count = 0
        last_ts = 0.0
        try:
            while True:
                available = len(buf) - pos
                if available < 12:
                    self.packets = count
                    more = self._read(CHUNK_SIZE)
                    if not more:
                        if available:
                            self._truncated()
                        return
                    buf, pos = buf[pos:] + more, 0
                    continue
                block_type, block_len = header(buf, pos)
                if block_type == BT_SHB:
                    endian = _section_byte_order(buf[pos + 8 : pos + 12])
                    if endian is None:
                        self._stop(f"section header with a bad byte order after {count} packets")
                        return
                    header, epb = _PCAPNG_HEADER[endian], _PCAPNG_EPB[endian]
                    block_type, block_len = header(buf, pos)
                    interfaces = []
                if block_len < 12 or block_len % 4 or block_len > MAX_BLOCK_BYTES:
                    self._stop(f"block of {block_len} bytes is malformed after {count} packets")
                    return
                if available < block_len:
                    self.packets = count
                    more = self._read(max(CHUNK_SIZE, block_len - available))
                    if not more:
                        self._truncated()
                        return
                    buf, pos = buf[pos:] + more, 0
                    continue
                if block_type == BT_EPB and block_len >= 32:
                    if_id, ts_high, ts_low, incl, orig = epb(buf, pos + 8)
                    if if_id < len(interfaces) and incl <= block_len - 32:
                        interface = interfaces[if_id]
                        start = pos + 28
                        pos += block_len
                        count += 1
                        ts = interface.seconds((ts_high << 32) | ts_low)
                        if MIN_TS <= ts <= MAX_TS:
                            last_ts = ts
                        else:
                            self._time_out_of_range(count)
                        yield (last_ts, interface.linktype, buf[start : start + incl], orig)
                        continue
                self.packets = count
                body, end = pos + 8, pos + block_len - 4
                pos += block_len
                if block_type == BT_IDB:
                    if end - body < 8:
                        self._stop(f"interface block too short after {count} packets")
                        return
                    interfaces.append(self._interface_block(buf, body, end, endian))
                    self._note_linktype(interfaces[-1].linktype)
                    continue
                if block_type in (BT_EPB, BT_OPB):
                    record = self._packet_block(buf, body, end, endian, interfaces, block_type)
                elif block_type == BT_SPB:
                    record = self._simple_block(buf, body, end, endian, interfaces, last_ts)
                else:
                    continue  # section header (handled above) and every other block type
                if record is not None:
                    count += 1
                    if MIN_TS <= record[0] <= MAX_TS:
                        last_ts = record[0]
                    else:
                        self._time_out_of_range(count)
                        record = (last_ts, *record[1:])
                    yield record
        finally:
            self.packets = count

    def _time_out_of_range(self, packet: int) -> None:
        """A packet timestamp no date can show: it takes the previous packet's (warned once)."""
        if not self._bad_time:
            self._bad_time = True
            self.warnings.append(
                f"packet {packet} and maybe others carry a timestamp outside the years 1 to 9999; "
                "each such packet is given the time of the packet before it"
            )

    def _stop(self, what: str) -> None:
        self.warnings.append(f"{what}; stopped reading")

    def _interface_block(self, buf: bytes, body: int, end: int, endian: str) -> _Interface:
        linktype, _reserved, snaplen = struct.unpack_from(endian + "HHI", buf, body)
        units = 1_000_000
        offset = 0
        for code, value in _options(buf, body + 8, end, endian):
            if code == OPT_IF_TSRESOL and value:
                units = _tsresol_units(value[0])
            elif code == OPT_IF_TSOFFSET and len(value) == 8:
                offset = struct.unpack(endian + "q", value)[0]
        return _Interface(linktype, snaplen, units, offset)

    def _packet_block(
        self,
        buf: bytes,
        body: int,
        end: int,
        endian: str,
        interfaces: list[_Interface],
        block_type: int,
    ) -> Record | None:
        if end - body < 20:
            self._bad_block("packet block too short")
            return None
        if block_type == BT_EPB:
            if_id, ts_high, ts_low, incl, orig = struct.unpack_from(endian + "IIIII", buf, body)
        else:
            if_id, _drops, ts_high, ts_low, incl, orig = struct.unpack_from(
                endian + "HHIIII", buf, body
            )
        data_start = body + 20
        if if_id >= len(interfaces):
            self._bad_block(f"packet on undeclared interface {if_id}")
            return None
        if data_start + incl > end:
            self._bad_block("packet longer than its block")
            return None
        interface = interfaces[if_id]
        ts = interface.seconds((ts_high << 32) | ts_low)
        return (ts, interface.linktype, buf[data_start : data_start + incl], orig)

    def _simple_block(
        self,
        buf: bytes,
        body: int,
        end: int,
        endian: str,
        interfaces: list[_Interface],
        last_ts: float,
    ) -> Record | None:
        """A simple packet block has no timestamp: it inherits the previous packet's time."""
        if not interfaces or end - body < 4:
            self._bad_block("simple packet block without an interface")
            return None
        (orig,) = struct.unpack_from(endian + "I", buf, body)
        interface = interfaces[0]
        incl = min(orig, end - body - 4)
        if interface.snaplen:
            incl = min(incl, interface.snaplen)
        return (last_ts, interface.linktype, buf[body + 4 : body + 4 + incl], orig)

    def _bad_block(self, what: str) -> None:
        if len(self.warnings) < 20:
            self.warnings.append(f"{what} after {self.packets} packets; skipped")


class _Bounded:
    """The capture file, read no further than the size it had when it was opened.

    A read that comes back short of that size means the file shrank under the reader: that
    raises at once (a truncated file is read to its end, not past a size it never had).
    """

    def __init__(self, file: BinaryIO, limit: int) -> None:
        self._file = file
        self._limit = limit
        self.name = file.name

    def read(self, size: int = -1) -> bytes:
        left = self._limit - self._file.tell()
        want = left if size is None or size < 0 else min(size, left)
        data = self._file.read(want) if want > 0 else b""
        if len(data) < want:
            raise changed_error(
                os.path.basename(str(self.name)), self._limit, os.fstat(self.fileno()).st_size
            )
        return data

    def tell(self) -> int:
        return self._file.tell()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def fileno(self) -> int:
        return self._file.fileno()

    @property
    def closed(self) -> bool:
        return self._file.closed


class LayoutFile:
    """A classic pcap file opened again in another stage of a parallel scan (a span worker, the
    stream worker), checked to be the file the scan opened; `read` gives bytes where they lie."""

    def __init__(self, layout: PcapLayout) -> None:
        self.layout = layout
        self.fd = os.open(layout.path, os.O_RDONLY)
        stat = os.fstat(self.fd)
        if (stat.st_dev, stat.st_ino) != layout.identity[:2]:
            os.close(self.fd)
            raise changed_error(os.path.basename(layout.path), layout.identity[2], None)

    def read(self, offset: int, size: int) -> bytes:
        """Exactly `size` bytes at `offset`; a file that got shorter stops the scan."""
        data = os.pread(self.fd, size, offset)
        if len(data) < size:
            now = os.fstat(self.fd).st_size
            raise changed_error(os.path.basename(self.layout.path), self.layout.identity[2], now)
        return data

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


def changed_error(name: str, before: int, now: int | None) -> CaptureReadError:
    """The one sentence for a capture that changed while it was read (`now`: its size now,
    None when another file took its place)."""
    if now is None:
        how = "another file took its place"
    elif now < before:
        how = f"it shrank from {before:,} to {now:,} bytes"
    else:
        how = "it was rewritten"
    return CaptureReadError(
        f"{name} changed while it was being read ({how}); analyse it again once it is complete"
    )


_PCAPNG_HEADER = {e: struct.Struct(e + "II").unpack_from for e in "<>"}
_PCAPNG_EPB = {e: struct.Struct(e + "IIIII").unpack_from for e in "<>"}


def _section_byte_order(magic: bytes) -> str | None:
    if magic == b"\x4d\x3c\x2b\x1a":
        return "<"
    if magic == b"\x1a\x2b\x3c\x4d":
        return ">"
    return None


def _options(buf: bytes, pos: int, end: int, endian: str) -> Iterator[tuple[int, bytes]]:
    """(code, value) pairs of a pcapng options list, stopping at opt_endofopt or a bad length."""
    unpack = struct.Struct(endian + "HH").unpack_from
    while pos + 4 <= end:
        code, length = unpack(buf, pos)
        if code == 0:
            return
        value_end = pos + 4 + length
        if value_end > end:
            return
        yield code, buf[pos + 4 : value_end]
        pos += 4 + ((length + 3) & ~3)


def _tsresol_units(value: int) -> int:
    """Timestamp units per second from if_tsresol (power of 10, or of 2 when the MSB is set)."""
    exponent = value & 0x7F
    if value & 0x80:
        return 1 << min(exponent, 63)
    return 10 ** min(exponent, 18)


def describe_bytes(head: bytes) -> str:
    """A short human phrase for what a file that is not a capture seems to be."""
    if not head:
        return "it is empty"
    if head[:2] == GZIP_MAGIC:
        return "it is gzip-compressed, but holds no capture or is corrupt"
    text = head[:512].lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "it starts like an HTML page"
    if text.startswith(b"<?xml") or text.startswith(b"<"):
        return "it starts like XML or HTML text"
    if text.startswith((b"{", b"[")):
        return "it starts like JSON text"
    if head[:4] == b"PK\x03\x04":
        return "it is a ZIP archive"
    if head[:3] == b"BZh" or head[:6] == b"\xfd7zXZ\x00" or head[:4] == b"\x28\xb5\x2f\xfd":
        return "it is compressed with something other than gzip"
    if _looks_like_text(head[:512]):
        return "it starts like plain text"
    return f"its first bytes are {head[:4].hex(' ')}"


def _looks_like_text(sample: bytes) -> bool:
    try:
        decoded = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 3:
            return False
        decoded = sample[: exc.start].decode("utf-8")  # a character cut by the sample's end
    return bool(decoded) and all(ch.isprintable() or ch in "\r\n\t" for ch in decoded)


def _compiled_walk_records() -> Callable[..., tuple[int, int, int]] | None:
    """`python_walk_records` compiled (`_reader.c`), where it was built."""
    compiled = fastpath.compiled("mcpcap.core._reader")
    return None if compiled is None else compiled.walk_records


walk_records = _compiled_walk_records() or python_walk_records
