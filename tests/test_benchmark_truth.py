"""A generated benchmark capture: what mcpcap reports equals what the generator wrote."""

from __future__ import annotations

import pytest

from benchmarks.generate import generate
from mcpcap.core.service import Analyzer


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "gen.pcap"
    truth = generate(path, 4000, seed=11, write_truth=False)
    return path, truth


def test_summary_equals_generator_ground_truth(generated, make_settings):
    path, truth = generated
    with Analyzer(make_settings()).analyze(path, path.name) as analysis:
        capture = analysis.capture()
        dns = analysis.module("dns")
        summary = dns.summary(top_n=10)
        assert capture.packets == truth["packets"]
        pcap_headers = 24 + 16 * truth["packets"]  # the truth's bytes are the file's size
        assert capture.bytes == truth["bytes"] - pcap_headers
        assert summary.messages == truth["dns_messages"]
        assert (summary.queries, summary.responses) == (truth["queries"], truth["responses"])
        assert summary.transports == {
            k: v["messages"]
            for k, v in sorted(
                truth["by_transport"].items(), key=lambda kv: (-kv[1]["messages"], kv[0])
            )
        }
        assert summary.protocols == {k: v["messages"] for k, v in truth["by_protocol"].items()}
        assert summary.rcodes == truth["rcodes"]
        assert summary.qtypes == truth["qtypes"]
        assert summary.distinct_qnames == truth["distinct_qnames"]
        assert summary.distinct_clients == truth["distinct_clients"]
        assert [(n.name, n.count) for n in summary.top_qnames] == [
            (q["qname"], q["count"]) for q in truth["top_qnames"]
        ]
        unicast = list(dns.iter_transactions(protocol="dns"))
        assert sum(r["retransmissions"] for r in unicast) == truth["retransmissions"]
        assert sum(1 for r in unicast if not r["answered"]) == truth["unanswered_queries"]
        assert (
            sum(1 for r in unicast if r["answered"] and r["query_frame"])
            == (truth["answered_queries"])
        )


@pytest.mark.parametrize("sort", ["ts", "-rtt", "qname"])
def test_paging_walks_a_large_capture_with_nothing_lost_or_repeated(generated, make_settings, sort):
    path, _ = generated
    with Analyzer(make_settings(max_reply_chars=6000)).analyze(path, path.name) as analysis:
        dns = analysis.module("dns")
        expected = list(dns.iter_transactions(sort=sort))
        seen, cursor, truncated = [], None, 0
        while True:
            page = dns.transactions(sort=sort, limit=250, cursor=cursor)
            assert len(page.model_dump_json()) <= 6000
            assert page.total == len(expected)
            truncated += page.truncated
            seen += [item.model_dump(mode="json") for item in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    assert len(expected) > 500
    assert truncated  # the budget, not the limit, cut most pages
    assert seen == expected
