"""The dhcp module on a generated capture: exchanges as the generator wrote them, the summary's
findings one filter away, the same records from span workers, the CLI and the MCP server."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client

from mcpcap.core import parallel, scan
from mcpcap.core.config import build_settings
from mcpcap.core.filtering import Filter
from mcpcap.core.modules.registry import load_modules
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer
from mcpcap.core.workspace import Workspace
from mcpcap.modules.dhcp.kinds import TABLE, dhcp_kinds
from mcpcap.modules.dhcp.results import DhcpResults
from mcpcap.server.app import build_server

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
sys.path.insert(0, str(FIXTURES))
import make_dhcp_icmp_captures as gen  # noqa: E402

CAPTURE = FIXTURES / "dhcp_icmp" / "dhcp.pcap"
KIND = "dhcp.transactions"


@pytest.fixture(scope="module")
def analysis():
    settings = build_settings({"modules": "dhcp", "no_cache": True})
    with Analyzer(settings).analyze(CAPTURE, CAPTURE.name) as found:
        yield found


def _query(analysis) -> KindQuery:
    return KindQuery(analysis, KIND)


def test_the_committed_capture_is_what_the_script_writes():
    assert CAPTURE.read_bytes() == gen.dhcp_bytes()


def test_every_exchange_is_as_written(analysis):
    records = list(_query(analysis).iterate())
    assert {r["trans_id"] for r in records} == set(gen.DHCP_EXCHANGES)
    assert len(records) == len(gen.DHCP_EXCHANGES)
    for record in records:
        mac, family, types, assigned, host, lease, outcome, server = gen.DHCP_EXCHANGES[
            record["trans_id"]
        ]
        got = (
            record["mac"],
            record["family"],
            record["msg_types"],
            record["assigned_addr"],
            record["host_name"],
            record["lease_time"],
            record["outcome"],
            record["server"],
        )
        assert got == (mac, family, types, assigned, host, lease, outcome, server), record
        assert len(record["frames"]) == len(types) == len(record["messages"])
    frames = [f for r in records for f in r["frames"]]
    assert len(frames) == len(set(frames)) == gen.DHCP_MESSAGES - 1  # the nested relay: no xid


def test_details_of_one_exchange(analysis):
    (record,) = _query(analysis).page(f"trans_id:{0x4004}").items  # the relayed client
    assert record["relay"] == {"giaddr": gen.RELAY, "circuit_id": "eth0/1", "remote_id": "sw1"}
    assert record["uids"] and all(uid.startswith("C") and len(uid) == 18 for uid in record["uids"])
    (laptop,) = _query(analysis).page(f"trans_id:{0x1001}").items
    assert laptop["vendor_class"] == "MSFT 5.0" and laptop["domain"] == "example.lan"
    # the rogue offered 10.0.0.200 after the server's offer: the record's offer is the one
    # of the server it names (the one the REQUEST chose)
    assert laptop["requested_addr"] == "10.0.0.50" and laptop["offered_addr"] == "10.0.0.50"
    assert laptop["server"] == gen.SERVER and laptop["lease_time"] == 3600
    ack = laptop["messages"][-1]
    assert ack["msg_type"] == "ACK" and ack["options"]["dns_servers"] == ["10.0.0.53"]
    (nak,) = _query(analysis).page("msg_type:NAK").items
    assert nak["server_message"] == "wrong network"
    (v6,) = _query(analysis).page(f"trans_id:{0x123456}").items
    assert v6["client_fqdn"] == "host6.example.lan" and v6["duid"].startswith("00:03:00:01")
    assert _query(analysis).one(str(v6["id"])) == v6


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mac_addrs>1", {0x1001, 0x1002}),
        ("addr_clients>1", {0x1001, 0x4004}),
        ("msg_type:dhcpnak", {0x2002}),
        ("relayed:true", {0x4004, 0x0B0B0B}),
        ("family:dhcpv6", {0xABCDEF, 0x123456, 0x0B0B0B}),
        ("assigned_addr:10.0.0.0/24 -mac:02:00:00:00:0d:04", {0x1001, 0x1002}),
        ("outcome:unanswered host_name:overloaded", {0x6004}),
        ("frame:3", {0x1001}),
        ("answered_by:10.0.0.254", {0x1001}),  # the rogue's offer: the record names 10.0.0.1
        ("server:10.0.0.254", set()),
    ],
)
def test_findings_are_one_filter_away(analysis, text, expected):
    assert {r["trans_id"] for r in _query(analysis).iterate(text)} == expected


def test_summary(analysis):
    summary = analysis.module("dhcp").summary()
    assert summary.messages == gen.DHCP_MESSAGES
    assert summary.exchanges == len(gen.DHCP_EXCHANGES)
    assert summary.malformed == gen.DHCP_MALFORMED
    assert summary.rogue_server_hint
    servers = {s.server: s for s in summary.servers}
    # one DHCPv6 server (one DUID) answered from fe80::1 and, relayed, from 2001:db8::547
    assert set(servers) == {gen.SERVER, gen.ROGUE, "fe80::1"}
    assert servers["fe80::1"].transactions == 3 and servers["fe80::1"].offers == 2
    rogue, server = servers[gen.ROGUE], servers[gen.SERVER]
    assert (rogue.offers, rogue.acks, rogue.offered_addrs) == (1, 0, ["10.0.0.200"])
    assert server.offered_addrs == ["10.0.0.50", "10.0.0.60"]  # 10.0.0.50 twice, listed once
    assert (server.offers, server.offered_addrs_total) == (3, 2)
    assert servers["fe80::1"].offered_addrs == ["2001:db8::100", "2001:db8::b"]
    (several,) = summary.clients_with_several_addresses
    assert several.key == gen.MAC["A"] and several.values == ["10.0.0.50", "10.0.0.51"]
    (shared,) = summary.addresses_given_to_several_clients
    assert shared.key == "10.0.0.50" and shared.values == [gen.MAC["A"], gen.MAC["D"]]
    assert summary.completed == 5 and summary.naks == 1
    assert sum(summary.timeline.exchanges) == summary.exchanges
    assert len(summary.timeline.exchanges) <= 60 and sum(summary.timeline.naks) == 1


def _exchanges(tmp_path: Path, payloads: list[tuple[str, bytes]]) -> dict[int, dict]:
    """Each (source, DHCPv4 payload) as one datagram a second apart, analysed: records by xid."""
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.utils import wrpcap

    packets = []
    for n, (src, payload) in enumerate(payloads):
        server = src != "0.0.0.0"
        packet = (
            Ether()
            / IP(src=src, dst="255.255.255.255")
            / UDP(sport=67 if server else 68, dport=68 if server else 67)
            / payload
        )
        packet.time = 1_714_554_000 + n
        packets.append(packet)
    capture = tmp_path / "offers.pcap"
    wrpcap(str(capture), packets)
    settings = build_settings({"modules": "dhcp", "cache_dir": str(tmp_path / "cache")})
    with Analyzer(settings).analyze(capture, capture.name) as found:
        return {r["trans_id"]: r for r in KindQuery(found, KIND).iterate()}


def test_the_record_names_the_chosen_server_and_its_offer(tmp_path):
    """Two servers offer; the record's server, offer and lease are those of the server the
    REQUEST chose (option 54), else those of the first offer; never one server's name with
    another's offer."""
    a, rogue_lease = gen.MAC["A"], gen.opt(51, (60).to_bytes(4, "big"))

    def offer(xid: int, server: str) -> tuple[str, bytes]:
        address, lease = (
            ("10.0.0.200", rogue_lease) if server == gen.ROGUE else ("10.0.0.50", gen.LEASE)
        )
        return server, gen.server(gen.OFFER, xid, a, server, address, lease)

    chose_rogue = [
        ("0.0.0.0", gen.client(gen.DISCOVER, 1, a)),
        offer(1, gen.SERVER),
        offer(1, gen.ROGUE),
        ("0.0.0.0", gen.client(gen.REQUEST, 1, a, gen.opt(54, gen.ip4(gen.ROGUE)))),
    ]
    unchosen = [
        ("0.0.0.0", gen.client(gen.DISCOVER, 2, a)),
        offer(2, gen.ROGUE),
        offer(2, gen.SERVER),
    ]
    records = _exchanges(tmp_path, chose_rogue + unchosen)
    chosen = records[1]
    assert (chosen["server"], chosen["offered_addr"], chosen["lease_time"]) == (
        gen.ROGUE,
        "10.0.0.200",
        60,
    )
    assert chosen["outcome"] == "offered" and chosen["assigned_addr"] is None
    first = records[2]  # the rogue offered first, no REQUEST followed
    assert (first["server"], first["offered_addr"], first["lease_time"]) == (
        gen.ROGUE,
        "10.0.0.200",
        60,
    )


