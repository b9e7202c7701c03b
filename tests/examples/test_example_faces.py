"""The pip-installed NTP example in the faces: the CLI and the MCP server serve it with no
line of NTP code outside its package, and both answer what the core answers."""

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

CAPTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ntp" / "ntp.pcap"


@pytest.fixture
def analysis(make_settings):
    with Analyzer(make_settings(modules=["dns", "ntp"])).analyze(CAPTURE, CAPTURE.name) as found:
        yield found


def cli(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "mcpcap", "analyze", str(CAPTURE), "--modules", "dns,ntp", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_cli_lists_ranks_and_summarises_the_module(analysis):
    query = KindQuery(analysis, "ntp.exchanges")
    lines = cli("--records", "ntp.exchanges", "--format", "jsonl").splitlines()
    assert [json.loads(line) for line in lines] == list(query.iterate())
    assert len(lines) > 3
    ranked = json.loads(cli("--records", "top", "--kind", "ntp.exchanges", "--by", "server"))
    assert ranked == query.top(by="server").model_dump(mode="json")
    summary = json.loads(cli())
    assert summary["ntp"] == analysis.module("ntp").summary().model_dump(mode="json")


def test_generated_options_and_tokens_are_the_same_filter(analysis):
    by_option = cli("--records", "ntp.exchanges", "--stratum", "2", "--limit", "50")
    by_token = cli("--records", "ntp.exchanges", "--filter", "stratum:2", "--limit", "50")
    page = json.loads(by_option)
    assert page == json.loads(by_token)
    assert page["items"] and all(item["stratum"] == 2 for item in page["items"])
    assert page == KindQuery(analysis, "ntp.exchanges").page("stratum:2", limit=50).model_dump(
        mode="json"
    )


def test_csv_export_has_the_models_columns():
    header, *rows = cli("--records", "ntp.exchanges", "--format", "csv").splitlines()
    assert header.split(",")[:2] == ["id", "ts"]
    assert rows


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_mcp_server_offers_the_module_and_answers_as_the_core(analysis, anyio_backend):
    settings = build_settings({"pcap_path": [str(CAPTURE.parent)], "modules": "dns,ntp"})
    workspace = Workspace(settings)
    try:
        async with Client(build_server(workspace, settings)) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            assert {"analyze_ntp_packets", "records", "top", "record", "describe"} <= names
            page = await client.call_tool(
                "records", {"capture": CAPTURE.name, "kind": "ntp.exchanges", "filter": "stratum:2"}
            )
            summary = await client.call_tool("analyze_ntp_packets", {"capture": CAPTURE.name})
            described = await client.call_tool("describe", {"kind": "ntp.exchanges"})
            info = await client.call_tool("capture_info", {"capture": CAPTURE.name})
    finally:
        workspace.close()
    expected = KindQuery(analysis, "ntp.exchanges").page("stratum:2")
    assert page.structured_content == expected.model_dump(mode="json")
    assert summary.structured_content == analysis.module("ntp").summary().model_dump(mode="json")
    (kind,) = described.structured_content["kinds"]
    assert kind["kind"] == "ntp.exchanges" and kind["fields"]
    traffic = {m["name"]: m for m in info.structured_content["modules"]}
    assert traffic["ntp"]["messages"] == analysis.traffic("ntp") > 0
