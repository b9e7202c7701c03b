"""The server caps glibc's malloc arenas before its worker threads start, runs one scan at a
time, and gives back what a scan freed."""

import platform
import subprocess
import sys
import textwrap

import pytest

from mcpcap.core import memory
from mcpcap.core.memory import limit_malloc_arenas, release_free_memory

GLIBC = platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's")
def test_the_arena_cap_is_accepted_by_glibc():
    assert limit_malloc_arenas() is True


def _serve_with(patch: str, then: str) -> str:
    """Run `run_server` (building nothing) with `patch` mocked; print `then`."""
    code = (
        "import sys; from unittest import mock; import mcpcap.server.run as run\n"
        f"with mock.patch.object(run, {patch!r}) as patched, "
        "mock.patch.object(run, '_build', side_effect=SystemExit(0)):\n"
        "    try: run.run_server(run.Settings(), type('A', (), {'transport': 'http', "
        "'host': '127.0.0.1', 'port': 0, 'allow_unauthenticated_http': False, "
        "'log_level': 'ERROR'})())\n"
        "    except SystemExit: pass\n"
        f"print({then})"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_serve_sets_the_cap_before_serving():
    assert _serve_with("limit_malloc_arenas", "patched.call_count") == "1"


def test_serve_runs_one_scan_at_a_time():
    then = "__import__('mcpcap.core.scan', fromlist=['SCANS']).SCANS.slots"
    assert _serve_with("limit_malloc_arenas", then) == "1"


FRAGMENTED = textwrap.dedent(
    """
    import threading
    from mcpcap.core.memory import release_free_memory

    def rss_mib():
        with open("/proc/self/status") as fh:
            return next(int(l.split()[1]) // 1024 for l in fh if l.startswith("VmRSS"))

    kept = []
    def churn():  # 200 MiB in 32 KiB blocks (below mmap's threshold), one in 16 kept
        blocks = [b"\\1" * (32 << 10) for _ in range(6400)]
        kept.extend(blocks[::16])
    thread = threading.Thread(target=churn)
    thread.start()
    thread.join()
    before = rss_mib()
    assert release_free_memory()
    print(before, rss_mib())
    """
)


@pytest.mark.skipif(not GLIBC, reason="malloc_trim is glibc's")
def test_free_memory_kept_by_the_allocator_is_given_back():
    """Freed blocks between kept ones stay with the allocator until they are released."""
    done = subprocess.run(
        [sys.executable, "-c", FRAGMENTED], capture_output=True, text=True, timeout=60
    )
    before, after = map(int, done.stdout.split())
    assert before > 150, (before, after)  # the freed blocks are still resident
    assert after < before - 120, (before, after)


def test_a_workspace_releases_free_memory_after_opening_an_analysis(monkeypatch, example):
    from mcpcap.core import workspace as workspace_module
    from mcpcap.core.config import build_settings

    calls = []
    monkeypatch.setattr(workspace_module, "release_free_memory", lambda: calls.append(1))
    settings = build_settings({"pcap_path": [str(example.parent)]})
    ws = workspace_module.Workspace(settings)
    try:
        with ws.call():
            first = ws.open(example.name)
        assert calls == [1]
        with ws.call():
            assert ws.open(example.name) is first  # already open: nothing was freed
        assert calls == [1]
    finally:
        ws.close()


def test_without_glibc_the_calls_say_so(monkeypatch):
    def no_libc():
        raise OSError("no C library here")

    monkeypatch.setattr(memory, "_libc", no_libc)
    assert limit_malloc_arenas() is False
    assert release_free_memory() is False


def test_a_store_being_built_keeps_a_smaller_page_cache_than_one_being_read(tmp_path):
    from mcpcap.core import store

    path = tmp_path / "s.sqlite"
    building = store.connect(path)
    reading = store.connect(path, readonly=True)
    try:
        sizes = [db.execute("PRAGMA cache_size").fetchone()[0] for db in (building, reading)]
    finally:
        building.close()
        reading.close()
    assert sizes == [-store.BUILD_CACHE_KIB, -store.READ_CACHE_KIB]
    assert store.BUILD_CACHE_KIB < store.READ_CACHE_KIB
