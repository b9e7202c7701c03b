"""Query indexes: left out by the scan, made on a store's first use for records, once.

`mcpcap analyze` of the summary never needs them; the first `Analysis.module(...)` makes them
through a connection of its own (faces read stores read-only), and a store that cannot take
them is read without them, with the same answers.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from mcpcap.core import indexes
from mcpcap.core.config import Settings
from mcpcap.core.indexes import ensure_query_indexes, meta_key, present_indexes
from mcpcap.core.modules.kinds import find_kind
from mcpcap.core.records import make_filter
from mcpcap.core.service import Analyzer
from mcpcap.modules.dns.filters import build_filter
from mcpcap.modules.dns.store_schema import QUERY_INDEXES
from tests.concurrency import at_once

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "captures"
DNS_INDEXES = {statement.split()[5] for statement in QUERY_INDEXES}


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    path = tmp_path / "pairing.pcap"
    shutil.copy(FIXTURES / "pairing.pcap", path)
    return path


def _analyzer(tmp_path: Path) -> Analyzer:
    return Analyzer(Settings(use_cache=True, cache_dir=tmp_path / "cache", modules=["dns"]))


def _store_file(tmp_path: Path) -> Path:
    (path,) = (tmp_path / "cache").rglob("*.sqlite")
    return path


def _dns_indexes(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return set(present_indexes(db)) & DNS_INDEXES


def _page(analysis, sort: str) -> list[int]:
    page = analysis.module("dns").transactions(build_filter(), sort=sort, limit=1000)
    return [item.id for item in page.items]


def test_the_scan_leaves_them_out_and_the_first_use_makes_them_once(tmp_path, capture):
    with _analyzer(tmp_path).analyze(capture, capture.name) as analysis:
        analysis.summary()
        assert _dns_indexes(_store_file(tmp_path)) == set()  # a summary needs none
        analysis.module("dns")
        assert _dns_indexes(_store_file(tmp_path)) == DNS_INDEXES
    with sqlite3.connect(_store_file(tmp_path)) as db:
        assert db.execute("SELECT value FROM meta WHERE key = ?", (meta_key("dns"),)).fetchone()
    made = []
    real = indexes._create
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(indexes, "_create", lambda *a: made.append(a) or real(*a))
        with _analyzer(tmp_path).analyze(capture, capture.name) as analysis:
            analysis.module("dns")  # another process: it reads the meta row, builds nothing
    assert made == []


def test_opening_one_modules_results_makes_every_chosen_modules(tmp_path):
    """conn's records look DNS up (`resolved_by`): DNS's indexes must be there for them."""
    capture = tmp_path / "llmnr.pcap"
    shutil.copy(FIXTURES / "llmnr.pcap", capture)
    settings = Settings(use_cache=True, cache_dir=tmp_path / "cache", modules=["dns", "conn"])
    with Analyzer(settings).analyze(capture, capture.name) as analysis:
        results = analysis.module("conn")
        path = _store_file(tmp_path)
        assert _dns_indexes(path) == DNS_INDEXES
        with sqlite3.connect(path) as db:
            assert {"conn_ts", "conn_client", "conn_server", "conn_by_state"} <= present_indexes(db)
        kind = find_kind(analysis.modules[1].kinds(), "conn.connections")
        records = list(results.iter_records(kind, make_filter(kind, None, {})))
    assert any(record["resolved_by"] for record in records)


def test_threads_asking_at_once_build_once(tmp_path, capture, monkeypatch):
    made = []
    real = indexes._create
    monkeypatch.setattr(indexes, "_create", lambda *a: made.append(a) or real(*a))
    with _analyzer(tmp_path).analyze(capture, capture.name) as analysis:
        at_once(lambda: analysis.module("dns"))
    assert len(made) == 1
    assert _dns_indexes(_store_file(tmp_path)) == DNS_INDEXES


def test_a_store_others_keep_reading_is_read_without_them_and_answers_the_same(
    tmp_path, capture, monkeypatch
):
    monkeypatch.setattr(indexes, "WRITE_TIMEOUT", 0.05)
    with _analyzer(tmp_path).analyze(capture, capture.name) as analysis:
        analysis.summary()
    path = _store_file(tmp_path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN")  # another process in a long read: the store cannot be written
    holder.execute("SELECT count(*) FROM dns_transactions").fetchone()
    try:
        with _analyzer(tmp_path).analyze(capture, capture.name) as analysis:
            without = {sort: _page(analysis, sort) for sort in ("ts", "-rtt", "qname")}
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _dns_indexes(path) == set()
    with _analyzer(tmp_path).analyze(capture, capture.name) as analysis:
        indexed = {sort: _page(analysis, sort) for sort in ("ts", "-rtt", "qname")}
    assert _dns_indexes(path) == DNS_INDEXES
    assert without == indexed
    assert all(indexed.values())


def test_a_store_in_memory_gets_them_through_its_own_connection():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    db.execute("CREATE TABLE t (a INTEGER)")
    db.execute("INSERT INTO t VALUES (1)")  # a write transaction is open
    statement = ("CREATE INDEX IF NOT EXISTS t_a ON t(a)",)
    assert ensure_query_indexes(db, "test", statement)
    assert "t_a" in present_indexes(db)
    db.commit()
    assert ensure_query_indexes(db, "test", statement)  # again: nothing new, no error


def test_no_statements_need_no_store():
    assert ensure_query_indexes(None, "nothing", ())  # type: ignore[arg-type]


def test_a_store_removed_meanwhile_is_not_made_again(tmp_path):
    path = tmp_path / "gone.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    db.execute("CREATE TABLE t (a INTEGER)")
    db.commit()
    path.unlink()  # the connection still reads the removed file
    assert not ensure_query_indexes(db, "test", ("CREATE INDEX IF NOT EXISTS t_a ON t(a)",))
    assert not path.exists()
    db.close()


def test_a_store_built_again_at_the_same_path_gets_them_again(tmp_path, capture):
    """`--rescan` replaces the store's file: what one process made in the old one is gone."""
    with _analyzer(tmp_path).analyze(capture, capture.name) as analysis:
        analysis.module("dns")
    assert _dns_indexes(_store_file(tmp_path)) == DNS_INDEXES
    settings = Settings(use_cache=True, cache_dir=tmp_path / "cache", modules=["dns"], rescan=True)
    with Analyzer(settings).analyze(capture, capture.name) as analysis:
        assert _dns_indexes(_store_file(tmp_path)) == set()  # a new store
        analysis.module("dns")
        assert _dns_indexes(_store_file(tmp_path)) == DNS_INDEXES
