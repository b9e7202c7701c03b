"""tools/list stays small: the built-in modules leave room under the 20,000-character limit for
a third-party module (the NTP example in examples/, registered in this process), and a filter's
type is said wherever filters are described or refused."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
from mcp import Client

from mcpcap.core.modules import registry
from mcpcap.core.modules.registry import load_modules
from mcpcap.core.records import all_kinds

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_SOURCE = ROOT / "examples" / "mcpcap-example-module" / "src"
NTP_CAPTURE = ROOT / "tests" / "fixtures" / "ntp" / "ntp.pcap"
BUILTIN_LIMIT = 18_500  # the built-ins' share of the 20,000 that every client must be able to read
TOOLS_LIST_LIMIT = 20_000


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def ntp_registered(monkeypatch):
    """The example module registered as its entry point would (its package from examples/)."""
    monkeypatch.syspath_prepend(str(EXAMPLE_SOURCE))
    builtins = registry.registered()
    assert "ntp" not in builtins  # the example is not installed into this environment
    registered = {**builtins, "ntp": "mcpcap_ntp.module:NtpModule"}
    monkeypatch.setattr(registry, "registered", lambda: registered)


async def tools_list_size(served) -> tuple[int, list]:
    async with Client(served.server) as client:
        listed = await client.list_tools()
    return len(listed.model_dump_json(by_alias=True, exclude_none=True)), listed.tools


async def test_the_builtin_modules_leave_room(serve) -> None:
    size, tools = await tools_list_size(serve())
    assert size <= BUILTIN_LIMIT, size
    for tool in tools:  # smaller, still valid schemas
        jsonschema.Draft202012Validator.check_schema(tool.input_schema)
        jsonschema.Draft202012Validator.check_schema(tool.output_schema)


async def test_with_a_third_party_module_it_stays_under_the_limit(serve, ntp_registered) -> None:
    size, tools = await tools_list_size(serve())
    assert "analyze_ntp_packets" in {tool.name for tool in tools}
    builtin, _ = await tools_list_size(serve(modules=list(registry.BUILTIN_MODULES)))
    assert builtin < size < TOOLS_LIST_LIMIT, (builtin, size)


async def test_an_optional_argument_is_one_type_and_still_takes_null(example_served) -> None:
    async with Client(example_served.server) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        limit = tools["records"].input_schema["properties"]["limit"]
        assert limit == {"maximum": 1000, "minimum": 1, "type": "integer", "description": limit[
            "description"]}  # fmt: skip
        arguments = {"capture": "example.pcap", "kind": "dns.transactions"}
        explicit_null = await client.call_tool("records", arguments | {"limit": None})
        left_out = await client.call_tool("records", arguments)
        assert not explicit_null.is_error
        assert explicit_null.structured_content == left_out.structured_content


async def test_describe_says_each_filters_type(example_served) -> None:
    modules = load_modules(None)
    async with Client(example_served.server) as client:
        schema = {t.name: t for t in (await client.list_tools()).tools}["describe"].output_schema
        for kind in all_kinds(modules):
            reply = await client.call_tool("describe", {"kind": kind.name})
            jsonschema.validate(reply.structured_content, schema)
            (described,) = reply.structured_content["kinds"]
            declared = {spec.name: spec.type for spec in kind.filters}
            assert {f["name"]: f["type"] for f in described["filters"]} == declared


async def test_the_catalog_names_each_kinds_id_field_as_its_own_description_does(
    example_served,
) -> None:
    """`record()` takes the id field `describe` names: a catalog short of room says it too."""
    async with Client(example_served.server) as client:
        catalog = (await client.call_tool("describe", {})).structured_content["kinds"]
        assert {entry["kind"] for entry in catalog} == {
            k.name for k in all_kinds(load_modules(None))
        }
        for entry in catalog:
            reply = await client.call_tool("describe", {"kind": entry["kind"]})
            (own,) = reply.structured_content["kinds"]
            assert entry.get("id_field") == own.get("id_field"), entry["kind"]
    assert any(entry.get("id_field") for entry in catalog)  # (dns.messages: record_id)


PLAIN_TYPES = {"integer": "an integer", "number": "a number", "boolean": "true or false"}


async def test_a_bad_value_names_the_filters_type(example_served) -> None:
    """Every built-in filter of one plain type refuses 'abc' in a sentence naming the type."""
    checked = 0
    async with Client(example_served.server) as client:
        for kind in all_kinds(load_modules(None)):
            for spec in kind.filters:
                if spec.type not in PLAIN_TYPES:
                    continue
                arguments = {"capture": "example.pcap", "kind": kind.name}
                reply = await client.call_tool(
                    "records", arguments | {"filter": f"{spec.name}:abc"}
                )
                assert reply.is_error
                text = reply.content[0].text
                assert PLAIN_TYPES[spec.type] in text and "'abc'" in text, text
                checked += 1
    assert checked > 20


async def test_the_example_modules_stratum_says_it_takes_an_integer(serve, ntp_registered) -> None:
    served = serve(pcap_path=[str(NTP_CAPTURE.parent)], modules=["ntp"], workers=1)
    reply = await served.call(
        "records", capture=NTP_CAPTURE.name, kind="ntp.exchanges", filter="stratum:abc"
    )
    assert reply.is_error
    assert reply.content[0].text.endswith(
        ": stratum takes an integer (the server's stratum), not 'abc'"
    )
    described = await served.call("describe", kind="ntp.exchanges")
    filters = {f["name"]: f for f in described.structured_content["kinds"][0]["filters"]}
    assert filters["stratum"]["type"] == "integer"
