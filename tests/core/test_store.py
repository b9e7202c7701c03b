"""The result store: reuse, invalidation, corruption, concurrent writers, eviction."""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import subprocess
import sys
import threading

import pytest

from mcpcap.core import store
from mcpcap.core.errors import CancelledError
from mcpcap.core.service import Analyzer
from tests.concurrency import at_once


@pytest.fixture
def capture(tmp_path, example):
    copy = tmp_path / "copy.pcap"
    shutil.copyfile(example, copy)
    return copy


def summary_of(settings, path):
    with Analyzer(settings).analyze(path, path.name) as analysis:
        return analysis.summary()


def test_a_new_store_is_written_in_large_pages_and_an_old_one_keeps_its_own(tmp_path):
    old = tmp_path / "old.sqlite"
    with contextlib.closing(sqlite3.connect(old)) as db:
        db.execute("PRAGMA page_size=4096")
        db.execute("CREATE TABLE t (x)")
    sizes = []
    for path in (tmp_path / "new.sqlite", old):
        with contextlib.closing(store.connect(path)) as db:
            db.execute("CREATE TABLE IF NOT EXISTS t (x)")
            db.commit()
        with contextlib.closing(store.connect(path, readonly=True)) as db:
            sizes.append(db.execute("PRAGMA page_size").fetchone()[0])
    assert sizes == [store.PAGE_SIZE, 4096]
    assert store.PAGE_SIZE > 4096  # SQLite's default


def test_second_analysis_is_answered_from_the_store(capture, make_settings, scans):
    first = summary_of(make_settings(), capture)
    second = summary_of(make_settings(), capture)
    assert first == second
    assert len(scans) == 1


def test_no_cache_scans_every_time_and_leaves_no_store(
    capture, make_settings, scans, private_cache
):
    summary_of(make_settings(no_cache=True), capture)
    summary_of(make_settings(no_cache=True), capture)
    assert len(scans) == 2
    assert not list(private_cache.rglob("*.sqlite"))


