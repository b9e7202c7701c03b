"""Sources plus analyses: what the MCP server and the TUI hold for their whole life.

`Workspace.open(name)` resolves a capture name in the configured sources, downloads it when it is
remote, and returns its `Analysis`; concurrent calls for the same capture share one scan, and a
finished analysis stays open for the next question.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from pydantic import Field

from mcpcap.core.config import Settings
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
        self._guard = threading.Lock()

    def close(self) -> None:
        with self._guard:
            for analysis in self._open.values():
                analysis.close()
            self._open.clear()
        self.sources.close()

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
            found = self._open.get(key)
            if found is not None:
                self._open.move_to_end(key)
                return found
            download = None if progress is None else (lambda d, t: progress("download", d, t, None))
            path = self.sources.open_local(resolved, progress=download, cancel=cancel)
            scan = None if progress is None else _scan_progress(progress)
            analysis = self.analyzer.analyze(path, resolved.name, progress=scan, cancel=cancel)
            with self._guard:
                self._open[key] = analysis
                while len(self._open) > MAX_OPEN_ANALYSES:
                    _, old = self._open.popitem(last=False)
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
