"""The result store: one SQLite file per analysed capture, in the per-user cache folder.

The key covers the file's identity (path, inode, size, modification and change times, a
fingerprint of its first and last blocks), mcpcap's version and every option that changes
results, so a changed file or a new mcpcap is rescanned and never answered from an old store. A
store is written under a temporary name and renamed only when complete; a lock file makes a
second process wait for the first and then reuse its store. Anything odd about a store file
(corrupt, foreign, half-written, another schema) means it is rebuilt, never trusted.

Files are locked with `flock`, so a lock dies with its process:

- `<key>.lock`, held by whoever builds `<key>` (and removed by it when done). A temporary store
  whose key's lock nobody holds was left by a killed process, and is removed.
- the store itself, held shared by every reader (`Lease`) for as long as it reads: eviction
  takes it exclusively without waiting, and skips a store that is being read.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import sqlite3
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

from mcpcap import __version__
from mcpcap.core import addresses
from mcpcap.core.errors import McpcapError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: threads are still serialised
    fcntl = None  # type: ignore[assignment]

# A None parameter binds as NULL either way. Without an adapter of its own, sqlite3 searches the
# adaptation protocols for every one (raising and clearing an AttributeError each time: 260 ns
# a parameter here, against 76 for an int); registered, it is found at once. A scan's rows hold
# about a million of them at 1M packets. `{}.get` gives None for anything, without a Python frame.
sqlite3.register_adapter(type(None), {}.get)

STORE_SCHEMA = "8"
FINGERPRINT_BLOCK = 64 * 1024
STORE_SUFFIX = ".sqlite"
TEMP_SUFFIX = ".tmp"
LOCK_SUFFIX = ".lock"
READ_CACHE_KIB = 16_000  # SQLite's page cache of a connection that answers questions
# ... and of one that builds a store: rows are appended, so few pages are read twice, and a scan
# holds this for its whole length (360k-packet DNS scan: peak 191 -> 179 MiB, no slower)
BUILD_CACHE_KIB = 4_000
# the page size of a new store: a build writes each page once and reads some back (its own
# indexes, the summaries), one system call a page; at 1M packets 16 KiB pages took the
# scanning process 60k -> 15k writes and 0.24 s less CPU (median of 8 interleaved runs)
PAGE_SIZE = 16_384
_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()
_building: set[tuple[Path, Path]] = set()  # (temporary store, lock) of builds in progress


class StorageError(McpcapError):
    """Neither the cache folder nor a temporary folder could hold an analysis."""

    code = "storage_error"


class StoreUnavailable(Exception):
    """The cache folder cannot be written (read-only, full, not a folder): analyse without it."""


def fingerprint(path: Path) -> str:
    """Identity of a file's contents that costs two block reads, whatever its size.

    Besides the two blocks: the resolved path, inode, size, and modification and change times
    (a rewrite that keeps the size and restores the modification time still changes the change
    time, which no program can set; so does replacing the file by another).
    """
    stat = path.stat()
    digest = hashlib.sha256()
    identity = (path.resolve(), stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    digest.update("\0".join(map(str, identity)).encode() + b"\0")
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


def _null(value: None) -> None:
    """None's adapter: NULL, as sqlite3 binds it anyway (see below)."""
    return None


# sqlite3 binds ints, floats and strs at once, but takes every other parameter, None included,
# through its adapter registry: a tuple made and looked up, and then the protocol and None
# itself asked for an adapting method, about 260 ns a None. None's own adapter ends that at
# the look-up (about 120 ns): a scan binds about a million of them at 1M packets (ICMP's and
# TLS's optional fields, conn's VLAN and tunnel columns), on the scanning process's thread.
sqlite3.register_adapter(type(None), _null)


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:  # a URI: `#`, `?` and `%` in the path must be quoted
        uri = f"file:{quote(str(path), safe='/')}?mode=ro"
        db = sqlite3.connect(
            uri, uri=True, check_same_thread=False, factory=addresses.FunctionsConnection
        )
    else:
        db = sqlite3.connect(path, check_same_thread=False, factory=addresses.FunctionsConnection)
        db.execute(f"PRAGMA page_size={PAGE_SIZE}")  # (a store already written keeps its own)
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
    db.execute(f"PRAGMA cache_size=-{READ_CACHE_KIB if readonly else BUILD_CACHE_KIB}")
    addresses.register(db)  # now, before any statement of any thread can run on it
    return db


def create_meta(db: sqlite3.Connection, key: str, capture_key: str | None = None) -> None:
    """`capture_key`: the key a kept store of the same file and options has (the default),
    which its cursors name (`paging.capture_identity`); a store of its own key (an uncached
    analysis) gives cursors that the next analysis of the same file still takes."""
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    db.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        [
            ("store_schema", STORE_SCHEMA),
            ("key", key),
            ("capture_key", capture_key or key),
            ("mcpcap", __version__),
        ],
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


