"""Every tool over an in-process client: parity with the analysis layer, errors, pages, budget."""

from __future__ import annotations

import json

import anyio
import pytest
from mcp import Client

from mcpcap.core.modules.registry import BUILTIN_MODULES
from mcpcap.modules.dns import queries
from mcpcap.modules.dns.filters import FILTER_NAMES, build_filter
from mcpcap.modules.dns.mcp_tools import NAMED_FILTERS
from mcpcap.server.replies import compact

from .conftest import json_size

pytestmark = pytest.mark.anyio

TOOLS = {
    "list_captures", "capture_info", "analyze_dns_packets", "dns_top", "dns_transactions",
    "dns_message", "records", "top", "record", "describe",
}  # fmt: skip
# every built-in module: each other one adds its summary (its records come from the generic tools)
DEFAULT_TOOLS = TOOLS | {f"analyze_{name}_packets" for name in BUILTIN_MODULES}
# characters of the tools/list result; every built-in module of this round must fit in 20,000
TOOLS_LIST_LIMIT = 20_000


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_filter_arguments_are_the_kinds_declared_filters() -> None:
    assert tuple(spec.name for spec in NAMED_FILTERS) == FILTER_NAMES


async def test_tools_list(example_served) -> None:
    async with Client(example_served.server) as client:
        listed = await client.list_tools()
    assert {tool.name for tool in listed.tools} == DEFAULT_TOOLS
    for tool in listed.tools:
        assert tool.output_schema and tool.output_schema["type"] == "object", tool.name
        assert tool.title and tool.description
        assert tool.annotations.read_only_hint is True
        assert tool.annotations.open_world_hint is False  # no remote source configured
    by_name = {tool.name: tool for tool in listed.tools}
    for name in ("dns_top", "dns_transactions"):
        assert set(FILTER_NAMES) <= set(by_name[name].input_schema["properties"])
    assert by_name["dns_message"].input_schema["required"] == ["capture", "frame"]
    assert len(listed.model_dump_json(by_alias=True, exclude_none=True)) < TOOLS_LIST_LIMIT


async def test_open_world_hint_with_a_remote_source(serve, http_folder) -> None:
    async with Client(serve(pcap_url=[http_folder]).server) as client:
        listed = await client.list_tools()
    assert all(tool.annotations.open_world_hint for tool in listed.tools)


def _parity_cases():
    """(tool, arguments, the analysis layer's answer for the same arguments)."""
    dns = lambda ws: ws.open("example.pcap").module("dns")  # noqa: E731
    return [
        ("list_captures", {}, lambda ws: ws.list_captures()),
        ("capture_info", {"capture": "example.pcap"}, lambda ws: ws.capture_info("example.pcap")),
        ("analyze_dns_packets", {"capture": "example.pcap"}, lambda ws: dns(ws).summary()),
        ("dns_top", {"capture": "example.pcap"}, lambda ws: dns(ws).rank()),
        (
            "dns_top",
            {"capture": "example.pcap", "by": "client", "limit": 5, "rcode": "NXDOMAIN"},
            lambda ws: dns(ws).rank(by="client", limit=5, rcode="NXDOMAIN"),
        ),
        (
            "dns_transactions",
            {"capture": "example.pcap", "qname_suffix": "example.com", "sort": "-rtt"},
            lambda ws: dns(ws).transactions(qname_suffix="example.com", sort="-rtt"),
        ),
        (
            "dns_transactions",
            {"capture": "example.pcap", "answered": False, "qtype": 1, "limit": 3},
            lambda ws: dns(ws).transactions(answered=False, qtype=1, limit=3),
        ),
        ("dns_message", {"capture": "example.pcap", "frame": 2}, lambda ws: dns(ws).message(2)),
    ]


