"""Sources plus analyses: what the MCP server and the TUI hold for their whole life.

`Workspace.open(name)` resolves a capture name in the configured sources, downloads it when it is
remote, and returns its `Analysis`; concurrent calls for the same capture share one scan, and a
finished analysis stays open for the next question.

An open analysis holds a lease on its store, which eviction respects. So that open analyses do
not hold the cache above its cap, a face's call runs in `Workspace.call()`: the analyses it opens
are in use until it ends, and when it ends, while the cache is over its cap, the least recently
used analyses no call is using are closed and their stores left to eviction (the next question
about them opens the store again, or scans again). An analysis opened outside a call (the TUI
keeps its capture open) is never closed for the cap.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path

from pydantic import Field

from mcpcap.core.config import Settings
from mcpcap.core.memory import release_free_memory
from mcpcap.core.models import SCHEMA_VERSION, CaptureSummary, Result
from mcpcap.core.paging import check_limit, decode_cursor, encode_cursor, fit_items, query_digest
from mcpcap.core.service import Analysis, Analyzer
from mcpcap.core.sources.models import CaptureEntry
from mcpcap.core.sources.registry import SourceRegistry

MAX_OPEN_ANALYSES = 16

# progress(stage, done, total, packets): stage is "download" (bytes) or "scan" (bytes of the
# file read so far, and packets when scanning), or while a scan waits for its turn, the note
# that says so ("queued behind 2 scans")
StageProgress = Callable[[str, int, int | None, int | None], None]


class CaptureListPage(Result):
    schema_version: str = SCHEMA_VERSION
    total: int
    items: list[CaptureEntry]
    next_cursor: str | None
    truncated: bool


class ModuleTraffic(Result):
    name: str
    title: str
    messages: int = Field(description="messages of this protocol found in the capture")


class CaptureInfo(Result):
    schema_version: str = SCHEMA_VERSION
    capture: CaptureSummary
    modules: list[ModuleTraffic] = Field(description="which modules find traffic, and how much")


class Workspace:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sources = SourceRegistry(settings)
        self.analyzer = Analyzer(settings)
        self._open: OrderedDict[str, Analysis] = OrderedDict()
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()  # guards _open, _busy and _kept
        self._busy: Counter[str] = Counter()  # calls using each open analysis now
        self._kept: set[str] = set()  # opened outside a call: never closed for the cap
        self._call = threading.local()  # .opened: what the thread's current call opened

    def close(self) -> None:
        with self._guard:
            for analysis in self._open.values():
                analysis.close()
            self._open.clear()
        self.sources.close()
        self._evict()

    @contextlib.contextmanager
    def call(self) -> Iterator[None]:
        """One face call (an MCP tool call): the analyses it opens stay open until it ends, and
        then the cache is brought within its cap (see the module's docstring)."""
        if getattr(self._call, "opened", None) is not None:  # a call within a call: the outer
            yield
            return
        self._call.opened = opened = []
        try:
            yield
        finally:
            self._call.opened = None
            with self._guard:
                self._busy.subtract(opened)
                self._busy += Counter()  # drops the keys at zero
            self.fit_cache()

    def fit_cache(self) -> None:
        """While the cache is over its cap, close the least recently used analysis that no call
        is using and evict (which then may take its store)."""
        cache = self.analyzer.result_store
        if not self.settings.use_cache:
            return
        with contextlib.suppress(OSError):
            while not cache.fits():
                idle = self._take_idle()
                if idle is None:
                    return
                idle.close()
                cache.evict()

    def _take_idle(self, over: int = 0, kept_too: bool = False) -> Analysis | None:
        """Remove and return the least recently used open analysis no call uses (when more
        than `over` are open; one opened outside a call only if `kept_too`), or None."""
        with self._guard:
            if len(self._open) <= over:
                return None
            for key in self._open:
                if not self._busy[key] and (kept_too or key not in self._kept):
                    self._kept.discard(key)
                    return self._open.pop(key)
        return None

    def _use(self, key: str) -> None:
        """Count `key` as in use by the thread's current call (under `_guard`)."""
        opened = getattr(self._call, "opened", None)
        if opened is None:
            self._kept.add(key)
        else:
            opened.append(key)
            self._busy[key] += 1

    def _evict(self) -> None:
        if self.settings.use_cache:
            with contextlib.suppress(OSError):
                self.analyzer.result_store.evict()

    def list_captures(
        self, source: str | None = None, limit: int | None = None, cursor: str | None = None
    ) -> CaptureListPage:
        limit = check_limit(limit)
        entries = self.sources.list_captures(source)
        digest = query_digest({"list_captures": source})
        position = decode_cursor(cursor, digest)
        start = int(position[0]) if position else 0
        chunk = [entry.model_dump(mode="json") for entry in entries[start : start + limit]]
        kept, cut = fit_items(chunk, self.settings.max_reply_chars, 160)
        end = start + len(kept)
        return CaptureListPage(
            total=len(entries),
            items=[CaptureEntry(**item) for item in kept],
            next_cursor=encode_cursor([end], digest) if end < len(entries) else None,
            truncated=cut,
        )

    def is_ready(self, name: str) -> bool:
        """Whether `name` is answered without a scan (already open or in the store)."""
        resolved = self.sources.resolve(name)
        if resolved.name in self._open:
            return True
        if resolved.kind == "remote":
            return False
        return self.analyzer.is_cached(Path(resolved.location))

    def open(
        self,
        name: str,
        progress: StageProgress | None = None,
        cancel: threading.Event | None = None,
    ) -> Analysis:
        resolved = self.sources.resolve(name)
        key = resolved.name
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                found = self._open.get(key)
                if found is not None:
                    self._open.move_to_end(key)
                    self._use(key)
                    return found
            download = None if progress is None else (lambda d, t: progress("download", d, t, None))
            path = self.sources.open_local(resolved, progress=download, cancel=cancel)
            scan = None if progress is None else _scan_progress(progress)
            try:
                analysis = self.analyzer.analyze(path, resolved.name, progress=scan, cancel=cancel)
            finally:
                release_free_memory()  # what a scan freed, the allocator would otherwise keep
            with self._guard:
                self._open[key] = analysis
                self._use(key)
            while (old := self._take_idle(MAX_OPEN_ANALYSES, kept_too=True)) is not None:
                old.close()
            return analysis

    def capture_info(self, name: str, **kwargs) -> CaptureInfo:
        analysis = self.open(name, **kwargs)
        return CaptureInfo(
            capture=analysis.capture(),
            modules=[
                ModuleTraffic(name=m.name, title=m.title, messages=analysis.traffic(m.name))
                for m in self.analyzer.modules
            ],
        )


def _scan_progress(progress: StageProgress) -> Callable[..., None]:
    """The core's scan progress as a stage: "scan", or the note of a scan waiting its turn."""

    def report(packets: int, done: int, total: int, note: str | None = None) -> None:
        if note is None:
            progress("scan", done, total, packets)
        else:
            progress(note, done, total, None)

    return report
