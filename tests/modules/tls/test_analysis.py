"""The tls module on its generated captures: records against the script's ground truth, the
malformed counts, serial = parallel, filters and rankings, and the CLI and MCP faces."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from mcp import Client

from mcpcap.core.config import build_settings
from mcpcap.core.export import connection_uid
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer
from mcpcap.core.workspace import Workspace
from mcpcap.server.app import build_server
from tests.fixtures import make_tls_captures as fixture

KIND = "tls.handshakes"


@pytest.fixture(scope="module")
def records() -> dict[int, dict]:
    return {r["client_port"]: r for r in analysed(fixture.CAPTURE, workers=1)}


def analysed(path, **flags) -> list[dict]:
    settings = build_settings({"modules": "tls", "use_cache": False} | flags)
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
    settings = build_settings({"modules": "tls", "use_cache": False})
    with Analyzer(settings).analyze(fixture.HOSTILE, fixture.HOSTILE.name) as analysis:
        summary = analysis.module("tls").summary()
        rows = {r["client_port"]: r for r in KindQuery(analysis, KIND).iterate()}
        items = list(KindQuery(analysis, "tls.malformed").iterate())
    assert summary.malformed == dict.fromkeys(fixture.HOSTILE_REASONS, 1)
    assert sorted(item["reason"] for item in items) == sorted(fixture.HOSTILE_REASONS)
    where = {item["reason"]: item for item in items}
    assert where["record_too_long"]["src_port"] == 443  # the server sent it
    assert where["quic_undecryptable"]["transport"] == "udp"
    assert rows[40004]["malformed"] == fixture.HOSTILE_REASONS["bad_certificate"]
    assert rows[40004]["server_name"] == "garbage-cert.test" and rows[40004]["cert_subject"] is None
    assert rows[40005]["ja4"].startswith(fixture.GREASE_JA4_A + "_")
    assert rows[40005]["client_versions"] == ["TLSv13"]


@pytest.fixture(scope="module")
def analysis():
    settings = build_settings({"modules": "tls", "use_cache": False})
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
        ("-is:established", {50002, 51001}),
        ("is:failed", {50002}),
        ("is:hrr,ech", {50001}),
        ("is:resumed", {50005}),
        ("server:2001:db8::/32", {50005}),
        ("-registered_domain:example.com", {50002, 50003}),
        ("ja4:" + fixture.FOXIO_JA4, {50001}),
    ],
)
def test_filters(analysis, text, ports):
    query = KindQuery(analysis, KIND)
    assert {r["client_port"] for r in query.iterate(text)} == ports


def test_rankings_and_summary(analysis):
    query = KindQuery(analysis, KIND)
    top = query.top(by="registered_domain")
    assert [(i.key, i.count) for i in top.items] == [("example.com", 5), ("example.net", 1),
                                                     ("example.org", 1)]  # fmt: skip
    assert query.top(by="version").items[0].count == 3
    summary = analysis.module("tls").summary()
    assert summary.handshakes == 7
    assert summary.outcomes == {"established": 5, "not_established": 2, "failed": 1, "resumed": 1}
    assert summary.transports == {"tcp": 5, "quic": 2}
    assert summary.cert_problems == {"expired_at_capture_time": 1, "name_mismatch": 1,
                                     "self_signed": 1}  # fmt: skip
    assert summary.alpn_selected == {"h2": 1}
    assert sum(b.handshakes for b in summary.timeline.buckets) == 7


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
    assert [json.loads(line)["client_port"] for line in chosen.splitlines()] == [50002]
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
