"""Every tool's real replies validate against the output schema it advertises.

Clients check structured content against `outputSchema` (the TypeScript SDK refuses a reply
that fails it, losing the whole result), so the replies checked here are the awkward ones too:
listings with unreadable files (null format), empty and truncated pages and rankings, a summary
and a message cut to the smallest budget. The validator is `jsonschema`, not our own code.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import jsonschema
import pytest
from mcp import Client
from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

from mcpcap.core.modules.registry import load_modules
from mcpcap.core.records import all_kinds
from mcpcap.server.replies import compact
from mcpcap.server.schemas import compact_output_schema

from .conftest import json_size

pytestmark = pytest.mark.anyio
BUDGET = 4000  # the smallest budget: the most cutting
HUNTING = Path(__file__).parents[1] / "fixtures" / "hunting"  # captures with DNS findings


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def write_big_message(path: Path) -> Path:
    """A query and a response with 120 TXT records (about 9 kB of JSON)."""
    query = DNS(id=7, rd=1, qd=DNSQR(qname="big.example.com", qtype="TXT"))
    answers = [
        DNSRR(rrname="big.example.com", type="TXT", ttl=60, rdata=f"record {i} " + "x" * 40)
        for i in range(120)
    ]
    response = DNS(id=7, qr=1, rd=1, ra=1, qd=query.qd, an=answers)
    base = Ether() / IP(src="10.0.0.1", dst="10.0.0.53")
    back = Ether() / IP(src="10.0.0.53", dst="10.0.0.1")
    packets = [
        base / UDP(sport=40000, dport=53) / query,
        back / UDP(sport=53, dport=40000) / response,
    ]
    packets[0].time, packets[1].time = 1714564800.0, 1714564800.01
    wrpcap(str(path), packets)
    return path


def write_many_types(path: Path, types: int = 400) -> Path:
    """One query of each of `types` query types: a summary whose qtypes tally alone is 5 kB."""
    packets = []
    for qtype in range(1, types + 1):
        query = DNS(id=qtype, rd=1, qd=DNSQR(qname="t.example.com", qtype=qtype))
        packet = Ether() / IP(src="10.0.0.1", dst="10.0.0.53") / UDP(sport=40000, dport=53)
        packet = packet / query
        packet.time = 1714564800.0 + qtype
        packets.append(packet)
    wrpcap(str(path), packets)
    return path


@pytest.fixture
def folder(tmp_path, example, big_dir, captures) -> Path:
    """Good captures, a big message, an empty .pcap, text named .pcap and many empty files."""
    root = tmp_path / "captures"
    root.mkdir()
    shutil.copy(example, root / "example.pcap")
    shutil.copy(big_dir / "big.pcap", root / "big.pcap")
    shutil.copy(captures / "records_all_types.pcap", root / "records_all_types.pcap")
    write_big_message(root / "bigmessage.pcap")
    write_many_types(root / "many_types.pcap")
    shutil.copy(HUNTING / "variants-1.pcap.gz", root / "variants-1.pcap.gz")
    (root / "empty.pcap").write_bytes(b"")
    (root / "notes.pcap").write_text("not packets\n")
    for i in range(60):  # enough unreadable entries that a page is cut to the budget
        (root / f"broken-{i:02}.pcapng").write_bytes(b"\0" * 8)
    return root


def calls(served) -> list[tuple[str, dict, str]]:
    """(tool, arguments, what the reply must be like)."""
    dns = served.workspace.open("big.pcap").module("dns")
    frame = dns.transactions(limit=1, answered=True).items[0].response_frame
    unanswered = dns.transactions(limit=1, answered=False).items[0].query_frame
    big = served.workspace.open("bigmessage.pcap").module("dns").transactions(limit=1)
    return [
        ("list_captures", {"limit": 5}, "paged"),
        ("list_captures", {"limit": 1000}, "truncated"),
        ("list_captures", {"source": "nothing"}, "empty"),
        ("capture_info", {"capture": "big.pcap"}, "any"),
        ("analyze_dns_packets", {"capture": "big.pcap"}, "any"),
        ("analyze_dhcp_packets", {"capture": "big.pcap"}, "any"),
        ("analyze_icmp_packets", {"capture": "big.pcap"}, "any"),
        ("analyze_dns_packets", {"capture": "records_all_types.pcap"}, "any"),
        ("analyze_dns_packets", {"capture": "many_types.pcap"}, "others"),
        ("analyze_dns_packets", {"capture": "variants-1.pcap.gz"}, "findings"),
        ("records", {"capture": "variants-1.pcap.gz", "kind": "dns.findings"}, "any"),
        ("dns_top", {"capture": "big.pcap"}, "paged"),
        ("dns_top", {"capture": "big.pcap", "by": "answer", "limit": 1000}, "truncated"),
        ("dns_top", {"capture": "big.pcap", "by": "rcode", "qname": "nothing.invalid"}, "empty"),
        ("dns_top", {"capture": "big.pcap", "by": "server", "answered": False}, "any"),
        ("dns_transactions", {"capture": "big.pcap", "limit": 1000}, "truncated"),
        ("dns_transactions", {"capture": "big.pcap", "qname": "nothing.invalid"}, "empty"),
        ("dns_transactions", {"capture": "big.pcap", "answered": False, "sort": "-rtt"}, "any"),
        ("dns_transactions", {"capture": "records_all_types.pcap", "limit": 1000}, "any"),
        ("dns_message", {"capture": "big.pcap", "frame": frame}, "any"),
        ("dns_message", {"capture": "big.pcap", "frame": unanswered}, "any"),
        ("dns_message", {"capture": "bigmessage.pcap", "frame": big.items[0].response_frame},
         "cut"),
        ("records", {"capture": "big.pcap", "kind": "dns.transactions", "limit": 1000},
         "truncated"),
        ("records", {"capture": "big.pcap", "kind": "dns.transactions",
                     "filter": "qname:nothing.invalid"}, "empty"),
        ("records", {"capture": "big.pcap", "kind": "dns.messages", "limit": 3}, "paged"),
        ("records", {"capture": "big.pcap", "kind": "dns.transactions",
                     "filter": "rcode:NOERROR,NXDOMAIN -qtype:A rtt>0", "sort": "-rtt"}, "any"),
        ("top", {"capture": "big.pcap", "kind": "dns.transactions", "by": "answer",
                 "limit": 1000}, "truncated"),
        ("top", {"capture": "big.pcap", "kind": "dns.transactions", "by": "qname"}, "paged"),
        ("record", {"capture": "big.pcap", "kind": "dns.transactions", "id": "1"}, "any"),
        ("record", {"capture": "bigmessage.pcap", "kind": "dns.messages",
                    "id": str(big.items[0].response_frame)}, "cut record"),
        ("describe", {}, "any"),
        ("describe", {"kind": "dns.transactions"}, "any"),
        *every_module_and_kind(),
    ]  # fmt: skip


def every_module_and_kind() -> list[tuple[str, dict, str]]:
    """Each other module's summary, a page of every kind (however few records it has) and
    every kind described (the biggest are shortened to fit the smallest budget)."""
    modules = load_modules(None)
    summaries = [
        (f"analyze_{module.name}_packets", {"capture": "big.pcap"}, "any")
        for module in modules
        if module.name != "dns"
    ]
    pages = [
        ("records", {"capture": "big.pcap", "kind": kind.name, "limit": 5}, "any")
        for kind in all_kinds(modules)
    ]
    described = [("describe", {"kind": kind.name}, "any") for kind in all_kinds(modules)]
    return summaries + pages + described


def check(kind: str, reply: dict, notes: list[str]) -> None:
    """That the reply is the awkward case it is meant to be."""
    if kind == "truncated":
        assert reply["truncated"] and reply["next_cursor"]
    elif kind == "paged":
        assert reply["next_cursor"]
    elif kind == "empty":
        assert reply["items"] == [] and reply["next_cursor"] is None
    elif kind == "others":  # the rarest query types summed, the total kept
        assert "(others)" in reply["qtypes"] and sum(reply["qtypes"].values()) == 400
    elif kind == "findings":  # the summary warns, within the budget
        assert reply["findings"] and reply["findings"][0]["score"] >= 0.8
    elif kind == "cut":
        assert notes and "raw_hex left out" in notes[0] and reply["raw_hex"] is None
    elif kind == "cut record":
        assert notes and "Cut to fit" in notes[0] and len(reply["answers"]) < 120


@pytest.mark.parametrize("budget", [BUDGET, 20_000])
async def test_every_reply_validates_against_its_output_schema(serve, folder, budget) -> None:
    empty = folder.parent / "nothing"  # a source with no captures: an empty listing
    empty.mkdir()
    served = serve(pcap_path=[str(folder), str(empty)], max_reply_chars=budget)
    async with Client(served.server) as client:
        schemas = {tool.name: tool.output_schema for tool in (await client.list_tools()).tools}
        for schema in schemas.values():
            jsonschema.Draft202012Validator.check_schema(schema)
        checked = set()
        for tool, arguments, kind in calls(served):
            result = await client.call_tool(tool, arguments)
            assert not result.is_error, (tool, result.content)
            reply = result.structured_content
            jsonschema.validate(reply, schemas[tool], cls=jsonschema.Draft202012Validator)
            assert result.content[0].text == compact(reply)
            assert json_size(reply) <= budget, (tool, arguments)
            if budget == BUDGET:
                check(kind, reply, [block.text for block in result.content[1:]])
            checked.add(tool)
    assert checked == set(schemas)


async def test_a_listing_with_unreadable_files_has_null_formats(serve, folder) -> None:
    """The case the TypeScript SDK refused: items whose format is null."""
    served = serve(pcap_path=[str(folder)])
    async with Client(served.server) as client:
        schema = next(t for t in (await client.list_tools()).tools if t.name == "list_captures")
        result = await client.call_tool("list_captures", {"limit": 1000})
    items = result.structured_content["items"]
    assert any(item["format"] is None and item["error"] for item in items)
    jsonschema.validate(result.structured_content, schema.output_schema)
    wrong = {**result.structured_content, "items": [{**items[0], "format": "pcapx"}]}
    with pytest.raises(jsonschema.ValidationError):  # the schema still says which formats exist
        jsonschema.validate(wrong, schema.output_schema)


def test_nullable_enums_and_consts_allow_null() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"anyOf": [{"enum": ["x", "y"], "type": "string"}, {"type": "null"}]},
            "b": {"anyOf": [{"const": "x", "type": "string"}, {"type": "null"}]},
        },
    }
    compacted = compact_output_schema(schema)
    for value in (None, "x"):
        jsonschema.validate({"a": value, "b": value}, compacted)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"a": "z"}, compacted)


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        ("dns.transactions", "qname:" + ",".join(f"host{i}.example.com" for i in range(300))),
        ("dns.messages", "qname:" + ",".join(f"host{i}.example.com" for i in range(300))),
        (
            "conn.connections",
            "client:" + ",".join(f"10.0.{i // 250}.{i % 250}" for i in range(400)),
        ),
        ("http.requests", 'host:"' + '\\"' * 3000 + '"'),
    ],
    ids=lambda value: value if "." in value and ":" not in value else "filter",
)
async def test_a_long_filter_is_echoed_cut_within_the_budget(serve, folder, kind, values) -> None:
    served = serve(pcap_path=[str(folder)], max_reply_chars=BUDGET)
    async with Client(served.server) as client:
        result = await client.call_tool(
            "records", {"capture": "big.pcap", "kind": kind, "filter": values}
        )
    assert not result.is_error, result.content
    reply = result.structured_content
    assert json_size(reply) <= BUDGET
    assert reply["filter"].endswith("characters more)")
    assert json_size(reply["filter"]) <= BUDGET // 4
