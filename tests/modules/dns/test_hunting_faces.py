"""dns.findings in every face (CLI, MCP), and written once into the capture's store."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from mcp import Client

from mcpcap.core.config import build_settings
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer
from mcpcap.core.workspace import Workspace
from mcpcap.modules.dns.hunting import cache
from mcpcap.server.app import build_server

FOLDER = Path(__file__).parents[2] / "fixtures" / "hunting"
CAPTURE = "tunnels-2.pcap.gz"


def reference() -> list[dict]:
    with Analyzer(build_settings({"no_cache": True})).analyze(FOLDER / CAPTURE, CAPTURE) as a:
        return list(KindQuery(a, "dns.findings").iterate())


@pytest.fixture(scope="module")
def expected() -> list[dict]:
    return reference()


def test_the_cli_prints_the_findings(expected):
    run = subprocess.run(
        [sys.executable, "-m", "mcpcap", "analyze", str(FOLDER / CAPTURE), "--records",
         "dns.findings", "--format", "jsonl"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    printed = [json.loads(line) for line in run.stdout.splitlines()]
    assert printed == expected
    assert printed[0]["category"] == "tunnel" and printed[0]["score"] >= 0.8


def test_the_cli_filters_findings(expected):
    run = subprocess.run(
        [sys.executable, "-m", "mcpcap", "analyze", str(FOLDER / CAPTURE), "--records",
         "findings", "--filter", "category:tunnel min_score:0.95", "--format", "json"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    subjects = [f["subject"] for f in json.loads(run.stdout)]
    assert subjects == [f["subject"] for f in expected if f["score"] >= 0.95]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_the_mcp_records_tool_gives_the_same_findings(expected):
    settings = build_settings({"pcap_path": [str(FOLDER)]})
    workspace = Workspace(settings)
    try:
        async with Client(build_server(workspace, settings)) as client:
            page = await client.call_tool(
                "records", {"capture": CAPTURE, "kind": "dns.findings", "limit": 50}
            )
            described = await client.call_tool("describe", {"kind": "dns.findings"})
    finally:
        workspace.close()
    assert not page.is_error
    assert page.structured_content["items"] == expected
    kind = described.structured_content["kinds"][0]
    assert {f["name"] for f in kind["filters"]} >= {"category", "domain", "client", "min_score"}


def store_of(analysis) -> Path:
    return Path(analysis.db.execute("PRAGMA database_list").fetchone()[2])


def test_findings_are_written_once_into_the_store(expected, monkeypatch):
    analyzer = Analyzer(build_settings({}))
    with analyzer.analyze(FOLDER / CAPTURE, CAPTURE) as analysis:
        path = store_of(analysis)
        assert list(KindQuery(analysis, "dns.findings").iterate()) == expected
    with sqlite3.connect(path) as db:
        key = db.execute("SELECT value FROM meta WHERE key = ?", (cache.META_KEY,)).fetchone()
        assert key == (cache.findings_key(),)
        assert db.execute("SELECT count(*) FROM dns_findings").fetchone()[0] == len(expected)

    def no_hunting(*args, **kwargs):
        raise AssertionError("the findings were computed again")

    monkeypatch.setattr(cache, "hunt", no_hunting)
    with analyzer.analyze(FOLDER / CAPTURE, CAPTURE) as analysis:  # a warm start reads the rows
        assert list(KindQuery(analysis, "dns.findings").iterate()) == expected


def test_another_hunt_version_or_a_rescan_hunts_again(expected):
    analyzer = Analyzer(build_settings({}))
    with analyzer.analyze(FOLDER / CAPTURE, CAPTURE) as analysis:
        KindQuery(analysis, "dns.findings").page()
        path = store_of(analysis)
    with sqlite3.connect(path) as db:  # as an older mcpcap would have left it
        db.execute("UPDATE meta SET value = 'old' WHERE key = ?", (cache.META_KEY,))
        db.execute("DELETE FROM dns_findings")
    with analyzer.analyze(FOLDER / CAPTURE, CAPTURE) as analysis:
        assert list(KindQuery(analysis, "dns.findings").iterate()) == expected
    rescanned = Analyzer(build_settings({"rescan": True}))
    with rescanned.analyze(FOLDER / CAPTURE, CAPTURE) as analysis:
        tables = analysis.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        assert "dns_findings" not in {row[0] for row in tables}  # a new store: not hunted yet
        assert list(KindQuery(analysis, "dns.findings").iterate()) == expected


def test_a_store_that_cannot_be_written_keeps_the_findings_in_memory(expected, monkeypatch):
    monkeypatch.setattr(cache, "WRITE_TIMEOUT", 0.05)
    analyzer = Analyzer(build_settings({}))
    with analyzer.analyze(FOLDER / CAPTURE, CAPTURE) as analysis:
        holder = sqlite3.connect(store_of(analysis), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process is writing the store
        try:
            assert list(KindQuery(analysis, "dns.findings").iterate()) == expected
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert cache.stored_key(analysis.db) is None


def test_concurrent_first_asks_hunt_once(expected, monkeypatch):
    calls = []
    real = cache.hunt

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(cache, "hunt", counted)
    with Analyzer(build_settings({})).analyze(FOLDER / CAPTURE, CAPTURE) as analysis:
        pages = []

        def ask() -> None:
            pages.append(KindQuery(analysis, "dns.findings").page())

        threads = [threading.Thread(target=ask) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(calls) == 1
    assert all(page.items == expected for page in pages)