class Lease:
    """A shared lock on a store file, held while the store is read, so eviction skips it."""

    def __init__(self, path: Path, fd: int | None) -> None:
        self.path = path
        self._fd = fd

    @classmethod
    def take(cls, path: Path) -> Lease | None:
        """A lease on the store at `path`, or None when no file is there (or it was just
        removed: a lock on a file that is no longer `path` protects nothing)."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_SH)
            if not _same_file(path, fd):
                os.close(fd)
                return None
        return cls(path, fd)

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


class ResultStore:
    """The cache folder of stores, with a size cap (least recently used evicted)."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self._swept = False

    def path_for(self, key: str) -> Path:
        return self.folder / f"{key}{STORE_SUFFIX}"

    def lookup(self, key: str) -> Path | None:
        path = self.path_for(key)
        if path.is_file() and is_valid(path, key):
            return path
        return None

    def _open_valid(self, key: str) -> Lease | None:
        """A lease on the complete store of `key`, marked as just used; None if there is none."""
        lease = Lease.take(self.path_for(key))
        if lease is None:
            return None
        if not is_valid(lease.path, key):
            lease.release()
            return None
        with contextlib.suppress(OSError):
            os.utime(lease.path)  # least recently used is judged by mtime
        return lease

    def get_or_build(
        self, key: str, build: Callable[[Path], None], *, rebuild: bool = False
    ) -> Lease:
        """A lease on the store for `key`, built once even when threads or processes race
        (`rebuild`: built again even if it exists). Raises `StoreUnavailable` when the cache
        folder cannot be written."""
        if not self._swept:
            self._swept = True
            with contextlib.suppress(OSError):
                self.sweep()
        if not rebuild:
            found = self._open_valid(key)
            if found:
                return found
        try:
            lease = self._build(key, build, rebuild)
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(describe_failure(exc)) from exc
        with contextlib.suppress(OSError):
            self.evict()
        return lease

    def _build(self, key: str, build: Callable[[Path], None], rebuild: bool) -> Lease:
        self.folder.mkdir(parents=True, exist_ok=True)
        with _thread_lock(key), _file_lock(self.folder / f"{key}{LOCK_SUFFIX}"):
            found = None if rebuild else self._open_valid(key)
            if found:
                return found
            fd, tmp = tempfile.mkstemp(prefix=f"{key}.", suffix=TEMP_SUFFIX, dir=self.folder)
            os.close(fd)
            lease = None
            building = (Path(tmp), self.folder / f"{key}{LOCK_SUFFIX}")
            _building.add(building)
            try:
                os.unlink(tmp)
                build(Path(tmp))
                # leased under its temporary name: once renamed, no eviction can take it
                lease = Lease.take(Path(tmp))
                if lease is None:
                    raise FileNotFoundError(errno.ENOENT, "the new store was removed", tmp)
                os.replace(tmp, self.path_for(key))
            except BaseException:
                if lease is not None:
                    lease.release()
                raise
            finally:
                _building.discard(building)
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        lease.path = self.path_for(key)
        return lease

    def sweep(self) -> list[Path]:
        """Remove the temporary stores (and locks) of builds whose process is gone."""
        removed = []
        for tmp in self.folder.glob(f"*{TEMP_SUFFIX}"):
            lock = self.folder / f"{tmp.name.split('.', 1)[0]}{LOCK_SUFFIX}"
            with _file_lock(lock, wait=False) as held:
                if held:  # nobody builds this key: the temporary store is a dead one's
                    with contextlib.suppress(OSError):
                        tmp.unlink()
                        removed.append(tmp)
        return removed

    def fits(self) -> bool:
        """Whether everything the cache holds is within the cap."""
        return self._usage()[1] <= self.max_bytes

    def _usage(self) -> tuple[list[tuple[float, int, Path]], int]:
        """The stores as (mtime, size, path), and the bytes of everything the cap covers
        (stores, temporary stores and downloads)."""
        stores, total = [], 0
        for path in self.folder.glob("*"):  # nothing when the folder is not there yet
            if not path.name.endswith((STORE_SUFFIX, TEMP_SUFFIX)):
                continue
            with contextlib.suppress(OSError):
                stat = path.stat()
                total += stat.st_size
                if path.name.endswith(STORE_SUFFIX):
                    stores.append((stat.st_mtime, stat.st_size, path))
        return stores, total + downloads_bytes(self.folder.parent)

    def evict(self, keep: Path | None = None) -> list[Path]:
        """Remove least recently used stores until the folder fits the cap.

        Dead builds' temporary stores go first; live ones count against the cap but stay, and
        so does every store being read.
        """
        self.sweep()
        stores, total = self._usage()
        removed = []
        for _, size, path in sorted(stores):
            if total <= self.max_bytes:
                break
            if path != keep and _remove_unless_read(path):
                total -= size
                removed.append(path)
        return removed


def abandon_builds() -> None:
    """Remove the temporary stores (and locks) this process is building: it is about to end
    without unwinding (see `service.abandon_scans`)."""
    for paths in list(_building):
        for path in paths:
            with contextlib.suppress(OSError):
                path.unlink()


def describe_failure(exc: BaseException) -> str:
    """A few words on why a folder could not take a store (for a warning or an error)."""
    if isinstance(exc, OSError):
        return exc.strerror or errno.errorcode.get(exc.errno or 0, str(exc))
    return str(exc)


def _same_file(path: Path, fd: int) -> bool:
    """Whether `path` still names the file open as `fd` (it may have been removed or replaced
    while a lock on it was awaited)."""
    try:
        here, held = os.stat(path), os.fstat(fd)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (held.st_dev, held.st_ino)


def _remove_unless_read(path: Path) -> bool:
    """Remove a store nobody holds a lease on; False when it is being read (or is gone)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            if not _same_file(path, fd):
                return False
        os.unlink(path)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


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
def _file_lock(path: Path, *, wait: bool = True) -> Iterator[bool]:
    """An exclusive lock on the file `path` (made if missing, removed when released); yields
    False when `wait` is False and another process holds it."""
    if fcntl is None:  # pragma: no cover - not POSIX
        yield True
        return
    while True:
        fh = path.open("a+b")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            yield False
            return
        if _same_file(path, fh.fileno()):
            break
        fh.close()  # removed by its last holder while this waited: lock the new one
    try:
        yield True
    finally:
        with contextlib.suppress(OSError):
            path.unlink()  # still held: a waiter sees it is gone and locks a new one
        fh.close()
