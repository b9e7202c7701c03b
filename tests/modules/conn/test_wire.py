"""conn counts packets as they were sent, where the capture shows them otherwise (found by
benchmarks/conformance/conn.py against tshark): a TCP header the snap length cut still counts
for its connection, a TSO segment with IP total length 0 is the captured packet, and TCP inside
GTP-U is a connection of its own that names the tunnel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scapy.contrib.gtp import GTP_U_Header
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw

from mcpcap.core import parallel
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer
from tests.fixtures.packets import Clock, Frame, pcap_bytes

ETH = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
C, S = "10.0.0.1", "10.0.0.2"
SYN, PSH_ACK, ACK = "S", "PA", "A"


def segment(src: str, dst: str, sport: int, dport: int, flags: str, seq: int, ack: int = 0,
            data: bytes = b"") -> Packet:  # fmt: skip
    tcp = TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack)
    return IP(src=src, dst=dst) / tcp / Raw(data)


def capture(path: Path, frames: list[tuple[bytes, int]]) -> Path:
    """(frame bytes, snap length or 0) in order, 10 ms apart."""
    clock = Clock()
    out = []
    for data, snap in frames:
        kept = data[:snap] if snap else data
        out.append(Frame(clock.advance(ms=10), kept, orig_len=len(data)))
    path.write_bytes(pcap_bytes(out, 1))
    return path


def analyze(make_settings, path: Path, **flags: Any) -> dict[str, list[dict]]:
    settings = make_settings(modules=["conn"], no_cache=True, **flags)
    with Analyzer(settings).analyze(path, path.name) as analysis:
        return {kind: list(KindQuery(analysis, kind).iterate())
                for kind in ("conn.connections", "conn.malformed")}  # fmt: skip


def test_a_tcp_header_the_snap_length_cut_still_counts_for_its_connection(
    make_settings, tmp_path, monkeypatch
):
    """The packet was sent, whole, in that connection (tshark counts it too); nothing else of
    its header is read, so the history and the payload bytes are the other packets'."""
    packets = [
        (ETH / segment(C, S, 40000, 80, SYN, 100), 0),
        (ETH / segment(S, C, 80, 40000, "SA", 500, 101), 0),
        (ETH / segment(C, S, 40000, 80, ACK, 101, 501), 0),
        (ETH / segment(C, S, 40000, 80, PSH_ACK, 101, 501, b"G" * 100), 0),
        (ETH / segment(S, C, 80, 40000, PSH_ACK, 501, 201, b"H" * 1000), 14 + 20 + 6),
    ]
    path = capture(tmp_path / "cut.pcap", [(bytes(p), snap) for p, snap in packets])
    found = analyze(make_settings, path)
    (conn,) = found["conn.connections"]
    assert (conn["client_packets"], conn["server_packets"]) == (3, 2)
    assert (conn["client_ip_bytes"], conn["server_ip_bytes"]) == (3 * 40 + 100, 40 + 1040)
    assert (conn["history"], conn["conn_state"], conn["client_bytes"]) == ("ShAD", "S1", 100)
    assert conn["last_frame"] == 5
    (bad,) = found["conn.malformed"]
    assert (bad["frame"], bad["reason"], bad["src_port"]) == (5, "tcp_header_cut", 80)
    monkeypatch.setattr(parallel, "SPAN_BYTES", 256)
    assert analyze(make_settings, path, workers=2) == found


def test_a_segment_with_ip_total_length_zero_is_the_captured_packet(make_settings, tmp_path):
    """TCP segmentation offload on the capturing host: Zeek and Wireshark read the total
    length 0 as 'what was captured'."""
    big = bytearray(bytes(ETH / segment(C, S, 40000, 80, PSH_ACK, 1, 1, b"L" * 4000)))
    big[16:18] = b"\0\0"
    reply = bytes(ETH / segment(S, C, 80, 40000, ACK, 1, 4001))
    path = capture(tmp_path / "tso.pcap", [(bytes(big), 0), (reply, 0)])
    (conn,) = analyze(make_settings, path)["conn.connections"]
    assert (conn["client_packets"], conn["client_ip_bytes"]) == (1, 4040)
    assert conn["client_bytes"] == 4000


@pytest.mark.parametrize("workers", [1, 2])
def test_tcp_in_gtp_u_is_a_connection_inside_its_tunnel(make_settings, tmp_path, workers):
    outer = ETH / IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=2152, dport=2152)
    back = ETH / IP(src="192.0.2.2", dst="192.0.2.1") / UDP(sport=2152, dport=2152)
    frames = [
        outer / GTP_U_Header(teid=1) / segment(C, S, 40000, 443, SYN, 1),
        back / GTP_U_Header(teid=2) / segment(S, C, 443, 40000, "SA", 9, 2),
        outer / GTP_U_Header(teid=1) / segment(C, S, 40000, 443, ACK, 2, 10),
    ]
    path = capture(tmp_path / "gtp.pcap", [(bytes(f), 0) for f in frames])
    records = analyze(make_settings, path, workers=workers)["conn.connections"]
    (tunnel,) = [r for r in records if r["server_port"] == 2152]
    (inner,) = [r for r in records if r["transport"] == "tcp"]
    assert (inner["client"], inner["server_port"], inner["conn_state"]) == (C, 443, "S1")
    assert (inner["client_packets"], inner["server_packets"]) == (2, 1)
    assert inner["tunnel_parents"] == [tunnel["uid"]]
    assert (tunnel["client_packets"], tunnel["server_packets"]) == (2, 1)
