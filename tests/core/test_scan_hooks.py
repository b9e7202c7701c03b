"""The scan hooks a module may use: every IP packet (packet mode) and TCP streams claimed by
their first bytes on any port; the same results from one process and from span workers."""

from __future__ import annotations

import sqlite3
import sys
import threading
from pathlib import Path

import pytest
from scapy.layers.inet import GRE, ICMP, IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import ARP, Dot1Q, Ether
from scapy.utils import wrpcap

from mcpcap.core import parallel, scan
from mcpcap.core.decap import Decapsulator
from mcpcap.core.modules import registry
from mcpcap.core.reader import CaptureReader
from tests.core import hook_modules
from tests.core.test_decap_ipv4_packets import long_way

CLIENT, SERVER = "10.0.0.1", "10.0.0.2"
ROOT = Path(__file__).resolve().parents[2]


def _tcp_exchange(sport: int, dport: int, said: list[tuple[bool, bytes]]) -> list:
    """A handshake, the given payloads (True: from the client), then FIN from both sides."""
    seq = {True: 1000, False: 5000}
    eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    c2s = eth / IP(src=CLIENT, dst=SERVER)
    s2c = eth / IP(src=SERVER, dst=CLIENT)
    frames = [
        c2s / TCP(sport=sport, dport=dport, flags="S", seq=999),
        s2c / TCP(sport=dport, dport=sport, flags="SA", seq=4999, ack=1000),
    ]
    for from_client, data in said:
        ip, ports = (c2s, (sport, dport)) if from_client else (s2c, (dport, sport))
        frames.append(
            ip / TCP(sport=ports[0], dport=ports[1], flags="PA", seq=seq[from_client]) / data
        )
        seq[from_client] += len(data)
    frames.append(c2s / TCP(sport=sport, dport=dport, flags="FA", seq=seq[True]))
    frames.append(s2c / TCP(sport=dport, dport=sport, flags="FA", seq=seq[False]))
    return frames


@pytest.fixture(scope="module")
def capture(tmp_path_factory) -> Path:
    eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    frames = [
        *_tcp_exchange(40000, 7777, [(True, b"HELLO there"), (False, b"hi"),
                                     (True, b"BYE"), (True, b"after the release")]),
        # server speaks first with something nobody claims, then the client says HELLO
        *_tcp_exchange(40001, 2525, [(False, b"220 ready"), (True, b"HELLO late")]),
        *_tcp_exchange(40002, 8888, [(True, b"GARBAGE"), (False, b"NOPE")]),
        eth / IP(src=CLIENT, dst="192.0.2.53") / UDP(sport=5353, dport=53) / b"\x00" * 12,
        eth / IP(src=CLIENT, dst=SERVER) / ICMP(type=8, code=0, id=7, seq=1) / b"ping",
        eth / Dot1Q(vlan=42) / IP(src=CLIENT, dst=SERVER) / UDP(sport=1, dport=2) / b"v",
        eth / IP(src="198.51.100.1", dst="198.51.100.2") / IP(src=CLIENT, dst=SERVER)
        / UDP(sport=3, dport=4) / b"inner",
        eth / IP(src="198.51.100.1", dst="198.51.100.2") / GRE()
        / IP(src=CLIENT, dst=SERVER) / TCP(sport=5, dport=6, flags="S"),
        eth / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=7, dport=8) / b"six",
        eth / ARP(psrc=CLIENT, pdst=SERVER),
    ]  # fmt: skip
    path = tmp_path_factory.mktemp("hooks") / "hooks.pcap"
    wrpcap(str(path), frames)
    return path


@pytest.fixture
def hook_registry(monkeypatch):
    monkeypatch.setattr(registry, "BUILTIN_MODULES", hook_modules.MODULES)
    registry.registered.cache_clear()
    yield
    registry.registered.cache_clear()


def _scan(
    path: Path,
    workers: int,
    monkeypatch,
    names: tuple[str, ...] = ("hook_packets", "hook_streams"),
    cancel: threading.Event | None = None,
) -> dict:
    if workers > 1:
        # the span workers' code, run in this process (the registry patch reaches it), on
        # spans of a few frames each
        monkeypatch.setattr(parallel, "SPAN_BYTES", 400)
        monkeypatch.setattr(parallel, "MIN_PARALLEL_BYTES", 0)

        def in_process(layout, spans, names, count, cancel=None, waiting=None):
            for span in spans:
                yield span, parallel._scan_span(layout, names, span)

        monkeypatch.setattr(parallel, "run_spans", in_process)
    modules = registry.load_modules(list(names))
    db = sqlite3.connect(":memory:")
    return scan.scan_capture(path, db, modules, workers=workers, cancel=cancel)["modules"]


