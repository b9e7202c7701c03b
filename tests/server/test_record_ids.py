"""`record(capture, kind, id)` takes the id a record carries (an integer), or its text, for every
kind, over a real in-process client session; both schemas of the tool agree with the call."""

from __future__ import annotations

import shutil
from pathlib import Path

import jsonschema
import pytest
from mcp import Client

from mcpcap.core.modules.registry import load_modules

pytestmark = pytest.mark.anyio
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# captures that between them hold records of every kind but dhcp.malformed and icmp.malformed
CAPTURES = [
    "captures/malformed.pcap",  # dns.malformed
    "http/http_basic.pcap",
    "http/http_hostile.pcap",  # http.malformed
    "tls/tls.pcap",
    "tls/tls-hostile.pcap",  # tls.malformed
    "dhcp_icmp/dhcp.pcap",
    "dhcp_icmp/icmp.pcap",
    "hunting/dga-1.pcap.gz",  # dns.findings
    "conn/more.pcap",  # conn.malformed
]
# a record() of one message also gives its bytes (raw_hex), which pages leave out
WITH_BYTES = {"dns.messages"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def many(tmp_path, example, serve):
    for name in CAPTURES:
        shutil.copy(FIXTURES / name, tmp_path / Path(name).name)
    shutil.copy(example, tmp_path / "example.pcap")
    return serve(pcap_path=[str(tmp_path)])


def every_kind() -> list[str]:
    return list(ID_FIELDS)


# each kind's field that record() fetches by (`id`, or the kind's declared `id_field`)
ID_FIELDS = {kind.name: kind.id_field for module in load_modules(None) for kind in module.kinds()}


async def test_every_kind_fetches_its_records_by_the_id_they_carry(many) -> None:
    fetched: set[str] = set()
    async with Client(many.server) as client:
        tool = {t.name: t for t in (await client.list_tools()).tools}["record"]
        assert {"integer", "string"} <= set(_types(tool.input_schema["properties"]["id"]))
        names = [Path(name).name for name in CAPTURES] + ["example.pcap"]
        for capture in names:
            for kind in every_kind():
                page = await client.call_tool(
                    "records", {"capture": capture, "kind": kind, "limit": 2}
                )
                assert not page.is_error, page.content
                for item in page.structured_content["items"]:
                    key = item[ID_FIELDS[kind]]
                    assert isinstance(key, (int, str)), (kind, key)
                    for given in dict.fromkeys((key, str(key))):
                        arguments = {"capture": capture, "kind": kind, "id": given}
                        jsonschema.validate(arguments, tool.input_schema)
                        one = await client.call_tool("record", arguments)
                        assert not one.is_error, (kind, given, one.content)
                        got = one.structured_content
                        if kind in WITH_BYTES:
                            assert got.pop("raw_hex")
                            item = {k: v for k, v in item.items() if k != "raw_hex"}
                        assert got == item
                        jsonschema.validate(one.structured_content, tool.output_schema)
                    fetched.add(kind)
    assert set(every_kind()) - fetched <= {"dhcp.malformed", "icmp.malformed"}


async def test_a_dns_message_by_its_frame_as_a_number(many) -> None:
    async with Client(many.server) as client:
        message = await client.call_tool("dns_message", {"capture": "example.pcap", "frame": 2})
        for given in (2, "2", "2:0"):
            one = await client.call_tool(
                "record", {"capture": "example.pcap", "kind": "dns.messages", "id": given}
            )
            assert not one.is_error, one.content
            assert one.structured_content == message.structured_content


@pytest.mark.parametrize("given", [None, 1.5, True, [1], {"id": 1}])
async def test_an_id_of_another_type_is_one_sentence(many, given) -> None:
    one = await many.call("record", capture="example.pcap", kind="conn.connections", id=given)
    assert one.is_error
    text = one.content[0].text
    assert "id must be a whole number or a string" in text or "id is required" in text, text
    assert "\n" not in text


async def test_an_unknown_id_is_not_found(many) -> None:
    one = await many.call("record", capture="example.pcap", kind="dns.transactions", id=10**6)
    assert one.is_error and "has no record with id '1000000'" in one.content[0].text


def _types(schema: dict) -> list[str]:
    kinds = schema.get("type", [])
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    for branch in schema.get("anyOf", []):
        kinds += _types(branch)
    return kinds
