"""The `server` ranking counts what the summary's `servers` count: query messages sent to each
server. A query to an mDNS or LLMNR group went to no server, and the host that answered it was
sent none (it was ranked under the group, or credited with queries it never got)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpcap.core.config import build_settings
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("capture", ["example.pcap", "tests/fixtures/conn/more.pcap"])
def test_the_server_ranking_is_the_summarys_servers(capture):
    path = ROOT / capture
    with Analyzer(build_settings({"modules": "dns", "no_cache": True})).analyze(
        path, path.name
    ) as found:
        summary = found.module("dns").summary()
        query = KindQuery(found, "dns.transactions")
        ranked = {item.key: item.count for item in query.top(by="server", limit=100).items}
        # a filter that keeps every transaction ranks from the rows, not the scan's tallies
        filtered = query.top("-qtype:65535", by="server", limit=100)
    expected = {s.address: s.queries for s in summary.servers if s.queries}
    assert ranked == expected and len(expected) >= 1
    assert not any(key.startswith(("224.", "ff02:")) for key in ranked)
    assert {item.key for item in filtered.items} <= set(expected)
