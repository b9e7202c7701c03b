"""What unfinished TLS handshakes hold counts against the scan's stream budget: a capture of
many connections that each leave a handshake message of 200 KB unfinished (found while
hardening with benchmarks/fuzz_modules.py) holds at most the budget, not 200 KB a connection."""

from __future__ import annotations

import sqlite3

from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer
from mcpcap.core.tcpstream import StreamBudget, StreamChunk
from mcpcap.modules.tls.scan import TlsScan, decode_datagram
from mcpcap.modules.tls.store import create_tables
from mcpcap.modules.tls.streams import TlsStreams
from tests.fixtures.make_tls_captures import QUIC_V1, crypto_frame, protect_initial, record, u24

CLAIMED = 200_000  # a ClientHello's length, far more than what follows
PIECE = 16_000


def unfinished_hello(records: int) -> list[bytes]:
    """A handshake record opening a ClientHello of CLAIMED bytes, then more of its fragments."""
    first = record(22, b"\x01" + u24(CLAIMED) + bytes(PIECE - 4))
    return [first] + [record(22, bytes(PIECE)) for _ in range(records - 1)]


def test_unfinished_handshakes_stay_within_the_budget():
    budget = StreamBudget(100_000)
    streams = TlsStreams()
    streams.share_budget(budget)
    for frame, n in enumerate(range(20), 1):
        client, server = (f"10.0.0.{n + 1}", 40000), ("192.0.2.1", 443)
        for data in unfinished_hello(4):
            chunk = StreamChunk(*client, *server, data, gap=False, syn_seen=True)
            streams.on_tcp(frame, float(frame), chunk)
            held = sum(conn.held() for conn in streams.tcp.values())
            assert held == budget.used
            assert held <= budget.max_bytes
    assert budget.cut > 0
    streams.close()
    assert budget.used == 0
    tally = streams.flush()[2]
    assert sum(tally.values()) == 20  # every connection written out once, shed or closed


def test_a_capture_of_unfinished_handshakes_is_cut_with_a_warning(tmp_path, make_settings):
    eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    packets = []
    for n in range(12):
        ip = IP(src=f"10.0.1.{n + 1}", dst="192.0.2.1")
        seq = 1000
        packets.append(eth / ip / TCP(sport=40000, dport=443, flags="S", seq=seq - 1))
        for data in unfinished_hello(4):
            packets.append(eth / ip / TCP(sport=40000, dport=443, flags="PA", seq=seq) / data)
            seq += len(data)
    for n, packet in enumerate(packets):
        packet.time = 1_700_000_000 + n / 100
    capture = tmp_path / "unfinished.pcap"
    wrpcap(str(capture), packets)
    settings = make_settings(modules=["tls"], no_cache=True)
    settings.max_stream_bytes = 150_000  # 12 connections hold 768 KB unbounded
    with Analyzer(settings).analyze(capture, capture.name) as analysis:
        warnings = analysis.capture().warnings
        handshakes = list(KindQuery(analysis, "tls.handshakes").iterate())
    assert any("stream(s) were cut short" in w for w in warnings), warnings
    assert len(handshakes) <= 12


def test_unfinished_quic_handshakes_stay_within_the_budget():
    """QUIC's CRYPTO streams: the same bound, for the handshakes the scan itself reads."""
    db = sqlite3.connect(":memory:")
    create_tables(db)
    budget = StreamBudget(20_000)
    tls = TlsScan(db, budget)
    hello = b"\x01" + u24(60_000) + bytes(996)  # a ClientHello of 60 KB, 1000 bytes a packet
    frame = 0
    for n in range(10):
        dcid = bytes([n + 1]) * 8
        for offset in range(0, 10_000, 1000):
            data = hello if offset == 0 else bytes(1000)
            packet = protect_initial(QUIC_V1, dcid, dcid, b"\xaa" * 4, offset // 1000,
                                     crypto_frame(offset, data), server=False)  # fmt: skip
            frame += 1
            decoded = decode_datagram(packet)
            tls.on_udp_decoded(frame, float(frame), "10.9.0.1", 40000 + n, "10.9.0.2", 443,
                               decoded)  # fmt: skip
            held = sum(conn.held() for conn in tls.quic.values())
            assert held == budget.used <= budget.max_bytes
    assert budget.cut > 0
    counts = tls.finish(db)
    assert budget.used == 0
    assert counts.detail["connections without a hello"] == 10
