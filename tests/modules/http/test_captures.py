"""The http module on generated captures: ground truth from the generator, in every face."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client

from mcpcap.core.config import build_settings
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer
from mcpcap.core.workspace import Workspace
from mcpcap.server.app import build_server

FOLDER = Path(__file__).resolve().parents[2] / "fixtures" / "http"
MANIFEST = json.loads((FOLDER / "MANIFEST.json").read_text())
BASIC = FOLDER / "http_basic.pcap"
KIND = "http.requests"


def analyze(make_settings, name: str, **flags):
    path = FOLDER / name
    return Analyzer(make_settings(modules=["http"], **flags)).analyze(path, name)


def records(make_settings, name: str, **flags) -> list[dict]:
    with analyze(make_settings, name, **flags) as analysis:
        return list(KindQuery(analysis, KIND).iterate())


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_records_match_the_generators_ground_truth(make_settings, name):
    got = records(make_settings, name)
    expected = MANIFEST[name]["requests"]
    assert len(got) == len(expected)
    for record, truth in zip(got, expected, strict=True):
        for key, value in truth.items():
            if key == "tags":
                assert set(value) <= set(record["tags"]), (truth, record)
            elif key == "malformed":
                assert record["malformed"] == f"request: {value}", (truth, record)
            else:
                assert record[key] == value, (key, truth, record)


def test_not_http_and_tunnel_payloads_make_no_records(make_settings):
    got = records(make_settings, "http_basic.pcap")
    assert all(r["server_port"] != 2222 for r in got)  # the SSH connection
    assert [r["method"] for r in got if r["server_port"] == 3128] == ["CONNECT"]


def test_malformed_messages_are_items_of_http_malformed(make_settings):
    with analyze(make_settings, "http_hostile.pcap") as analysis:
        items = list(KindQuery(analysis, "http.malformed").iterate())
        summary = analysis.module("http").summary()
        counts = analysis.traffic("http")
    truth = [r for r in MANIFEST["http_hostile.pcap"]["requests"] if "malformed" in r]
    assert [(i["frame"], i["reason"]) for i in items] == [
        (r["request_frame"], r["malformed"]) for r in truth
    ]
    assert all(i["src"] == "10.9.0.1" and i["dst_port"] == 80 for i in items)
    assert summary.malformed == len(truth)
    assert sum(summary.malformed_reasons.values()) == len(truth)
    assert counts > 0


def test_serial_and_parallel_scans_agree(make_settings):
    assert records(make_settings, "http_basic.pcap", workers=1) == records(
        make_settings, "http_basic.pcap", workers=2
    )


def test_uid_is_the_connections_and_depth_counts_on_it(make_settings):
    got = records(make_settings, "http_basic.pcap")
    by_uid: dict[str, list[int]] = {}
    for record in got:
        by_uid.setdefault(record["uid"], []).append(record["trans_depth"])
    assert len(by_uid) == 9  # ten HTTP connections bar none: nine with records (SSH has none)
    assert sorted(by_uid.values(), key=len)[-1] == [1, 2, 3]
    assert all(uid.startswith("C") and len(uid) == 18 for uid in by_uid)


def test_summary(make_settings):
    with analyze(make_settings, "http_basic.pcap") as analysis:
        summary = analysis.module("http").summary()
    assert summary.requests == 13
    assert summary.unanswered == 1  # one never answered; HTTP/0.9's response has no status line
    assert summary.responses == 12
    assert summary.methods == {"GET": 10, "CONNECT": 1, "HEAD": 1, "POST": 1}
    assert summary.status_classes == {"2xx": 9, "3xx": 1, "4xx": 1}
    assert summary.status_codes["304"] == 1
    assert summary.top_hosts[0].key == "example.com" and summary.top_hosts[0].count == 4
    assert all("?" not in item.key for item in summary.top_uris)
    assert summary.errors_by_host[0].key == "example.com"
    assert summary.latency is not None and summary.latency.count == 12  # with HTTP/0.9
    assert summary.response_body_bytes == sum(
        r.get("response_body_len") or 0 for r in MANIFEST["http_basic.pcap"]["requests"]
    )
    assert summary.connections == 9
    assert sum(b.requests for b in summary.timeline.buckets) == 13


def test_filters_sorts_and_rankings(make_settings):
    with analyze(make_settings, "http_basic.pcap") as analysis:
        query = KindQuery(analysis, KIND)
        assert {r["uri"] for r in query.iterate("status_class:4xx")} == {"/favicon.ico"}
        assert {r["method"] for r in query.iterate("method:POST,HEAD")} == {"POST", "HEAD"}
        assert [r["username"] for r in query.iterate("username:alice")] == ["alice"]
        assert {r["host"] for r in query.iterate("host_suffix:example.net")} == {
            "cdn.example.net:8080"
        }
        assert len(list(query.iterate("tag:pipelined"))) == 2
        assert [r["uri"] for r in query.iterate("answered:false")] == ["/slow"]
        simple = [r for r in query.iterate("answered:true") if r["version"] == "0.9"]
        assert [(r["uri"], r["status_code"]) for r in simple] == [("/ancient.html", None)]
        assert len(list(query.iterate("client:2001:db8::/32"))) == 1
        assert len(list(query.iterate("uri_contains:lang=en"))) == 1
        assert len(list(query.iterate("user_agent_contains:curl"))) == 1
        assert len(list(query.iterate("content_type:image/"))) == 1
        assert len(list(query.iterate("status_code>=300"))) == 2
        lengths = [r["response_body_len"] for r in query.iterate(sort="-response_body_len")]
        assert lengths[:2] == [1000, 900]
        by_host = query.top(by="host")
        assert (by_host.items[0].key, by_host.items[0].count) == ("example.com", 4)
        by_bytes = query.top(by="host", weight="bytes")
        assert by_bytes.items[0].key == "example.com"
        assert by_bytes.items[0].count == 31 + 9 + 1000
        codes = query.top(by="status_code")
        assert codes.items[0].key == "200"
        uris = query.top(by="uri")
        assert "/index.html" in {item.key for item in uris.items}
        one = query.one(str(next(query.iterate())["id"]))
        assert one["uri"] == "/index.html?lang=en"


def cli(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "mcpcap", "analyze", str(BASIC), "--modules", "http", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_cli_records_zeek_log_and_summary(make_settings):
    with analyze(make_settings, "http_basic.pcap") as analysis:
        query = KindQuery(analysis, KIND)
        expected = list(query.iterate())
        summary = analysis.module("http").summary().model_dump(mode="json")
        top = query.top(by="user_agent").model_dump(mode="json")
    lines = cli("--records", KIND, "--format", "jsonl").splitlines()
    assert [json.loads(line) for line in lines] == expected
    assert json.loads(cli())["http"] == summary
    assert json.loads(cli("--records", "top", "--kind", KIND, "--by", "user_agent")) == top
    by_option = cli("--records", KIND, "--status-class", "4xx", "--format", "jsonl")
    assert [json.loads(line)["uri"] for line in by_option.splitlines()] == ["/favicon.ico"]
    zeek = cli("--records", KIND, "--format", "zeek").splitlines()
    assert "#path\thttp" in zeek
    fields = next(line for line in zeek if line.startswith("#fields")).split("\t")[1:]
    rows = [dict(zip(fields, line.split("\t"), strict=True)) for line in zeek if line[0] != "#"]
    assert len(rows) == 13
    auth = next(row for row in rows if row["username"] != "-")
    assert auth["username"] == "alice"
    assert auth["proxied"] == "X-FORWARDED-FOR -> 192.0.2.44"
    assert rows[0]["uid"] == expected[0]["uid"]
    assert rows[-1]["tags"] == "missing_response"


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_mcp_server_offers_http_and_answers_as_the_core(make_settings, anyio_backend):
    settings = build_settings({"pcap_path": [str(FOLDER)], "modules": "http"})
    workspace = Workspace(settings)
    try:
        async with Client(build_server(workspace, settings)) as client:
            page = await client.call_tool(
                "records", {"capture": BASIC.name, "kind": KIND, "filter": "status_code:200"}
            )
            ranked = await client.call_tool(
                "top", {"capture": BASIC.name, "kind": KIND, "by": "host", "weight": "bytes"}
            )
            described = await client.call_tool("describe", {"kind": KIND})
    finally:
        workspace.close()
    with analyze(make_settings, "http_basic.pcap") as analysis:
        query = KindQuery(analysis, KIND)
        assert page.structured_content == query.page("status_code:200").model_dump(mode="json")
        expected_top = query.top(by="host", weight="bytes").model_dump(mode="json")
        assert ranked.structured_content == expected_top
    (kind,) = described.structured_content["kinds"]
    assert {"host", "status_code", "tag", "username"} <= {f["name"] for f in kind["filters"]}
    assert "zeek" in kind["exports"]


def test_the_generator_reproduces_the_captures(tmp_path, monkeypatch):
    sys.path.insert(0, str(FOLDER.parent))
    try:
        import make_http_captures as generator
    finally:
        sys.path.remove(str(FOLDER.parent))
    monkeypatch.setattr(generator, "OUTPUT", tmp_path)
    generator.main()
    for name in [*MANIFEST, "MANIFEST.json"]:
        assert (tmp_path / name).read_bytes() == (FOLDER / name).read_bytes(), name
