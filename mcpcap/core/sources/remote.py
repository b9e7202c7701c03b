"""Remote sources: an HTTP folder index (crawled within its base) or a single file URL."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

from mcpcap.core.errors import DownloadError, McpcapError
from mcpcap.core.sources.http import HttpSession, status_error
from mcpcap.core.sources.index import parse_index
from mcpcap.core.sources.models import CaptureEntry, SourceKind, iso_utc
from mcpcap.core.sources.naming import is_capture_like, is_hidden
from mcpcap.core.sources.urls import RemoteBase

MAX_INDEX_BYTES = 8 * 1024 * 1024
MAX_PAGES = 200
MAX_HEADS = 100


class RemoteSource:
    def __init__(self, label: str, base: RemoteBase, http: HttpSession, depth: int = 2):
        self.label = label
        self.kind: SourceKind = "remote"
        self.base = base
        self.http = http
        self.depth = depth
        self.shown_location = base.redacted

    def list(self) -> tuple[list[CaptureEntry], str | None]:
        """(entries, the source's error). Sub-folder failures become entries with an error."""
        if self.base.single is not None:
            return [self._head(self._entry(self.base.single))], None
        found: dict[str, CaptureEntry] = {}
        queue = [("", self.base.url, 0)]
        seen = {""}
        while queue and len(seen) <= MAX_PAGES:
            rel_dir, url, level = queue.pop(0)
            try:
                links = self._index(url, rel_dir or "the index")
            except McpcapError as exc:
                if not rel_dir:
                    return [], _without_subject(str(exc))
                found[rel_dir] = CaptureEntry(
                    name=rel_dir, source=self.label, error=_without_subject(str(exc))
                )
                continue
            for href, size, modified in links:
                target = urljoin(url, href)
                rel = self.base.relname(target)
                if rel is None or is_hidden(rel) or urlsplit(target).query:
                    continue
                if rel.endswith("/"):
                    if level + 1 < self.depth and rel not in seen:
                        seen.add(rel)
                        queue.append((rel, self.base.url_for(rel), level + 1))
                elif is_capture_like(rel) and rel not in found:
                    found[rel] = self._entry(rel, size, modified)
        entries = [found[k] for k in sorted(found)]
        heads = 0
        for entry in entries:
            if entry.error is None and entry.size is None and heads < MAX_HEADS:
                heads += 1
                self._head(entry)
        return entries, None

    def locate_in(self, names: set[str], relname: str) -> str | None:
        """The URL of a listed name, or None."""
        return self.base.url_for(relname) if relname in names else None

    def _entry(self, rel: str, size: int | None = None, modified: float | None = None):
        return CaptureEntry(name=rel, source=self.label, size=size, modified=iso_utc(modified))

    def _index(self, url: str, what: str) -> list[tuple[str, int | None, float | None]]:
        with self.http.open("GET", self.base, url, what) as response:
            if response.status_code != 200:
                raise status_error(what, response.status_code)
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_INDEX_BYTES:
                    raise DownloadError(f"{what}: the index page is too large")
            charset = response.charset_encoding or "utf-8"
        text = body.decode(charset, errors="replace")
        return [(link.href, link.size, link.modified) for link in parse_index(text)]

    def _head(self, entry: CaptureEntry) -> CaptureEntry:
        """Fill size and date from a HEAD request; a failure becomes the entry's error."""
        try:
            with self.http.open(
                "HEAD", self.base, self.base.url_for(entry.name), entry.name
            ) as response:
                if response.status_code == 405:
                    return entry
                if response.status_code != 200:
                    raise status_error(entry.name, response.status_code)
                length = response.headers.get("content-length", "")
                entry.size = int(length) if length.isdigit() else entry.size
                entry.modified = _http_date(response.headers.get("last-modified")) or (
                    entry.modified
                )
        except McpcapError as exc:
            entry.error = _without_subject(str(exc))
        return entry


def _http_date(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return iso_utc(parsedate_to_datetime(value).timestamp())
    except (TypeError, ValueError, OverflowError):
        return None


def _without_subject(message: str) -> str:
    """'a.pcap: not found (HTTP 404)' -> 'not found (HTTP 404)' for a per-entry error."""
    return message.split(": ", 1)[-1]
