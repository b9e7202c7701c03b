"""The result store under faults: killed builds, signals, unwritable caches, eviction under
readers, odd cache paths, captures changed in place, and `--rescan`."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from mcpcap.cli import build_parser
from mcpcap.core import store
from mcpcap.core.config import build_settings
from mcpcap.core.service import Analyzer

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A capture big enough that its scan can be interrupted (about a second)."""
    from benchmarks.generate import generate

    path = tmp_path_factory.mktemp("gen") / "gen.pcap"
    generate(path, 60_000, seed=5, write_truth=False)
    return path


@pytest.fixture
def capture(tmp_path, example) -> Path:
    copy = tmp_path / "copy.pcap"
    shutil.copyfile(example, copy)
    return copy


def summary_of(settings, path: Path) -> dict:
    with Analyzer(settings).analyze(path, path.name) as analysis:
        return analysis.summary()


def results(cache: Path) -> list[str]:
    folder = cache / "results"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


# ------------------------------------------------------------------ 6: kills and signals
# the child's launcher: SIGTERM and SIGINT at their defaults and SIGHUP as asked (argv[1]),
# then `mcpcap`, which keeps them across exec (an ignored signal stays ignored, as `nohup`
# leaves SIGHUP)
_LAUNCH = (
    "import os, signal, sys; "
    "signal.signal(signal.SIGTERM, signal.SIG_DFL); "
    "signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "signal.signal(signal.SIGHUP, getattr(signal, sys.argv[1])); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])"
)


@pytest.fixture
def start_scan():
    """Starts `mcpcap analyze` in a session of its own, with SIGHUP, SIGTERM and SIGINT at
    their defaults whatever the test runner's are (`ignore_hangups`: SIGHUP ignored, as
    `nohup` starts it); whatever is left of it goes at the end (a test that fails must not
    leave a hung scan behind)."""
    started: list[subprocess.Popen] = []

    def start(capture: Path, cache: Path, *, ignore_hangups: bool = False) -> subprocess.Popen:
        env = {**os.environ, "MCPCAP_CACHE_DIR": str(cache), "PYTHONPATH": str(REPO)}
        hangup = "SIG_IGN" if ignore_hangups else "SIG_DFL"
        cmd = [sys.executable, "-c", _LAUNCH, hangup,
               "-m", "mcpcap", "analyze", "--workers", "2", str(capture)]  # fmt: skip
        started.append(
            subprocess.Popen(
                cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                start_new_session=True,
            )
        )  # fmt: skip
        return started[-1]

    yield start
    for proc in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _when_building(proc: subprocess.Popen, cache: Path) -> None:
    """Wait until the scan has its temporary store (it is then well into the scan)."""
    deadline = time.monotonic() + 60
    while not any(name.endswith(".tmp") for name in results(cache)):
        assert proc.poll() is None, "the scan ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.2)


def test_a_killed_build_leaves_a_temporary_that_the_next_start_removes(
    generated, private_cache, example, start_scan
) -> None:
    proc = start_scan(generated, private_cache)
    _when_building(proc, private_cache)
    os.kill(proc.pid, signal.SIGKILL)  # the scanning process only: its workers die with it
    _, stderr = proc.communicate(timeout=30)  # ends when the workers let go of stderr
    assert stderr.decode() == ""  # no worker complains that its results have nowhere to go
    assert any(name.endswith(".tmp") for name in results(private_cache))
    summary_of(build_settings({}), example)  # another capture: the next start sweeps
    left = results(private_cache)
    assert not [name for name in left if name.endswith((".tmp", ".lock"))], left
    assert len(left) == 1


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
@pytest.mark.parametrize("group", [False, True], ids=["process", "group"])
def test_a_signal_ends_a_scan_quietly_and_removes_its_temporary(
    generated, private_cache, signum, group, start_scan
) -> None:
    proc = start_scan(generated, private_cache)
    _when_building(proc, private_cache)
    (os.killpg if group else os.kill)(proc.pid, signum)
    _, stderr = proc.communicate(timeout=60)
    text = stderr.decode()
    assert proc.returncode == 130, text
    assert "Traceback" not in text and "Error" not in text, text
    assert text.strip() == "mcpcap: interrupted"
    assert results(private_cache) == []


def test_a_scan_started_to_ignore_hangups_goes_on_after_one(
    generated, private_cache, start_scan
) -> None:
    """`nohup mcpcap analyze ...`: the hangup it was started to ignore stays ignored."""
    proc = start_scan(generated, private_cache, ignore_hangups=True)
    _when_building(proc, private_cache)
    os.killpg(proc.pid, signal.SIGHUP)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr.decode()
    left = results(private_cache)
    assert len(left) == 1 and left[0].endswith(".sqlite"), left  # the store, complete