@pytest.mark.parametrize(("tool", "arguments", "expected"), _parity_cases())
async def test_parity_with_the_analysis_layer(example_served, tool, arguments, expected) -> None:
    result = await example_served.call(tool, **arguments)
    assert not result.is_error, result.content
    assert result.structured_content == expected(example_served.workspace).model_dump(mode="json")
    budget = example_served.settings.max_reply_chars
    assert json_size(result.structured_content) <= budget
    assert result.content[0].text == compact(result.structured_content)


async def test_top_domain_answers_the_quick_start_question(example_served) -> None:
    result = await example_served.call("dns_top", capture="example.pcap", limit=5)
    items = result.structured_content["items"]
    assert len(items) == 5
    assert items[0] == {"key": "www.example.com", "count": 52}
    assert "www.example.com" in result.content[0].text


@pytest.mark.parametrize("tool", ["dns_transactions", "dns_top"])
async def test_text_is_the_whole_page(serve, big_dir, tool) -> None:
    """A client that shows only the text sees every item; the cursor continues after them."""
    served = serve(pcap_path=[str(big_dir)], max_reply_chars=6000)
    arguments = {"capture": "big.pcap", "limit": 1000} | (
        {"by": "answer"} if tool == "dns_top" else {}
    )
    async with Client(served.server) as client:
        first = await client.call_tool(tool, arguments)
        page = first.structured_content
        assert [block.text for block in first.content] == [compact(page)]
        assert page["truncated"] and page["next_cursor"] and 1 < len(page["items"]) < 1000
        assert json_size(page) <= 6000
        second = await client.call_tool(tool, arguments | {"cursor": page["next_cursor"]})
    first_items = json.loads(first.content[0].text)["items"]
    dns = served.workspace.open("big.pcap").module("dns")
    if tool == "dns_top":
        ranking = queries.ranking(dns.db, build_filter(), by="answer", limit=1000, budget=10**9)
        everything = [item.model_dump() for item in ranking.items]
    else:
        everything = list(dns.iter_transactions())
    following = second.structured_content["items"]
    assert first_items + following == everything[: len(first_items) + len(following)]


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        ("capture_info", {"capture": "exampel.pcap"}, "did you mean example.pcap"),
        ("capture_info", {"capture": "../../etc/passwd"}, "outside the capture sources"),
        ("dns_top", {"capture": "example.pcap", "by": "colour"}, "by must be one of qname"),
        ("dns_top", {"capture": "example.pcap", "qtype": "BOGUS"}, "unknown DNS type 'BOGUS'"),
        ("dns_transactions", {"capture": "example.pcap", "transport": "sctp"}, "udp, tcp"),
        ("dns_transactions", {"capture": "example.pcap", "client": "x"}, "IP address or CIDR"),
        ("dns_transactions", {"capture": "example.pcap", "sort": "size"}, "sort must be one of"),
        ("dns_transactions", {"capture": "example.pcap", "limit": 0}, "from 1 to 1000"),
        ("dns_transactions", {"capture": "example.pcap", "cursor": "junk"}, "next_cursor"),
        ("dns_message", {"capture": "example.pcap", "frame": 99999}, "holds no DNS message"),
        (
            "dns_transactions",
            {"capture": "example.pcap", "qname_sufix": "example.com"},
            "unknown argument 'qname_sufix'; did you mean 'qname_suffix'?",
        ),
        ("dns_transactions", {"capture": "example.pcap", "domain": "x"}, "argument 'domain'"),
        ("dns_top", {"capture": "example.pcap", "top_n": 5}, "unknown argument 'top_n'"),
        ("capture_info", {"capture": "example.pcap", "ctx": 1}, "unknown argument 'ctx'"),
        ("dns_top", {"capture": "example.pcap", "limit": "abc"}, "limit must be a whole number"),
        ("dns_top", {"capture": "example.pcap", "limit": 5000}, "from 1 to 1000, not 5000"),
        ("dns_top", {"limit": 5}, "capture is required"),
        ("dns_message", {"capture": "example.pcap"}, "frame is required"),
        ("dns_message", {"capture": "example.pcap", "frame": 10**20}, "frame must be a whole"),
        ("dns_message", {"capture": "example.pcap", "frame": 2, "index": -1}, "index must be"),
        ("dns_transactions", {"capture": "example.pcap", "rcode": "NXDOMAN"}, "'NXDOMAIN'?"),
        ("dns_transactions", {"capture": "example.pcap", "answered": "maybe"}, "true or false"),
        ("dns_transactions", {"capture": "example.pcap", "min_rtt": 10**400}, "min_rtt must"),
        ("dns_transactions", {"capture": "example.pcap", "since": 10**400}, "since"),
        ("dns_top", {"capture": "example.pcap", "cursor": "junk"}, "next_cursor"),
        ("dns_transactions", {"capture": "example.pcap", "qtype": True}, "qtype must be"),
        ("dns_transactions", {"capture": "example.pcap", "since": True}, "since must be"),
        ("dns_transactions", {"capture": "example.pcap", "answered": "yes"}, "true or false"),
        ("dns_message", {"capture": "example.pcap", "frame": "2"}, "frame must be a whole"),
        ("list_captures", {"limit": "3"}, "limit must be a whole number"),
        (
            "records",
            {"capture": "example.pcap", "kind": "dns.transactions", "limit": True},
            "limit must be a whole number",
        ),
        (
            "records",
            {"capture": "example.pcap", "kind": "conn.connections", "filter": f"port:{2**63}"},
            f"port takes an integer (either end's port (ICMP: type or code)), not '{2**63}'",
        ),
        (
            "top",
            {
                "capture": "example.pcap",
                "kind": "conn.connections",
                "filter": f"bytes<{-(2**63) - 1}",
            },
            "bytes takes an integer",
        ),
        (
            "record",
            {"capture": "example.pcap", "kind": "conn.connections", "id": 2**63},
            f"conn.connections has no record with id '{2**63}'",
        ),
    ],
)
async def test_mistakes_are_tool_errors(example_served, tool, arguments, expected) -> None:
    result = await example_served.call(tool, **arguments)
    assert result.is_error
    text = result.content[0].text
    assert expected in text
    assert "Traceback" not in text and "\n" not in text
    assert "pydantic" not in text and "http" not in text and "validation error" not in text
    assert len(text) < 1000
    assert result.structured_content is None


