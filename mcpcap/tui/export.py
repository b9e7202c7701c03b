"""Writing the records of a view to a file, atomically and without clobbering (no Textual).

The file is written under a temporary name in the destination folder and moved into place only
when complete, so a reader never sees half a file and a failed export leaves nothing behind.
An existing file is replaced only when the caller says so (the TUI asks the user first).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from mcpcap.modules.dns.export import write_csv, zeek_lines
from mcpcap.modules.dns.models import DnsTransaction

FORMATS = {  # key -> (label, file suffix)
    "jsonl": ("JSON Lines", ".jsonl"),
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


def default_filename(capture: str, fmt: str) -> str:
    """`example-dns.jsonl` for capture `example.pcap` (Zeek's is `example-dns.log`)."""
    stem = Path(capture).name
    for suffix in (".gz", ".pcapng", ".pcap", ".cap"):
        stem = stem.removesuffix(suffix)
    return f"{stem or 'capture'}-dns{FORMATS[fmt][1]}"


def write_records(
    records: Iterable[dict[str, Any]], out: IO[str], fmt: str, first_ts: float | None
) -> int:
    """Write `records` in `fmt` to `out`; returns how many were written."""
    counted = _Counter(records)
    if fmt == "jsonl":
        for record in counted:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        write_csv(counted, out, list(DnsTransaction.model_fields))
    elif fmt == "zeek":
        for line in zeek_lines(counted, first_ts):
            out.write(line + "\n")
    else:
        raise ExportError(f"the export format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    return counted.count


def export_records(
    records: Iterable[dict[str, Any]],
    target: Path,
    fmt: str,
    first_ts: float | None = None,
    *,
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
            count = write_records(records, out, fmt, first_ts)
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


class _Counter:
    """Counts the records an iterable yields."""

    def __init__(self, records: Iterable[dict[str, Any]]) -> None:
        self._records = records
        self.count = 0

    def __iter__(self):
        for record in self._records:
            self.count += 1
            yield record
