"""Every committed fixture capture, analysed end to end, against its manifest.

The manifest (tests/fixtures/captures/MANIFEST.json) is written by make_captures.py from what
the script put in each file, and checked against tshark when the fixtures were made.
"""

from __future__ import annotations

import json

import pytest

from mcpcap.core.errors import NotACaptureError
from mcpcap.core.service import Analyzer
from tests.conftest import FIXTURES

MANIFEST = json.loads((FIXTURES / "MANIFEST.json").read_text())
MALFORMED = "malformed.pcap"  # checked on its own below: its broken frames are messages too
READABLE = sorted(n for n, f in MANIFEST.items() if "frames_with_dns" in f and n != MALFORMED)
NOT_CAPTURES = sorted(n for n, f in MANIFEST.items() if f.get("error") == "not_a_capture")


def analyse(name: str, settings):
    return Analyzer(settings).analyze(FIXTURES / name, name)


def messages_of(analysis) -> list[dict]:
    return list(analysis.module("dns").iter_messages())


@pytest.mark.parametrize("name", READABLE)
def test_dns_messages_complete_in_the_manifest_frames(name, make_settings):
    facts = MANIFEST[name]
    with analyse(name, make_settings()) as analysis:
        messages = [m for m in messages_of(analysis) if not m["malformed"]]
        capture = analysis.capture()
    assert sorted({m["frame"] for m in messages}) == facts["frames_with_dns"]
    assert len(messages) == facts["dns_messages"]
    assert [lt.linktype for lt in capture.link_types] == facts["link_types"]


@pytest.mark.parametrize("name", NOT_CAPTURES)
def test_files_that_are_not_captures_are_refused(name, make_settings):
    with pytest.raises(NotACaptureError, match="not a capture"):
        analyse(name, make_settings())


@pytest.mark.parametrize("name", ["truncated_mid_record.pcap", "truncated.pcap.gz",
                                  "lying_length.pcap"])  # fmt: skip
def test_damaged_files_keep_what_was_read_and_warn(name, make_settings):
    with analyse(name, make_settings()) as analysis:
        capture = analysis.capture()
        assert capture.warnings
        assert capture.packets > 0
        assert analysis.module("dns").summary().messages == capture.packets


def test_nanosecond_timestamps_keep_microseconds(make_settings):
    with analyse("nanosecond.pcap", make_settings()) as analysis:
        ts = [m["ts"] for m in messages_of(analysis)]
    expected = [t / 1e9 for t in MANIFEST["nanosecond.pcap"]["timestamps_ns"]]
    assert ts == pytest.approx(expected, abs=1e-6)


def test_dns_quoted_in_icmp_is_not_a_message(make_settings):
    with analyse("icmp_quoted_dns.pcap", make_settings()) as analysis:
        assert 2 not in {m["frame"] for m in messages_of(analysis)}


def test_pairing_capture_gives_the_expected_transactions(make_settings):
    expected = MANIFEST["pairing.pcap"]["expected_transactions"]
    with analyse("pairing.pcap", make_settings()) as analysis:
        dns = analysis.module("dns")
        got = list(dns.iter_transactions())
        summary = dns.summary()
    by_name = {r["query"]: r for r in got}
    for tx in expected:
        record = by_name[tx["qname"]]
        assert record["trans_id"] == tx["id"]
        assert record["query_frame"] == (tx["query_frames"][0] if tx["query_frames"] else None)
        assert record["response_frame"] == (
            tx["response_frames"][0] if tx["response_frames"] else None
        )
    assert len(got) == len(expected)
    assert summary.retransmissions == 1
    assert summary.duplicate_responses == 1
    assert summary.unsolicited_responses == 1
    assert summary.unanswered == 1


def test_dns_on_another_port_needs_a_matching_response(make_settings):
    with analyse("nonstandard_port.pcap", make_settings()) as analysis:
        messages = messages_of(analysis)
    assert [(m["frame"], m["dport"] if not m["qr"] else m["sport"]) for m in messages] == [
        (1, 5300),
        (2, 5300),
    ]


def test_mdns_bits_are_reported_per_rfc_6762(make_settings):
    with analyse("mdns.pcap", make_settings()) as analysis:
        messages = messages_of(analysis)
    query, answer = messages[0], messages[1]
    assert query["protocol"] == "mdns"
    assert query["questions"][0]["unicast_response"] is True
    assert query["questions"][0]["class"] == 1
    assert any(rr["cache_flush"] for rr in answer["answers"] + answer["additional"])


def test_escaped_names_are_presented_as_dig_does(make_settings):
    with analyse("escapes.pcap", make_settings()) as analysis:
        names = {
            name
            for m in messages_of(analysis)
            for name in [q["name"] for q in m["questions"]]
            + [rr["name"] for rr in m["answers"]]
            + [rr["data"] for rr in m["answers"] if rr["type"] == 5]
        }
    assert set(MANIFEST["escapes.pcap"]["names_presentation"]) <= names


def test_malformed_messages_are_counted_and_the_scan_goes_on(make_settings):
    with analyse(MALFORMED, make_settings()) as analysis:
        reasons = {m["frame"]: m["malformed"] for m in messages_of(analysis)}
        summary = analysis.module("dns").summary()
    broken = {frame: reasons[frame] for frame in (1, 2, 4, 5, 6, 7)}
    assert broken == {
        1: "compression_loop",
        2: "compression_loop",
        4: "name_too_long",
        5: "truncated_question",
        6: "truncated_record",
        7: "bad_label_type",
    }
    # a forward pointer is followed (RFC 1035 asks for prior occurrences, but readers such as
    # Wireshark accept later ones, and bounded work makes that safe); valid frames decode
    assert reasons[3] is None and reasons[8] is None and reasons[9] is None
    assert summary.malformed.total == 6
    assert summary.malformed.by_reason["compression_loop"] == 2
