"""dns.findings in every face (CLI, MCP), and written once into the capture's store."""

from __future__ import annotations

import ipaddress
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client

from mcpcap.core import forking
from mcpcap.core.config import build_settings
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer
from mcpcap.core.workspace import Workspace
from mcpcap.modules.dns.fitting import fit_summary
from mcpcap.modules.dns.hunting import cache
from mcpcap.modules.dns.hunting.thresholds import REPORT
from mcpcap.server.app import build_server
from tests.concurrency import at_once

FOLDER = Path(__file__).parents[2] / "fixtures" / "hunting"
CAPTURE = "tunnels-2.pcap.gz"


def reference(capture: str = CAPTURE) -> list[dict]:
    with Analyzer(build_settings({"no_cache": True})).analyze(FOLDER / capture, capture) as a:
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


def stale(path: Path) -> None:
    """Leave the store's findings as an older mcpcap would have: another key, no rows."""
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = 'old' WHERE key = ?", (cache.META_KEY,))
        db.execute("DELETE FROM dns_findings")


def count_hunts(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = cache.hunt

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(cache, "hunt", counted)
    return calls


def brief(findings: list[dict]) -> list[dict]:
    """What the DNS summary shows of each finding."""
    keys = ("id", "category", "subject", "score", "evidence", "filter")
    return [{key: f[key] for key in keys} for f in findings[: REPORT.summary]]


def test_the_scan_hunts_once_and_a_warm_start_reads_the_rows(expected, monkeypatch):
    # the summaries in this process only: one taken by the scan's forked copy (`forking`)
    # would hunt where this test cannot count it
    monkeypatch.setattr(forking, "can_fork", lambda: False)
    calls = count_hunts(monkeypatch)
    analyzer = Analyzer(build_settings({}))
    with analyzer.analyze(FOLDER / CAPTURE, CAPTURE) as analysis:
        assert calls == [1]  # the scan stored the summary, which holds the best findings
        path = store_of(analysis)
        assert list(KindQuery(analysis, "dns.findings").iterate()) == expected
    assert calls == [1]
    with sqlite3.connect(path) as db:
        key = db.execute("SELECT value FROM meta WHERE key = ?", (cache.META_KEY,)).fetchone()
        assert key == (cache.findings_key(),)
        assert db.execute("SELECT count(*) FROM dns_findings").fetchone()[0] == len(expected)

    def no_hunting(*args, **kwargs):
        raise AssertionError("the findings were computed again")

    monkeypatch.setattr(cache, "hunt", no_hunting)
    with analyzer.analyze(FOLDER / CAPTURE, CAPTURE) as analysis:  # a warm start reads the rows
        assert list(KindQuery(analysis, "dns.findings").iterate()) == expected
        assert analysis.summary()["dns"]["findings"] == brief(expected)


@pytest.mark.parametrize("capture", [CAPTURE, "answers-1.pcap.gz"])
def test_the_summary_warns_with_the_best_findings_in_every_face(capture):
    """The first call already warns: `mcpcap analyze` and the results' summary (the TUI
    overview's) show the same best findings, in short, at most `REPORT.summary` of them."""
    expected = reference(capture)
    run = subprocess.run(
        [sys.executable, "-m", "mcpcap", "analyze", str(FOLDER / capture), "--no-cache"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    assert json.loads(run.stdout)["dns"]["findings"] == brief(expected)
    with Analyzer(build_settings({})).analyze(FOLDER / capture, capture) as analysis:
        shown = analysis.module("dns").summary().model_dump(mode="json")["findings"]
    assert shown == brief(expected)
    assert len(shown) == min(len(expected), REPORT.summary) > 0
    assert all(f["score"] >= REPORT.threshold for f in shown)


def test_the_summary_is_bounded():
    assert len(reference("answers-1.pcap.gz")) > REPORT.summary


@pytest.mark.anyio
async def test_analyze_dns_packets_warns(expected):
    settings = build_settings({"pcap_path": [str(FOLDER)]})
    workspace = Workspace(settings)
    try:
        async with Client(build_server(workspace, settings)) as client:
            summary = await client.call_tool("analyze_dns_packets", {"capture": CAPTURE})
    finally:
        workspace.close()
    assert not summary.is_error
    assert summary.structured_content["findings"] == brief(expected)


def test_hunt_allow_silences_a_finding_and_changing_it_hunts_again(expected, monkeypatch):
    """hunt_allow is part of the findings' key: the store is not scanned again, but its
    findings (and the summary's, in `mcpcap analyze` too) follow the setting."""
    loudest = expected[0]["subject"]
    with Analyzer(build_settings({})).analyze(FOLDER / CAPTURE, CAPTURE) as analysis:
        path = store_of(analysis)
    calls = count_hunts(monkeypatch)
    monkeypatch.setenv("MCPCAP_HUNT_ALLOW", f" {loudest.upper()}., unrelated.example")
    allowing = Analyzer(build_settings({}))
    with allowing.analyze(FOLDER / CAPTURE, CAPTURE) as analysis:
        assert store_of(analysis) == path  # the same store: no rescan
        summary = analysis.summary()["dns"]["findings"]
        found = list(KindQuery(analysis, "dns.findings").iterate())
    assert calls == [1]
    assert loudest not in {f["subject"] for f in found}
    assert {f["subject"] for f in found} == {f["subject"] for f in expected} - {loudest}
    assert summary == brief(found)
    monkeypatch.delenv("MCPCAP_HUNT_ALLOW")
    with Analyzer(build_settings({})).analyze(FOLDER / CAPTURE, CAPTURE) as analysis:
        assert analysis.summary()["dns"]["findings"] == brief(expected)
        assert list(KindQuery(analysis, "dns.findings").iterate()) == expected
    assert calls == [1, 1]


def test_another_hunt_version_or_a_rescan_hunts_again(expected):
    analyzer = Analyzer(build_settings({}))
    with analyzer.analyze(FOLDER / CAPTURE, CAPTURE) as analysis:
        path = store_of(analysis)
    stale(path)
    with analyzer.analyze(FOLDER / CAPTURE, CAPTURE) as analysis:
        assert analysis.summary()["dns"]["findings"] == brief(expected)
        assert list(KindQuery(analysis, "dns.findings").iterate()) == expected
        assert cache.stored_key(analysis.db) == cache.findings_key()
    stale(path)
    rescanned = Analyzer(build_settings({"rescan": True}))
    with rescanned.analyze(FOLDER / CAPTURE, CAPTURE) as analysis:
        assert cache.stored_key(analysis.db) == cache.findings_key()  # hunted by the scan
        assert list(KindQuery(analysis, "dns.findings").iterate()) == expected


def test_a_store_that_cannot_be_written_keeps_the_findings_in_memory(expected, monkeypatch):
    monkeypatch.setattr(cache, "WRITE_TIMEOUT", 0.05)
    analyzer = Analyzer(build_settings({}))
    with analyzer.analyze(FOLDER / CAPTURE, CAPTURE) as analysis:
        stale(store_of(analysis))
        holder = sqlite3.connect(store_of(analysis), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process is writing the store
        try:
            assert list(KindQuery(analysis, "dns.findings").iterate()) == expected
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert cache.stored_key(analysis.db) == "old"


def test_concurrent_first_asks_hunt_once(expected, monkeypatch):
    with Analyzer(build_settings({})).analyze(FOLDER / CAPTURE, CAPTURE) as analysis:
        stale(store_of(analysis))
    calls = count_hunts(monkeypatch)
    with Analyzer(build_settings({})).analyze(FOLDER / CAPTURE, CAPTURE) as analysis:
        pages = []

        def ask() -> None:
            pages.append(KindQuery(analysis, "dns.findings").page())

        at_once(ask)
    assert len(calls) == 1
    assert all(page.items == expected for page in pages)


def test_a_tight_budget_leaves_out_the_weakest_findings_last():
    with Analyzer(build_settings({"no_cache": True})).analyze(
        FOLDER / "answers-1.pcap.gz", "answers-1.pcap.gz"
    ) as analysis:
        summary = analysis.module("dns").summary(top_n=1)
    bare = fit_summary(summary.model_copy(update={"findings": []}), 1)  # cut all it can
    fitted = fit_summary(summary, 10**6)
    assert fitted.findings == summary.findings  # room enough: nothing left out
    room = len(bare.model_dump_json()) + 2 * len(summary.findings[0].model_dump_json())
    fitted = fit_summary(summary, room)
    assert len(fitted.model_dump_json()) <= room
    assert 0 < len(fitted.findings) < len(summary.findings)
    assert fitted.findings == summary.findings[: len(fitted.findings)]


def test_an_address_or_network_in_hunt_allow_silences_its_findings(monkeypatch):
    capture = "answers-1.pcap.gz"
    everything = reference(capture)
    servers = [f["subject"] for f in everything if f["category"] == "odd_resolver"]
    assert servers
    network = ipaddress.ip_network(f"{servers[0]}/24", strict=False)
    monkeypatch.setenv("MCPCAP_HUNT_ALLOW", f"{network},{servers[-1]}")
    silenced = {s for s in servers if ipaddress.ip_address(s) in network} | {servers[-1]}
    left = reference(capture)
    assert {f["subject"] for f in left} == {f["subject"] for f in everything} - silenced
