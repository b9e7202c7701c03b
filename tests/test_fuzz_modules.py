"""The mutation fuzzer (benchmarks/fuzz_modules.py) runs, repeats itself, and catches what it
is for: a crash, a hang and a record its model refuses (the fixtures' captures only here)."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest

from benchmarks import fuzz_modules as fuzz

FIXTURES = Path(__file__).parent / "fixtures"


def test_the_same_seed_makes_the_same_mutants():
    seeds = [FIXTURES / "tls" / "tls.pcap", FIXTURES / "http" / "http_basic.pcap"]
    for seed in seeds:
        linktype, frames = fuzz.read_frames(seed)
        made = [
            [fuzz.make_mutant(random.Random(7), seed, linktype, frames) for _ in range(2)]
            for _ in range(2)
        ]
        assert made[0] == made[1]
        assert made[0][0] != seed.read_bytes()


def test_a_tcp_segment_split_in_two_keeps_its_bytes():
    linktype, frames = fuzz.read_frames(FIXTURES / "http" / "http_basic.pcap")
    rng = random.Random(3)
    split = 0
    for frame in frames:
        found = fuzz.tcp_header(linktype, frame[1])
        pieces = fuzz.resegment(rng, linktype, frame)
        if found is None or len(pieces) == 1:
            continue
        split += 1
        ip, tcp = found
        in_order = sorted(pieces, key=lambda p: int.from_bytes(p[1][tcp + 4 : tcp + 8]))
        payloads = [fuzz.tcp_payload(p[1], ip, tcp) for p in in_order]
        assert all(payloads) and b"".join(payloads) == fuzz.tcp_payload(frame[1], ip, tcp)
        first_seq = int.from_bytes(in_order[0][1][tcp + 4 : tcp + 8])
        assert first_seq == int.from_bytes(frame[1][tcp + 4 : tcp + 8])
    assert split


def test_a_short_run_over_the_fixtures_finds_nothing(tmp_path, capsys):
    assert fuzz.main(["--mutants", "30", "--match", "tls,http_basic,dhcp,icmp,vxlan",
                      "--out", str(tmp_path), "--timeout", "120"]) == 0  # fmt: skip
    assert "30 mutants: 0 distinct findings" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("trouble", "signature"),
    [
        ("raise", "ZeroDivisionError at"),
        ("hang", "hang"),
        ("model", "ModelViolation"),
        ("die", "died"),
    ],
)
def test_findings_are_caught(tmp_path, monkeypatch, trouble, signature):
    def analyse(path: Path, cache: Path, workers: int, stream_bytes: int | None) -> None:
        if trouble == "raise":
            1 / 0  # noqa: B018
        elif trouble == "hang":
            time.sleep(60)
        elif trouble == "die":  # as a crash in compiled code would end it
            os._exit(70)
        else:
            raise fuzz.ModelViolation("conn.connections record: server")

    monkeypatch.setattr(fuzz, "analyse", analyse)
    runner = fuzz.Runner(timeout=2, memory_mib=3072, workers=1)
    try:
        found = runner.run(FIXTURES / "tls" / "tls.pcap")
    finally:
        runner.stop()
    assert found is not None and found[0].startswith(signature)
    if trouble == "die":
        assert found[1] == "the child died (exit code 70)"
