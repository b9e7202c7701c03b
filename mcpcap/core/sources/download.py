"""The download cache: streamed, capped, checked, atomic, revalidated and single-flight.

Layout under `<cache_dir>/remote/`: `<key><ext>` (the capture), `<key>.json` (ETag,
Last-Modified, size, when last validated) and `locks/<key>.lock`; `key` is a hash of the URL without
credentials, so no name on disk holds a secret. A download goes to `.<key>.*.part` and replaces
the cached copy only when it is complete, of the announced length and starts like a capture.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

from mcpcap.core.errors import CancelledError, DownloadError, NotACaptureError
from mcpcap.core.formats import sniff
from mcpcap.core.sources.http import HttpSession, status_error
from mcpcap.core.sources.urls import RemoteBase

if TYPE_CHECKING:
    from collections.abc import Iterator

Progress = Callable[[int, "int | None"], None]
CHUNK = 64 * 1024
SNIFF_AT = 4096

_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


def _thread_lock(key: str) -> threading.Lock:
    with _thread_locks_guard:
        return _thread_locks.setdefault(key, threading.Lock())


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An advisory lock across processes (POSIX flock; a no-op where there is none)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class DownloadCache:
    def __init__(self, cache_dir: Path, http: HttpSession, max_bytes: int) -> None:
        self.folder = Path(cache_dir) / "remote"
        self.http = http
        self.max_bytes = max_bytes

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
        with _thread_lock(str(data)), _file_lock(lock):
            meta = _read_meta(meta_path) if data.is_file() else {}
            if meta.get("validated_at", 0) >= asked_at:
                return data
            self._transfer(base, url, what, data, meta_path, meta, progress, cancel)
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

        fd, part = tempfile.mkstemp(dir=self.folder, prefix=f".{data.stem}.", suffix=".part")
        done = 0
        try:
            with os.fdopen(fd, "wb") as out:
                head = b""
                for chunk in response.iter_raw(CHUNK):
                    if cancel is not None and cancel.is_set():
                        raise CancelledError(f"{what}: download cancelled")
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
            with suppress(FileNotFoundError):
                os.unlink(part)


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
