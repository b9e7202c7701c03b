"""DNS hunting on the generated captures: what it finds, what it leaves alone, per family."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from mcpcap.core.config import build_settings
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer
from mcpcap.modules.dns.hunting.thresholds import REPORT

FOLDER = Path(__file__).parents[2] / "fixtures" / "hunting"
TRUTH = json.loads((FOLDER / "TRUTH.json").read_text())
CAPTURES = sorted(TRUTH)


def findings(name: str) -> list[dict]:
    with Analyzer(build_settings({"no_cache": True})).analyze(FOLDER / name, name) as analysis:
        return list(KindQuery(analysis, "dns.findings").iterate())


@pytest.fixture(scope="module")
def found() -> dict[str, list[dict]]:
    return {name: findings(name) for name in CAPTURES}


@pytest.mark.parametrize("name", CAPTURES)
def test_every_planted_suspect_is_found_and_nothing_else(found, name):
    """Recall and precision are both 1 at the default threshold, on both seeds."""
    got = {(f["category"], f["subject"]): f for f in found[name]}
    expected = {(e["category"], e["subject"]): e["family"] for e in TRUTH[name]["expected"]}
    missed = {key: family for key, family in expected.items() if key not in got}
    assert not missed, f"missed: {missed}"
    extra = {key: got[key]["evidence"] for key in got if key not in expected}
    assert not extra, f"reported but not planted: {extra}"
    assert all(f["score"] >= REPORT.threshold for f in found[name])


@pytest.mark.parametrize("name", CAPTURES)
def test_benign_look_alikes_stay_out(found, name):
    subjects = {f["subject"] for f in found[name]}
    for benign in TRUTH[name]["benign"]:
        assert benign["subject"] not in subjects, benign["family"]


@pytest.mark.parametrize("name", [n for n in CAPTURES if n.startswith("tunnels")])
def test_tunnels_rank_first_with_high_scores_and_explain_them(found, name):
    records = found[name]
    assert [f["category"] for f in records] == ["tunnel"] * len(records)
    assert [f["id"] for f in records] == list(range(1, len(records) + 1))
    assert [f["score"] for f in records] == sorted((f["score"] for f in records), reverse=True)
    for f in records:
        assert f["score"] >= 0.8, f["evidence"]
        metrics = f["metrics"]
        assert metrics["distinct_names"] >= metrics["data_names"] >= 40
        assert f"{metrics['distinct_names']} distinct names below {f['subject']}" in f["evidence"]
        assert f["filter"] == f"qname_suffix:{f['subject']}"
        assert f["client_count"] == 1 and f["clients"] == [metrics["top_client"]]


def test_a_finding_s_filter_lists_its_transactions():
    name = "tunnels-1.pcap.gz"
    with Analyzer(build_settings({"no_cache": True})).analyze(FOLDER / name, name) as analysis:
        hunt = KindQuery(analysis, "dns.findings")
        transactions = KindQuery(analysis, "dns.transactions")
        for finding in hunt.iterate():
            listed = [t["id"] for t in transactions.iterate(finding["filter"])]
            assert len(listed) == finding["transactions"]
            assert set(finding["examples"]) <= set(listed)
            assert hunt.one(str(finding["id"])) == finding


def test_filters_sorts_and_ranking():
    name = "answers-1.pcap.gz"
    with Analyzer(build_settings({"no_cache": True})).analyze(FOLDER / name, name) as analysis:
        query = KindQuery(analysis, "findings")  # the shorthand names the same kind
        every = list(query.iterate())
        assert len({f["category"] for f in every}) == 3

        def ids(text: str, **arguments) -> list[int]:
            return [f["id"] for f in query.page(text, limit=100, **arguments).items]

        assert ids("category:fast_flux,rebinding") == [
            f["id"] for f in every if f["category"] in ("fast_flux", "rebinding")
        ]
        assert ids("", min_score=0.9) == [f["id"] for f in every if f["score"] >= 0.9]
        assert ids("score<0.6") == [f["id"] for f in every if f["score"] < 0.6]
        flux = next(f for f in every if f["category"] == "fast_flux")
        domain = flux["subject"].split(".", 1)[1] if flux["subject"].count(".") > 1 else ""
        assert flux["id"] in ids(f"domain:{domain or flux['subject']}")
        client = flux["clients"][0]
        assert ids(f"client:{client}") == [f["id"] for f in every if client in f["clients"]]
        assert ids("client:192.0.2.0/24") == []
        ascending = [f["score"] for f in query.page(sort="score", limit=100).items]
        assert ascending == sorted(ascending)
        ranking = query.top(by="category")
        assert {i.key: i.count for i in ranking.items} == Counter(f["category"] for f in every)


def test_a_filter_the_kind_does_not_have_is_refused():
    from mcpcap.core.errors import BadArgumentError

    name = "dga-1.pcap.gz"
    with Analyzer(build_settings({"no_cache": True})).analyze(FOLDER / name, name) as analysis:
        with pytest.raises(BadArgumentError):
            KindQuery(analysis, "dns.findings").page("category:phishing")
        with pytest.raises(BadArgumentError):
            KindQuery(analysis, "dns.findings").page("rcode:NXDOMAIN")


def test_a_stored_file_is_hunted_by_detectors_at_once_with_the_same_findings(monkeypatch):
    """On a store file with nothing uncommitted, each detector reads through a connection of
    its own (threads); in memory, or inside a transaction, they take turns on the one given.
    Both ways find the same."""
    import sqlite3

    from mcpcap.core import store
    from mcpcap.core.threadconn import database_file
    from mcpcap.modules.dns import hunting

    name = next(n for n in CAPTURES if TRUTH[n]["expected"])
    settings = build_settings({"no_cache": True})
    opened: list[str] = []
    own = hunting._on_own_connection
    monkeypatch.setattr(hunting, "_on_own_connection", lambda *a: opened.append(a[0]) or own(*a))
    with Analyzer(settings).analyze(FOLDER / name, name) as analysis:
        path = Path(database_file(analysis.db))
        reader = store.connect(path, readonly=True)
        in_memory = sqlite3.connect(":memory:")
        reader.backup(in_memory)
        opened.clear()
        real_connect = store.connect
        readers: list = []
        monkeypatch.setattr(
            store, "connect", lambda *a, **k: readers.append(a) or real_connect(*a, **k)
        )
        at_once = hunting.hunt(reader)
        assert opened == [str(path)] * 4  # the four detectors, each on a connection of its own
        assert readers == [(path,)] * 4
        opened.clear()
        in_turn = hunting.hunt(in_memory)
        assert not opened
        assert at_once and at_once == in_turn
        reader.close()
