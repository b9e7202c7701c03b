"""The conn module on a generated capture (tests/fixtures/make_conn_captures.py): the records
against the capture's ground truth, uids, the overview, and the same results however the scan
is cut into spans (serial flushes, worker processes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mcpcap.core import parallel, scan
from mcpcap.core.export import connection_uid
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer
from tests.fixtures.make_conn_captures import OUTPUT, expected_connections

CAPTURE = OUTPUT
KEY = ("client", "client_port", "server", "server_port", "transport")


def analyze(make_settings, **flags: Any) -> list[dict[str, Any]]:
    settings = make_settings(modules=["dns", "conn"], no_cache=True, **flags)
    with Analyzer(settings).analyze(CAPTURE, CAPTURE.name) as analysis:
        return list(KindQuery(analysis, "conn.connections").iterate())


@pytest.fixture
def analysis(make_settings):
    settings = make_settings(modules=["dns", "conn"], no_cache=True)
    with Analyzer(settings).analyze(CAPTURE, CAPTURE.name) as found:
        yield found


@pytest.fixture
def records(analysis) -> list[dict[str, Any]]:
    return list(KindQuery(analysis, "conn.connections").iterate())


def by_key(items: list[dict]) -> list[dict]:
    """In endpoint order; connections of one 5-tuple keep their time order (stable sort)."""
    return sorted(items, key=lambda item: tuple(str(item[k]) for k in KEY))


def test_the_capture_is_the_generator_output():
    from tests.fixtures.make_conn_captures import build

    assert CAPTURE.read_bytes() == build()


def test_every_connection_as_the_ground_truth_says(records):
    expected = expected_connections()
    assert len(records) == len(expected)
    for record, truth in zip(by_key(records), by_key(expected), strict=True):
        tunnelled = truth.pop("tunnelled", False)
        assert {k: record[k] for k in truth} == truth
        assert bool(record["tunnel_parents"]) == tunnelled
    assert [r["ts"] for r in records] == sorted(r["ts"] for r in records)
    assert [r["id"] for r in records] == list(range(1, len(records) + 1))


def test_uids_join_across_modules_and_tell_reused_tuples_apart(analysis, records):
    http = [r for r in records if r["client"] == "10.0.0.4"]
    assert len(http) == 2 and http[0]["uid"] != http[1]["uid"]
    assert http[0]["uid"] == connection_uid(http[0])  # the first keeps the shared uid
    assert http[1]["uid"] == connection_uid(http[1], 1)
    (outer,) = [r for r in records if r["server_port"] == 4789]
    (inner,) = [r for r in records if r["tunnel_parents"]]
    assert inner["tunnel_parents"] == [outer["uid"]]
    (dns,) = [r for r in records if r["server_port"] == 53]
    (transaction,) = KindQuery(analysis, "dns.transactions").iterate()
    assert connection_uid(transaction) == dns["uid"]
    assert all(r["community_id"].startswith("1:") for r in records)


def test_the_overview(analysis):
    summary = analysis.module("conn").summary()
    layers = {layer.layer: layer.packets for layer in summary.protocols}
    assert layers["eth/arp"] == 1 and layers["eth/vlan/ipv4/udp"] == 1
    assert layers["eth/ipv4/udp/vxlan/eth/ipv4/tcp"] == 1
    assert layers["frames"] == layers["eth"] == analysis.capture().packets
    assert layers["eth/ipv6/tcp"] == 5 and layers["service/http"] == 3 * 9 + 2
    assert summary.connections == 15
    assert summary.conn_states["SF"] == 4 and summary.conn_states["REJ"] == 1
    assert summary.failed_connections["192.0.2.80 tcp/81"] == 1
    assert summary.failed_connections["192.0.2.99 tcp/443"] == 1
    assert summary.services["http"] == 4
    assert next(iter(summary.top_hosts_by_packets)) == "192.0.2.80"
    health = summary.tcp_health
    assert health.handshakes == 5 and health.syn_rtt_p50 == pytest.approx(0.001)
    assert sum(bucket.packets for bucket in summary.timeline) == analysis.capture().packets


def test_the_same_connections_however_the_scan_is_cut(make_settings, records, monkeypatch):
    monkeypatch.setattr(scan, "PACKETS_PER_FLUSH", 3)
    assert analyze(make_settings, workers=1) == records
    monkeypatch.setattr(parallel, "SPAN_BYTES", 1024)
    assert analyze(make_settings, workers=2) == records


def test_rankings_weigh_by_count_packets_and_bytes(analysis, records):
    query = KindQuery(analysis, "conn.connections")
    by_bytes = query.top(by="server", weight="bytes")
    totals: dict[str, int] = {}
    for r in records:
        totals[r["server"]] = (
            totals.get(r["server"], 0) + r["client_ip_bytes"] + r["server_ip_bytes"]
        )
    assert by_bytes.items[0].key == max(totals, key=totals.get)
    assert by_bytes.items[0].count == max(totals.values())
    states = query.top(by="conn_state")
    assert {item.key: item.count for item in states.items}["SF"] == 4
    pairs = query.top(by="pair", weight="packets", limit=1)
    assert pairs.items[0].key == "10.0.0.4 - 192.0.2.80" and pairs.items[0].count == 18


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("conn_state:REJ,S0", 7),
        ("service:http", 4),
        ("transport:udp", 5),
        ("server_port:80", 4),
        ("port:53", 1),
        ("host:2001:db8::/32", 1),
        ("client:10.0.0.0/24 -conn_state:SF", 7),
        ("min_bytes:50", 5),
        ("tunnelled:true", 1),
        ("vlan:100", 1),
        ("history:^", 1),
    ],
)
def test_filters(analysis, text, count):
    assert KindQuery(analysis, "conn.connections").page(text).total == count


def test_a_capture_without_ip_has_an_empty_overview(make_settings, tmp_path: Path):
    from scapy.layers.l2 import ARP, Ether

    from tests.fixtures.packets import LINKTYPE_ETHERNET, Clock, pcap_bytes, write_file

    clock = Clock()
    frames = [clock.frame(bytes(Ether() / ARP())) for _ in range(3)]
    path = write_file(tmp_path / "arp.pcap", pcap_bytes(frames, LINKTYPE_ETHERNET))
    with Analyzer(make_settings(modules=["conn"], no_cache=True)).analyze(path, path.name) as found:
        summary = found.module("conn").summary()
    assert summary.connections == 0 and summary.hosts == 0
    layers = {layer.layer: layer.packets for layer in summary.protocols}
    assert layers == {"frames": 3, "eth": 3, "eth/arp": 3}


def test_conn_scans_in_worker_processes():
    from mcpcap.core.modules.registry import load_module

    module = load_module("conn")
    assert module.wants_packets and module.scans_in_workers()
    assert not module.wants_udp(53, 53, b"")


def test_records_follow_time_when_the_captures_clock_goes_back(make_settings, tmp_path: Path):
    from scapy.layers.inet import UDP
    from scapy.packet import Raw

    from tests.fixtures.packets import (
        LINKTYPE_ETHERNET,
        Clock,
        ether,
        ip_layer,
        mac_for,
        pcap_bytes,
        write_file,
    )

    clock = Clock()
    frames = []
    for port, step in ((1000, 0), (1001, -5000), (1002, 1), (1000, 2), (1003, -3)):
        datagram = UDP(sport=port, dport=53) / Raw(b"x" * 20)
        data = ether(ip_layer("10.0.0.1", "10.0.0.53") / datagram, mac_for(1))
        frames.append(clock.frame(data, ms=step))
    path = write_file(tmp_path / "back.pcap", pcap_bytes(frames, LINKTYPE_ETHERNET))
    settings = make_settings(modules=["conn"], no_cache=True, workers=1)
    with Analyzer(settings).analyze(path, path.name) as found:
        records = list(KindQuery(found, "conn.connections").iterate())
    assert [r["id"] for r in records] == [1, 2, 3, 4]
    assert [r["client_port"] for r in records] == [1001, 1003, 1002, 1000]
    assert [r["first_frame"] for r in records] == [2, 5, 3, 1]


def test_the_overview_adds_up_the_records(analysis, records):
    """Every count of the overview (read from the tallies) against the records themselves."""
    summary = analysis.module("conn").summary(top_n=100)
    outside = [r for r in records if not r["tunnel_parents"]]
    count = _count
    assert summary.connections == len(records)
    assert summary.hosts == len({r["client"] for r in records} | {r["server"] for r in records})
    assert summary.ip_packets == sum(_packets(r) for r in outside)
    assert summary.transports == count(outside, lambda r: [r["transport"]], _packets)
    assert summary.services == count(
        records, lambda r: [",".join(r["service"])] * bool(r["service"])
    )
    assert summary.conn_states == count(records, lambda r: [r["conn_state"]])
    ends = lambda r: [r["client"], r["server"]]  # noqa: E731
    assert summary.top_hosts_by_packets == count(outside, ends, _packets)
    assert summary.top_hosts_by_bytes == count(outside, ends, _ip_bytes)
    pair = lambda r: [" - ".join(sorted((r["client"], r["server"])))]  # noqa: E731
    assert summary.top_pairs_by_packets == count(outside, pair, _packets)
    assert summary.top_pairs_by_bytes == count(outside, pair, _ip_bytes)
    ported = [r for r in records if r["transport"] in ("tcp", "udp")]
    assert summary.top_server_ports == count(
        ported, lambda r: [f"{r['transport']}/{r['server_port']}"]
    )
    failed = [r for r in records if r["conn_state"] in ("REJ", "S0")]
    where = lambda r: [f"{r['server']} {r['transport']}/{r['server_port']}"]  # noqa: E731
    assert summary.failed_connections == count(failed, where)
    tcp = [r for r in records if r["transport"] == "tcp"]
    health = summary.tcp_health
    assert health.handshakes == sum(r["syn_rtt"] is not None for r in tcp)
    assert health.retransmissions == sum(r["retransmissions"] for r in tcp)
    assert health.connections_with_retransmissions == sum(r["retransmissions"] > 0 for r in tcp)
    assert health.zero_windows == sum(r["zero_windows"] for r in tcp)
    assert health.missed_bytes == sum(r["missed_bytes"] for r in tcp)
    layers = {layer.layer: (layer.packets, layer.bytes) for layer in summary.protocols}
    for service in {s for r in records for s in r["service"]}:
        carrying = [r for r in records if ",".join(r["service"]) == service]
        assert layers[f"service/{service}"] == (
            sum(map(_packets, carrying)),
            sum(map(_ip_bytes, carrying)),
        )


def _packets(record: dict) -> int:
    return record["client_packets"] + record["server_packets"]


def _ip_bytes(record: dict) -> int:
    return record["client_ip_bytes"] + record["server_ip_bytes"]


def _count(records: list[dict], keys, weight=lambda r: 1) -> dict[str, int]:
    """{key: total weight}, the largest first (ties by key), as the overview ranks."""
    totals: dict[str, int] = {}
    for record in records:
        for key in keys(record):
            totals[key] = totals.get(key, 0) + weight(record)
    return dict(sorted(totals.items(), key=lambda item: (-item[1], item[0])))
