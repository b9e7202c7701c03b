"""Names users and models type: labels, unique face names, `label:name`, safe checks.

Pure functions only (no I/O), so every rule here is cheap to test exhaustively.
"""

from __future__ import annotations

import difflib
import posixpath
import re
from collections import Counter
from collections.abc import Iterable
from urllib.parse import unquote

from mcpcap.core.errors import OutsideSourcesError

CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap")
EXAMPLES_LABEL = "examples"
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# Schemes that name a resource without "//" (data:, javascript:) must never look like a file name.
_BARE_SCHEMES = ("file:", "data:", "ftp:", "ftps:", "sftp:", "javascript:", "gopher:", "smb:")
_LABEL_JUNK = re.compile(r"[^A-Za-z0-9._-]+")


def is_capture_like(name: str) -> bool:
    """`.pcap .pcapng .cap` and their `.gz`, case-insensitive (used for remote indexes only)."""
    lower = name.lower()
    if lower.endswith(".gz"):
        lower = lower[:-3]
    return lower.endswith(CAPTURE_SUFFIXES)


def is_hidden(relname: str) -> bool:
    return any(part.startswith(".") for part in relname.split("/") if part)


def label_for(text: str, fallback: str) -> str:
    """A label made of safe characters (never ':' or '/'), or the fallback when nothing is left."""
    cleaned = _LABEL_JUNK.sub("_", text).strip("._-")
    return cleaned or fallback


def unique_labels(wanted: Iterable[str], reserved: Iterable[str] = ()) -> list[str]:
    """Make labels unique in order: the second `lab` becomes `lab-2`, the third `lab-3`."""
    taken = set(reserved)
    result = []
    for label in wanted:
        candidate, n = label, 1
        while candidate in taken:
            n += 1
            candidate = f"{label}-{n}"
        taken.add(candidate)
        result.append(candidate)
    return result


def face_names(names_by_source: dict[str, list[str]]) -> dict[tuple[str, str], str]:
    """(label, relname) -> the name faces show: bare, or `label:relname` where two sources clash."""
    counts = Counter(name for names in names_by_source.values() for name in set(names))
    return {
        (label, name): name if counts[name] == 1 else f"{label}:{name}"
        for label, names in names_by_source.items()
        for name in names
    }


def split_label(text: str, labels: Iterable[str]) -> tuple[str | None, str]:
    """`lab:x.pcap` -> ('lab', 'x.pcap') when `lab` is a source label, else (None, text)."""
    head, sep, rest = text.partition(":")
    if sep and head in set(labels):
        return head, rest
    return None, text


def looks_like_url(text: str) -> bool:
    return bool(_URL_SCHEME.match(text)) or text.lower().startswith(_BARE_SCHEMES)


def looks_like_path(text: str) -> bool:
    return text.startswith(("/", "~", "\\"))


def shown(text: str, limit: int = 80) -> str:
    """User input quoted for an error message: control characters escaped, long input cut."""
    quoted = repr(text)
    return quoted if len(quoted) <= limit else quoted[: limit - 4] + "...'"


def clean_relname(text: str) -> str:
    """The canonical relative name, or OutsideSourcesError when it could leave its root.

    Checked in every spelling a server or file system might decode: as typed, percent-decoded
    (once and twice) and with backslashes read as separators. NUL bytes are refused outright.
    """
    if "\x00" in text or "%00" in text:
        raise OutsideSourcesError(f"{shown(text)} contains a NUL byte; refused")
    spellings = {text}
    decoded = text
    for _ in range(2):
        decoded = unquote(decoded)
        spellings.add(decoded)
    for spelling in spellings:
        spelling = spelling.replace("\\", "/")
        normal = posixpath.normpath(spelling) if spelling else spelling
        if (
            "\x00" in spelling
            or spelling.startswith(("/", "~"))
            or normal == ".."
            or normal.startswith("../")
        ):
            raise OutsideSourcesError(f"{shown(text)} lies outside the capture sources; refused")
    name = posixpath.normpath(text)
    if name in ("", "."):
        raise OutsideSourcesError(f"{shown(text)} names a source's folder, not a capture")
    return name


def close_matches(query: str, candidates: Iterable[str], n: int = 5) -> list[str]:
    """Names a user probably meant (by full name, then by base name), never `query` itself.

    Callers pass only names that can be opened: a suggestion that fails too is worse than none.
    """
    pool = sorted(set(candidates) - {query})
    found = difflib.get_close_matches(query, pool, n=n, cutoff=0.6)
    if len(found) < n:
        base = posixpath.basename(query)
        by_base = {posixpath.basename(c.split(":", 1)[-1]): c for c in pool}
        for hit in difflib.get_close_matches(base, list(by_base), n=n, cutoff=0.6):
            if by_base[hit] not in found:
                found.append(by_base[hit])
    return found[:n]


def unknown_message(query: str, suggestions: list[str]) -> str:
    return f"no capture named {shown(query)} in the configured sources" + did_you_mean(suggestions)


def no_such_file_message(path: str, suggestions: list[str] = ()) -> str:
    """A command-line path that does not exist (the user's own file system is no secret)."""
    return f"no such file: {shown(path)}" + did_you_mean(suggestions)


def did_you_mean(suggestions: Iterable[str]) -> str:
    names = list(suggestions)
    return "; did you mean " + ", ".join(names) + "?" if names else ""
