"""Resources (the capture list, each capture's DNS summary) and the DNS prompts."""

from __future__ import annotations

import json

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

pytestmark = pytest.mark.anyio


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
        ("dns_tunnelling_hunt", ("registered_domain", "qname_suffix", "dns_top", "TXT")),
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
