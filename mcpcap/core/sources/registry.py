"""The facade every face uses: list sources and captures, resolve names, open and probe them."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from mcpcap.core.errors import (
    BadArgumentError,
    McpcapError,
    OutsideSourcesError,
    UnknownCaptureError,
)
from mcpcap.core.examples import example_path
from mcpcap.core.sources import naming
from mcpcap.core.sources.http import HttpSession
from mcpcap.core.sources.local import LocalSource
from mcpcap.core.sources.models import CaptureEntry, CaptureProbe, SourceInfo, SourceKind
from mcpcap.core.sources.remote import RemoteSource
from mcpcap.core.sources.urls import parse_base, redact

if TYPE_CHECKING:
    from mcpcap.core.config import Settings
    from mcpcap.core.sources.download import DownloadCache

Progress = Callable[[int, "int | None"], None]
REMOTE_LISTING_TTL = 30.0  # seconds a remote index is reused for resolving names


@dataclass(frozen=True)
class ResolvedCapture:
    """A capture found in a source. `location` is internal: never put it in a result."""

    name: str  # what faces show
    source: str  # the source's label
    kind: SourceKind
    relname: str = field(repr=False)  # the name inside its source
    location: str = field(repr=False)  # absolute path, or URL without credentials


@dataclass
class _BrokenSource:
    """A configured source that cannot work at all (a file: URL, a malformed URL)."""

    label: str
    kind: SourceKind
    shown_location: str
    error: str


class SourceRegistry:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._http = HttpSession(settings)
        self._listings: dict[str, tuple[float, list[CaptureEntry], str | None]] = {}
        self._lock = threading.Lock()
        self._sources = self._build(settings)
        self._by_label = {s.label: s for s in self._sources}
        self._cache: DownloadCache | None = None

    def __enter__(self) -> SourceRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- building ----------------------------------------------------------------------------

    def _build(self, settings: Settings) -> list:
        """Sources in configuration order, labels made unique; the example comes last."""
        specs: list[tuple[str, Callable[[str], object]]] = []
        seen: set[str] = set()
        for raw in settings.pcap_paths:
            real = Path(os.path.realpath(os.path.expanduser(raw)))
            if str(real) not in seen:
                seen.add(str(real))
                folder = real.parent if real.is_file() else real
                make = partial(LocalSource, location=Path(raw), depth=settings.local_depth)
                specs.append((naming.label_for(folder.name, "local"), make))
        for raw in settings.pcap_urls:
            try:
                base = parse_base(raw, settings.pcap_url_auth)
            except McpcapError as exc:
                broken = partial(_BrokenSource, kind="remote", shown_location=redact(raw))
                specs.append(("remote", partial(broken, error=str(exc))))
                continue
            if base.url not in seen:
                seen.add(base.url)
                make = partial(
                    RemoteSource, base=base, http=self._http, depth=settings.remote_depth
                )
                specs.append((naming.label_for(base.host, "remote"), make))
        reserved = [naming.EXAMPLES_LABEL] if settings.uses_examples else []
        labels = naming.unique_labels([label for label, _ in specs], reserved)
        sources = [make(label) for label, (_, make) in zip(labels, specs, strict=True)]
        if settings.uses_examples:
            example = LocalSource(naming.EXAMPLES_LABEL, example_path(), "examples")
            example.shown_location = "bundled with mcpcap"
            sources.append(example)
        return sources

    # --- listing -----------------------------------------------------------------------------

    def sources(self) -> list[SourceInfo]:
        """Every configured source in order; `error` says why one cannot be listed."""
        return [
            SourceInfo(
                label=s.label, kind=s.kind, location=s.shown_location, error=self._problem(s)
            )
            for s in self._sources
        ]

    def _problem(self, source) -> str | None:
        if isinstance(source, _BrokenSource):
            return source.error
        if isinstance(source, LocalSource):
            return source.problem()
        cached = self._listings.get(source.label)
        return cached[2] if cached else None

    def list_captures(self, source: str | None = None) -> list[CaptureEntry]:
        """Captures in source order, then by name; names label-prefixed only where ambiguous."""
        if source is not None and source not in self._by_label:
            known = ", ".join(self._by_label) or "none"
            raise BadArgumentError(f"no source labelled {naming.shown(source)} (sources: {known})")
        raw = {s.label: self._entries(s, fresh=True) for s in self._sources}
        names = naming.face_names({label: [e.name for e in es] for label, es in raw.items()})
        result = []
        for label, entries in raw.items():
            if source is None or label == source:
                for entry in sorted(entries, key=lambda e: e.name):
                    result.append(entry.model_copy(update={"name": names[(label, entry.name)]}))
        return result

    def _entries(self, source, fresh: bool = False) -> list[CaptureEntry]:
        """Raw entries (names relative to the source). Remote indexes are reused for a while."""
        if isinstance(source, _BrokenSource):
            return []
        if isinstance(source, LocalSource):
            return source.entries()
        with self._lock:
            cached = self._listings.get(source.label)
        if cached and not fresh and time.monotonic() - cached[0] < REMOTE_LISTING_TTL:
            return cached[1]
        entries, error = source.list()
        with self._lock:
            self._listings[source.label] = (time.monotonic(), entries, error)
        return entries

    # --- resolving ---------------------------------------------------------------------------

    def resolve(self, name: str) -> ResolvedCapture:
        """A face name, `label:name`, or an absolute path / URL inside a source.

        Raises OutsideSourcesError for anything that leads outside the sources and
        UnknownCaptureError (with close matches) for names that are simply not there.
        """
        text = name.strip()
        if not text:
            raise BadArgumentError("name a capture (see the list of sources)")
        if "\x00" in text:
            raise OutsideSourcesError(f"{naming.shown(text)} contains a NUL byte; refused")
        label, rest = naming.split_label(text, self._by_label)
        if label is not None:
            return self._in_source(self._by_label[label], naming.clean_relname(rest), text)
        if naming.looks_like_url(text):
            return self._by_url(text)
        if naming.looks_like_path(text):
            return self._by_path(text)
        rel = naming.clean_relname(text)
        hits = [(s, loc) for s in self._sources if (loc := self._locate(s, rel))]
        if len(hits) > 1:
            choices = ", ".join(f"{s.label}:{rel}" for s, _ in hits)
            raise UnknownCaptureError(
                f"{naming.shown(text)} is in several sources; name one of: {choices}"
            )
        if not hits:
            raise self._unknown(text, rel)
        source, location = hits[0]
        return self._resolved(source, rel, location)

    def _in_source(self, source, rel: str, typed: str) -> ResolvedCapture:
        location = self._locate(source, rel)
        if location is None:
            raise self._unknown(typed, self._face_name(source, rel))
        return self._resolved(source, rel, location)

    def _by_url(self, text: str) -> ResolvedCapture:
        scheme = text.split(":", 1)[0].lower()
        if scheme not in ("http", "https"):
            raise OutsideSourcesError(f"only http and https URLs are read, not {scheme}:; refused")
        for source in self._sources:
            rel = source.base.relname(text) if isinstance(source, RemoteSource) else None
            if rel is not None:
                if rel.endswith("/"):
                    raise UnknownCaptureError(f"{redact(text)} is a folder, not a capture")
                rel = naming.clean_relname(rel)
                return self._resolved(source, rel, source.base.url_for(rel))
        raise OutsideSourcesError(f"{redact(text)} lies outside the capture sources; refused")

    def _by_path(self, text: str) -> ResolvedCapture:
        for source in self._sources:
            if isinstance(source, LocalSource):
                rel = source.relname_of(text)
                if rel is not None:
                    return self._in_source(source, naming.clean_relname(rel), text)
        raise OutsideSourcesError(f"{naming.shown(text)} lies outside the capture sources; refused")

    def _locate(self, source, rel: str) -> str | None:
        if isinstance(source, LocalSource):
            return source.locate(rel)
        if isinstance(source, RemoteSource):
            names = {e.name for e in self._entries(source) if e.error is None}
            return source.locate_in(names, rel)
        return None

    def _resolved(self, source, rel: str, location: str) -> ResolvedCapture:
        name = self._face_name(source, rel)
        return ResolvedCapture(name, source.label, source.kind, rel, location)

    def _face_name(self, source, rel: str) -> str:
        """`rel`, or `label:rel` when another source has a capture of that name too."""
        others = [s for s in self._sources if s is not source and self._quiet_locate(s, rel)]
        return f"{source.label}:{rel}" if others else rel

    def _quiet_locate(self, source, rel: str) -> bool:
        try:
            return self._locate(source, rel) is not None
        except McpcapError:
            return False

    def _unknown(self, typed: str, rel: str | None = None) -> UnknownCaptureError:
        """Why `typed` cannot be opened: its listed error when it is listed with one (a broken
        link, a file that cannot be read), else "no capture named", with usable close matches."""
        try:
            entries = self.list_captures()
        except McpcapError:
            entries = []
        for entry in entries:
            if entry.error and entry.name in (typed, rel):
                return UnknownCaptureError(f"{naming.shown(typed)} cannot be used: {entry.error}")
        message = naming.unknown_message(typed, self._suggest(typed, entries))
        # a source that could not be listed may hold it: say why, not only that it is not there
        unread = [f"{s.label} ({problem})" for s in self._sources if (problem := self._problem(s))]
        if unread:
            message += "; sources that could not be read: " + ", ".join(unread)
        return UnknownCaptureError(message)

    def suggestions(self, typed: str) -> list[str]:
        """Names of captures that can be opened and look like `typed`."""
        try:
            return self._suggest(typed, self.list_captures())
        except McpcapError:
            return []

    @staticmethod
    def _suggest(typed: str, entries: list[CaptureEntry]) -> list[str]:
        usable = [e.name for e in entries if e.error is None]
        return naming.close_matches(typed, usable)

    # --- reading -----------------------------------------------------------------------------

    def open_local(
        self,
        resolved: ResolvedCapture,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> Path:
        """The local file to read; remote captures are downloaded (or revalidated) first."""
        source = self._by_label.get(resolved.source)
        if isinstance(source, RemoteSource):
            return self._downloads().fetch(
                source.base, resolved.location, resolved.name, progress, cancel
            )
        path = Path(resolved.location)
        if not path.is_file():
            raise UnknownCaptureError(f"{naming.shown(resolved.name)} is no longer there")
        return path

    def probe(
        self,
        name: str,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> CaptureProbe:
        from mcpcap.core.sources.probe import probe_file

        resolved = self.resolve(name)
        path = self.open_local(resolved, progress, cancel)
        return probe_file(path, resolved.name, resolved.source, cancel)

    def _downloads(self) -> DownloadCache:
        from mcpcap.core.sources.download import DownloadCache

        if self._cache is None:
            s = self.settings
            self._cache = DownloadCache(s.cache_dir, self._http, s.max_download_bytes)
        return self._cache
