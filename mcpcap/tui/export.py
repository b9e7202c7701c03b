"""Writing the records of a view to a file, atomically and without clobbering (no Textual).

The file is written under a temporary name in the destination folder and moved into place only
when complete, so a reader never sees half a file and a failed export leaves nothing behind.
An existing file is replaced only when the caller says so (the TUI asks the user first).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from mcpcap.core import export
from mcpcap.core.errors import BadArgumentError
from mcpcap.core.modules.kinds import RecordKind

FORMATS = {  # key -> (label, file suffix)
    "jsonl": ("JSON Lines", ".jsonl"),
    "json": ("JSON", ".json"),
    "csv": ("CSV", ".csv"),
    "zeek": ("Zeek dns.log", ".log"),
}


def _read_umask() -> int:
    """The process umask, read once at import (os.umask is not thread-safe)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


UMASK = _read_umask()


class ExportError(Exception):
    """An export that could not be written; the message is one sentence for the user."""


class TargetExistsError(ExportError):
    """The target exists and the caller did not allow replacing it."""


def default_filename(capture: str, fmt: str, part: str) -> str:
    """`example-dns.jsonl` for capture `example.pcap` (Zeek's is `example-dns.log`); `part`
    names what is exported (`ntp-exchanges` for a kind)."""
    stem = Path(capture).name
    for suffix in (".gz", ".pcapng", ".pcap", ".cap"):
        stem = stem.removesuffix(suffix)
    return f"{stem or 'capture'}-{part}{FORMATS[fmt][1]}"


def kind_formats(kind: RecordKind, only: tuple[str, ...] | None = None) -> dict[str, str]:
    """The formats a view of `kind` is exported in (those of `only`, if given), with their
    labels, in the TUI's order."""
    labels = {fmt: label for fmt, (label, _) in FORMATS.items()
              if fmt in kind.exports and (only is None or fmt in only)}  # fmt: skip
    if "zeek" in labels:
        labels["zeek"] = f"Zeek {kind.zeek.path}.log" if kind.zeek is not None else "Zeek log"
    return labels


def write_records(
    records: Iterable[dict[str, Any]],
    out: IO[str],
    fmt: str,
    first_ts: float | None,
    kind: RecordKind,
) -> int:
    """Write `records` in `fmt` to `out`; returns how many were written."""
    if fmt not in FORMATS:
        raise ExportError(f"the export format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    try:
        return export.write_records(records, out, fmt, kind, first_ts)
    except BadArgumentError as exc:
        raise ExportError(str(exc)) from None


def export_records(
    records: Iterable[dict[str, Any]],
    target: Path,
    fmt: str,
    first_ts: float | None = None,
    *,
    kind: RecordKind,
    overwrite: bool = False,
) -> int:
    """Write the file atomically; refuse an existing target unless `overwrite`."""
    target = Path(target).expanduser()
    if target.is_dir():
        raise ExportError(f"{target} is a folder; give a file name")
    if target.exists() and not overwrite:
        raise TargetExistsError(f"{target} already exists")
    folder = target.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise ExportError(f"cannot write in {folder}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            count = write_records(records, out, fmt, first_ts, kind)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o666 & ~UMASK)
        _move_into_place(tmp, target, overwrite)
    except OSError as exc:
        raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return count


def _move_into_place(tmp: str, target: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, target)
        return
    try:  # a hard link never replaces: a file created meanwhile is not clobbered
        os.link(tmp, target)
    except FileExistsError:
        raise TargetExistsError(f"{target} already exists") from None
    except OSError:  # no hard links on this file system: check, then rename
        if target.exists():
            raise TargetExistsError(f"{target} already exists") from None
        os.replace(tmp, target)
