"""The SHA-256 a compiled twin is stamped with: its C source and every local header it includes.

The build (`hatch_build.py`, which loads this file by its path: nothing else of mcpcap needs to
import there) compiles the digest into each library, and `fastpath` refuses a library whose
digest is not that of the sources beside it. A header belongs in it: a library built before an
edit of `_twin.h` no longer matches the code it would run.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

_LOCAL_INCLUDE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]+"([^"]+)"', re.MULTILINE)


def source_digest(source: str | Path) -> str:
    """The hex SHA-256 of `source` followed by each header its `#include "..."` lines name
    (found beside the file that names it), depth first, each once. A header that is not there
    adds nothing: the compiler would have failed on it."""
    digest = hashlib.sha256()
    seen: set[Path] = set()

    def add(path: Path) -> None:
        path = path.resolve()
        if path in seen or not path.is_file():
            return
        seen.add(path)
        text = path.read_bytes()
        digest.update(text)
        for name in _LOCAL_INCLUDE.findall(text):
            add(path.parent / name.decode("utf-8", "replace"))

    add(Path(source))
    return digest.hexdigest()
