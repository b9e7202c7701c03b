"""What HTTP connections hold (unfinished lines, a loose request's chunks) counts against the
scan's stream budget: many connections that each leave a long line unfinished hold at most the
budget (found while hardening with benchmarks/fuzz_modules.py)."""

from __future__ import annotations

from mcpcap.core.tcpstream import StreamBudget, StreamChunk
from mcpcap.modules.http.scan import HttpStreams

SERVER = ("192.0.2.80", 80)


def test_unfinished_lines_stay_within_the_budget():
    budget = StreamBudget(100_000)
    streams = HttpStreams()
    streams.share_budget(budget)
    for n in range(20):
        client = (f"10.0.0.{n + 1}", 40000)
        pieces = [b"GET /" + b"a" * 5000, b"b" * 5000, b"c" * 5000]  # no end of line
        for frame, data in enumerate(pieces, 3 * n + 1):
            chunk = StreamChunk(*client, *SERVER, data, gap=False, syn_seen=True)
            streams.on_tcp(frame, float(frame), chunk)
            held = sum(conn.buffered() for conn in streams.connections.values())
            assert held == budget.used <= budget.max_bytes
    assert budget.cut > 0
    assert len(streams.connections) < 20  # the shed ones were closed and recorded
    streams.close()
    assert budget.used == 0 and not streams.connections
