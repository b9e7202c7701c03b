"""The icmp module on a generated capture: every message with its names, echo pairs (also when
request and reply lie in different spans), the flows errors quote, neighbour discovery, the
summary, the CLI and the MCP server."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client
from scapy.layers.inet import ICMP, IP, UDP, fragment
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

from mcpcap.core import parallel, scan
from mcpcap.core.config import build_settings
from mcpcap.core.export import connection_uid
from mcpcap.core.filtering import Filter
from mcpcap.core.modules.registry import load_modules
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer
from mcpcap.core.workspace import Workspace
from mcpcap.modules.icmp.kinds import icmp_kinds
from mcpcap.modules.icmp.results import IcmpResults
from mcpcap.server.app import build_server

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
sys.path.insert(0, str(FIXTURES))
import make_dhcp_icmp_captures as gen  # noqa: E402

CAPTURE = FIXTURES / "dhcp_icmp" / "icmp.pcap"
KIND = "icmp.messages"
TRUTH = gen.ICMP_TRUTH


@pytest.fixture(scope="module")
def analysis():
    settings = build_settings({"modules": "icmp", "no_cache": True})
    with Analyzer(settings).analyze(CAPTURE, CAPTURE.name) as found:
        yield found


@pytest.fixture(scope="module")
def with_conn():
    settings = build_settings({"modules": "conn,icmp", "no_cache": True})
    with Analyzer(settings).analyze(CAPTURE, CAPTURE.name) as found:
        yield found


def _query(analysis) -> KindQuery:
    return KindQuery(analysis, KIND)


def test_the_committed_capture_is_what_the_script_writes():
    assert CAPTURE.read_bytes() == gen.icmp_bytes()


def test_echo_requests_are_paired_with_their_replies(analysis):
    requests = list(_query(analysis).iterate("type_name:echo-request dst:8.8.8.8"))
    assert [r["seq"] for r in requests] == [1, 2, 3, 4, 5]
    for request in requests:
        rtt = gen.ECHO_RTT_MS.get(request["seq"])
        if rtt is None:
            assert request["reply_frame"] is None and request["rtt"] is None
            continue
        assert request["rtt"] == pytest.approx(rtt / 1000, abs=1e-6)
        (reply,) = _query(analysis).iterate(f"frame:{request['reply_frame']}")
        assert reply["type_name"] == "echo-reply" and reply["seq"] == request["seq"]
        assert reply["request_frame"] == request["frame"] and reply["uid"] == request["uid"]
    lost = list(_query(analysis).iterate("answered:false"))
    assert [r["seq"] for r in lost] == [3]
    assert len(list(_query(analysis).iterate("answered:true"))) == TRUTH["echo_answered"]


def test_errors_name_the_flow_they_quote(analysis):
    transport, src, sport, dst, dport = TRUTH["unreachable_flow"]
    (error,) = _query(analysis).iterate(f"code_name:port-unreachable quoted_dport:{dport}")
    quoted = error["quoted"]
    assert (quoted["transport"], quoted["src"], quoted["sport"]) == (transport, src, sport)
    assert (quoted["dst"], quoted["dport"]) == (dst, dport)
    # the uid the conn module gives that UDP flow, whichever side it calls the client
    flow = {"client": dst, "client_port": dport, "server": src, "server_port": sport,
            "transport": transport}  # fmt: skip
    assert quoted["uid"] == connection_uid(flow)
    assert [e["frame"] for e in _query(analysis).iterate(f"quoted_uid:{quoted['uid']}")] == [
        error["frame"]
    ]
    (too_big,) = _query(analysis).iterate("type_name:packet-too-big")
    assert too_big["mtu"] == TRUTH["mtu"] and too_big["quoted"]["transport"] == "tcp"
    (redirect,) = _query(analysis).iterate("type_name:redirect")
    assert redirect["gateway"] == TRUTH["redirect_gateway"]


def _redirected_flow_uid() -> str:
    """The uid of the TCP flow the redirect quotes, whose packets the capture lacks."""
    return connection_uid({"client": gen.HOST, "client_port": 41000, "server": "198.51.100.7",
                           "server_port": 443, "transport": "tcp"})  # fmt: skip


def test_a_quoted_uid_names_a_connection_of_the_capture(analysis, with_conn):
    """With conn scanned, a quoted flow's uid is the connection conn has for it, or null when
    the capture has none (the redirected TCP flow, the packet too big's); the quoted_uid
    filter finds what the records show. Without conn, every quoted flow has its uid, but for
    a quote cut short before its addresses, which names no flow."""
    conn = {r["uid"]: r for r in KindQuery(with_conn, "conn.connections").iterate()}
    quoted = {r["frame"]: r["quoted"] for r in _query(with_conn).iterate("error:true")}
    uids = {frame: flow["uid"] for frame, flow in quoted.items() if flow}
    assert set(uids.values()) - {None} <= set(conn) and None in uids.values()
    transport, src, sport, dst, dport = TRUTH["unreachable_flow"]
    (unreachable,) = _query(with_conn).iterate(f"code_name:port-unreachable quoted_dport:{dport}")
    flow = conn[unreachable["quoted"]["uid"]]
    assert (flow["transport"], flow["client"], flow["client_port"]) == (transport, src, sport)
    assert (flow["server"], flow["server_port"]) == (dst, dport)
    (redirect,) = _query(with_conn).iterate("type_name:redirect")
    (too_big,) = _query(with_conn).iterate("type_name:packet-too-big")
    assert redirect["quoted"]["uid"] is None and too_big["quoted"]["uid"] is None
    absent = _redirected_flow_uid()
    assert list(_query(with_conn).iterate(f"quoted_uid:{absent}")) == []
    assert _query(with_conn).page(f"quoted_uid:{absent}").total == 0
    every = list(_query(with_conn).iterate())
    assert list(_query(with_conn).iterate(f"-quoted_uid:{absent}")) == every
    assert _query(with_conn).one(str(redirect["id"])) == redirect
    (alone,) = _query(analysis).iterate("type_name:redirect")
    assert alone["quoted"]["uid"] == absent
    assert [r["id"] for r in _query(analysis).iterate(f"quoted_uid:{absent}")] == [alone["id"]]
    flows = [r["quoted"] for r in _query(analysis).iterate() if r["quoted"]]
    assert all(flow["uid"] for flow in flows if flow["src"] and flow["dst"])
    assert all(flow["uid"] is None for flow in flows if not (flow["src"] and flow["dst"]))


def test_neighbour_discovery(analysis):
    (ra,) = _query(analysis).iterate("type_name:router-advertisement")
    assert [p["prefix"] for p in ra["prefixes"]] == [TRUTH["prefix"]]
    advertised = _query(analysis).iterate("type_name:neighbor-advertisement nd_target:fe80::2")
    assert [r["lladdr"] for r in advertised] == TRUTH["nd"]["fe80::2"]


def test_summary(analysis):
    summary = analysis.module("icmp").summary()
    assert summary.messages == TRUTH["messages"]
    assert summary.malformed == TRUTH["malformed"]
    assert summary.echo.requests == TRUTH["echo_requests"]
    assert summary.echo.answered == TRUTH["echo_answered"]
    google = next(d for d in summary.echo.destinations if d.dst == gen.GOOGLE)
    assert (google.requests, google.answered, google.lost) == (5, 4, 1)
    assert google.rtt_max == pytest.approx(0.030, abs=1e-6)
    src, dst, hops = TRUTH["traceroute"]
    (trace,) = summary.traceroutes
    assert (trace.src, trace.dst, trace.hops) == (src, dst, hops)
    assert summary.neighbour_duplicates == ["fe80::2"]
    assert {(n.address, n.lladdr) for n in summary.neighbours} == {
        (address, lladdr) for address, lladdrs in TRUTH["nd"].items() for lladdr in lladdrs
    }
    (redirect,) = summary.redirects
    assert redirect.target == TRUTH["redirect_gateway"]
    assert redirect.destination == TRUTH["redirect_destination"]  # ICMPv4: the quoted one
    assert sum(t.count for t in summary.by_type) == summary.messages
    assert sum(summary.timeline.messages) == summary.messages
    assert sum(summary.timeline.errors) == len(list(_query(analysis).iterate("error:true")))
    assert summary.errors == len(list(_query(analysis).iterate("error:true"))) > 0


def test_malformed_messages_are_a_kind(analysis):
    query = KindQuery(analysis, "icmp.malformed")
    items = list(query.iterate())
    assert sorted(item["reason"] for item in items) == sorted(TRUTH["malformed"])
    (cut,) = query.iterate('reason:"quoted IPv4 header is cut short"')
    (message,) = _query(analysis).iterate(f"frame:{cut['frame']}")
    assert cut["uid"] == message["uid"]  # the message's own ICMP flow


def test_rankings(analysis):
    by_type = _query(analysis).top(by="type_name", limit=50)
    counts = {item.key: item.count for item in by_type.items}
    assert counts["echo-request"] == 5 + 1 + 1  # the 2-byte one is named as its type too
    assert counts["destination-unreachable"] == 5  # port x3 (one v6), cut quote, error
    assert _query(analysis).top(by="src").items[0].key == gen.HOST


def _records(db: sqlite3.Connection) -> list[dict]:
    results = IcmpResults(db, None, {}, build_settings({}))
    return list(results.iter_records(icmp_kinds()[0], Filter()))


def _scan(path: Path, monkeypatch, span_bytes: int | None) -> list[dict]:
    modules = load_modules(["icmp"])
    db = sqlite3.connect(":memory:")
    modules[0].create_tables(db)
    if span_bytes is None:
        scan.scan_capture(path, db, modules, workers=1)
        return _records(db)
    monkeypatch.setattr(parallel, "SPAN_BYTES", span_bytes)

    def in_process(layout, spans, names, count, cancel=None, waiting=None):
        for span in spans:
            yield span, parallel._scan_span(layout, names, span)

    monkeypatch.setattr(parallel, "run_spans", in_process)
    scan.scan_capture(path, db, modules, workers=2)
    return _records(db)


@pytest.mark.parametrize("span_bytes", [150, 400, 1000])
def test_span_workers_pair_across_spans(monkeypatch, span_bytes):
    one = _scan(CAPTURE, monkeypatch, None)
    assert _scan(CAPTURE, monkeypatch, span_bytes) == one
    assert sum(1 for r in one if r["reply_frame"]) == TRUTH["echo_answered"]


def test_a_reply_to_a_request_already_written_updates_its_row_the_same(monkeypatch):
    """A request's row takes its reply in memory while it waits for a write; one already
    written (here every row is, as soon as it is made) gets it by an UPDATE: the same records
    either way."""
    from mcpcap.modules.icmp.scan import IcmpScan

    updates, real_write, real_add = [], IcmpScan._write, IcmpScan._add

    def write(self):
        updates.append(len(self.updates))
        real_write(self)

    monkeypatch.setattr(IcmpScan, "_write", write)
    batched = _scan(CAPTURE, monkeypatch, None)
    assert sum(updates) == 0  # every reply came while its request's row waited

    def add_and_write(self, *row):
        real_add(self, *row)
        self._write()

    updates.clear()
    monkeypatch.setattr(IcmpScan, "_add", add_and_write)
    assert _scan(CAPTURE, monkeypatch, None) == batched
    assert sum(updates) == TRUTH["echo_answered"]
    assert sum(1 for r in batched if r["reply_frame"]) == TRUTH["echo_answered"]


def test_scans_with_the_module_run_in_workers():
    (module,) = load_modules(["icmp"])
    assert module.scans_in_workers() and module.wants_packets


def test_a_fragmented_reply_pairs_in_a_span_worker(tmp_path, monkeypatch):
    """Workers leave IP fragments to the scanning process, whose rows reach the module before
    the worker's rows of the same span: the pairing still sees the request first."""
    eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    request = eth / IP(src="10.0.0.5", dst="10.0.0.9") / ICMP(type=8, id=3, seq=1) / (b"q" * 64)
    reply = IP(src="10.0.0.9", dst="10.0.0.5", id=99) / ICMP(type=0, id=3, seq=1) / (b"r" * 3000)
    frames = [request, *(eth / piece for piece in fragment(reply, fragsize=1400))]
    path = tmp_path / "fragmented.pcap"
    wrpcap(str(path), frames)
    one = _scan(path, monkeypatch, None)
    many = _scan(path, monkeypatch, 1 << 20)
    assert many == one and one[0]["reply_frame"] == 4 and one[1]["request_frame"] == 1


def test_serial_scans_flush_in_pieces_the_same(monkeypatch):
    one = _scan(CAPTURE, monkeypatch, None)
    monkeypatch.setattr(scan, "PACKETS_PER_FLUSH", 3)
    assert _scan(CAPTURE, monkeypatch, None) == one


def test_quoted_packets_are_no_traffic_of_their_protocol(tmp_path, make_settings):
    """A DHCP DISCOVER quoted in an ICMP error is an ICMP message, not a DHCP one."""
    discover = gen.client(gen.DISCOVER, 0x77, gen.MAC["A"])
    quoted = bytes(IP(src="10.0.0.5", dst="10.0.0.1") / UDP(sport=68, dport=67) / discover)
    error = Ether() / IP(src="10.0.0.1", dst="10.0.0.5") / ICMP(type=3, code=3) / quoted
    path = tmp_path / "quoted.pcap"
    wrpcap(str(path), [error])
    settings = make_settings(modules=["dhcp", "icmp"], cache_dir=str(tmp_path / "cache"))
    with Analyzer(settings).analyze(path, path.name) as found:
        assert found.module("dhcp").summary().messages == 0
        (message,) = KindQuery(found, KIND).iterate()
    assert message["quoted"]["dport"] == 67


def test_a_time_exceeded_whose_quote_stops_inside_its_ip_header_is_a_hop_of_an_unknown_flow(
    tmp_path, make_settings
):
    """Found by benchmarks/fuzz_modules.py: a hop limit exceeded whose quoted IPv6 header stops
    after the source address made the summary fail (its traceroute had no destination)."""
    from scapy.layers.inet6 import ICMPv6TimeExceeded, IPv6

    probe = bytes(IPv6(src="2001:db8::5", dst="2001:db8::bbbb") / UDP(sport=41077, dport=33434))
    hops = [
        Ether() / IPv6(src=router, dst="2001:db8::5") / ICMPv6TimeExceeded() / quote
        for router, quote in (("2001:db8:1::1", probe), ("2001:db8:2::1", probe[:24]))
    ]
    path = tmp_path / "cut-quote.pcap"
    wrpcap(str(path), hops)
    settings = make_settings(modules=["icmp"], cache_dir=str(tmp_path / "cache"))
    with Analyzer(settings).analyze(path, path.name) as found:
        traces = found.module("icmp").summary().traceroutes
    assert [(t.src, t.dst, t.transport, t.hops) for t in traces] == [
        ("2001:db8::5", "2001:db8::bbbb", "udp", ["2001:db8:1::1"]),
        ("2001:db8::5", "unknown", "udp", ["2001:db8:2::1"]),
    ]


def test_an_icmpv6_redirect_names_its_own_destination(tmp_path, make_settings):
    """RFC 4861's Destination Address is where traffic is redirected; the packet it quotes
    (Redirected Header option) may have gone elsewhere: the summary says the former."""
    from scapy.layers.inet6 import ICMPv6ND_Redirect, ICMPv6NDOptRedirectedHdr, IPv6

    quoted = IPv6(src="2001:db8::5", dst="2001:db8::bbbb") / UDP(sport=5000, dport=53)
    redirect = (Ether() / IPv6(src="fe80::1", dst="fe80::5", hlim=255)
                / ICMPv6ND_Redirect(tgt="fe80::99", dst="2001:db8::babe")
                / ICMPv6NDOptRedirectedHdr(pkt=bytes(quoted)))  # fmt: skip
    path = tmp_path / "redirect6.pcap"
    wrpcap(str(path), [redirect])
    settings = make_settings(modules=["icmp"], cache_dir=str(tmp_path / "cache"))
    with Analyzer(settings).analyze(path, path.name) as found:
        (message,) = KindQuery(found, KIND).iterate()
        (summary,) = found.module("icmp").summary().redirects
    assert message["extra"]["destination"] == "2001:db8::babe"
    assert message["quoted"]["dst"] == "2001:db8::bbbb"
    assert (summary.router, summary.host, summary.target) == ("fe80::1", "fe80::5", "fe80::99")
    assert summary.destination == "2001:db8::babe"


def _cli(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "mcpcap", "analyze", str(CAPTURE), "--no-cache", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_cli_lists_ranks_and_summarises(analysis, with_conn):
    lines = _cli("--modules", "icmp", "--records", KIND, "--format", "jsonl").splitlines()
    assert [json.loads(line) for line in lines] == list(_query(analysis).iterate())
    errors = _cli("--modules", "conn,icmp", "--records", KIND, "--error", "true").splitlines()
    assert [json.loads(line) for line in errors] == list(_query(with_conn).iterate("error:true"))
    ranked = json.loads(_cli("--records", "top", "--kind", KIND, "--by", "code_name"))
    assert ranked == _query(analysis).top(by="code_name").model_dump(mode="json")
    summary = json.loads(_cli("--modules", "icmp"))
    assert summary["icmp"] == analysis.module("icmp").summary().model_dump(mode="json")


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_mcp_server_answers_as_the_core(analysis, anyio_backend):
    settings = build_settings({"pcap_path": [str(CAPTURE.parent)], "modules": "icmp"})
    workspace = Workspace(settings)
    try:
        async with Client(build_server(workspace, settings)) as client:
            page = await client.call_tool(
                "records", {"capture": CAPTURE.name, "kind": KIND, "filter": "answered:false"}
            )
            one = await client.call_tool(
                "record", {"capture": CAPTURE.name, "kind": KIND, "id": "1"}
            )
            summary = await client.call_tool("analyze_icmp_packets", {"capture": CAPTURE.name})
    finally:
        workspace.close()
    expected = _query(analysis).page("answered:false").model_dump(mode="json")
    assert page.structured_content == expected
    assert one.structured_content == _query(analysis).one("1")
    assert summary.structured_content == analysis.module("icmp").summary().model_dump(mode="json")
