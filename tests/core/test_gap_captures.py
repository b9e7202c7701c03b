"""Captures with TCP holes (tests/fixtures/make_gap_captures.py): the HTTP records and the DNS
messages over TCP carry the frames, times and completeness the generator wrote, in one process
and two."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FOLDER = FIXTURES / "gaps"
MANIFEST = json.loads((FOLDER / "MANIFEST.json").read_text())
HTTP = sorted(name for name, truth in MANIFEST.items() if truth["http"])
WORKERS = [1, 2]


def records(make_settings, name: str, module: str, kind: str, workers: int) -> list[dict]:
    path = FOLDER / name
    settings = make_settings(modules=[module], workers=workers)
    with Analyzer(settings).analyze(path, name) as analysis:
        return list(KindQuery(analysis, kind).iterate())


@pytest.mark.parametrize("workers", WORKERS)
@pytest.mark.parametrize("name", HTTP)
def test_http_records_match_the_generators_ground_truth(make_settings, name, workers):
    got = records(make_settings, name, "http", "http.requests", workers)
    expected = MANIFEST[name]["http"]
    assert len(got) == len(expected), got
    for record, truth in zip(got, expected, strict=True):
        for key, value in truth.items():
            if key == "tags":
                assert set(value) <= set(record["tags"]), (truth, record)
            elif key == "not_tags":
                assert not set(value) & set(record["tags"]), (truth, record)
            elif key == "rtt":
                assert record["rtt"] == pytest.approx(value, abs=1e-6), (truth, record)
            else:
                assert record[key] == value, (key, truth, record)


@pytest.mark.parametrize("workers", WORKERS)
def test_dns_messages_over_tcp_keep_their_frames_and_indexes(make_settings, workers):
    got = records(make_settings, "dns_hole.pcap", "dns", "dns.messages", workers)
    seen = [[m["frame"], m["index"], m["id"], int(m["qr"])] for m in got]
    assert sorted(seen) == MANIFEST["dns_hole.pcap"]["dns_messages"]


def test_dns_transactions_pair_past_the_lost_response(make_settings):
    got = records(make_settings, "dns_hole.pcap", "dns", "dns.transactions", 1)
    frames = {t["trans_id"]: (t["query_frame"], t["response_frame"]) for t in got}
    truth = MANIFEST["dns_hole.pcap"]["dns_messages"]
    queries = {qid: frame for frame, _, qid, qr in truth if not qr}
    answers = {qid: frame for frame, _, qid, qr in truth if qr}
    assert frames == {qid: (frame, answers.get(qid)) for qid, frame in queries.items()}


@pytest.mark.parametrize("workers", WORKERS)
def test_a_tls_handshake_is_established_though_data_after_it_was_lost(make_settings, workers):
    (got,) = records(make_settings, "tls_hole.pcap", "tls", "tls.handshakes", workers)
    (truth,) = MANIFEST["tls_hole.pcap"]["tls"]
    assert {key: got[key] for key in truth} == truth
    assert got["malformed"] is None  # what was lost came after the handshake


def test_the_committed_captures_are_what_the_generator_writes(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("make_gap", FIXTURES / "make_gap_captures.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    monkeypatch.setattr(generator, "OUTPUT", tmp_path)
    generator.main()
    for path in sorted(FOLDER.iterdir()):
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name
