"""Hostile counts: what one message costs is bounded by its bytes, and what it keeps is capped."""

from __future__ import annotations

import os
from pathlib import Path

from mcpcap.core.config import build_settings
from mcpcap.core.service import Analyzer
from mcpcap.modules.dns.decoder import (
    MAX_BRIEF_QUESTIONS,
    MAX_BRIEF_RECORDS,
    decode_brief,
    decode_message,
    forget_seen,
)
from mcpcap.modules.dns.domains import registered_domain
from mcpcap.modules.dns.pairing import MAX_EXTRA_QUESTIONS, Pairer, message_view
from mcpcap.modules.dns.store_schema import TRANSACTION_COLUMNS
from tests.fixtures.hostile import (
    analyze_peak,
    answer_bomb_message,
    qdcount_bomb,
    qdcount_bomb_message,
)

REPO = Path(__file__).resolve().parents[3]


def test_a_qdcount_bomb_decodes_what_its_bytes_hold_and_its_brief_keeps_the_first() -> None:
    buf = qdcount_bomb_message(7)
    full = decode_message(buf)
    assert full.counts[0] == 65535
    assert full.malformed == "count_exceeds_message"
    # every question takes at least 5 bytes: the section ends with the bytes, not the count
    assert MAX_BRIEF_QUESTIONS < len(full.questions) <= (len(buf) - 12) // 5
    forget_seen()
    brief = decode_brief(buf)
    assert brief[4] == "count_exceeds_message"
    assert [q[:4] for q in brief[5]] == full.questions[:MAX_BRIEF_QUESTIONS]


def test_an_answer_bomb_brief_keeps_the_first_records_and_counts_them_all() -> None:
    buf = answer_bomb_message(3)
    full = decode_message(buf)
    assert full.counts[1] == 65535 and full.malformed == "count_exceeds_message"
    assert MAX_BRIEF_RECORDS < len(full.answers) <= (len(buf) - 12) // 11
    forget_seen()
    brief = decode_brief(buf)
    values = brief[6][2]
    assert list(values) == [rr[4] for rr in full.answers[:MAX_BRIEF_RECORDS]]
    assert brief[7] == len(full.answers)  # a reply with records is not "bare"


def test_a_small_message_keeps_everything() -> None:
    buf = qdcount_bomb_message(1, size=12 + 20 + 10 * 5)
    forget_seen()
    brief = decode_brief(buf)
    assert len(brief[5]) == len(decode_message(buf).questions) == 6


def _query(trans_id: int, names: list[str]) -> tuple:
    """(id, view) of a query asking `names`."""
    questions = [(n, 1, 1, False, n, registered_domain(n)) for n in names]
    return trans_id, message_view(0x0100, 0, questions, ("", "", ()), 0, ())


def test_retransmissions_add_questions_only_up_to_the_cap() -> None:
    done = []
    pairer = Pairer(lambda row, extra, values: done.append((row, extra)))
    names = ["a.example.com"] + [f"x{i}.example.com" for i in range(MAX_BRIEF_QUESTIONS - 1)]
    meta = (1, 1.0, "10.0.0.1", 4000, "10.0.0.53", 53, "udp", "dns")
    for n in range(50):
        pairer.add(*_query(9, names), (n + 1, 1.0 + n / 100, *meta[2:]))
    pairer.finish()
    assert len(done) == 1
    (row, extra), retransmissions = done[0], TRANSACTION_COLUMNS.index("retransmissions")
    assert row[retransmissions] == 49
    assert len(extra) == MAX_EXTRA_QUESTIONS


def test_a_bomb_capture_stores_a_bounded_number_of_rows(tmp_path: Path) -> None:
    capture = qdcount_bomb(tmp_path / "bomb.pcap", messages=40)
    settings = build_settings({"workers": 1})
    with Analyzer(settings).analyze(capture, "bomb.pcap") as analysis:
        db = analysis.db
        (extra,) = db.execute("SELECT count(*) FROM dns_extra_questions").fetchone()
        (answers,) = db.execute("SELECT count(*) FROM dns_answers").fetchone()
        summary = analysis.summary()["dns"]
    assert extra == 40 * (MAX_BRIEF_QUESTIONS - 1)
    assert answers == 10 * MAX_BRIEF_RECORDS
    assert summary["messages"] == 50
    assert summary["malformed"]["by_reason"] == {"count_exceeds_message": 50}


def test_a_bomb_capture_scans_in_bounded_memory(tmp_path: Path) -> None:
    """150 messages of 6,500 questions each held about 400 MiB before the cap."""
    capture = qdcount_bomb(tmp_path / "bomb.pcap", messages=150)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    status, stderr, peak = analyze_peak(["analyze", "--workers", "1", str(capture)], env)
    assert status == 0, stderr
    assert 0 < peak < 150, f"peak {peak:.0f} MiB"