def test_malformed_messages_are_a_kind(analysis):
    query = KindQuery(analysis, "dhcp.malformed")
    items = list(query.iterate())
    assert sorted(item["reason"] for item in items) == sorted(gen.DHCP_MALFORMED)
    assert all(item["transport"] == "udp" and item["uid"].startswith("C") for item in items)
    (cookie,) = query.iterate('reason:"wrong magic cookie"')
    assert cookie["dst_port"] == 67


def test_rankings(analysis):
    by_type = _query(analysis).top(by="msg_type", limit=50)
    counts = {item.key: item.count for item in by_type.items}
    assert counts["DISCOVER"] == 3 + 1 + 1 + 1 + 1 + 1 and counts["ACK"] == 4
    assert sum(counts.values()) == gen.DHCP_MESSAGES - 1
    by_mac = _query(analysis).top(by="mac")
    assert by_mac.items[0].key == gen.MAC["E"]
    servers = _query(analysis).top("family:dhcpv4", by="server_addr")
    assert [item.key for item in servers.items] == [gen.SERVER]


def _records(db: sqlite3.Connection) -> list[dict]:
    results = DhcpResults(db, None, {}, build_settings({}))
    assert TABLE in results._tables.values()
    return list(results.iter_records(dhcp_kinds()[0], Filter()))


