"""Hostile and slow servers: a real HTTP server on 127.0.0.1 that drips, stalls or serves big
files. Downloads end by their deadline or minimum rate, honour cancellation (also while waiting
for another transfer), leave no `.part`, and count against the one cache cap."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mcpcap.core.config import Settings, build_settings
from mcpcap.core.errors import CancelledError, DownloadError
from mcpcap.core.service import Analyzer
from mcpcap.core.sources import SourceRegistry
from mcpcap.core.sources import download as download_module
from tests.core.fault_captures import PCAP_HEADER, dns_records

BIG = 400_000  # bytes of each "big" capture


class Dripping(BaseHTTPRequestHandler):
    """/drip.pcap: a capture header, then one byte every `gap` seconds of a long body;
    /stall.pcap: the header, then nothing; /bigN.pcap: a whole capture of about BIG bytes."""

    gap = 0.1
    served: dict[str, list[str]]  # path -> events ("start", "gone")

    def log_message(self, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self._headers(self._body_length())

    def do_GET(self) -> None:
        events = self.served.setdefault(self.path, [])
        events.append("start")
        length = self._body_length()
        if length is None:
            self.send_error(404)
            return
        self._headers(length)
        try:
            if self.path.startswith("/big"):
                self.wfile.write(_big(self.path))
            else:
                self._trickle(self.path == "/drip.pcap")
        except OSError:
            events.append("gone")  # the client closed the connection

    def _trickle(self, drip: bool) -> None:
        self.wfile.write(PCAP_HEADER)
        self.wfile.flush()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(self.gap)
            if drip:
                self.wfile.write(b"\0")
                self.wfile.flush()
            else:  # send nothing, but notice a client that went away
                self.connection.settimeout(0.01)
                try:
                    if self.connection.recv(1, 0x40) == b"":  # MSG_DONTWAIT
                        raise ConnectionResetError
                except (BlockingIOError, TimeoutError):
                    pass

    def _body_length(self) -> int | None:
        if self.path in ("/drip.pcap", "/stall.pcap"):
            return 10_000_000
        if self.path.startswith("/big") and self.path.endswith(".pcap"):
            return len(_big(self.path))
        return None

    def _headers(self, length: int | None) -> None:
        if length is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(length))
        self.end_headers()


def _big(path: str) -> bytes:
    seed = int(path[4:-5] or 0)
    return PCAP_HEADER + dns_records(BIG // 187, start=1_714_557_600 + seed * 1000)


@contextmanager
def dripping_server() -> Iterator[tuple[str, dict[str, list[str]]]]:
    served: dict[str, list[str]] = {}
    handler = type("Handler", (Dripping,), {"served": served})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def site(monkeypatch, tmp_path):
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    with dripping_server() as found:
        yield found


def registry_for(tmp_path: Path, url: str, **extra) -> SourceRegistry:
    settings = Settings(pcap_urls=[url], cache_dir=tmp_path / "cache", **extra)
    return SourceRegistry(settings)


def leftovers(tmp_path: Path) -> list[str]:
    folder = tmp_path / "cache" / "remote"
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_file())


def _gone(served: dict[str, list[str]], path: str, timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "gone" in served.get(path, []):
            return True
        time.sleep(0.05)
    return False


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("MCPCAP_DOWNLOAD_TIMEOUT", "2.5")
    monkeypatch.setenv("MCPCAP_DOWNLOAD_MIN_RATE", "100")
    settings = build_settings({})
    assert (settings.download_timeout, settings.download_min_rate) == (2.5, 100)


def test_a_dripping_server_meets_the_deadline(site, tmp_path):
    url, served = site
    seen: list[tuple[int, int | None]] = []
    with registry_for(tmp_path, url + "/drip.pcap", download_timeout=1.5) as registry:
        started = time.monotonic()
        with pytest.raises(DownloadError) as caught:
            registry.open_local(registry.resolve("drip.pcap"), lambda d, t: seen.append((d, t)))
        took = time.monotonic() - started
    assert 1.5 <= took < 5
    assert str(caught.value).startswith("drip.pcap: the download did not finish within 1.5 s (")
    assert "MCPCAP_DOWNLOAD_TIMEOUT" in str(caught.value)
    assert url not in str(caught.value)
    assert seen and seen[-1][1] == 10_000_000 and seen[-1][0] > 24  # progress as bytes came
    assert leftovers(tmp_path) == []
    assert _gone(served, "/drip.pcap")


def test_a_stalled_server_is_too_slow_and_progress_goes_on(site, tmp_path, monkeypatch):
    """Nothing comes after the header: below any minimum rate, told while waiting."""
    monkeypatch.setattr(download_module, "RATE_WINDOW", 1.0)
    url, served = site
    seen: list[tuple[int, int | None]] = []
    with registry_for(tmp_path, url + "/stall.pcap", download_min_rate=1000) as registry:
        started = time.monotonic()
        with pytest.raises(DownloadError) as caught:
            registry.open_local(registry.resolve("stall.pcap"), lambda d, t: seen.append((d, t)))
        took = time.monotonic() - started
    assert took < 5  # the read timeout (30 s) is not what ended it
    message = str(caught.value)
    assert re.match(r"stall\.pcap: the server sent \d+ bytes/s over the last 1 s, ", message)
    assert "below the minimum of 1000 bytes/s (MCPCAP_DOWNLOAD_MIN_RATE" in message
    assert len(seen) >= 3 and all(done == 24 for done, _ in seen)  # reports while stalled
    assert leftovers(tmp_path) == []
    assert _gone(served, "/stall.pcap")


def test_cancelling_a_stalled_download_stops_it_at_once(site, tmp_path):
    url, served = site
    cancel = threading.Event()
    with registry_for(tmp_path, url + "/stall.pcap") as registry:
        resolved = registry.resolve("stall.pcap")
        threading.Timer(0.5, cancel.set).start()
        started = time.monotonic()
        with pytest.raises(CancelledError):
            registry.open_local(resolved, cancel=cancel)
        assert time.monotonic() - started < 2
    assert leftovers(tmp_path) == []
    assert _gone(served, "/stall.pcap")


def test_a_repeat_call_waiting_for_the_transfer_can_cancel_and_is_not_held(site, tmp_path):
    url, _ = site
    with registry_for(tmp_path, url + "/drip.pcap", download_timeout=3) as registry:
        resolved = registry.resolve("drip.pcap")
        first: list[BaseException] = []

        def download() -> None:
            try:
                registry.open_local(resolved)
            except BaseException as exc:
                first.append(exc)

        holder = threading.Thread(target=download)
        holder.start()
        time.sleep(0.5)
        cancel = threading.Event()
        ticks: list[int] = []

        def waiting(done: int, total: int | None) -> None:
            ticks.append(done)
            cancel.set()  # a client that gives up while the other transfer runs

        started = time.monotonic()
        with pytest.raises(CancelledError):
            registry.open_local(resolved, waiting, cancel)
        assert time.monotonic() - started < 2
        assert ticks
        # a patient repeat call ends too: with the first transfer's deadline, not forever
        started = time.monotonic()
        with pytest.raises(DownloadError, match="did not finish within 3 s"):
            registry.open_local(resolved)
        assert time.monotonic() - started < 10
        holder.join(10)
        assert len(first) == 1 and "did not finish within 3 s" in str(first[0])
    assert leftovers(tmp_path) == []


def test_a_killed_transfer_leaves_no_part_behind(site, tmp_path):
    """A `.part` from a process killed mid-transfer goes with the next download of that URL."""
    url, _ = site
    with registry_for(tmp_path, url + "/big1.pcap") as registry:
        resolved = registry.resolve("big1.pcap")
        data, _, _ = registry._downloads().paths(resolved.location)
        data.parent.mkdir(parents=True, exist_ok=True)
        (data.parent / f".{data.stem.split('.')[0]}.k1ll3d.part").write_bytes(b"x" * 1000)
        path = registry.open_local(resolved)
    assert path.read_bytes() == _big("/big1.pcap")
    assert [name for name in leftovers(tmp_path) if name.endswith(".part")] == []


def _cache_bytes(tmp_path: Path) -> int:
    folder = tmp_path / "cache"
    return sum(
        p.stat().st_size
        for p in folder.rglob("*")
        if p.is_file() and p.parent.name != "locks" and not p.name.endswith(".lock")
    )


def test_downloads_count_against_the_cache_cap(site, tmp_path):
    url, _ = site
    size = len(_big("/big1.pcap"))
    cap = int(2.5 * size)
    urls = [f"{url}/big{n}.pcap" for n in (1, 2, 3)]
    settings = Settings(pcap_urls=urls, cache_dir=tmp_path / "cache", cache_max_bytes=cap)
    with SourceRegistry(settings) as registry:
        paths = []
        for n in (1, 2, 3):
            paths.append(registry.open_local(registry.resolve(f"big{n}.pcap")))
            time.sleep(0.05)  # distinct times of last use
            assert _cache_bytes(tmp_path) <= cap
    assert [p.exists() for p in paths] == [False, True, True]  # the least recently used went


def test_downloads_and_stores_share_one_cap_least_recently_used_first(site, tmp_path):
    url, _ = site
    size = len(_big("/big1.pcap"))
    sample = tmp_path / "sample.pcap"
    sample.write_bytes(_big("/big9.pcap"))
    with Analyzer(Settings(cache_dir=tmp_path / "measure")).analyze(sample, "sample"):
        pass
    store_size = next((tmp_path / "measure" / "results").glob("*.sqlite")).stat().st_size
    cap = store_size + int(1.5 * size)  # one store and one download, or two downloads
    urls = [f"{url}/big{n}.pcap" for n in (1, 2, 3)]
    settings = Settings(pcap_urls=urls, cache_dir=tmp_path / "cache", cache_max_bytes=cap)
    results = tmp_path / "cache" / "results"
    with SourceRegistry(settings) as registry:
        first = registry.open_local(registry.resolve("big1.pcap"))
        time.sleep(0.05)
        with Analyzer(settings).analyze(first, "big1"):
            pass
        (store,) = results.glob("*.sqlite")
        time.sleep(0.05)
        second = registry.open_local(registry.resolve("big2.pcap"))
        assert (first.exists(), store.exists(), second.exists()) == (False, True, True)
        assert _cache_bytes(tmp_path) <= cap
        time.sleep(0.05)
        third = registry.open_local(registry.resolve("big3.pcap"))
        assert (store.exists(), second.exists(), third.exists()) == (False, True, True)
        assert _cache_bytes(tmp_path) <= cap


def test_the_cap_counts_downloads_when_a_store_is_evicted(site, tmp_path):
    """The store's own eviction (after a scan) counts what the download cache holds."""
    url, _ = site
    size = len(_big("/big1.pcap"))
    settings = Settings(
        pcap_urls=[f"{url}/big1.pcap"], cache_dir=tmp_path / "cache", cache_max_bytes=size + 1000
    )
    local = tmp_path / "local.pcap"
    local.write_bytes(_big("/big7.pcap"))
    analyzer = Analyzer(settings)
    with analyzer.analyze(local, "local"):
        pass
    old_store = next((tmp_path / "cache" / "results").glob("*.sqlite"))
    os.utime(old_store, (1, 1))  # long unused
    with SourceRegistry(settings) as registry:
        downloaded = registry.open_local(registry.resolve("big1.pcap"))
    assert downloaded.exists()
    assert not old_store.exists()
    assert _cache_bytes(tmp_path) <= size + 1000
