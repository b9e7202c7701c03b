"""Resources (the capture list, each capture's DNS summary) and the modules' prompts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

pytestmark = pytest.mark.anyio
HUNTING = Path(__file__).parents[1] / "fixtures" / "hunting"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_capture_list_resource(example_served) -> None:
    async with Client(example_served.server) as client:
        listed = await client.list_resources()
        read = await client.read_resource("mcpcap://captures")
    assert "mcpcap://captures" in {str(resource.uri) for resource in listed.resources}
    expected = example_served.workspace.list_captures().model_dump(mode="json")
    assert json.loads(read.contents[0].text) == expected


async def test_dns_summary_resource_with_a_slash_in_the_name(serve, nested_dir) -> None:
    served = serve(pcap_path=[str(nested_dir)])
    name = "sub/dir/example.pcap"
    async with Client(served.server) as client:
        templates = await client.list_resource_templates()
        read = await client.read_resource(f"mcpcap://dns-summary/{name}")
    assert [t.uri_template for t in templates.resource_templates] == [
        "mcpcap://dns-summary/{+capture}"
    ]
    expected = served.workspace.open(name).module("dns").summary().model_dump(mode="json")
    assert json.loads(read.contents[0].text) == expected


async def test_unknown_capture_resource_is_an_error(example_served) -> None:
    async with Client(example_served.server) as client:
        with pytest.raises(MCPError, match=r"did you mean example\.pcap"):
            await client.read_resource("mcpcap://dns-summary/exampel.pcap")


@pytest.mark.parametrize(
    ("prompt", "tools"),
    [
        ("dns_triage", ("capture_info", "analyze_dns_packets", "dns_top", "dns_transactions")),
        ("dns_failures", ("NXDOMAIN", "SERVFAIL", "dns_top", "dns_transactions", "dns_message")),
        ("dns_tunnelling_hunt", ('kind="dns.findings"', "describe", "filter=FILTER", "hunt_allow")),
    ],
)
async def test_prompts_take_a_capture_and_name_the_tools(example_served, prompt, tools) -> None:
    async with Client(example_served.server) as client:
        listed = await client.list_prompts()
        got = await client.get_prompt(prompt, {"capture": "example.pcap"})
    described = {p.name: p for p in listed.prompts}[prompt]
    assert [(a.name, a.required) for a in described.arguments] == [("capture", True)]
    text = got.messages[0].content.text
    assert 'capture="example.pcap"' in text
    for word in tools:
        assert word in text


async def test_the_hunt_prompt_starts_with_the_findings_and_its_drill_down_works(serve) -> None:
    """The calls the prompt names, made as it says: a finding's filter lists exactly the
    transactions the finding counts."""
    served = serve(pcap_path=[str(HUNTING)])
    capture = "tunnels-1.pcap.gz"
    async with Client(served.server) as client:
        got = await client.get_prompt("dns_tunnelling_hunt", {"capture": capture})
        text = got.messages[0].content.text
        first = text.index(f'records(capture="{capture}", kind="dns.findings")')
        assert first < text.index("dns.transactions")
        found = await client.call_tool("records", {"capture": capture, "kind": "dns.findings"})
        best = found.structured_content["items"][0]
        drill = {"capture": capture, "kind": "dns.transactions", "filter": best["filter"]}
        listed = await client.call_tool("records", drill)
        clients = await client.call_tool("top", {**drill, "by": "client"})
        assert f'record(capture="{capture}", kind="dns.findings", id="1")' in text
        whole = await client.call_tool(
            "record", {"capture": capture, "kind": "dns.findings", "id": "1"}
        )
    assert best["category"] == "tunnel" and best["score"] >= 0.8
    assert listed.structured_content["total"] == best["transactions"]
    assert {item["key"] for item in clients.structured_content["items"]} == set(best["clients"])
    assert whole.structured_content == best


async def test_prompts_come_from_the_chosen_modules(serve) -> None:
    async with Client(serve(modules="conn,tls").server) as client:
        without_dns = await client.list_prompts()
    async with Client(serve(modules="dns").server) as client:
        with_dns = await client.list_prompts()
    assert without_dns.prompts == []
    names = {p.name for p in with_dns.prompts}
    assert names == {"dns_triage", "dns_failures", "dns_tunnelling_hunt"}
