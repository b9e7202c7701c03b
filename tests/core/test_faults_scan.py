"""Faults under a scan: a capture that changes while it is read, decompression bombs, and many
scans at once in one process. Each must end (with an error or a warning) and stay bounded."""

from __future__ import annotations

import multiprocessing.forkserver
import multiprocessing.resource_tracker
import os
import threading
import time
from pathlib import Path

import pytest

from mcpcap.core import parallel, reader, scan
from mcpcap.core.config import Settings
from mcpcap.core.errors import CancelledError, CaptureReadError
from mcpcap.core.service import Analyzer
from tests.core.fault_captures import (
    PCAP_HEADER,
    dns_records,
    write_dns_capture,
    write_tiny_record_bomb,
    write_zero_bomb,
)

PAIRS = 20_000  # 40k packets, about 3.7 MB: several spans and several progress reports
WORKERS = [1, 2]


@pytest.fixture
def small_spans(monkeypatch):
    """Spans of 64 KiB, so a scan with workers is still going when the capture changes."""
    monkeypatch.setattr(parallel, "SPAN_BYTES", 64 << 10)


def _analyze(path: Path, cache: Path, workers: int, **kwargs):
    settings = Settings(use_cache=True, workers=workers, cache_dir=cache)
    analyzer = Analyzer(settings)
    return analyzer, analyzer.analyze(path, path.name, **kwargs)


class ChangeOnce:
    """A progress callback that has another thread change the file at the first report, and
    waits until it is done (so the change lands mid-scan every time)."""

    def __init__(self, change) -> None:
        self.change = change
        self.reports = 0
        self.at_packets: int | None = None

    def __call__(self, packets: int, done: int, total: int) -> None:
        self.reports += 1
        if self.at_packets is None:
            self.at_packets = packets
            worker = threading.Thread(target=self.change)
            worker.start()
            worker.join()