async def test_not_a_capture(serve, nested_dir) -> None:
    result = await serve(pcap_path=[str(nested_dir)]).call("capture_info", capture="notes.pcap")
    assert result.is_error
    assert "notes.pcap" in result.content[0].text


async def test_download_too_big(serve, http_folder) -> None:
    served = serve(pcap_url=[http_folder], max_download_bytes=1000)
    result = await served.call("capture_info", capture="example.pcap")
    assert result.is_error
    assert "1000" in result.content[0].text or "1,000" in result.content[0].text


async def test_paging_walks_every_transaction_once(serve, big_dir) -> None:
    served = serve(pcap_path=[str(big_dir)], max_reply_chars=4000)
    expected = list(served.workspace.open("big.pcap").module("dns").iter_transactions())
    seen, cursor, pages = [], None, 0
    async with Client(served.server) as client:
        while True:
            arguments = {"capture": "big.pcap", "limit": 1000}
            if cursor:
                arguments["cursor"] = cursor
            result = await client.call_tool("dns_transactions", arguments)
            page = result.structured_content
            assert not result.is_error and page["total"] == len(expected)
            assert json_size(page) <= 4000 and len(result.content[0].text) <= 4000
            seen.extend(page["items"])
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert pages > 10  # the budget, not the limit, cut the pages
    assert seen == expected


