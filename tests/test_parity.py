"""One analysis, three faces: the CLI, the MCP tools and the TUI show the same results.

Same capture, same arguments -> equal documents, whichever face asks.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client

from mcpcap.core.config import Settings
from mcpcap.core.workspace import Workspace
from mcpcap.server.app import build_server
from mcpcap.tui.app import McpcapApp
from mcpcap.tui.widgets.overview import DnsOverview
from mcpcap.tui.widgets.transactions import TransactionsPanel
from tests.tui.tui_support import capture_folder, settle

FILTER_TEXT = "qname_suffix:example.com rcode:NOERROR"
FILTERS = {"qname_suffix": "example.com", "rcode": "NOERROR"}


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("parity")
    capture_folder(root)
    return root


def settings(root: Path) -> Settings:
    return Settings(pcap_paths=[str(root / "captures")], cache_dir=root / "cache")


def cli(root: Path, *args: str) -> dict:
    run = subprocess.run(
        [sys.executable, "-m", "mcpcap", "analyze", "--pcap-path", str(root / "captures"),
         "example.pcap", *args],
        capture_output=True, text=True, check=True, env=_env(root), timeout=300,
    )  # fmt: skip
    return json.loads(run.stdout)


def _env(root: Path) -> dict:
    import os

    return {**os.environ, "MCPCAP_CACHE_DIR": str(root / "cache")}


def mcp_calls(root: Path, calls: list[tuple[str, dict]]) -> list[dict]:
    workspace = Workspace(settings(root))
    server = build_server(workspace, settings(root))

    async def main() -> list[dict]:
        async with Client(server) as client:
            results = []
            for name, args in calls:
                result = await client.call_tool(name, {"capture": "example.pcap", **args})
                assert not result.is_error, result.content
                results.append(result.structured_content)
            return results

    try:
        return asyncio.run(main())
    finally:
        workspace.close()


def tui_view(root: Path) -> tuple[dict, list[dict], int]:
    """The overview's summary and the transactions table's rows for FILTER_TEXT."""
    app = McpcapApp(settings(root), "example.pcap")
    seen: dict = {}

    async def main() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            await settle(pilot)
            seen["summary"] = app.screen.query_one(DnsOverview).dns.model_dump(mode="json")
            panel = app.screen.query_one(TransactionsPanel)
            assert panel.apply_filter(FILTER_TEXT)
            await settle(pilot)
            seen["rows"] = panel.table.order.records(0, panel.total)
            seen["total"] = panel.total

    asyncio.run(main())
    return seen["summary"], [_json(r) for r in seen["rows"]], seen["total"]


def _json(record: dict) -> dict:
    return json.loads(json.dumps(record))


def test_summary_is_the_same_in_every_face(root):
    from_cli = cli(root)["dns"]
    (from_mcp,) = mcp_calls(root, [("analyze_dns_packets", {})])
    from_tui, _, _ = tui_view(root)
    assert from_mcp == from_cli
    assert from_tui == from_cli


def test_transaction_page_is_the_same_in_every_face(root):
    cli_args = [f"--{k.replace('_', '-')}={v}" for k, v in FILTERS.items()]
    from_cli = cli(root, "--records", "transactions", *cli_args, "--limit", "30")
    tokens = " ".join(f"{k}:{v}" for k, v in FILTERS.items())
    from_mcp, from_records = mcp_calls(
        root,
        [
            ("dns_transactions", {**FILTERS, "limit": 30}),
            ("records", {"kind": "dns.transactions", "filter": tokens, "limit": 30}),
        ],
    )
    _, tui_rows, tui_total = tui_view(root)
    assert from_records == from_cli  # the generic tool and the CLI print the same page
    assert {k: v for k, v in from_cli.items() if k not in ("kind", "filter", "sort")} == from_mcp
    assert not from_cli["truncated"] and len(from_cli["items"]) == 30
    assert tui_total == from_cli["total"]
    assert tui_rows[:30] == from_cli["items"]


def test_ranking_and_message_are_the_same_over_mcp_and_cli(root):
    from_cli = cli(root, "--records", "top", "--by", "registered_domain", "--limit", "5")
    top, message = mcp_calls(
        root, [("dns_top", {"by": "registered_domain", "limit": 5}), ("dns_message", {"frame": 2})]
    )
    assert top == from_cli
    assert from_cli["next_cursor"]  # the next page, from either face, with the other's cursor
    args = ["--records", "top", "--by", "registered_domain", "--limit", "5"]
    cli_next = cli(root, *args, "--cursor", top["next_cursor"])
    (mcp_next,) = mcp_calls(
        root,
        [("dns_top", {"by": "registered_domain", "limit": 5, "cursor": from_cli["next_cursor"]})],
    )
    assert cli_next == mcp_next and cli_next["items"] and cli_next["items"] != top["items"]
    messages = subprocess.run(
        [sys.executable, "-m", "mcpcap", "analyze", str(root / "captures" / "example.pcap"),
         "--records", "messages", "--max-packets", "2"],
        capture_output=True, text=True, check=True, env=_env(root),
    ).stdout.splitlines()  # fmt: skip
    record = json.loads(messages[-1])
    assert {k: v for k, v in message.items() if k != "raw_hex"} == record
