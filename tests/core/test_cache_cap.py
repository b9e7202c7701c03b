"""Open analyses do not hold the cache above its cap: a call's analyses may be closed after it
(their stores then evicted), never while a call uses them, nor one kept open outside a call."""

from __future__ import annotations

import threading
from pathlib import Path

import anyio
import pytest
from mcp import Client

from mcpcap.core.config import build_settings
from mcpcap.core.service import Analyzer
from mcpcap.core.workspace import Workspace
from mcpcap.server.app import build_server
from tests.core.fault_captures import write_dns_capture

CAPTURES = 3


@pytest.fixture
def folder(tmp_path) -> Path:
    """Three captures whose stores differ (a transaction more each)."""
    folder = tmp_path / "captures"
    folder.mkdir()
    for n in range(CAPTURES):
        write_dns_capture(folder / f"c{n}.pcap", 2000 + n)
    return folder


@pytest.fixture
def cap(folder, tmp_path) -> int:
    """Room for one store and a half: two stores are over it."""
    settings = build_settings({}, environ={"MCPCAP_CACHE_DIR": str(tmp_path / "measure")})
    with Analyzer(settings).analyze(folder / "c2.pcap", "c2.pcap"):
        (store,) = (tmp_path / "measure" / "results").glob("*.sqlite")
    return store.stat().st_size * 3 // 2


def cached_bytes(cache: Path) -> int:
    return sum(p.stat().st_size for p in (cache / "results").glob("*") if p.suffix != ".lock")


@pytest.fixture
def workspace(folder, cap, private_cache, monkeypatch):
    monkeypatch.setenv("MCPCAP_CACHE_MAX_BYTES", str(cap))
    workspace = Workspace(build_settings({"pcap_path": [str(folder)]}))
    yield workspace
    workspace.close()


def ask(workspace: Workspace, name: str) -> int:
    with workspace.call():
        return workspace.open(name).module("dns").summary().messages


def test_calls_one_after_another_keep_the_cache_within_its_cap(workspace, cap, private_cache):
    answers = [ask(workspace, f"c{n}.pcap") for n in range(CAPTURES)]
    assert answers == [2 * (2000 + n) for n in range(CAPTURES)]
    assert cached_bytes(private_cache) <= cap
    assert ask(workspace, "c0.pcap") == 4000  # its store was evicted: scanned again
    assert cached_bytes(private_cache) <= cap


def test_an_analysis_a_call_uses_is_not_closed_under_it(workspace, cap, private_cache):
    with workspace.call():
        analysis = workspace.open("c0.pcap")
        store = analysis._lease.path
        others = threading.Thread(target=lambda: [ask(workspace, f"c{n}.pcap") for n in (1, 2)])
        others.start()
        others.join()
        # the other calls' analyses were closed and their stores evicted; c0's stays
        assert list((private_cache / "results").glob("*.sqlite")) == [store]
        assert analysis.module("dns").summary().messages == 4000
        assert workspace.open("c0.pcap") is analysis
    assert cached_bytes(private_cache) <= cap


def test_an_analysis_opened_outside_a_call_stays_open(workspace, private_cache):
    kept = workspace.open("c0.pcap")  # as the TUI keeps its capture
    for n in (1, 2):
        ask(workspace, f"c{n}.pcap")
    assert kept.module("dns").summary().messages == 4000
    assert workspace.open("c0.pcap") is kept


def test_closing_the_workspace_brings_the_cache_within_its_cap(workspace, cap, private_cache):
    for n in range(CAPTURES):
        workspace.open(f"c{n}.pcap")  # outside calls: all kept, all leased
    assert cached_bytes(private_cache) > cap
    workspace.close()
    assert cached_bytes(private_cache) <= cap


def test_mcp_calls_keep_the_cache_within_its_cap(workspace, cap, private_cache):
    server = build_server(workspace, workspace.settings)

    async def calls() -> list[int]:
        async with Client(server) as client:
            replies = [
                await client.call_tool("capture_info", {"capture": f"c{n}.pcap"})
                for n in (*range(CAPTURES), 0)
            ]
        return [reply.structured_content["capture"]["packets"] for reply in replies]

    assert anyio.run(calls) == [4000, 4002, 4004, 4000]
    assert cached_bytes(private_cache) <= cap
