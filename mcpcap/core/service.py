"""The one entry point every face uses: analyse a capture once, then ask it questions.

`Analyzer.analyze(path, name)` returns an `Analysis` backed by the result store: the first call
scans the capture (with progress and cancellation), later calls for the same unchanged file open
the stored result at once. Module-specific questions go through `analysis.module("dns")`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcpcap.core import SCHEMA_VERSION, addresses, forking, store
from mcpcap.core.config import Settings
from mcpcap.core.indexes import ensure_query_indexes
from mcpcap.core.modules.registry import load_modules
from mcpcap.core.scan import Progress, scan_capture
from mcpcap.core.threadconn import per_thread
from mcpcap.core.timefmt import iso_time, round_ts

if TYPE_CHECKING:
    from collections.abc import Iterable

    from mcpcap.core.models import CaptureSummary
    from mcpcap.core.modules.contract import ModuleCounts, ProtocolModule


_scanning: set[int] = set()  # the threads building an analysis now
_scratch: set[Path] = set()  # temporary folders of uncached analyses being built


def abandon_scans() -> bool:
    """For a signal handler about to end the process: remove what the scans in progress were
    writing (half-built stores, temporary folders) and end their worker processes. False, doing
    nothing, when no scan is running.

    A scan is not unwound: its workers may have died holding a lock of their pool (a signal to
    the process group reaches them too), and waiting for the pool could then wait forever.
    """
    if not _scanning:
        return False
    store.abandon_builds()
    for folder in list(_scratch):
        shutil.rmtree(folder, ignore_errors=True)
    _kill_descendants()
    return True


def _kill_descendants() -> None:
    """SIGKILL every process below this one (scan workers, a fork server and its workers)."""
    import multiprocessing
    import signal

    pids = _descendants(os.getpid())
    if pids is None:  # no /proc: the direct children multiprocessing knows of
        pids = [child.pid for child in multiprocessing.active_children() if child.pid]
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _descendants(root: int) -> list[int] | None:
    children: dict[int, list[int]] = {}
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return None
    for entry in entries:
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def forget_capture_names() -> None:
    """Drop what a scan cached about its capture's names (registered domains, up to 65536 of
    them): they serve that scan, and a process that analyses one capture after another (the
    MCP server) kept the last ones' for nothing (about 15 MiB once full)."""
    from mcpcap.core.domains import registered_domain

    registered_domain.cache_clear()


class Analysis:
    """A finished analysis of one capture, read from its store."""

    def __init__(
        self,
        db: sqlite3.Connection,
        name: str,
        modules: list[ProtocolModule],
        settings: Settings,
        cleanup: Path | None = None,
        lease: store.Lease | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        # each thread reads through a connection of its own (see `threadconn`)
        self.db = per_thread(db, lambda path: store.connect(Path(path), readonly=True))
        self.name = name
        self.settings = settings
        self._modules = {m.name: m for m in modules}
        self._cleanup = cleanup
        self._lease = lease  # keeps the store from eviction while it is read
        self._facts = json.loads(store.read_meta(db, "capture") or "{}")
        if warnings:  # about this analysis rather than the capture (an unwritable cache)
            self._facts["warnings"] = [*warnings, *self._facts.get("warnings", [])]
        self._results: dict[str, Any] = {}
        self._indexed = False
        addresses.register(db)

    @property
    def module_names(self) -> list[str]:
        return list(self._modules)

    @property
    def modules(self) -> list[ProtocolModule]:
        """The chosen modules, in the order faces show them."""
        return list(self._modules.values())

    def capture(self) -> CaptureSummary:
        from mcpcap.core.models import CaptureSummary

        return CaptureSummary(**self.capture_document())

    def capture_document(self) -> dict[str, Any]:
        """`capture()` as plain JSON data, made without the result models (a warm start's path)."""
        facts = self._facts
        first, last = facts.get("first_ts"), facts.get("last_ts")
        return {
            "name": self.name,
            "format": facts["format"],
            "compressed": facts["compressed"],
            "link_types": [dict(lt) for lt in facts["link_types"]],  # {linktype, name}
            "packets": facts["packets"],
            "bytes": facts["bytes"],
            "first_ts": round_ts(first),
            "last_ts": round_ts(last),
            "first_time": iso_time(first),
            "last_time": iso_time(last),
            "duration": round(last - first, 6) if first is not None and last is not None else 0.0,
            "warnings": facts.get("warnings", []),
            "max_packets": facts.get("max_packets") if facts.get("stopped_early") else None,
        }

    def module(self, name: str):
        """The module's results object (e.g. `DnsResults`), made once per analysis."""
        if name not in self._results:
            module = self._modules.get(name)
            if module is None:
                from mcpcap.core.errors import UnknownModuleError

                raise UnknownModuleError(
                    f"module {name!r} was not chosen; chosen modules: {', '.join(self._modules)}"
                )
            self._ensure_query_indexes()
            counts = _results_counts(self.db, name)
            self._results[name] = module.open_results(self.db, counts, self._facts, self.settings)
        return self._results[name]

    def _ensure_query_indexes(self) -> None:
        """Every chosen module's query indexes, once, before any results are opened: whoever
        opens them reads records sooner or later (stored summaries are read without them), and
        one module's records may look another's up (`resolved_by`). See `mcpcap.core.indexes`."""
        if not self._indexed:
            for module in self._modules.values():
                ensure_query_indexes(self.db, module.name, module.query_indexes)
            self._indexed = True

    def traffic(self, name: str) -> int:
        """How many messages of the module's protocol the capture holds."""
        counts = stored_counts(self.db, name)
        if counts is not None:
            return counts.messages
        legacy = json.loads(store.read_meta(self.db, f"{name}_counts") or "{}")
        return int(legacy.get("stats", {}).get("messages", 0))

    def summary(self) -> dict[str, Any]:
        """The `mcpcap analyze` document: schema_version, capture, then one key per module."""
        doc: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "capture": self.capture_document(),
        }
        for name in self._modules:
            # the summary the scan stored is the document itself: no models to build
            stored = store.read_meta(self.db, store.summary_key(name, self.settings.top_n))
            if stored is not None and self._modules[name].summary_is_current(
                self.db, self.settings
            ):
                doc[name] = json.loads(stored)
            else:
                doc[name] = self.module(name).summary().model_dump(mode="json")
        return doc

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.close()
        if self._lease is not None:
            self._lease.release()
        if self._cleanup is not None:
            shutil.rmtree(self._cleanup, ignore_errors=True)

    def __enter__(self) -> Analysis:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def module_counts(value: Any) -> ModuleCounts:
    """What a scan's `finish()` returned, as `ModuleCounts`.

    A module still on the older contract returns a dict whose `stats.messages` counts its
    messages and whose `malformed` maps reasons to counts (DNS today): it becomes the detail.
    """
    from mcpcap.core.modules.counts import ModuleCounts

    if isinstance(value, ModuleCounts):
        return value
    if not isinstance(value, dict):
        return ModuleCounts()
    malformed = value.get("malformed")
    return ModuleCounts(
        messages=value.get("stats", {}).get("messages", 0),
        malformed=sum(malformed.values()) if isinstance(malformed, dict) else 0,
        detail=value,
    )