@pytest.mark.parametrize("workers", WORKERS)
def test_a_capture_truncated_under_the_scan_ends_it_with_an_error(workers, small_spans, tmp_path):
    path = write_dns_capture(tmp_path / "big.pcap", PAIRS)
    size = path.stat().st_size
    progress = ChangeOnce(lambda: os.truncate(path, size // 2))
    started = time.monotonic()
    with pytest.raises(CaptureReadError) as caught:
        _analyze(path, tmp_path / "cache", workers, progress=progress)
    assert time.monotonic() - started < 30
    assert progress.at_packets is not None and progress.at_packets < 2 * PAIRS
    message = str(caught.value)
    assert "big.pcap changed while it was being read" in message
    assert f"shrank from {size:,} to {size // 2:,} bytes" in message
    # nothing half-done is kept: the next question scans the capture as it is now
    analyzer = Analyzer(Settings(workers=workers, cache_dir=tmp_path / "cache"))
    assert not analyzer.is_cached(path)
    with analyzer.analyze(path, path.name) as analysis:
        capture = analysis.capture()
    assert capture.packets < 2 * PAIRS
    assert capture.warnings == [f"capture ends mid-record after {capture.packets} packets"]


@pytest.mark.parametrize("workers", WORKERS)
def test_a_capture_that_grows_under_the_scan_gives_what_it_had_and_a_warning(
    workers, small_spans, tmp_path
):
    path = write_dns_capture(tmp_path / "growing.pcap", PAIRS)
    size = path.stat().st_size
    more = dns_records(500, start=1_800_000_000)

    def append() -> None:
        with path.open("ab") as out:
            out.write(more)

    _, analysis = _analyze(path, tmp_path / "cache", workers, progress=ChangeOnce(append))
    with analysis:
        capture = analysis.capture()
        assert capture.packets == 2 * PAIRS
        assert capture.warnings == [
            f"the capture grew from {size:,} to {size + len(more):,} bytes while it was read; "
            f"the results cover its first {size:,} bytes"
        ]
        assert analysis.module("dns").summary().messages == 2 * PAIRS


@pytest.mark.parametrize("workers", WORKERS)
def test_a_capture_rewritten_in_place_under_the_scan_ends_it_with_an_error(
    workers, small_spans, tmp_path
):
    path = write_dns_capture(tmp_path / "rewritten.pcap", PAIRS)
    size = path.stat().st_size

    def scribble() -> None:
        with path.open("r+b") as out:
            out.seek(size // 2)
            out.write(b"\xff" * 4096)
        stat = path.stat()  # a later mtime even on a coarse clock
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))

    with pytest.raises(CaptureReadError) as caught:
        _analyze(path, tmp_path / "cache", workers, progress=ChangeOnce(scribble))
    assert "rewritten.pcap changed while it was being read (it was rewritten)" in str(caught.value)


def test_a_capture_replaced_under_the_scan_is_read_whole(small_spans, tmp_path):
    """Moving another file over the path leaves the open one intact: its scan completes."""
    path = write_dns_capture(tmp_path / "moved.pcap", PAIRS)
    other = write_dns_capture(tmp_path / "other.pcap", 10)
    _, analysis = _analyze(
        path, tmp_path / "cache", 1, progress=ChangeOnce(lambda: os.replace(other, path))
    )
    with analysis:
        assert analysis.capture().packets == 2 * PAIRS
        assert analysis.capture().warnings == []


def test_the_truncation_warning_counts_the_same_with_one_and_two_workers(small_spans, tmp_path):
    path = write_dns_capture(tmp_path / "cut.pcap", 3000)
    data = path.read_bytes()
    path.write_bytes(data[:-50])  # the last record loses its end
    warnings = {}
    for workers in WORKERS:
        settings = Settings(use_cache=False, workers=workers, cache_dir=tmp_path)
        with Analyzer(settings).analyze(path, path.name) as analysis:
            warnings[workers] = analysis.capture().warnings
    assert warnings[1] == ["capture ends mid-record after 5999 packets"]
    assert warnings[2] == warnings[1]


# -- decompression bombs -----------------------------------------------------------------------


def test_a_gzip_of_zeros_stops_after_a_run_of_empty_records(tmp_path):
    """256 MiB of zeros (a 256 KB file) are 16.7M empty records: read a bounded part of them."""
    path = write_zero_bomb(tmp_path / "zeros.pcap.gz", 256 << 20)
    assert path.stat().st_size < 1 << 20
    started = time.monotonic()
    settings = Settings(use_cache=False, cache_dir=tmp_path)
    with Analyzer(settings).analyze(path, path.name) as analysis:
        capture = analysis.capture()
    assert time.monotonic() - started < 10
    assert reader.MAX_EMPTY_RUN <= capture.packets < reader.MAX_EMPTY_RUN + (1 << 20) // 16
    assert capture.warnings == [
        f"{capture.packets:,} empty records in a row (a corrupt capture or a decompression "
        f"bomb) after {capture.packets} packets; stopped reading"
    ]


def test_a_gzip_inflating_past_the_ratio_is_cut_off(monkeypatch, tmp_path):
    """Tiny records that are not empty: the inflated size is what bounds the work."""
    monkeypatch.setattr(reader, "INFLATE_FLOOR", 1 << 20)
    record = b"\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00"
    path = tmp_path / "tiny.pcap.gz"
    import gzip

    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(PCAP_HEADER)
        out.write(record * ((16 << 20) // len(record)))  # 16 MiB, about 1M records
    compressed = path.stat().st_size
    limit = max(1 << 20, reader.MAX_INFLATE_RATIO * compressed)
    with reader.CaptureReader(path) as capture:
        packets = sum(1 for _ in capture)
        warnings = capture.warnings
    assert packets * len(record) <= limit + reader.CHUNK_SIZE
    assert packets < (16 << 20) // len(record)
    assert len(warnings) == 1
    assert warnings[0].startswith(
        f"the compressed data inflates to more than {reader.MAX_INFLATE_RATIO} times its size"
    )
    assert "decompression bomb" in warnings[0]


def test_a_gzip_of_tiny_records_stops_at_the_records_limit_quickly(tmp_path):
    """2 GiB of 1-byte records in 5.6 MB inflate within the ratio's 560 MB for 33M records (51 s
    before the records limit): the reading stops after a record per 2 compressed bytes (the
    packet count says so; no wall-clock bound, which a loaded machine would break)."""
    path = write_tiny_record_bomb(tmp_path / "tiny.pcap.gz", 2 << 30)
    size = path.stat().st_size
    assert size < 8 << 20
    limit = max(reader.RECORDS_FLOOR, size // reader.MIN_BYTES_PER_RECORD)
    assert limit * 17 < reader.MAX_INFLATE_RATIO * size  # the ratio alone would read on
    settings = Settings(use_cache=False, cache_dir=tmp_path)
    with Analyzer(settings).analyze(path, path.name) as analysis:
        capture = analysis.capture()
    assert limit < capture.packets <= limit + reader.CHUNK_SIZE // 17 + 1
    assert capture.warnings == [
        f"the compressed data holds more than {limit:,} records in {size:,} bytes (one per "
        f"{reader.MIN_BYTES_PER_RECORD} compressed bytes), as a decompression bomb does; "
        f"stopped reading after {capture.packets} packets"
    ]


def test_a_pcapng_gzip_of_tiny_blocks_stops_at_the_records_limit(monkeypatch, tmp_path):
    import gzip
    import struct

    monkeypatch.setattr(reader, "RECORDS_FLOOR", 10_000)
    shb = struct.pack("<IIIHHqI", reader.BT_SHB, 28, reader.BYTE_ORDER_MAGIC, 1, 0, -1, 28)
    idb = struct.pack("<IIHHII", reader.BT_IDB, 20, 1, 0, 0, 20)
    epb = struct.pack("<IIIIIII", reader.BT_EPB, 36, 0, 0, 0, 1, 1) + b"\x01\0\0\0"
    epb += struct.pack("<I", 36)
    path = tmp_path / "tiny.pcapng.gz"
    path.write_bytes(gzip.compress(shb + idb + epb * 200_000, compresslevel=9))
    size = path.stat().st_size
    limit = max(10_000, size // reader.MIN_BYTES_PER_RECORD)
    with reader.CaptureReader(path) as capture:
        packets = sum(1 for _ in capture)
        assert capture.warnings[0].startswith(f"the compressed data holds more than {limit:,}")
    assert limit < packets <= limit + reader.CHUNK_SIZE // 36 + 1


def test_an_ordinary_gzip_capture_is_read_whole(tmp_path):
    import gzip

    plain = write_dns_capture(tmp_path / "plain.pcap", 5000)
    packed = tmp_path / "plain.pcap.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    with reader.CaptureReader(packed) as capture:
        assert sum(1 for _ in capture) == 10_000
        assert capture.warnings == []


# -- many scans in one process -------------------------------------------------------------------


def _descendants(root: int) -> set[int]:
    """Every living process below `root`, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _helpers() -> set[int]:
    """multiprocessing's own helper processes (they run no scan)."""
    pids = {
        multiprocessing.forkserver._forkserver._forkserver_pid,
        multiprocessing.resource_tracker._resource_tracker._pid,
    }
    return {pid for pid in pids if pid}


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="counts processes in /proc")
def test_concurrent_scans_share_one_bounded_pool_of_workers(small_spans, tmp_path):
    captures = [write_dns_capture(tmp_path / f"c{i}.pcap", PAIRS + i) for i in range(5)]
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, len(_descendants(os.getpid()) - _helpers()))
            time.sleep(0.01)

    results: dict[str, int] = {}
    errors: list[BaseException] = []

    def analyse(path: Path) -> None:
        try:
            settings = Settings(use_cache=False, workers=2, cache_dir=tmp_path / path.stem)
            with Analyzer(settings).analyze(path, path.name) as analysis:
                results[path.name] = analysis.module("dns").summary().messages
        except BaseException as exc:
            errors.append(exc)

    sampler = threading.Thread(target=sample)
    sampler.start()
    threads = [threading.Thread(target=analyse, args=(path,)) for path in captures]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    done.set()
    sampler.join()
    assert errors == []
    assert results == {f"c{i}.pcap": 2 * (PAIRS + i) for i in range(5)}
    assert 0 < peak <= parallel.pool_size()
    time.sleep(0.2)
    assert _descendants(os.getpid()) - _helpers() == set()  # the pool ends with its last scan


def test_scans_wait_their_turn_in_order_and_say_so(monkeypatch, tmp_path):
    monkeypatch.setattr(scan, "SCANS", scan.ScanQueue(1))
    captures = [write_dns_capture(tmp_path / f"q{i}.pcap", 3000) for i in range(3)]
    notes: dict[str, list[str]] = {path.name: [] for path in captures}
    finished: list[str] = []
    gate = threading.Event()

    def progress_for(name: str):
        def progress(packets: int, done: int, total: int, note: str | None = None) -> None:
            if note is not None:
                notes[name].append(note)
            elif name == "q0.pcap":
                gate.wait(10)  # hold the first scan until the others queue behind it

        return progress

    def analyse(path: Path) -> None:
        settings = Settings(use_cache=False, workers=1, cache_dir=tmp_path / path.stem)
        with Analyzer(settings).analyze(path, path.name, progress=progress_for(path.name)):
            finished.append(path.name)

    threads = []
    for path in captures:
        threads.append(threading.Thread(target=analyse, args=(path,)))
        threads[-1].start()
        time.sleep(0.3)  # arrive in order
    gate.set()
    for thread in threads:
        thread.join(60)
    assert finished == ["q0.pcap", "q1.pcap", "q2.pcap"]
    assert notes["q0.pcap"] == []
    assert set(notes["q1.pcap"]) == {"queued behind 1 scan"}
    assert notes["q2.pcap"][0] == "queued behind 2 scans"
    assert "queued behind 1 scan" in notes["q2.pcap"]


def test_a_queued_scan_can_be_cancelled(monkeypatch, tmp_path):
    monkeypatch.setattr(scan, "SCANS", scan.ScanQueue(1))
    first = write_dns_capture(tmp_path / "first.pcap", 3000)
    second = write_dns_capture(tmp_path / "second.pcap", 3000)
    gate = threading.Event()
    settings = Settings(use_cache=False, workers=1, cache_dir=tmp_path)

    def hold(packets: int, done: int, total: int) -> None:
        gate.wait(10)

    holder = threading.Thread(target=lambda: Analyzer(settings).analyze(first, "f", progress=hold))
    holder.start()
    time.sleep(0.3)
    cancel = threading.Event()
    queued: list[int] = []

    def waiting(packets: int, done: int, total: int) -> None:
        queued.append(packets)
        cancel.set()

    started = time.monotonic()
    with pytest.raises(CancelledError):
        Analyzer(settings).analyze(second, "s", progress=waiting, cancel=cancel)
    assert time.monotonic() - started < 5
    assert queued == [0]
    gate.set()
    holder.join(30)
    with Analyzer(settings).analyze(second, "s") as analysis:  # the cancelled turn is given up
        assert analysis.capture().packets == 6000


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds workers in /proc")
def test_a_worker_killed_mid_scan_ends_the_scan_with_an_error(small_spans, tmp_path):
    import signal

    from mcpcap.core.errors import McpcapError

    path = write_dns_capture(tmp_path / "victim.pcap", PAIRS)
    killed: list[int] = []

    def kill_a_worker() -> None:
        workers = sorted(_descendants(os.getpid()) - _helpers())
        if workers:
            os.kill(workers[0], signal.SIGKILL)
            killed.append(workers[0])

    started = time.monotonic()
    with pytest.raises(McpcapError, match="a worker process of the scan stopped unexpectedly"):
        _analyze(path, tmp_path / "cache", 2, progress=ChangeOnce(kill_a_worker))
    assert killed
    assert time.monotonic() - started < 30
    _, analysis = _analyze(path, tmp_path / "cache", 2)  # a new pool serves the next scan
    with analysis:
        assert analysis.capture().packets == 2 * PAIRS
