"""Cases the differential run (benchmarks/conformance/icmp.py against tshark) found, each with
the value the RFCs give: echo requests that share an identifier and sequence number but not
their data, and quoted headers cut short."""

from __future__ import annotations

import sqlite3

import pytest
from scapy.layers.inet import ICMP, IP, TCP
from scapy.layers.inet6 import ICMPv6DestUnreach, ICMPv6EchoReply, ICMPv6EchoRequest, IPv6
from scapy.packet import Packet

from mcpcap.modules.icmp import scan as scan_module
from mcpcap.modules.icmp import wire
from mcpcap.modules.icmp.kinds import COLUMNS, _record
from mcpcap.modules.icmp.module import IcmpModule
from mcpcap.modules.icmp.scan import IcmpDecoder, IcmpScan
from tests.modules.conn.flowkit import icmp

HOST, PEER = "10.0.0.5", "198.51.100.7"


def _records(messages: list[tuple[str, str, Packet]]) -> dict[int, dict]:
    """The records a scan writes for these (src, dst, ICMP message), frame by frame."""
    db = sqlite3.connect(":memory:")
    IcmpModule().create_tables(db)
    decoder, scan = IcmpDecoder(), IcmpScan(db)
    for frame, (src, dst, message) in enumerate(messages, start=1):
        raw = bytes(message)
        decoder.packet(frame, float(frame), icmp(src, dst, raw[0], raw[1], raw, v6=":" in src))
    scan.on_worker_flush(decoder.flush())
    scan.finish(db)
    rows = db.execute(f"SELECT {', '.join(COLUMNS)} FROM icmp_messages").fetchall()
    return {record["frame"]: record for record in map(_record, rows)}


def _pairs(records: dict[int, dict]) -> dict[int, tuple[int | None, int | None]]:
    return {f: (r["reply_frame"], r["request_frame"]) for f, r in records.items()}


def test_a_reply_answers_the_request_whose_data_it_returns():
    """RFC 792: the reply returns the request's data. Two requests with one identifier and
    sequence number, answered in the other order, each get their own reply."""
    records = _records([
        (HOST, PEER, ICMP(type=8, id=7, seq=7) / b"first"),
        (HOST, PEER, ICMP(type=8, id=7, seq=7) / b"second"),
        (PEER, HOST, ICMP(type=0, id=7, seq=7) / b"second"),
        (PEER, HOST, ICMP(type=0, id=7, seq=7) / b"first"),
    ])  # fmt: skip
    assert _pairs(records) == {1: (4, None), 2: (3, None), 3: (None, 2), 4: (None, 1)}


def test_identifier_and_sequence_still_pair_a_reply_whose_data_changed():
    """A reply with other data (a middlebox rewrote it) still answers by identifier and
    sequence number; a repeated reply does not take a later request with other data."""
    records = _records([
        (HOST, PEER, ICMP(type=8, id=11, seq=1) / b"asked"),
        (PEER, HOST, ICMP(type=0, id=11, seq=1) / b"other"),
        (HOST, PEER, ICMP(type=8, id=12, seq=1) / b"one"),
        (PEER, HOST, ICMP(type=0, id=12, seq=1) / b"one"),
        (HOST, PEER, ICMP(type=8, id=12, seq=1) / b"two"),
        (PEER, HOST, ICMP(type=0, id=12, seq=1) / b"one"),
        (PEER, HOST, ICMP(type=0, id=12, seq=1) / b"two"),
    ])  # fmt: skip
    assert _pairs(records) == {
        1: (2, None), 2: (None, 1), 3: (4, None), 4: (None, 3), 5: (7, None), 6: (None, 3),
        7: (None, 5),
    }  # fmt: skip


def test_icmpv6_echo_pairs_by_data_too():
    records = _records([
        ("2001:db8::5", "2001:db8::7", ICMPv6EchoRequest(id=1, seq=1, data=b"a")),
        ("2001:db8::5", "2001:db8::7", ICMPv6EchoRequest(id=1, seq=1, data=b"b")),
        ("2001:db8::7", "2001:db8::5", ICMPv6EchoReply(id=1, seq=1, data=b"a")),
    ])  # fmt: skip
    assert _pairs(records) == {1: (3, None), 2: (None, None), 3: (None, 1)}


