"""The result store: one SQLite file per analysed capture, in the per-user cache folder.

The key covers the file's identity (path, size, modification time, a fingerprint of its first and
last blocks), mcpcap's version and every option that changes results, so a changed file or a new
mcpcap is rescanned and never answered from an old store. A store is written under a temporary
name and renamed only when complete; a lock file makes a second process wait for the first and
then reuse its store. Anything odd about a store file (corrupt, foreign, half-written, another
schema) means it is rebuilt, never trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from mcpcap import __version__

STORE_SCHEMA = "8"
FINGERPRINT_BLOCK = 64 * 1024
STORE_SUFFIX = ".sqlite"
_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


def fingerprint(path: Path) -> str:
    """Identity of a file's contents that costs two block reads, whatever its size."""
    stat = path.stat()
    digest = hashlib.sha256()
    digest.update(f"{path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    with path.open("rb") as fh:
        digest.update(fh.read(FINGERPRINT_BLOCK))
        if stat.st_size > FINGERPRINT_BLOCK:
            fh.seek(max(stat.st_size - FINGERPRINT_BLOCK, FINGERPRINT_BLOCK))
            digest.update(fh.read(FINGERPRINT_BLOCK))
    return digest.hexdigest()


def store_key(path: Path, options: dict) -> str:
    text = json.dumps(
        {
            "file": fingerprint(path),
            "version": __version__,
            "schema": STORE_SCHEMA,
            # `marshal` (message chunks) is only read back by the Python that wrote it
            "python": list(sys.version_info[:2]),
            **options,
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    else:
        db = sqlite3.connect(path, check_same_thread=False)
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-16000")
    return db


def create_meta(db: sqlite3.Connection, key: str) -> None:
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    db.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        [("store_schema", STORE_SCHEMA), ("key", key), ("mcpcap", __version__)],
    )


def mark_complete(db: sqlite3.Connection) -> None:
    db.execute("INSERT OR REPLACE INTO meta VALUES ('complete', '1')")
    db.commit()


def summary_key(module: str, top_n: int) -> str:
    """The meta row holding a module's summary with top lists of `top_n` items."""
    return f"{module}_summary_{top_n}"


def read_meta(db: sqlite3.Connection, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def is_valid(path: Path, key: str) -> bool:
    """A complete store of this key and schema; anything else is rebuilt."""
    try:
        with contextlib.closing(connect(path, readonly=True)) as db:
            return (
                read_meta(db, "key") == key
                and read_meta(db, "store_schema") == STORE_SCHEMA
                and read_meta(db, "complete") == "1"
            )
    except sqlite3.Error:
        return False


class ResultStore:
    """The cache folder of stores, with a size cap (least recently used evicted)."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes

    def path_for(self, key: str) -> Path:
        return self.folder / f"{key}{STORE_SUFFIX}"

    def lookup(self, key: str) -> Path | None:
        path = self.path_for(key)
        if path.is_file() and is_valid(path, key):
            with contextlib.suppress(OSError):
                os.utime(path)  # least recently used is judged by mtime
            return path
        return None

    def get_or_build(self, key: str, build: Callable[[Path], None]) -> Path:
        """The store for `key`, building it once even when threads or processes race."""
        found = self.lookup(key)
        if found:
            return found
        self.folder.mkdir(parents=True, exist_ok=True)
        with _thread_lock(key), _file_lock(self.folder / f"{key}.lock"):
            found = self.lookup(key)
            if found:
                return found
            final = self.path_for(key)
            fd, tmp = tempfile.mkstemp(prefix=f"{key}.", suffix=".tmp", dir=self.folder)
            os.close(fd)
            try:
                os.unlink(tmp)
                build(Path(tmp))
                os.replace(tmp, final)
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        self.evict(keep=final)
        return final

    def evict(self, keep: Path | None = None) -> list[Path]:
        """Remove least recently used stores until the folder fits the cap."""
        stores = []
        for path in self.folder.glob(f"*{STORE_SUFFIX}"):
            with contextlib.suppress(OSError):
                stat = path.stat()
                stores.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in stores) + downloads_bytes(self.folder.parent)
        removed = []
        for _, size, path in sorted(stores):
            if total <= self.max_bytes:
                break
            if keep is not None and path == keep:
                continue
            with contextlib.suppress(OSError):
                path.unlink()
                total -= size
                removed.append(path)
        return removed


def downloads_bytes(cache_dir: Path) -> int:
    """What the download cache (`remote/`) holds: the one cap covers it with the stores (the
    downloads' own eviction is `mcpcap.core.sources.download.fit_cache`)."""
    total = 0
    for path in (cache_dir / "remote").glob("*"):
        with contextlib.suppress(OSError):
            if path.is_file():
                total += path.stat().st_size
    return total


@contextlib.contextmanager
def _thread_lock(key: str) -> Iterator[None]:
    with _thread_locks_guard:
        lock = _thread_locks.setdefault(key, threading.Lock())
    with lock:
        yield


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: threads are still serialised
        yield
        return
    with path.open("a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
