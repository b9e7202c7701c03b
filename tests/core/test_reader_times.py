"""pcapng timestamps past what a date can show (found by benchmarks/fuzz_modules.py): the
reader gives such a packet the previous packet's time, says so once, and the analysis of the
capture goes on (every result's `time` is an ISO 8601 string, which ends at year 9999)."""

from __future__ import annotations

import io
import json
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
