"""The detail pane's text: every section, flags, EDNS, rtt, frames and the raw bytes as hex."""

from __future__ import annotations

from pathlib import Path

from mcpcap.modules.dns.tui.detail import hex_dump, transaction_text
from tests.tui.test_transactions_support import open_dns


def test_hex_dump_lines() -> None:
    data = bytes(range(0x41, 0x41 + 20))
    assert hex_dump(data.hex()) == [
        "0000  41 42 43 44 45 46 47 48 49 4a 4b 4c 4d 4e 4f 50  ABCDEFGHIJKLMNOP",
        "0010  51 52 53 54" + " " * 36 + "  QRST",
    ]
    assert hex_dump("00ff") == ["0000  00 ff" + " " * 42 + "  .."]


def test_transaction_text_has_every_part(tmp_path: Path) -> None:
    workspace, dns = open_dns(tmp_path)
    try:
        record = dns.transactions(limit=1).items[0].model_dump()
        query = dns.message(record["query_frame"])
        response = dns.message(record["response_frame"])
        text = transaction_text(record, query, response).plain
    finally:
        workspace.close()
    assert text.startswith("www.example.com  A  NOERROR  rtt 41.304 ms")
    for part in ("query frame 1 · response frame 4", "id 32737", "Query · frame 1 · message 0",
                 "Response · frame 4 · message 0", "flags rd ra", "Questions (1)",
                 "Answers (2)", "www.example.com  3600  IN  CNAME  www.example.com.cdn.example.net",
                 "Authority (0)", "Additional (1)", "EDNS", "udp_size 1232",
                 f"Raw DNS bytes ({len(response.raw_hex) // 2})", "0000  7f e1 81 80"):  # fmt: skip
        assert part in text, part


def test_unanswered_transaction_says_so(tmp_path: Path) -> None:
    workspace, dns = open_dns(tmp_path)
    try:
        record = dns.transactions(answered=False, limit=1).items[0].model_dump()
        text = transaction_text(record, dns.message(record["query_frame"]), None).plain
    finally:
        workspace.close()
    assert "no response" in text and "Response: none in the capture" in text
    assert "response frame —" in text
