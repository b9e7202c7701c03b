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


def test_a_missing_capture_is_generated_by_another_process_with_the_same_bytes(
    tmp_path, monkeypatch
):
    """Generated in a child process (the runner's own peak RSS would otherwise be the floor of
    every measured command's), byte for byte what `generate` writes."""
    from benchmarks import generate

    monkeypatch.setattr(runner, "DATA_DIR", tmp_path / "data")
    capture = runner.ensure_capture("2k", 2000)
    generate.generate(tmp_path / "here.pcap", 2000, runner.SEED)
    assert capture.read_bytes() == (tmp_path / "here.pcap").read_bytes()
    assert runner.truth_path(capture).exists()
    assert "generate" not in runner.__dict__  # the runner never generates in its own process


def test_the_report_names_the_python_that_runs_mcpcap(tmp_path):
    """Its version and real path, from `python -m mcpcap` or a console script's `#!` line."""
    import os
    import platform

    ours = f"{platform.python_version()} ({os.path.realpath(sys.executable)})"
    assert runner.interpreter([sys.executable, "-m", "mcpcap"]) == ours
    script = tmp_path / "mcpcap"
    script.write_text(f"#!{sys.executable}\nimport sys\n")
    assert runner.interpreter([str(script), "analyze"]) == ours
    script.write_text("echo no python here\n")
    assert runner.interpreter([str(script)]) == "unavailable"
    assert runner.interpreter([str(tmp_path / "missing")]) == "unavailable"
