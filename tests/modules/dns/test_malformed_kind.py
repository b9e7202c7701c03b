"""`dns.malformed`: every message the decoder refused, with its frame and reason, in every face."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from mcpcap.core import parallel
from mcpcap.core.config import build_settings
from mcpcap.core.modules import malformed
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer

ROOT = Path(__file__).parents[3]
CAPTURES = ROOT / "tests" / "fixtures" / "captures"
MANIFEST = json.loads((CAPTURES / "MANIFEST.json").read_text())


def _malformed(path: Path, **settings) -> tuple[list[dict], dict]:
    options = {"no_cache": True, **settings}
    with Analyzer(build_settings(options)).analyze(path, path.name) as analysis:
        records = list(KindQuery(analysis, "dns.malformed").iterate(None))
        return records, analysis.summary()["dns"]["malformed"]


def test_each_refused_message_is_a_record_with_its_frame_and_reason():
    records, counted = _malformed(CAPTURES / "malformed.pcap")
    assert counted["total"] == len(records) > 0
    assert Counter(r["reason"] for r in records) == counted["by_reason"]
    known_bad = {int(frame) for frame in MANIFEST["malformed.pcap"]["malformed_frames"]}
    assert {r["frame"] for r in records} <= known_bad
    loop = next(r for r in records if r["frame"] == 1)
    assert loop["reason"] == "compression_loop"
    assert (loop["src"], loop["dst_port"], loop["transport"]) == ("192.0.2.10", 53, "udp")


def test_workers_store_the_same_records(tmp_path, monkeypatch):
    """A parallel scan's workers note what they refuse; the records equal one process's."""
    monkeypatch.setattr(parallel, "SPAN_BYTES", 512)
    one, _ = _malformed(CAPTURES / "malformed.pcap", workers=1)
    two, _ = _malformed(CAPTURES / "malformed.pcap", workers=2)
    assert two == one


def test_what_is_stored_is_capped(monkeypatch):
    monkeypatch.setattr(malformed, "MAX_STORED", 3)
    records, counted = _malformed(CAPTURES / "malformed.pcap")
    assert len(records) == 3 < counted["total"]  # the counts still see every one


@pytest.mark.parametrize("face", ["records", "top"])
def test_the_cli_serves_the_kind(face):
    if face == "records":
        args = ["--records", "dns.malformed", "--filter", "reason:compression_loop"]
    else:
        args = ["--records", "top", "--kind", "dns.malformed", "--by", "reason"]
    done = subprocess.run(
        [sys.executable, "-m", "mcpcap", "analyze", str(CAPTURES / "malformed.pcap"), *args,
         "--no-cache"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    if face == "records":
        lines = [json.loads(line) for line in done.stdout.splitlines()]
        assert lines and {line["reason"] for line in lines} == {"compression_loop"}
    else:
        ranking = json.loads(done.stdout)
        assert ranking["items"][0] == {"key": "compression_loop", "count": 2}