def test_span_workers_give_what_one_process_gives(monkeypatch):
    one = sqlite3.connect(":memory:")
    modules = load_modules(["dhcp"])
    modules[0].create_tables(one)
    scan.scan_capture(CAPTURE, one, modules, workers=1)
    monkeypatch.setattr(parallel, "SPAN_BYTES", 600)

    def in_process(layout, spans, names, count, cancel=None, waiting=None):
        for span in spans:
            yield span, parallel._scan_span(layout, names, span)

    monkeypatch.setattr(parallel, "run_spans", in_process)
    many = sqlite3.connect(":memory:")
    modules[0].create_tables(many)
    scan.scan_capture(CAPTURE, many, modules, workers=2)
    assert _records(many) == _records(one)


def _cli(*args: str) -> str:
    # the module alone, as `analysis` scans it (with conn, the uids of a flow conn splits name
    # its later connections: see tests/core/test_flowsplits.py)
    command = ["analyze", str(CAPTURE), "--no-cache", "--modules", "dhcp", *args]
    done = subprocess.run(
        [sys.executable, "-m", "mcpcap", *command], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_cli_lists_exports_and_summarises(analysis):
    lines = _cli("--records", KIND, "--format", "jsonl").splitlines()
    assert [json.loads(line) for line in lines] == list(_query(analysis).iterate())
    by_token = _cli("--records", KIND, "--filter", "mac_addrs>1").splitlines()
    assert [json.loads(line) for line in by_token] == list(_query(analysis).iterate("mac_addrs>1"))
    by_option = _cli("--records", KIND, "--msg-type", "NAK").splitlines()
    assert [json.loads(line) for line in by_option] == list(
        _query(analysis).iterate("msg_type:NAK")
    )
    ranked = json.loads(_cli("--records", "top", "--kind", KIND, "--by", "msg_type"))
    assert ranked == _query(analysis).top(by="msg_type").model_dump(mode="json")
    zeek = _cli("--records", KIND, "--format", "zeek").splitlines()
    assert "#path\tdhcp" in zeek and len([x for x in zeek if not x.startswith("#")]) == 13
    summary = json.loads(_cli())
    assert summary["dhcp"] == analysis.module("dhcp").summary().model_dump(mode="json")


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_mcp_server_answers_as_the_core(analysis, anyio_backend):
    settings = build_settings({"pcap_path": [str(CAPTURE.parent)], "modules": "dhcp"})
    workspace = Workspace(settings)
    try:
        async with Client(build_server(workspace, settings)) as client:
            page = await client.call_tool(
                "records", {"capture": CAPTURE.name, "kind": KIND, "filter": "addr_clients>1"}
            )
            top = await client.call_tool(
                "top", {"capture": CAPTURE.name, "kind": KIND, "by": "assigned_addr"}
            )
            summary = await client.call_tool("analyze_dhcp_packets", {"capture": CAPTURE.name})
    finally:
        workspace.close()
    assert page.structured_content == _query(analysis).page("addr_clients>1").model_dump(
        mode="json"
    )
    assert top.structured_content == _query(analysis).top(by="assigned_addr").model_dump(
        mode="json"
    )
    assert summary.structured_content == analysis.module("dhcp").summary().model_dump(mode="json")


def test_broken_options_in_a_capture_are_counted_and_every_face_still_answers(tmp_path):
    """A relayed REQUEST whose relay information runs past its option, and an ACK whose lease
    time, server id and requested address have the wrong lengths: the capture is analysed, the
    fields stay null instead of holding hex, and the Zeek export writes them."""
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.utils import wrpcap

    bad = gen.opt(50, b"\x0a\x00\x00") + gen.opt(51, b"\x00\x01\x00") + gen.opt(54, b"\x0a\x00")
    payloads = [
        (gen.RELAY, gen.SERVER, 67, gen.client(gen.REQUEST, 21, gen.MAC["E"],
                                               gen.opt(82, b"\x01\x09ab"), giaddr=gen.RELAY)),
        (gen.SERVER, "10.0.0.77", 68, gen.bootp(2, 21, gen.MAC["E"], gen.msg_type(gen.ACK) + bad,
                                                yiaddr="10.0.0.77", giaddr=gen.RELAY)),
    ]  # fmt: skip
    packets = []
    for n, (src, dst, dport, payload) in enumerate(payloads):
        packet = Ether() / IP(src=src, dst=dst) / UDP(sport=67, dport=dport) / payload
        packet.time = 1_714_554_000 + n
        packets.append(packet)
    capture = tmp_path / "broken-options.pcap"
    wrpcap(str(capture), packets)
    command = [sys.executable, "-m", "mcpcap", "analyze", str(capture), "--no-cache"]
    summary = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert summary.returncode == 0, summary.stderr
    assert json.loads(summary.stdout)["dhcp"]["malformed"]
    records = subprocess.run([*command, "--records", KIND, "--format", "jsonl"],
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    (record,) = [json.loads(line) for line in records.stdout.splitlines()]
    assert record["lease_time"] is None and record["requested_addr"] is None
    assert record["server"] in (None, gen.SERVER)
    zeek = subprocess.run([*command, "--records", KIND, "--format", "zeek"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert zeek.returncode == 0, zeek.stderr
    assert "#path\tdhcp" in zeek.stdout


def test_the_requested_address_is_the_last_one_asked_for_as_zeek_keeps_it(tmp_path):
    """DISCOVER, OFFER, REQUEST(A), NAK, REQUEST(B), ACK(B): the client asked for B last."""
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.utils import wrpcap

    mac, xid, refused, taken = gen.MAC["A"], 0x7007, "192.168.9.9", "10.0.0.60"
    asked = [gen.client(gen.DISCOVER, xid, mac)]
    asked.append(gen.server(gen.OFFER, xid, mac, gen.SERVER, taken, gen.LEASE))
    asked.append(gen.client(gen.REQUEST, xid, mac, gen.opt(50, gen.ip4(refused))))
    asked.append(gen.server(gen.NAK, xid, mac, gen.SERVER, "0.0.0.0"))
    asked.append(gen.client(gen.REQUEST, xid, mac, gen.opt(50, gen.ip4(taken))))
    asked.append(gen.server(gen.ACK, xid, mac, gen.SERVER, taken, gen.LEASE))
    packets = []
    for n, payload in enumerate(asked):
        ends = ("0.0.0.0", 68, "255.255.255.255", 67) if n % 2 == 0 else (
            gen.SERVER, 67, "255.255.255.255", 68)  # fmt: skip
        packet = Ether() / IP(src=ends[0], dst=ends[2]) / UDP(sport=ends[1], dport=ends[3])
        packet = packet / payload
        packet.time = 1_714_554_000 + n / 10
        packets.append(packet)
    capture = tmp_path / "nak-then-ack.pcap"
    wrpcap(str(capture), packets)
    settings = build_settings({"modules": "dhcp", "no_cache": True})
    with Analyzer(settings).analyze(capture, capture.name) as found:
        (record,) = KindQuery(found, KIND).iterate()
    assert record["msg_types"] == ["DISCOVER", "OFFER", "REQUEST", "NAK", "REQUEST", "ACK"]
    assert (record["requested_addr"], record["assigned_addr"]) == (taken, taken)
