"""The download cache: streamed, capped, checked, atomic, revalidated and single-flight.

Layout under `<cache_dir>/remote/`: `<key><ext>` (the capture), `<key>.json` (ETag,
Last-Modified, size, when last validated) and `locks/<key>.lock`; `key` is a hash of the URL without
credentials, so no name on disk holds a secret. A download goes to `.<key>.*.part` and replaces
the cached copy only when it is complete, of the announced length and starts like a capture.

A download ends, discarded, when it exceeds its total deadline (`download_timeout`) or keeps
below the minimum rate (`download_min_rate`, judged over `RATE_WINDOW` seconds), or when it is
cancelled; the body is read by a helper thread, so these are checked every `POLL` seconds even
while the server sends nothing, and progress is reported meanwhile. A caller waiting for another
transfer of the same URL honours its own cancellation. Leftover `.part` files (a killed process)
are removed. Downloads count against the one cache cap (`cache_max_bytes`) with the result
stores: after a transfer, the least recently used of both go first.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import socket
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

from mcpcap.core.config import DEFAULT_DOWNLOAD_MIN_RATE, DEFAULT_DOWNLOAD_TIMEOUT
from mcpcap.core.errors import CancelledError, DownloadError, NotACaptureError
from mcpcap.core.formats import sniff
from mcpcap.core.sources.http import HttpSession, status_error
from mcpcap.core.sources.urls import RemoteBase

if TYPE_CHECKING:
    from collections.abc import Iterator

Progress = Callable[[int, "int | None"], None]
CHUNK = 64 * 1024
SNIFF_AT = 4096
POLL = 0.2  # seconds between two checks (cancellation, deadline, rate) of a waiting download
RATE_WINDOW = 30.0  # seconds over which the minimum rate is judged
PUMP_DEPTH = 16  # chunks the reading thread may hold before the writer takes them
JOIN_TIMEOUT = 5.0

_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


@contextmanager
def _thread_lock(key: str, waiting: _Waiting) -> Iterator[None]:
    with _thread_locks_guard:
        lock = _thread_locks.setdefault(key, threading.Lock())
    while not lock.acquire(timeout=POLL):
        waiting.tick()
    try:
        yield
    finally:
        lock.release()


@contextmanager
def _file_lock(path: Path, waiting: _Waiting) -> Iterator[None]:
    """An advisory lock across processes (POSIX flock; a no-op where there is none)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "a+b") as fh:
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waiting.tick()
                time.sleep(POLL)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class DownloadCache:
    def __init__(self, cache_dir: Path, http: HttpSession, max_bytes: int) -> None:
        self.folder = Path(cache_dir) / "remote"
        self.http = http
        self.max_bytes = max_bytes
        settings = http.settings
        self.timeout = getattr(settings, "download_timeout", DEFAULT_DOWNLOAD_TIMEOUT)
        self.min_rate = getattr(settings, "download_min_rate", DEFAULT_DOWNLOAD_MIN_RATE)
        self.cache_max_bytes = getattr(settings, "cache_max_bytes", None)

    def paths(self, url: str) -> tuple[Path, Path, Path]:
        """(data, meta, lock) for a URL (without credentials)."""
        key = hashlib.sha256(url.encode()).hexdigest()[:32]
        ext = _extension(url)
        return (
            self.folder / f"{key}{ext}",
            self.folder / f"{key}.json",
            self.folder / "locks" / f"{key}.lock",
        )

    def fetch(
        self,
        base: RemoteBase,
        url: str,
        what: str,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> Path:
        """The cached copy of `url`, downloaded or revalidated first.

        Callers asking for the same URL at once share one transfer: whoever waited on the
        lock finds a copy validated after it started waiting and uses it as it is.
        """
        (self.folder / "locks").mkdir(parents=True, exist_ok=True, mode=0o700)
        data, meta_path, lock = self.paths(url)
        asked_at = time.time()
        waiting = _Waiting(what, self.timeout, cancel, progress)
        with _thread_lock(str(data), waiting), _file_lock(lock, waiting):
            _remove_parts(self.folder, data.stem)  # a killed transfer's; only the holder writes
            meta = _read_meta(meta_path) if data.is_file() else {}
            if meta.get("validated_at", 0) >= asked_at:
                return data
            self._transfer(base, url, what, data, meta_path, meta, progress, cancel)
        if self.cache_max_bytes is not None:
            fit_cache(self.folder.parent, self.cache_max_bytes, keep=data)
        return data

    def _transfer(self, base, url, what, data, meta_path, meta, progress, cancel) -> None:
        headers = {"Accept-Encoding": "identity"}
        if meta.get("etag"):
            headers["If-None-Match"] = meta["etag"]
        if meta.get("last_modified"):
            headers["If-Modified-Since"] = meta["last_modified"]
        with self.http.open("GET", base, url, what, headers) as response:
            if response.status_code == 304 and meta:
                _write_meta(meta_path, {**meta, "validated_at": time.time()})
                if progress:
                    progress(meta.get("size", 0), meta.get("size"))
                return
            if response.status_code != 200:
                raise status_error(what, response.status_code)
            total = _length(response.headers.get("content-length"))
            if total is not None and total > self.max_bytes:
                raise DownloadError(
                    f"{what}: {_size(total)} is more than the download limit of "
                    f"{_size(self.max_bytes)}; refused"
                )
            size = self._stream(response, what, data, total, progress, cancel)
            _write_meta(
                meta_path,
                {
                    "etag": response.headers.get("etag"),
                    "last_modified": response.headers.get("last-modified"),
                    "size": size,
                    "validated_at": time.time(),
                },
            )

    def _stream(self, response, what, data: Path, total, progress, cancel) -> int:
        import httpx

        limits = _Limits(what, self.timeout, self.min_rate, cancel)
        fd, part = tempfile.mkstemp(dir=self.folder, prefix=f".{data.stem}.", suffix=".part")
        done = 0
        pump = _Pump(response)
        try:
            with os.fdopen(fd, "wb") as out:
                head = b""
                while True:
                    chunk = pump.get(POLL)
                    limits.check(done)
                    if chunk is None:  # nothing yet: say so, so the caller may cancel
                        if progress:
                            progress(done, total)
                        continue
                    if not chunk:
                        break
                    done += len(chunk)
                    if done > self.max_bytes:
                        raise DownloadError(
                            f"{what}: more than the download limit of "
                            f"{_size(self.max_bytes)}; stopped and discarded"
                        )
                    if head is not None:
                        head += chunk
                        if len(head) >= SNIFF_AT:
                            _check_magic(head, what, response)
                            head = None
                    out.write(chunk)
                    if progress:
                        progress(done, total)
                if head is not None:
                    _check_magic(head, what, response)
                if total is not None and done != total:
                    raise DownloadError(
                        f"{what}: the server announced {total} bytes but sent {done}; discarded"
                    )
                out.flush()
                os.fsync(out.fileno())
            os.replace(part, data)
            return done
        except httpx.HTTPError as exc:
            done = max(done, response.num_bytes_downloaded)
            got = f"{done} of {total}" if total is not None else str(done)
            raise DownloadError(
                f"{what}: the transfer broke after {got} bytes ({type(exc).__name__}); discarded"
            ) from None
        finally:
            pump.stop()
            with suppress(FileNotFoundError):
                os.unlink(part)


class _Limits:
    """The deadline, the minimum rate and cancellation of one transfer."""

    def __init__(
        self, what: str, timeout: float, min_rate: int, cancel: threading.Event | None
    ) -> None:
        self.what = what
        self.timeout = timeout
        self.min_rate = min_rate
        self.cancel = cancel
        self.started = time.monotonic()
        self.samples: deque[tuple[float, int]] = deque([(self.started, 0)])

    def check(self, done: int) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise CancelledError(f"{self.what}: download cancelled")
        now = time.monotonic()
        if self.timeout and now - self.started > self.timeout:
            raise DownloadError(
                f"{self.what}: the download did not finish within {self.timeout:g} s "
                f"({done} bytes received; MCPCAP_DOWNLOAD_TIMEOUT sets the limit); discarded"
            )
        if self.min_rate:
            self._check_rate(now, done)

    def _check_rate(self, now: float, done: int) -> None:
        """Bytes over the last RATE_WINDOW seconds (a sample every POLL seconds or so)."""
        samples = self.samples
        if now - samples[-1][0] >= POLL:
            samples.append((now, done))
        while len(samples) > 2 and now - samples[1][0] >= RATE_WINDOW:
            samples.popleft()
        since, then = samples[0]
        if now - since >= RATE_WINDOW and done - then < self.min_rate * (now - since):
            rate = (done - then) / (now - since)
            raise DownloadError(
                f"{self.what}: the server sent {rate:.0f} bytes/s over the last "
                f"{now - since:.0f} s, below the minimum of {self.min_rate} bytes/s "
                "(MCPCAP_DOWNLOAD_MIN_RATE sets it); stopped and discarded"
            )


class _Pump:
    """A response body read by a helper thread, handed over chunk by chunk.

    The caller so keeps control while the server sends nothing; `stop` shuts the connection's
    socket, which ends a read blocked in the helper, and waits for it.
    """

    _END = object()

    def __init__(self, response) -> None:
        self._response = response
        self._queue: queue.Queue = queue.Queue(PUMP_DEPTH)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mcpcap-download", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for chunk in self._response.iter_raw():
                if not self._put(chunk):
                    return
            self._put(self._END)
        except BaseException as exc:  # handed to the caller's thread
            self._put(exc)

    def _put(self, item: object) -> bool:
        while not self._stopped.is_set():
            try:
                self._queue.put(item, timeout=POLL)
                return True
            except queue.Full:
                continue
        return False

    def get(self, timeout: float) -> bytes | None:
        """The next chunk; b"" at the end; None when none came within `timeout`."""
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if item is self._END:
            return b""
        if isinstance(item, BaseException):
            raise item
        return item

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            stream = self._response.extensions.get("network_stream")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if sock is not None:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(JOIN_TIMEOUT)


class _Waiting:
    """A caller waiting for another transfer of the same URL: its cancellation and progress,
    and how long it waits at most (the other transfer's deadline)."""

    def __init__(self, what: str, timeout: float, cancel: threading.Event | None, progress) -> None:
        self.what = what
        self.cancel = cancel
        self.progress = progress
        self.until = time.monotonic() + timeout if timeout else None

    def tick(self) -> None:
        if self.progress:
            self.progress(0, None)
        if self.cancel is not None and self.cancel.is_set():
            raise CancelledError(f"{self.what}: download cancelled")
        if self.until is not None and time.monotonic() > self.until:
            raise DownloadError(
                f"{self.what}: another download of this capture is still running; try again later"
            )


def _remove_parts(folder: Path, key: str) -> None:
    for leftover in folder.glob(f".{key}.*.part"):
        with suppress(OSError):
            leftover.unlink()


def fit_cache(cache_dir: Path, max_bytes: int, keep: Path | None = None) -> None:
    """Keep the whole cache (downloads and result stores) within `max_bytes`.

    Least recently used first, whatever the kind: a download was last used when it was last
    validated (its `.json`), a store when it was last opened (its mtime). Downloads in use by a
    transfer are skipped; stores are left to the store's own eviction, which counts downloads.
    """
    from mcpcap.core import store

    folder = Path(cache_dir) / "remote"
    entries = _downloads(folder) + _stores(Path(cache_dir) / "results")
    total = sum(size for _, size, _ in entries)
    for _, size, path in sorted(entries, key=lambda entry: entry[0]):
        if total <= max_bytes:
            break
        if path == keep:
            continue
        if path.parent == folder:
            if _remove_download(folder, path):
                total -= size
        else:
            total -= size  # the store's eviction below removes it
    store.ResultStore(Path(cache_dir) / "results", max_bytes).evict()


def _downloads(folder: Path) -> list[tuple[float, int, Path]]:
    """(last used, bytes with its metadata and leftovers, data path) of each download."""
    found = []
    for path in _files(folder):
        if path.name.startswith(".") or path.suffix == ".json":
            continue
        meta = path.with_name(f"{path.name.split('.', 1)[0]}.json")
        used = _mtime(meta) or _mtime(path)
        size = sum(_bytes(p) for p in (path, meta, *folder.glob(f".{meta.stem}.*.part")))
        found.append((used, size, path))
    return found


def _stores(folder: Path) -> list[tuple[float, int, Path]]:
    return [(_mtime(path), _bytes(path), path) for path in folder.glob("*.sqlite")]


def _remove_download(folder: Path, data: Path) -> bool:
    """Remove a download with its metadata, unless a transfer of it holds its lock."""
    key = data.name.split(".", 1)[0]
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        fcntl = None
    with open(folder / "locks" / f"{key}.lock", "a+b") as fh:
        if fcntl is not None:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False
        for path in (data, data.with_name(f"{key}.json")):
            with suppress(FileNotFoundError):
                path.unlink()
        _remove_parts(folder, key)
    return True


def _files(folder: Path) -> list[Path]:
    try:
        return [path for path in folder.iterdir() if path.is_file()]
    except OSError:
        return []


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _bytes(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _check_magic(head: bytes, what: str, response) -> None:
    if sniff(head) is not None:
        return
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "text/html" or head.lstrip()[:1] == b"<":
        raise NotACaptureError(f"{what}: the server sent an HTML page, not a capture")
    raise NotACaptureError(f"{what}: not a capture (not pcap, pcapng or gzip of one)")


def _read_meta(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _write_meta(path: Path, meta: dict) -> None:
    fd, part = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".part")
    with os.fdopen(fd, "w") as out:
        json.dump(meta, out)
    os.replace(part, path)


def _length(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def _extension(url: str) -> str:
    from urllib.parse import urlsplit

    name = urlsplit(url).path.rsplit("/", 1)[-1].lower()
    for ext in (".pcapng.gz", ".pcap.gz", ".cap.gz", ".pcapng", ".pcap", ".cap", ".gz"):
        if name.endswith(ext):
            return ext
    return ".bin"


def _size(n: int) -> str:
    value = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} bytes"