def test_a_live_build_keeps_its_temporary_and_it_counts_against_the_cap(
    tmp_path, capture, private_cache
) -> None:
    settings = build_settings({})
    summary_of(settings, capture)
    folder = private_cache / "results"
    (built,) = folder.glob("*.sqlite")
    key = "f" * 32
    tmp = folder / f"{key}.abc123.tmp"
    tmp.write_bytes(b"\0" * 1000)
    cache = store.ResultStore(folder, max_bytes=built.stat().st_size + 500)
    with store._file_lock(folder / f"{key}.lock") as held:  # as a build in progress holds it
        assert held
        assert cache.sweep() == []
        assert cache.evict() == [built]  # the temporary's bytes pushed the store out
        assert tmp.exists()
    assert cache.sweep() == [tmp]  # its builder is gone now
    assert results(private_cache) == []


# ------------------------------------------------------------------ 8: unwritable caches
def _unwritable_under_a_file(private_cache: Path) -> Path:
    blocker = private_cache / "a-file"
    blocker.write_text("not a folder")
    return blocker / "cache"  # ENOTDIR on every write, whoever runs the test


@contextlib.contextmanager
def _mounted_tmpfs(where: Path, options: str):
    where.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True
    )
    if made.returncode:
        pytest.skip(f"this machine cannot mount a tmpfs: {made.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _check_fallback(cache_dir: Path, capture: Path, expected: dict, monkeypatch) -> None:
    monkeypatch.setenv("MCPCAP_CACHE_DIR", str(cache_dir))
    with Analyzer(build_settings({})).analyze(capture, capture.name) as analysis:
        summary = analysis.summary()
        warnings = summary["capture"].pop("warnings")
        folder = analysis._cleanup
        assert folder is not None and folder.is_dir()
    assert not folder.exists()  # the temporary folder goes with the analysis
    assert len(warnings) == 1 and "cache folder cannot be written" in warnings[0]
    expected["capture"].pop("warnings")
    assert summary == expected


def test_a_cache_under_a_file_falls_back_to_an_uncached_analysis(
    capture, private_cache, monkeypatch
) -> None:
    expected = summary_of(build_settings({}), capture)
    _check_fallback(_unwritable_under_a_file(private_cache), capture, expected, monkeypatch)


def test_a_read_only_cache_falls_back_to_an_uncached_analysis(
    capture, private_cache, tmp_path, monkeypatch
) -> None:
    expected = summary_of(build_settings({}), capture)
    if os.geteuid() != 0:  # chmod stops writes for anyone but root
        folder = tmp_path / "ro"
        (folder / "results").mkdir(parents=True)
        (folder / "results").chmod(0o555)
        try:
            _check_fallback(folder, capture, expected, monkeypatch)
        finally:
            (folder / "results").chmod(0o755)
        return
    with _mounted_tmpfs(tmp_path / "ro", "ro,size=1m") as folder:
        _check_fallback(folder, capture, expected, monkeypatch)


def test_a_full_cache_falls_back_to_an_uncached_analysis(
    capture, private_cache, tmp_path, monkeypatch
) -> None:
    expected = summary_of(build_settings({}), capture)
    with _mounted_tmpfs(tmp_path / "full", "size=64k") as folder:
        _check_fallback(folder, capture, expected, monkeypatch)
        assert results(folder) == []  # nothing half-written stays behind


def test_when_no_folder_can_be_written_the_error_is_one_sentence(
    capture, private_cache, monkeypatch
) -> None:
    monkeypatch.setenv("MCPCAP_CACHE_DIR", str(_unwritable_under_a_file(private_cache)))
    monkeypatch.setattr(tempfile, "tempdir", str(private_cache / "a-file" / "tmp"))
    with pytest.raises(store.StorageError) as caught:
        Analyzer(build_settings({})).analyze(capture, "copy.pcap")
    message = str(caught.value)
    assert message.startswith("cannot analyse copy.pcap: neither the cache folder nor")
    assert "\n" not in message and str(private_cache) not in message
    assert caught.value.code == "storage_error"


def test_the_command_line_warns_once_and_answers(capture, private_cache) -> None:
    env = {
        **os.environ,
        "MCPCAP_CACHE_DIR": str(_unwritable_under_a_file(private_cache)),
        "PYTHONPATH": str(REPO),
    }
    done = subprocess.run(
        [sys.executable, "-m", "mcpcap", "analyze", str(capture)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("cache folder cannot be written") == 1
    assert "Traceback" not in done.stderr
    assert '"packets"' in done.stdout


# ------------------------------------------------------------------ 9: eviction and readers
def test_a_store_being_read_is_not_evicted(tmp_path, example, private_cache) -> None:
    paths = []
    for i in range(2):
        paths.append(tmp_path / f"c{i}.pcap")
        shutil.copyfile(example, paths[-1])
    settings = build_settings({})
    settings.cache_max_bytes = 1  # every store is over the cap
    analyzer = Analyzer(settings)
    with analyzer.analyze(paths[0], "c0.pcap") as reading:
        (first,) = (private_cache / "results").glob("*.sqlite")
        summary_of(settings, paths[1])  # its eviction must skip the store being read
        assert first.exists()
        from mcpcap.modules.dns.tui.rows import reader

        second_door = reader(reading.db)  # what the TUI's worker threads open by path
        assert second_door.execute("SELECT count(*) FROM dns_transactions").fetchone()[0] > 0
        second_door.close()
    store.ResultStore(private_cache / "results", 1).evict()
    assert not first.exists()  # no longer read: evicted


def test_a_store_evicted_before_its_reader_locks_it_is_rebuilt(
    capture, private_cache, scans, monkeypatch
) -> None:
    settings = build_settings({})
    summary_of(settings, capture)
    real = store.is_valid

    def evicted_meanwhile(path: Path, key: str) -> bool:
        valid = real(path, key)
        monkeypatch.setattr(store, "is_valid", real)
        return valid

    lookups = []
    real_take = store.Lease.take

    def take_after_eviction(path: Path):
        if not lookups and path.suffix == ".sqlite":
            lookups.append(path)
            path.unlink()  # another process's eviction, just before this reader locks it
        return real_take(path)

    monkeypatch.setattr(store.Lease, "take", staticmethod(take_after_eviction))
    monkeypatch.setattr(store, "is_valid", evicted_meanwhile)
    again = summary_of(settings, capture)
    assert lookups and len(scans) == 2  # rebuilt, not an "unable to open database file"
    assert again["capture"]["packets"] > 0


# ------------------------------------------------------------------ 10: odd cache paths
@pytest.mark.parametrize("odd", ["with#hash", "with?query", "with%25percent", "spa ce&amp"])
def test_a_cache_path_with_uri_characters_works(capture, tmp_path, odd, scans, monkeypatch) -> None:
    cache = tmp_path / odd / "cache"
    monkeypatch.setenv("MCPCAP_CACHE_DIR", str(cache))
    before = sorted(p.name for p in tmp_path.iterdir())
    first = summary_of(build_settings({}), capture)
    second = summary_of(build_settings({}), capture)
    assert first == second and len(scans) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*before, odd])  # nothing else
    assert len(list(cache.rglob("*.sqlite"))) == 1


# ------------------------------------------------------------------ 11: changed in place
@pytest.fixture
def big_copy(tmp_path, generated) -> Path:
    """A capture larger than the two blocks the fingerprint reads."""
    copy = tmp_path / "big.pcap"
    with generated.open("rb") as src, copy.open("wb") as dst:
        dst.write(src.read(2_000_000))  # a cut pcap is still a pcap (with a warning)
    return copy


def _flip_middle(path: Path) -> None:
    """Change a byte in the middle, keeping the size and the modification time."""
    stat = path.stat()
    with path.open("r+b") as fh:
        fh.seek(stat.st_size // 2)
        byte = fh.read(1)
        fh.seek(stat.st_size // 2)
        fh.write(bytes([byte[0] ^ 0xFF]))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    assert path.stat().st_mtime_ns == stat.st_mtime_ns


def test_a_capture_edited_in_place_with_its_mtime_restored_is_rescanned(big_copy, scans) -> None:
    settings = build_settings({"no_cache": False})
    summary_of(settings, big_copy)
    _flip_middle(big_copy)
    summary_of(settings, big_copy)
    assert len(scans) == 2


def test_a_same_size_file_moved_over_with_the_same_mtime_is_rescanned(
    big_copy, tmp_path, scans
) -> None:
    settings = build_settings({})
    summary_of(settings, big_copy)
    other = tmp_path / "other.pcap"
    shutil.copyfile(big_copy, other)
    _flip_middle(other)
    stat = big_copy.stat()
    os.utime(other, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # touch -r
    os.replace(other, big_copy)
    summary_of(settings, big_copy)
    assert len(scans) == 2


def test_rescan_rebuilds_once_per_process(capture, scans) -> None:
    assert build_parser().parse_args(["analyze", "--rescan", "x.pcap"]).rescan is True
    summary_of(build_settings({}), capture)
    settings = build_settings({"rescan": True})
    analyzer = Analyzer(settings)
    assert not analyzer.is_cached(capture)
    for _ in range(2):
        with analyzer.analyze(capture, capture.name) as analysis:
            analysis.summary()
    assert len(scans) == 2  # the first analysis, then one rescan
    assert analyzer.is_cached(capture)


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_over_mcp_an_unwritable_cache_is_a_warning_in_the_reply(
    private_cache, monkeypatch, anyio_backend
) -> None:
    from mcp import Client

    from mcpcap.core.workspace import Workspace
    from mcpcap.server.app import build_server

    monkeypatch.setenv("MCPCAP_CACHE_DIR", str(_unwritable_under_a_file(private_cache)))
    settings = build_settings({})
    workspace = Workspace(settings)
    try:
        async with Client(build_server(workspace, settings)) as client:
            result = await client.call_tool("capture_info", {"capture": "example.pcap"})
    finally:
        workspace.close()
    assert not result.is_error, result.content
    warnings = result.structured_content["capture"]["warnings"]
    assert any("cache folder cannot be written" in w for w in warnings)
