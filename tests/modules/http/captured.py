"""Scan a few scapy-built packets end to end: written as a capture, read by the Analyzer.

`Segments` sends one TCP connection's bytes as chosen segments (any cut, any order);
`records(tmp_path, packets, kind)` writes them (one millisecond apart) and returns the records.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mcpcap.core.config import build_settings
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analysis, Analyzer, stored_counts

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures"))

import itertools

from packets import LINKTYPE_ETHERNET, Clock, TcpFlow, ether, mac_for, pcap_bytes


class Segments:
    """One connection's packets, in the order they are added."""

    def __init__(self, server_port: int = 80, handshake: bool = True) -> None:
        self.flow = TcpFlow("10.9.0.1", "10.9.0.2", 41000, server_port, client_seq=1000)
        self.packets = self.flow.handshake() if handshake else []

    def send(self, side: str, data: bytes, cuts: tuple[int, ...] = ()) -> None:
        """`data` from `side`, in segments cut at `cuts`."""
        edges = [0, *cuts, len(data)]
        for start, end in itertools.pairwise(edges):
            self.packets.append(self.flow.send(side, "PA", data[start:end]))

    def close(self) -> list:
        self.packets += self.flow.close()
        return self.packets


def records(
    tmp_path: Path, packets: list, kind: str, modules: tuple[str, ...] = ("http", "tls")
) -> list[dict[str, Any]]:
    with _analysis(tmp_path, packets, modules) as analysis:
        return list(KindQuery(analysis, kind).iterate())


def tallies(tmp_path: Path, packets: list, module: str) -> dict[str, Any]:
    """The module's scan counts' `detail` (its tallies by name)."""
    with _analysis(tmp_path, packets, (module,)) as analysis:
        counts = stored_counts(analysis.db, module)
        assert counts is not None
        return counts.detail


def _analysis(tmp_path: Path, packets: list, modules: tuple[str, ...]) -> Analysis:
    clock = Clock()
    frames = [clock.frame(ether(packet, mac_for(1))) for packet in packets]
    path = tmp_path / "case.pcap"
    path.write_bytes(pcap_bytes(frames, LINKTYPE_ETHERNET))
    settings = build_settings({"modules": list(modules), "workers": 1})
    return Analyzer(settings).analyze(path, path.name)
