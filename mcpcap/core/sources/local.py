"""Local sources: a folder of captures (or one file), listed by magic bytes and confined."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from mcpcap.core.errors import OutsideSourcesError
from mcpcap.core.formats import sniff
from mcpcap.core.sources.models import CaptureEntry, SourceKind, iso_utc
from mcpcap.core.sources.naming import is_capture_like, is_hidden, shown

HEAD_BYTES = 4096  # enough for sniff() to look inside a gzip member
NOT_A_CAPTURE = "not a capture: its first bytes are not pcap, pcapng or gzip of one"


class LocalSource:
    """A `--pcap-path` folder, a single capture file, or the bundled example."""

    def __init__(self, label: str, location: Path, kind: SourceKind = "local", depth: int = 8):
        self.label = label
        self.kind: SourceKind = kind
        self.depth = depth
        self.shown_location = str(location)
        self.lexical = Path(os.path.abspath(os.path.expanduser(location)))
        real = Path(os.path.realpath(self.lexical))
        self.single: str | None = real.name if real.is_file() else None
        self.root = real.parent if self.single else real

    # --- listing -----------------------------------------------------------------------------

    def problem(self) -> str | None:
        """Why the source cannot be listed at all, or None."""
        target = self.root / self.single if self.single else self.root
        if not target.exists():
            return "not found"
        if not self.single and not target.is_dir():
            return "not a folder"
        if not os.access(target, os.R_OK | (os.X_OK if not self.single else 0)):
            return "permission denied"
        return None

    def entries(self) -> list[CaptureEntry]:
        if self.problem():
            return []
        if self.single:
            found = describe(self.label, self.single, str(self.root / self.single), listed=True)
            return [found] if found else []
        return list(self._walk(str(self.root), "", 0))

    def _walk(self, folder: str, prefix: str, level: int) -> Iterator[CaptureEntry]:
        try:
            with os.scandir(folder) as it:
                items = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            if prefix:  # the root's own problems are the source's error
                yield CaptureEntry(name=prefix, source=self.label, error=os_error(exc))
            return
        for item in items:
            if item.name.startswith("."):
                continue
            rel = prefix + item.name
            if item.is_dir(follow_symlinks=False):
                if level + 1 < self.depth:
                    yield from self._walk(item.path, rel + "/", level + 1)
                continue
            if item.is_symlink() and not self._inside(os.path.realpath(item.path)):
                if is_capture_like(item.name):
                    yield CaptureEntry(
                        name=rel, source=self.label, error="refused: it links outside its source"
                    )
                continue
            found = describe(self.label, rel, item.path)
            if found:
                yield found

    # --- resolution --------------------------------------------------------------------------

    def locate(self, relname: str) -> str | None:
        """The real path of a clean relative name in this source, or None when it is not here.

        Raises OutsideSourcesError when the name exists but resolves (through symlinks)
        outside the root.
        """
        if self.single:
            return str(self.root / self.single) if relname == self.single else None
        if is_hidden(relname):
            return None
        real = os.path.realpath(self.root / relname)
        if not self._inside(real):
            raise OutsideSourcesError(f"{shown(relname)} links outside its source; refused")
        return real if os.path.isfile(real) else None

    def relname_of(self, path: str) -> str | None:
        """The relative name of an absolute path inside this source, or None."""
        lexical = os.path.abspath(os.path.expanduser(path))
        real = os.path.realpath(lexical)
        if self.single:
            return self.single if real == str(self.root / self.single) else None
        for base in (str(self.lexical), str(self.root)):
            if lexical.startswith(base.rstrip("/") + "/"):
                return os.path.relpath(lexical, base)
        if self._inside(real) and real != str(self.root):
            return os.path.relpath(real, self.root)
        return None

    def _inside(self, real: str) -> bool:
        root = str(self.root)
        return real == root or real.startswith(root.rstrip("/") + "/")


def describe(label: str, rel: str, path: str, listed: bool = False) -> CaptureEntry | None:
    """One directory entry as a CaptureEntry; None when it is plainly not a capture.

    Special files are never opened (a FIFO would block), unreadable files are listed with
    their error, and a non-capture is listed only when its name claims to be one.
    """
    keep = listed or is_capture_like(rel)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return CaptureEntry(name=rel, source=label, error="broken link") if keep else None
    except OSError as exc:
        return CaptureEntry(name=rel, source=label, error=os_error(exc))
    if not stat.S_ISREG(st.st_mode):
        return CaptureEntry(name=rel, source=label, error="not a regular file") if keep else None
    entry = CaptureEntry(name=rel, source=label, size=st.st_size, modified=iso_utc(st.st_mtime))
    try:
        head = read_head(path)
    except OSError as exc:
        entry.error = os_error(exc)
        return entry
    sniffed = sniff(head)
    if sniffed is None:
        if not keep:
            return None
        entry.error = NOT_A_CAPTURE
        return entry
    entry.format, entry.compressed = sniffed[0].value, sniffed[1]
    return entry


def read_head(path: str) -> bytes:
    """The first bytes of a regular file, opened so that a swapped-in FIFO cannot block."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        return os.read(fd, HEAD_BYTES)
    finally:
        os.close(fd)


def os_error(exc: OSError) -> str:
    """One sentence about an OS error, never naming a path."""
    if isinstance(exc, PermissionError):
        return "permission denied"
    return f"cannot be read: {(exc.strerror or type(exc).__name__).lower()}"