@pytest.mark.parametrize("budget", [4000, 20_000])
async def test_every_reply_fits_the_budget(serve, big_dir, budget) -> None:
    served = serve(pcap_path=[str(big_dir)], max_reply_chars=budget)
    frame = served.workspace.open("big.pcap").module("dns").transactions(limit=1).items[0]
    calls = [
        ("list_captures", {}),
        ("capture_info", {"capture": "big.pcap"}),
        ("analyze_dns_packets", {"capture": "big.pcap"}),
        ("dns_top", {"capture": "big.pcap", "by": "answer", "limit": 1000}),
        ("dns_transactions", {"capture": "big.pcap", "limit": 1000}),
        ("dns_message", {"capture": "big.pcap", "frame": frame.response_frame}),
    ]
    mistakes = [
        ("dns_transactions", {"capture": "big.pcap", "client": "1" * 2**20}),
        ("dns_top", {"capture": "big.pcap", "by": "x" * 2**20}),
        ("dns_top", {"capture": "big.pcap", "qtype": "y" * 2**20}),
        ("capture_info", {"capture": "z" * 2**20}),
        ("dns_transactions", {"capture": "big.pcap", "w" * 2**20: 1}),
    ]
    async with Client(served.server) as client:
        for tool, arguments in calls:
            result = await client.call_tool(tool, arguments)
            assert not result.is_error, result.content
            assert json_size(result.structured_content) <= budget, tool
            assert sum(len(block.text) for block in result.content) <= budget, tool
        for tool, arguments in mistakes:
            result = await client.call_tool(tool, arguments)
            assert result.is_error
            assert len(result.content[0].text) <= 1000, (tool, result.content[0].text[:200])


async def test_concurrent_calls_share_one_scan(serve, big_dir) -> None:
    served = serve(pcap_path=[str(big_dir)])
    analyzer = served.workspace.analyzer
    builds = []
    original = analyzer._build

    def counting_build(*args, **kwargs):
        builds.append(args[0])
        return original(*args, **kwargs)

    analyzer._build = counting_build
    results = []
    async with Client(served.server) as one, Client(served.server) as two:

        async def ask(client, tool):
            results.append(await client.call_tool(tool, {"capture": "big.pcap"}))

        async with anyio.create_task_group() as tg:
            tg.start_soon(ask, one, "analyze_dns_packets")
            tg.start_soon(ask, two, "dns_top")
            tg.start_soon(ask, one, "capture_info")
    assert len(builds) == 1
    assert not any(result.is_error for result in results)


async def test_modules_choose_the_tools(serve) -> None:
    async with Client(serve(modules="dns").server) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
    assert names == TOOLS


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("dns_transactions", {}),
        ("dns_top", {}),
        ("records", {"kind": "conn.connections"}),
        ("top", {"kind": "conn.connections", "by": "server"}),
    ],
)
async def test_a_cursor_belongs_to_its_capture(serve, big_dir, tool, arguments) -> None:
    served = serve(pcap_path=[str(big_dir)], examples=True)
    async with Client(served.server) as client:
        page = await client.call_tool(tool, {"capture": "big.pcap", "limit": 3, **arguments})
        cursor = page.structured_content["next_cursor"]
        assert cursor
        same = await client.call_tool(
            tool, {"capture": "big.pcap", "limit": 3, "cursor": cursor, **arguments}
        )
        assert not same.is_error
        other = await client.call_tool(
            tool, {"capture": "example.pcap", "limit": 3, "cursor": cursor, **arguments}
        )
        assert other.is_error and "another capture" in other.content[0].text


async def test_dns_top_pages_to_the_end(serve, big_dir) -> None:
    served = serve(pcap_path=[str(big_dir)])
    dns = served.workspace.open("big.pcap").module("dns")
    whole = queries.ranking(dns.db, build_filter(), by="client", limit=1000, budget=10**9)
    items, cursor = [], None
    async with Client(served.server) as client:
        while True:
            arguments = {"capture": "big.pcap", "by": "client", "limit": 4}
            arguments |= {"cursor": cursor} if cursor else {}
            result = await client.call_tool("dns_top", arguments)
            assert not result.is_error, result.content
            items += result.structured_content["items"]
            cursor = result.structured_content["next_cursor"]
            if cursor is None:
                break
    assert items == [item.model_dump() for item in whole.items] and len(items) > 4