@pytest.mark.usefixtures("hook_registry")
def test_every_ip_packet_reaches_a_packet_module(capture, monkeypatch):
    seen = _scan(capture, 1, monkeypatch)["hook_packets"]["packets"]
    by_transport = {}
    for packet in seen:
        by_transport.setdefault(packet[1], []).append(packet)
    assert len(by_transport["tcp"]) == 8 + 6 + 6 + 1  # the three exchanges, the GRE-borne SYN
    icmp = by_transport["icmp"][0]
    assert icmp[3:6] == (8, SERVER, 0) and icmp[6] == 20 + 8 + 4 and icmp[7] == 12
    assert icmp[12] == 64  # scapy's default TTL
    assert icmp[12] == 64  # scapy's default TTL
    vlan = next(p for p in by_transport["udp"] if p[3] == 1)
    assert vlan[9] == 42 and vlan[6] == 20 + 8 + 1 and vlan[7] == 1
    inner = next(p for p in by_transport["udp"] if p[3] == 3)
    assert inner[10] == (4, "198.51.100.1", 0, "198.51.100.2", 0)
    gre_syn = next(p for p in by_transport["tcp"] if p[3] == 5)
    assert gre_syn[10] == (47, "198.51.100.1", 0, "198.51.100.2", 0)
    carriers = sorted(p[8] for p in by_transport["ip"])
    assert carriers == [4, 47]  # the tunnels' own packets count too
    six = next(p for p in by_transport["udp"] if p[3] == 7)
    assert six[2] == "2001:db8::1" and six[6] == 40 + 8 + 3 and six[12] == 64  # hop limit
    assert [p[3] for p in by_transport["l2"]] == [0x0806]  # ARP: a frame without IP
    hello = next(p for p in by_transport["tcp"] if p[11] == len(b"HELLO there"))
    assert hello[7] == len(b"HELLO there") and hello[6] == 20 + 20 + len(b"HELLO there")


@pytest.mark.usefixtures("hook_registry")
def test_streams_are_claimed_by_their_first_bytes_and_released(capture, monkeypatch):
    chunks = _scan(capture, 1, monkeypatch)["hook_streams"]["chunks"]
    said = [(sport, data, end) for _, _, sport, data, _, end in chunks]
    # claimed at HELLO; released after BYE, so "after the release" and the FINs never come
    assert said[:3] == [
        (40000, b"HELLO there", False),
        (7777, b"hi", False),
        (40000, b"BYE", False),
    ]
    assert not any(data == b"after the release" for _, data, _ in said)
    # the server's greeting was offered and declined; the client's HELLO then claimed it
    late = [(sport, data, end) for sport, data, end in said if sport in (40001, 2525)]
    assert late == [(40001, b"HELLO late", False), (40001, b"", True), (2525, b"", True)]
    assert not any(sport in (40002, 8888) for sport, _, _ in said)  # nobody claimed GARBAGE


@pytest.mark.usefixtures("hook_registry")
def test_span_workers_give_what_one_process_gives(capture, monkeypatch):
    one = _scan(capture, 1, monkeypatch)
    many = _scan(capture, 2, monkeypatch)
    assert many["hook_packets"]["flushes"] > 3  # the capture was cut into several spans
    assert many["hook_packets"]["packets"] == one["hook_packets"]["packets"]
    assert many["hook_streams"]["chunks"] == one["hook_streams"]["chunks"]


def test_the_packet_hot_path_gives_what_the_long_way_gives(capture, tmp_path):
    """Ethernet/IPv4 TCP and UDP take a shortcut in packet mode: the same Segments."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from generate import generate
    finally:
        sys.path.pop(0)
    mixed = tmp_path / "mixed.pcap"
    generate(mixed, 3000, seed=3, write_truth=False)  # DNS, TLS, QUIC, HTTP, DHCP, ICMP ...
    shortcut, general = (Decapsulator(lambda *_: False, frozenset(), packets=True) for _ in "ab")
    compared = 0
    for path in (capture, mixed):
        with CaptureReader(str(path)) as reader:
            for ts, linktype, data, _ in reader:
                assert shortcut.decode(linktype, data, ts) == long_way(general, data, linktype, ts)
                compared += 1
    assert compared > 3000