QUOTED_TCP = bytes(IP(src=HOST, dst=PEER) / TCP(sport=40001, dport=443))
QUOTED_V6 = bytes(IPv6(src="2001:db8::5", dst="2001:db8::7", nh=17))


@pytest.mark.parametrize(
    ("quote", "v6", "fields", "reason"),
    [
        (QUOTED_TCP[:10], False, ("tcp", None, None), "quoted IPv4 header is cut short"),
        (QUOTED_TCP[:19], False, ("tcp", HOST, None), "quoted IPv4 header is cut short"),
        (QUOTED_TCP[:22], False, ("tcp", HOST, PEER), "quoted tcp header is cut short"),
        (QUOTED_TCP[:20], False, ("tcp", HOST, PEER), "quoted tcp header is cut short"),
        (b"\x4f" + QUOTED_TCP[1:24], False, ("tcp", HOST, PEER),
         "quoted IPv4 header is cut short"),
        (b"\x43" + QUOTED_TCP[1:28], False, (None, None, None),
         "quoted IPv4 header length is under 20 bytes"),
        (QUOTED_V6[:10], True, ("udp", None, None), "quoted IPv6 header is cut short"),
        (QUOTED_V6[:30], True, ("udp", "2001:db8::5", None), "quoted IPv6 header is cut short"),
    ],
    ids=["v4-proto", "v4-src", "v4-no-ports", "v4-no-transport", "v4-options-cut", "v4-ihl-3",
         "v6-next-header", "v6-src"],
)  # fmt: skip
def test_a_quote_cut_short_keeps_the_fields_it_holds(quote, v6, fields, reason):
    """RFC 792/4443 quote the whole IP header: a shorter quote is malformed, and the fields
    at their fixed offsets that are whole are still read (an IHL under 5 is no header)."""
    error = ICMPv6DestUnreach(code=4) if v6 else ICMP(type=3, code=3)
    *_, extra, bad = wire.decode(bytes(error) + quote, v6)
    flow = extra["quoted"]
    assert (flow["transport"], flow["src"], flow["dst"]) == fields
    assert (flow["sport"], flow["dport"]) == (None, None)
    assert bad == reason


def test_a_record_shows_a_quote_cut_short_without_a_flow_uid():
    error = bytes(ICMP(type=3, code=3)) + QUOTED_TCP[:19]
    (record,) = _records([("10.0.0.1", HOST, error)]).values()
    assert record["quoted"] == {"transport": "tcp", "src": HOST, "sport": None, "dst": None,
                                "dport": None, "uid": None}  # fmt: skip
    assert record["malformed"] == "quoted IPv4 header is cut short"


def test_waiting_requests_stay_bounded(monkeypatch):
    """Requests with one identifier and sequence number but other data wait beside each other:
    at most MAX_SAME_KEY of them, at most MAX_PENDING in all (the longest waiting go first)."""
    monkeypatch.setattr(scan_module, "MAX_PENDING", 20)
    db = sqlite3.connect(":memory:")
    IcmpModule().create_tables(db)
    decoder, scan = IcmpDecoder(), IcmpScan(db)
    frame = 0
    for ident in range(6):
        for n in range(12):
            frame += 1
            raw = bytes(ICMP(type=8, id=ident, seq=1) / bytes((n,)))
            decoder.packet(frame, float(frame), icmp(HOST, PEER, 8, 0, raw))
    scan.on_worker_flush(decoder.flush())
    scan.finish(db)
    assert all(len(waiting) <= scan_module.MAX_SAME_KEY for waiting in scan.pending.values())
    assert scan.waiting == sum(map(len, scan.pending.values())) <= 20
    assert [key[4] for key in scan.pending] == [4, 5]  # the newest identifiers, 8 each
