"""Open DHCP exchanges hold a bounded number of messages together (about 1.7 KB each): a
capture of many clients that never finish (found while hardening with
benchmarks/fuzz_modules.py) writes the oldest out early instead of holding them all."""

from __future__ import annotations

import sqlite3

from mcpcap.modules.dhcp import scan
from mcpcap.modules.dhcp.module import DhcpModule
from tests.fixtures.make_dhcp_icmp_captures import DISCOVER, bootp, msg_type
from tests.modules.conn.flowkit import udp

CLIENTS, ROUNDS, BOUND = 20, 5, 30


def test_open_exchanges_hold_a_bounded_number_of_messages(monkeypatch):
    monkeypatch.setattr(scan, "MAX_HELD_MESSAGES", BOUND)
    monkeypatch.setattr(scan, "BATCH_MESSAGES", 7)  # closed ones are written in small batches
    db = sqlite3.connect(":memory:")
    DhcpModule().create_tables(db)
    dhcp = scan.DhcpScan(db)
    frame = 0
    for _ in range(ROUNDS):  # every client sends a DISCOVER a round, none is answered
        for n in range(CLIENTS):
            frame += 1
            payload = bootp(1, 1000 + n, f"02:00:00:00:00:{n:02x}", msg_type(DISCOVER))
            dhcp.on_udp(frame, float(frame), udp(("0.0.0.0", 68), ("255.255.255.255", 67), payload))
            assert dhcp.held == sum(len(e.messages) for e in dhcp.open.values()) <= BOUND
            assert len(dhcp.done) < 7
    counts = dhcp.finish(db)
    assert counts.messages == CLIENTS * ROUNDS
    assert db.execute("SELECT count(*) FROM dhcp_messages").fetchone()[0] == CLIENTS * ROUNDS
    exchanges = db.execute("SELECT count(*) FROM dhcp_transactions").fetchone()[0]
    assert CLIENTS < exchanges <= CLIENTS * ROUNDS  # the early-written ones started anew
