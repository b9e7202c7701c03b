"""Frames the workers defer (IP fragments, reassembled by the scanning process) reach the packet
modules in capture order: the same connections and ICMP messages whether the capture is read
in one process or cut into spans between workers, however the fragments fall."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scapy.layers.inet import ICMP, IP, UDP, fragment
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import wrpcap

from mcpcap.core import parallel, scan
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer

CLIENT, SERVER = "10.1.0.1", "10.1.0.2"


def _frames() -> list:
    """One UDP flow and one ping whose large messages are fragmented, between small ones."""
    frames, ts = [], 1_700_000_000.0
    for i in range(24):
        size = 3000 if i % 3 == 1 else 40
        datagram = IP(src=CLIENT, dst=SERVER, id=100 + i) / UDP(sport=40000, dport=9999)
        datagrams = [datagram / Raw(b"q" * size)]
        if i % 4 == 2:
            datagrams.append(
                IP(src=CLIENT, dst=SERVER, id=500 + i) / ICMP(id=7, seq=i) / (b"p" * size)
            )
        for whole in datagrams:
            for piece in fragment(whole, fragsize=1400) if size > 1400 else [whole]:
                ts += 0.001
                frames.append((ts, Ether() / piece))
        ts += 0.001
        reply = IP(src=SERVER, dst=CLIENT) / UDP(sport=9999, dport=40000) / Raw(b"r" * 30)
        frames.append((ts, Ether() / reply))
        if i % 4 == 2:
            ts += 0.001
            echo = IP(src=SERVER, dst=CLIENT) / ICMP(type=0, id=7, seq=i) / (b"p" * 30)
            frames.append((ts, Ether() / echo))
    packets = []
    for ts, frame in frames:
        frame.time = ts
        packets.append(frame)
    return packets


@pytest.fixture(scope="module")
def capture(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("fragments") / "fragments.pcap"
    wrpcap(str(path), _frames())
    return path


def _records(make_settings, capture: Path, workers: int) -> dict[str, list[dict[str, Any]]]:
    settings = make_settings(modules=["conn", "icmp"], no_cache=True, workers=workers)
    with Analyzer(settings).analyze(capture, capture.name) as analysis:
        return {
            kind: list(KindQuery(analysis, kind).iterate())
            for kind in ("conn.connections", "icmp.messages")
        }


@pytest.mark.parametrize("span_bytes", [700, 1500, 4000])
def test_fragments_reach_packet_modules_in_capture_order(
    make_settings, capture, monkeypatch, span_bytes
):
    monkeypatch.setattr(scan, "PACKETS_PER_FLUSH", 5)
    serial = _records(make_settings, capture, workers=1)
    (udp,) = [r for r in serial["conn.connections"] if r["transport"] == "udp"]
    assert udp["client_packets"] == 24  # a fragmented datagram counts once, reassembled
    assert udp["server_packets"] == 24
    monkeypatch.setattr(parallel, "SPAN_BYTES", span_bytes)
    assert _records(make_settings, capture, workers=2) == serial
