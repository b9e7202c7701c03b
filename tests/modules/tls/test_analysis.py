"""The tls module on its generated captures: records against the script's ground truth, the
malformed counts, serial = parallel, filters and rankings, and the CLI and MCP faces."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections import Counter

import pytest
from mcp import Client

from mcpcap.core.config import build_settings
from mcpcap.core.errors import BadArgumentError
from mcpcap.core.export import connection_uid
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer
from mcpcap.core.workspace import Workspace
from mcpcap.modules.tls import kinds
from mcpcap.server.app import build_server
from tests.fixtures import make_tls_captures as fixture

KIND = "tls.handshakes"


@pytest.fixture(scope="module")
def records() -> dict[int, dict]:
    return {r["client_port"]: r for r in analysed(fixture.CAPTURE, workers=1)}


def analysed(path, **flags) -> list[dict]:
    settings = build_settings({"modules": "tls", "no_cache": True} | flags)
    with Analyzer(settings).analyze(path, path.name) as analysis:
        return list(KindQuery(analysis, KIND).iterate())


def test_the_captures_are_what_the_script_writes():
    assert fixture.CAPTURE.read_bytes() == fixture.pcap_bytes(fixture.FRAMES, 1)
    assert fixture.HOSTILE.read_bytes() == fixture.pcap_bytes(fixture.HOSTILE_FRAMES, 1)


def test_every_handshake_matches_the_ground_truth(records):
    assert set(records) == set(fixture.EXPECTED)  # plain HTTP on 443 (50004) is no handshake
    for port, truth in fixture.EXPECTED.items():
        got = records[port]
        for key, value in truth.items():
            assert got[key] == value, (port, key)


def test_uids_are_the_connections(records):
    for record in records.values():
        transport = "udp" if record["transport"] == "quic" else "tcp"
        assert record["uid"] == connection_uid({**record, "transport": transport})


def test_resolved_by_names_the_dns_answer_before_the_handshake(records):
    assert all(record["resolved_by"] is None for record in records.values())  # no DNS scanned
    with_dns = {r["client_port"]: r for r in analysed(fixture.CAPTURE, modules="dns,tls")}
    found = with_dns[50000]["resolved_by"]
    assert found["query"] == fixture.RESOLVED["query"] and found["time"] == fixture.RESOLVED["time"]
    dns = connection_uid({"client": "10.0.0.10", "client_port": 53000, "server": "10.0.0.53",
                          "server_port": 53, "transport": "udp"})  # fmt: skip
    assert found["dns_uid"] == dns
    assert all(r["resolved_by"] is None for port, r in with_dns.items() if port != 50000)


def test_a_parallel_scan_finds_the_same(records):
    assert {r["client_port"]: r for r in analysed(fixture.CAPTURE, workers=2)} == records


def test_bad_input_is_counted_with_its_reason_and_never_fatal():
    settings = build_settings({"modules": "tls", "no_cache": True})
    with Analyzer(settings).analyze(fixture.HOSTILE, fixture.HOSTILE.name) as analysis:
        summary = analysis.module("tls").summary()
        rows = {r["client_port"]: r for r in KindQuery(analysis, KIND).iterate()}
        items = list(KindQuery(analysis, "tls.malformed").iterate())
    assert summary.malformed == dict.fromkeys(fixture.HOSTILE_REASONS, 1)
    assert sorted(item["reason"] for item in items) == sorted(fixture.HOSTILE_REASONS)
    where = {item["reason"]: item for item in items}
    assert where["record_too_long"]["src_port"] == 443  # the server sent it
    quic = where["quic_undecryptable"]
    assert quic["transport"] == "quic"  # as tls.handshakes say; the uid is the UDP flow's
    assert quic["uid"] == connection_uid({"client": quic["src"], "client_port": quic["src_port"],
                                          "server": quic["dst"], "server_port": quic["dst_port"],
                                          "transport": "udp"})  # fmt: skip
    assert rows[40004]["malformed"] == fixture.HOSTILE_REASONS["bad_certificate"]
    assert rows[40004]["server_name"] == "garbage-cert.test" and rows[40004]["cert_subject"] is None
    assert rows[40005]["ja4"].startswith(fixture.GREASE_JA4_A + "_")
    assert rows[40005]["client_versions"] == ["TLSv13"]


def test_handshake_bytes_cut_short_are_malformed_and_a_lone_client_is_not():
    """A handshake message longer than its record then FIN, the same interrupted by an
    application-data record, a record cut short by a FIN: each counted with its reason (a
    ClientHello read keeps its handshake); a one-direction client's encrypted Finished is not
    read as plaintext."""
    settings = build_settings({"modules": "tls", "no_cache": True})
    with Analyzer(settings).analyze(fixture.HOSTILE, fixture.HOSTILE.name) as analysis:
        rows = {r["client_port"]: r for r in KindQuery(analysis, KIND).iterate()}
        items = {(i["src_port"], i["dst_port"]): i["reason"]
                 for i in KindQuery(analysis, "tls.malformed").iterate()}  # fmt: skip
    assert items[(40006, 443)] == "handshake_cut_short"
    assert items[(40007, 443)] == "handshake_interleaved"
    assert items[(443, 40008)] == "record_cut_short"  # the server's record
    assert 40006 not in rows and 40007 not in rows  # no hello was read
    assert rows[40008]["server_name"] == "cut.test"
    assert rows[40008]["malformed"] == fixture.HOSTILE_REASONS["record_cut_short"]
    assert not any(40009 in ports for ports in items)
    alone = rows[40009]
    assert alone["server_name"] == "oneway.test" and alone["malformed"] is None
    assert not alone["established"] and alone["version"] is None


@pytest.fixture(scope="module")
def analysis():
    settings = build_settings({"modules": "tls", "no_cache": True})
    with Analyzer(settings).analyze(fixture.CAPTURE, fixture.CAPTURE.name) as found:
        yield found


@pytest.mark.parametrize(
    ("text", "ports"),
    [
        ("server_name_suffix:example.com", {50000, 50001, 51000, 51001, 50005}),
        ("server_name:WWW.Example.COM", {50000}),
        ("alpn:h3", {51000, 51001}),
        ("transport:quic version:TLSv13", {51000}),
        ("cert_problem:self_signed", {50002}),
        ("-is:established", {50002, 51001, 50008}),
        ("is:failed", {50002}),
        ("is:hrr,ech", {50001, 50007}),
        ("is:ech", {50007}),
        ("is:resumed", {50005, 50006}),
        ("server:2001:db8::/32", {50005}),
        ("-registered_domain:example.com", {50002, 50003, 50006, 50007, 50008}),
        ("ja4:" + fixture.FOXIO_JA4, {50001}),
        ("cert_problem:Self_Signed", {50002}),
        ("alpn:h2 -alpn:http/1.1", {50006}),
    ],
)
def test_filters(analysis, text, ports):
    query = KindQuery(analysis, KIND)
    assert {r["client_port"] for r in query.iterate(text)} == ports


@pytest.mark.parametrize("text", ["cert_problem:bogus", "is:bogus", "version:TLS13"])
def test_a_value_outside_a_filters_choices_is_refused_with_them(analysis, text):
    name = text.split(":")[0]
    with pytest.raises(BadArgumentError, match=f"{name} takes one of"):
        KindQuery(analysis, KIND).page(text)


def truth_counts(name: str) -> Counter:
    """How many handshakes of the ground truth have each value of `name` (a list's items once
    per handshake), nulls left out."""
    counts: Counter = Counter()
    for truth in fixture.EXPECTED.values():
        value = truth[name]
        counts.update(set(value) if isinstance(value, list) else [] if value is None else [value])
    return counts


def ranked(counts: Counter) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def test_rankings_by_registered_domain_and_by_offered_alpn(analysis):
    query = KindQuery(analysis, KIND)
    top = query.top(by="registered_domain")
    assert [(i.key, i.count) for i in top.items] == ranked(truth_counts("registered_domain"))
    alpn = query.top(by="alpn")  # each protocol once per handshake offering it
    assert [(i.key, i.count) for i in alpn.items] == ranked(truth_counts("alpn"))
    assert [(i.key, i.count) for i in query.top("transport:quic", by="alpn").items] == [("h3", 2)]
    assert query.top(by="version").items[0].count == 5


def test_summary(analysis):
    summary = analysis.module("tls").summary()
    truth = fixture.EXPECTED.values()
    assert summary.handshakes == len(fixture.EXPECTED)
    established = sum(t["established"] for t in truth)
    failed = sum(t["failed"] for t in truth)
    assert summary.outcomes == {
        "established": established,
        "failed": failed,
        "incomplete": len(fixture.EXPECTED) - established - failed,
    }
    assert sum(summary.outcomes.values()) == summary.handshakes  # every handshake once
    assert summary.resumed == sum(t.get("resumed", False) for t in truth) == 2
    assert summary.ech == sum(t.get("ech", False) for t in truth) == 1
    assert summary.transports == {"tcp": 8, "quic": 2}
    offered = [(i.name, i.count) for i in summary.alpn_offered]
    assert offered == ranked(truth_counts("alpn"))
    assert ("h3", 2) in offered  # where HTTP/3 was offered though TLS 1.3 hides the choice
    assert summary.alpn_selected == {"h2": 1}
    problems = summary.cert_problems
    assert (problems.with_certificate, problems.with_problems) == (2, 1)
    assert (problems.expired, problems.self_signed, problems.name_mismatch,
            problems.not_yet_valid) == (1, 1, 1, 0)  # fmt: skip
    assert summary.registered_domains[0].name == "example.com"
    assert None not in {item.name for item in summary.registered_domains}
    assert sum(b.handshakes for b in summary.timeline.buckets) == len(fixture.EXPECTED)


def cli(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "mcpcap", "analyze", str(fixture.CAPTURE), "--no-cache",
         "--modules", "tls", *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_cli_prints_the_records_and_generated_options(analysis):
    lines = cli("--records", KIND, "--format", "jsonl").splitlines()
    assert [json.loads(line) for line in lines] == list(KindQuery(analysis, KIND).iterate())
    chosen = cli("--records", KIND, "--server-name-suffix", "example.org", "--format", "jsonl")
    assert [json.loads(line)["client_port"] for line in chosen.splitlines()] == [50002, 50007]
    zeek = cli("--records", KIND, "--format", "zeek")
    assert "#path\tssl" in zeek and "www.example.com" in zeek


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_mcp_server_answers_as_the_core(analysis, anyio_backend):
    folder = fixture.CAPTURE.parent
    settings = build_settings({"pcap_path": [str(folder)], "modules": "tls"})
    workspace = Workspace(settings)
    try:
        async with Client(build_server(workspace, settings)) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            page = await client.call_tool(
                "records", {"capture": "tls.pcap", "kind": KIND, "filter": "transport:quic"}
            )
            top = await client.call_tool("top", {"capture": "tls.pcap", "kind": KIND, "by": "ja4"})
            summary = await client.call_tool("analyze_tls_packets", {"capture": "tls.pcap"})
    finally:
        workspace.close()
    assert "analyze_tls_packets" in names
    query = KindQuery(analysis, KIND)
    assert page.structured_content == query.page("transport:quic").model_dump(mode="json")
    assert top.structured_content == query.top(by="ja4").model_dump(mode="json")
    expected = analysis.module("tls").summary().model_dump(mode="json")
    assert summary.structured_content == expected


def test_the_summary_counts_offered_protocols_as_the_alpn_ranking_does():
    """Its lean source (`OFFERED_ALPN`) and the ranking's (`OFFERED`) give the same counts: a
    protocol once per handshake, even when a ClientHello names it twice."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE tls_handshakes (id INTEGER PRIMARY KEY, alpn TEXT, sni TEXT)")
    offers = [["h2", "http/1.1"], ["h2", "h2"], [], ["h3"], ["http/1.1", "h2", "http/1.1"]]
    db.executemany(
        "INSERT INTO tls_handshakes VALUES (?, ?, 'x')",
        [(n, json.dumps(offer)) for n, offer in enumerate(offers, 1)],
    )
    query = "SELECT offered_alpn, count(*) FROM {} GROUP BY 1 ORDER BY 2 DESC, 1"
    lean = db.execute(query.format(kinds.OFFERED_ALPN)).fetchall()
    assert lean == db.execute(query.format(kinds.OFFERED.source)).fetchall()
    assert lean == [("h2", 3), ("http/1.1", 2), ("h3", 1)]
