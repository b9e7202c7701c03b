"""The benchmark runner times the approaches it compares interleaved (run 1 of each, then run 2
...), as the performance targets ask, and a failed approach runs no more."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from benchmarks import run as runner


def _appending(log: Path, mark: str, status: int = 0) -> list[str]:
    """A command that appends `mark` to `log`, then exits with `status`."""
    code = f"open({str(log)!r}, 'a').write({mark!r}); raise SystemExit({status})"
    return [sys.executable, "-c", code]


def test_approaches_run_round_robin_and_a_failed_one_stops(tmp_path):
    bench = runner.Bench(argparse.Namespace(mcpcap=None, repeat=3, timeout=60.0))
    log = tmp_path / "order.txt"
    rows = [runner.Row(name, "2k", 2000, "") for name in ("a", "b", "c")]
    trials = [
        bench.trial(rows[0], _appending(log, "a")),
        bench.trial(rows[1], _appending(log, "b", status=1)),
        bench.trial(rows[2], _appending(log, "c")),
    ]
    try:
        bench.interleave(trials)
    finally:
        shutil.rmtree(bench.scratch)
    assert log.read_text() == "abcacac"
    assert [len(row.runs) for row in rows] == [3, 1, 3]
    assert rows[0].ok and rows[2].ok and not rows[1].ok
    assert bench.rows == rows  # the table keeps the order the trials were made in