def test_changed_file_is_rescanned(capture, make_settings, scans):
    before = summary_of(make_settings(), capture)
    data = capture.read_bytes()
    capture.write_bytes(data[: len(data) // 2])  # a different (truncated) capture
    after = summary_of(make_settings(), capture)
    assert len(scans) == 2
    assert after["capture"]["packets"] < before["capture"]["packets"]


def test_options_that_change_results_are_part_of_the_key(capture, make_settings, scans):
    full = summary_of(make_settings(), capture)
    cut = summary_of(make_settings(max_packets=10), capture)
    assert len(scans) == 2
    assert cut["capture"]["packets"] == 10 < full["capture"]["packets"]
    assert cut["capture"]["max_packets"] == 10


def test_corrupt_store_is_rebuilt_not_trusted(capture, make_settings, scans, private_cache):
    expected = summary_of(make_settings(), capture)
    (stored,) = private_cache.rglob("*.sqlite")
    stored.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    assert summary_of(make_settings(), capture) == expected
    assert len(scans) == 2


def test_half_written_store_is_rebuilt(capture, make_settings, scans, private_cache):
    summary_of(make_settings(), capture)
    (stored,) = private_cache.rglob("*.sqlite")
    db = store.connect(stored)
    db.execute("DELETE FROM meta WHERE key = 'complete'")
    db.commit()
    db.close()
    summary_of(make_settings(), capture)
    assert len(scans) == 2


def test_threads_share_one_scan(capture, make_settings, scans):
    analyzer = Analyzer(make_settings())
    results = []

    def work():
        with analyzer.analyze(capture, "copy.pcap") as analysis:
            results.append(analysis.summary())

    at_once(work)
    assert len(scans) == 1
    assert all(r == results[0] for r in results)


def test_two_processes_build_one_store(capture, private_cache):
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from mcpcap.core.config import build_settings\n"
        "from mcpcap.core.service import Analyzer\n"
        "with Analyzer(build_settings({})).analyze(Path(sys.argv[1]), 'copy.pcap') as a:\n"
        "    print(json.dumps(a.summary()))\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(capture)], stdout=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    assert outputs[0] == outputs[1]
    assert len(list(private_cache.rglob("*.sqlite"))) == 1
    assert not list(private_cache.rglob("*.tmp"))


def test_cache_cap_evicts_least_recently_used(tmp_path, example, make_settings, private_cache):
    paths = []
    for i in range(3):
        path = tmp_path / f"c{i}.pcap"
        shutil.copyfile(example, path)
        path.write_bytes(path.read_bytes())  # distinct mtimes are not needed: paths differ
        paths.append(path)
    settings = make_settings()
    summary_of(settings, paths[0])
    (one,) = private_cache.rglob("*.sqlite")
    settings.cache_max_bytes = one.stat().st_size * 2 + 1
    summary_of(settings, paths[1])
    summary_of(settings, paths[2])
    stores = list(private_cache.rglob("*.sqlite"))
    assert len(stores) == 2
    assert one not in stores  # the oldest went first


def test_cancelled_scan_raises_and_leaves_no_store(tmp_path, make_settings, private_cache):
    from benchmarks.generate import generate

    big = tmp_path / "big.pcap"
    generate(big, 20_000, seed=3, write_truth=False)
    cancel = threading.Event()
    seen = []

    def progress(packets, done, total):
        seen.append(packets)
        cancel.set()

    with pytest.raises(CancelledError):
        Analyzer(make_settings()).analyze(big, "big.pcap", progress=progress, cancel=cancel)
    assert seen and seen[0] < 20_000
    assert not list(private_cache.rglob("*.sqlite"))
    assert not list(private_cache.rglob("*.tmp"))


def test_warm_summary_is_read_from_the_store_not_recomputed(capture, make_settings, monkeypatch):
    first = summary_of(make_settings(), capture)
    from mcpcap.modules.dns import summary

    def refuse(*args, **kwargs):
        raise AssertionError("the summary was recomputed")

    monkeypatch.setattr(summary, "build_summary", refuse)
    assert summary_of(make_settings(), capture) == first
    with pytest.raises(AssertionError, match="recomputed"):  # another length is computed
        summary_of(make_settings(top=3), capture)


def test_none_binds_as_null_through_its_adapter(tmp_path):
    """The store registers an adapter for None (sqlite3's search of the adaptation protocols
    costs 3-4 times an int's bind for each None): None still binds as NULL, and no base type
    (whose adapters would slow every int, float and str) has one."""
    import sqlite3

    assert sqlite3.adapters[(type(None), sqlite3.PrepareProtocol)](None) is None
    assert not {int, float, str, bytes} & {kind for kind, _ in sqlite3.adapters}
    db = store.connect(tmp_path / "x.sqlite")
    db.execute("CREATE TABLE t (a, b)")
    db.executemany("INSERT INTO t VALUES (?, ?)", [(None, 1), (2, None)])
    assert db.execute("SELECT a IS NULL, b IS NULL, typeof(a) FROM t").fetchall() == [
        (1, 0, "null"),
        (0, 1, "integer"),
    ]


def test_none_is_bound_as_null_through_its_own_adapter(tmp_path):
    """sqlite3 looks every None parameter up in its adapter registry: None's own adapter is
    there (the scan's cheap look-up), and it still binds NULL."""
    assert sqlite3.adapters[(type(None), sqlite3.PrepareProtocol)] is store._null
    db = store.connect(tmp_path / "s.sqlite")
    db.execute("CREATE TABLE t (a, b)")
    db.executemany("INSERT INTO t VALUES (?, ?)", [(None, 1), (2, None)])
    assert db.execute("SELECT a IS NULL, b IS NULL FROM t").fetchall() == [(1, 0), (0, 1)]
    db.close()
