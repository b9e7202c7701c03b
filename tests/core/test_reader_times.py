"""pcapng timestamps past what a date can show (found by benchmarks/fuzz_modules.py): the
reader gives such a packet the previous packet's time, says so once, and the analysis of the
capture goes on (every result's `time` is an ISO 8601 string, which ends at year 9999)."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

from mcpcap.core.export import write_records
from mcpcap.core.reader import CaptureReader
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer
from tests.core.test_reader import FRAME_A, FRAME_B, FRAME_DNS, epb, idb, opb, read_all, shb, write

TLS = Path(__file__).parents[1] / "fixtures" / "tls" / "tls.pcap"
SECONDS = 0  # if_tsresol 10**0: one tick a second
YEAR_9999_END = 253_402_300_799


def test_a_time_past_year_9999_takes_the_previous_packets(tmp_path: Path) -> None:
    content = (shb() + idb(1, tsresol=SECONDS) + epb(0, 1_700_000_000, FRAME_A)
               + epb(0, 1 << 62, FRAME_B) + opb(0, YEAR_9999_END + 1, FRAME_DNS)
               + epb(0, 1_700_000_002, FRAME_A))  # fmt: skip
    records, reader = read_all(write(tmp_path, "far.pcapng", content))
    assert [r[0] for r in records] == [1_700_000_000.0] * 3 + [1_700_000_002.0]
    assert [r[2] for r in records] == [FRAME_A, FRAME_B, FRAME_DNS, FRAME_A]
    (warning,) = reader.warnings
    assert warning.startswith("packet 2 and maybe others carry a timestamp outside the years")


def test_an_offset_before_year_one_is_out_of_range_too(tmp_path: Path) -> None:
    content = shb() + idb(1, tsresol=SECONDS, tsoffset=-(1 << 62)) + epb(0, 5, FRAME_A)
    records, reader = read_all(write(tmp_path, "early.pcapng", content))
    assert records[0][0] == 0.0 and len(reader.warnings) == 1


def test_a_capture_dated_past_year_9999_is_analysed(tmp_path: Path, make_settings) -> None:
    """Its summaries' timelines and records' times made the result models refuse None."""
    blocks = [shb(), idb(1, tsresol=SECONDS, tsoffset=1 << 40)]
    with CaptureReader(TLS) as reader:
        blocks += [epb(0, int(ts), frame) for ts, _, frame, _ in reader]
    capture = write(tmp_path, "far.pcapng", b"".join(blocks))
    settings = make_settings(no_cache=True)
    with Analyzer(settings).analyze(capture, capture.name) as analysis:
        summary = analysis.summary()
        assert summary["capture"]["warnings"]
        assert summary["tls"]["handshakes"] > 0
        query = KindQuery(analysis, "conn.connections")
        out = io.StringIO()
        write_records(query.iterate(), out, "zeek", query.kind)
    assert json.dumps(summary) and out.getvalue()


# nanosecond fractions and the microsecond each is read as: to the nearest, a half to the
# even one (a float of epoch seconds holds about a quarter of a microsecond, not a nanosecond)
NANOS = [(47_514, 48), (55_433, 55), (59_392_500, 59_392), (59_393_500, 59_394),
         (999_999_600, 1_000_000)]  # fmt: skip


def _nanosecond_pcap(tmp_path: Path) -> Path:
    out = [struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1)]
    for frac, _ in NANOS:
        out.append(struct.pack("<IIII", 1_700_000_000, frac, len(FRAME_DNS), len(FRAME_DNS)))
        out.append(FRAME_DNS)
    return write(tmp_path, "ns.pcap", b"".join(out))


def _expected() -> list[float]:
    return [round(1_700_000_000 + micros / 1e6, 6) for _, micros in NANOS]


def test_nanosecond_times_are_read_to_the_microsecond_in_every_reader(tmp_path: Path) -> None:
    from mcpcap.core import parallel
    from tests.core.test_parallel_compiled import COMPILED, _span_results

    path = _nanosecond_pcap(tmp_path)
    records, _ = read_all(path)
    assert [round(r[0], 6) for r in records] == _expected()
    for loop in (parallel.python_span_loop, COMPILED):
        if loop is None:
            continue
        ((_, _, counts),) = _span_results(path, ["dns"], loop, 1 << 21)
        assert round(min(counts[-2:]), 6) == _expected()[0]
        assert round(max(counts[-2:]), 6) == _expected()[-1]


def test_a_records_ts_and_time_name_the_same_microsecond(tmp_path: Path, make_settings) -> None:
    path = _nanosecond_pcap(tmp_path)
    with Analyzer(make_settings(no_cache=True, modules="dns")).analyze(path, path.name) as found:
        messages = list(KindQuery(found, "dns.messages").iterate())
    assert [m["ts"] for m in messages] == _expected()
    for message in messages:
        micros = round(message["ts"] % 1 * 1e6) % 1_000_000
        assert message["time"].endswith(f".{micros:06d}Z")


def test_a_pcapng_clock_finer_than_a_microsecond_is_read_to_one() -> None:
    from mcpcap.core.reader import _Interface

    nanos = _Interface(1, 0, 10**9, 0)
    assert nanos.seconds(1_700_000_000_059_392_500) == 1_700_000_000.059392
    assert nanos.seconds(1_700_000_000_059_393_500) == 1_700_000_000.059394
    binary = _Interface(1, 0, 1 << 20, 5)  # if_tsresol 2^-20 and an offset of 5 s
    assert binary.seconds(3 << 19) == 6.5 and binary.seconds(1) == 5.000001