def counts_key(name: str) -> str:
    return f"module_counts:{name}"


def stored_counts(db: sqlite3.Connection, name: str) -> ModuleCounts | None:
    from mcpcap.core.modules.counts import ModuleCounts

    text = store.read_meta(db, counts_key(name))
    return None if text is None else ModuleCounts.model_validate_json(text)


def _results_counts(db: sqlite3.Connection, name: str) -> Any:
    """What a module's results open with: its ModuleCounts, or the `{name}_counts` document a
    module on the older contract stored itself (DNS's `dns_counts`, until it moves)."""
    legacy = store.read_meta(db, f"{name}_counts")
    if legacy is not None:
        return json.loads(legacy)
    return stored_counts(db, name) or module_counts(None)


def _storage_error(name: str, exc: BaseException) -> store.StorageError:
    return store.StorageError(
        f"cannot analyse {name}: neither the cache folder nor a temporary folder can hold its "
        f"analysis ({store.describe_failure(exc)})"
    )


class Analyzer:
    """Analyses captures with the configured modules, through the result store."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.modules = load_modules(settings.modules)
        self._store = store.ResultStore(settings.cache_dir / "results", settings.cache_max_bytes)
        self._lock = threading.Lock()
        self._rescanned: set[str] = set()  # keys `rescan` has rebuilt already (once a process)

    @property
    def result_store(self) -> store.ResultStore:
        """The cache folder's stores (the workspace keeps them within the cap, see there)."""
        return self._store

    def options(self) -> dict[str, Any]:
        """Every option that changes results (part of the store key)."""
        return {
            "max_packets": self.settings.max_packets,
            "modules": sorted(m.name for m in self.modules),
            "module_schemas": {m.name: m.schema_version for m in self.modules},
            "max_stream_bytes": self.settings.max_stream_bytes,
        }

    def is_cached(self, path: Path) -> bool:
        if not self.settings.use_cache:
            return False
        key = store.store_key(path, self.options())
        if self._must_rescan(key):
            return False
        return self._store.lookup(key) is not None

    def _must_rescan(self, key: str) -> bool:
        return self.settings.rescan and key not in self._rescanned

    def analyze(
        self,
        path: Path,
        name: str,
        *,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> Analysis:
        if not self.settings.use_cache:
            return self._analyze_uncached(path, name, progress, cancel)
        key = store.store_key(path, self.options())
        rebuild = self._must_rescan(key)
        try:
            lease = self._store.get_or_build(
                key, lambda tmp: self._build(path, tmp, key, progress, cancel), rebuild=rebuild
            )
        except store.StoreUnavailable as exc:
            warning = (
                f"the cache folder cannot be written ({exc}), so this analysis is not kept "
                "for next time"
            )
            return self._analyze_uncached(path, name, progress, cancel, [warning])
        if rebuild:
            self._rescanned.add(key)
        try:
            db = store.connect(lease.path, readonly=True)
        except BaseException:
            lease.release()
            raise
        return Analysis(db, name, self.modules, self.settings, lease=lease)

    def _analyze_uncached(
        self,
        path: Path,
        name: str,
        progress: Progress | None,
        cancel: threading.Event | None,
        warnings: list[str] | None = None,
    ) -> Analysis:
        """An analysis in a temporary folder, removed when the analysis is closed."""
        try:
            folder = Path(tempfile.mkdtemp(prefix="mcpcap-"))
        except OSError as exc:
            raise _storage_error(name, exc) from None
        db_path = folder / "result.sqlite"
        _scratch.add(folder)
        try:
            # a key of its own: what is remembered per store key (DNS's distinct values) must
            # not carry over from one uncached analysis to another
            own_key = f"uncached-{folder.name}"
            capture_key = store.store_key(path, self.options())  # (what its cursors name)
            self._build(path, db_path, own_key, progress, cancel, capture_key)
            db = store.connect(db_path, readonly=True)
        except sqlite3.Error as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise _storage_error(name, exc) from None
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        finally:
            _scratch.discard(folder)
        return Analysis(db, name, self.modules, self.settings, cleanup=folder, warnings=warnings)

    def _store_summaries(
        self, db: sqlite3.Connection, db_path: Path, facts: dict[str, Any]
    ) -> None:
        """Each module's summary at the configured length, so a warm start reads one row.

        The scan's rows are committed first: a summary may read them through connections of
        its own, in threads, and a forked copy of this process (`forking`) computes some of
        them meanwhile, on a core the scan's end leaves idle (the store is not complete, so no
        face opens it yet). The two take the modules in turns, each the next when it is done
        with one: the summaries of one capture cost from a few milliseconds to a tenth of a
        second, each, in no order known beforehand."""
        db.commit()
        addresses.register(db)
        with forking.Turns(self.modules) as turns:

            def copy_share() -> bytes:
                with contextlib.closing(store.connect(db_path, readonly=True)) as own:
                    return json.dumps(self._summary_texts(own, turns, facts)).encode()

            copy = forking.forked(copy_share) if len(self.modules) > 1 else None
            with copy or contextlib.nullcontext():
                texts = self._summary_texts(db, turns if copy else self.modules, facts)
                copied = copy.result() if copy else None
        texts |= json.loads(copied) if copied else {}
        # what a copy that failed took and never gave back is made here
        texts |= self._summary_texts(db, [m for m in self.modules if m.name not in texts], facts)
        top_n = self.settings.top_n
        for module in self.modules:
            key = store.summary_key(module.name, top_n)
            db.execute("INSERT INTO meta VALUES (?, ?)", (key, texts[module.name]))

    def _summary_texts(
        self, db: sqlite3.Connection, modules: Iterable[ProtocolModule], facts: dict[str, Any]
    ) -> dict[str, str]:
        """The summaries of `modules`, as JSON, by module name."""
        top_n = self.settings.top_n
        texts = {}
        for module in modules:
            counts = _results_counts(db, module.name)
            results = module.open_results(db, counts, facts, self.settings)
            texts[module.name] = results.summary(top_n).model_dump_json()
        return texts

    def _build(
        self,
        capture: Path,
        db_path: Path,
        key: str,
        progress: Progress | None,
        cancel: threading.Event | None,
        capture_key: str | None = None,
    ) -> None:
        """Scan `capture` into a new store at `db_path` (see `abandon_scans` for signals);
        `capture_key` as `store.create_meta` takes it."""
        me = threading.get_ident()
        _scanning.add(me)
        try:
            self._scan_into(capture, db_path, key, progress, cancel, capture_key)
        finally:
            _scanning.discard(me)
            forget_capture_names()

    def _scan_into(
        self,
        capture: Path,
        db_path: Path,
        key: str,
        progress: Progress | None,
        cancel: threading.Event | None,
        capture_key: str | None,
    ) -> None:
        db = store.connect(db_path)
        try:
            store.create_meta(db, key, capture_key)
            for module in self.modules:
                module.create_tables(db)
            facts = scan_capture(
                capture,
                db,
                self.modules,
                max_packets=self.settings.max_packets,
                progress=progress,
                cancel=cancel,
                workers=self.settings.workers,
                max_stream_bytes=self.settings.max_stream_bytes,
            )
            for name, counts in facts.pop("modules", {}).items():
                text = module_counts(counts).model_dump_json()
                db.execute("INSERT INTO meta VALUES (?, ?)", (counts_key(name), text))
            db.execute("INSERT INTO meta VALUES ('capture', ?)", (json.dumps(facts),))
            self._store_summaries(db, db_path, facts)
            store.mark_complete(db)
        finally:
            db.close()
