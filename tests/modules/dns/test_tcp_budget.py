"""Unfinished DNS-over-TCP messages: what they hold is bounded in total, and cuts are reported."""

from __future__ import annotations

import os
import struct
from pathlib import Path

from mcpcap.core.config import build_settings
from mcpcap.core.service import Analyzer
from mcpcap.modules.dns.framing import TcpMessageFramer
from tests.fixtures.hostile import analyze_peak, tcp_unfinished

REPO = Path(__file__).resolve().parents[3]


def _message(ident: int, size: int) -> bytes:
    header = struct.pack("!6H", ident, 0x0100, 1, 0, 0, 0)
    return header + b"\x00" * (size - 12 - 4) + struct.pack("!HH", 1, 1)


def test_a_message_in_many_pieces_is_held_once_at_its_full_size() -> None:
    msg = _message(1, 5000)
    framed = struct.pack("!H", len(msg)) + msg + struct.pack("!H", 20) + _message(2, 20)
    framer = TcpMessageFramer(synced=True)
    out = []
    for start in range(0, 98, 7):  # the header, in small pieces
        out += framer.feed(framed[start : start + 7])
    assert out == [] and framer.buffered == 2 + len(msg)
    for start in range(98, len(framed), 999):
        out += framer.feed(framed[start : start + 999])
    assert out == [msg, _message(2, 20)]
    assert framer.buffered == 0


def test_a_gap_drops_the_waiting_message() -> None:
    msg = _message(1, 3000)
    framer = TcpMessageFramer(synced=True)
    assert framer.feed(struct.pack("!H", len(msg)) + msg[:100]) == []
    assert framer.buffered == 2 + len(msg)
    framed = struct.pack("!H", 20) + _message(2, 20)
    assert framer.feed(framed, gap=True) == [_message(2, 20)]
    assert framer.buffered == 0


def test_the_stream_budget_is_a_setting_and_part_of_the_store_key(monkeypatch) -> None:
    monkeypatch.setenv("MCPCAP_MAX_STREAM_BYTES", "12345")
    settings = build_settings({})
    assert settings.max_stream_bytes == 12345
    assert Analyzer(settings).options()["max_stream_bytes"] == 12345


def test_cut_streams_are_counted_in_the_capture_warnings(tmp_path: Path) -> None:
    capture = tcp_unfinished(tmp_path / "tcp.pcap.gz", flows=100)
    settings = build_settings({})
    settings.max_stream_bytes = 1_000_000  # 15 unfinished 64 KiB messages
    with Analyzer(settings).analyze(capture, "tcp.pcap.gz") as analysis:
        warnings = analysis.capture().warnings
    cut = [w for w in warnings if "max_stream_bytes" in w]
    assert len(cut) == 1
    count = int(cut[0].split()[0])
    assert 80 <= count <= 100  # the newest few are still whole at the end, and simply unfinished


def test_twenty_thousand_unfinished_streams_would_hold_gigabytes(tmp_path: Path) -> None:
    """3,000 unfinished 64 KiB messages held about 300 MiB before the budget."""
    capture = tcp_unfinished(tmp_path / "tcp.pcap.gz", flows=3000)
    env = {**os.environ, "PYTHONPATH": str(REPO), "MCPCAP_MAX_STREAM_BYTES": str(16 << 20)}
    status, stderr, peak = analyze_peak(["analyze", str(capture)], env)
    assert status == 0, stderr
    assert "stream(s) were cut short" in stderr
    assert 0 < peak < 100, f"peak {peak:.0f} MiB"
