"""Pause Python's cyclic garbage collector while a scan runs.

A scan allocates millions of small tuples. Reference counting frees them; the collector's
generational passes only re-walk the ones still alive (a span's results, the pending queries)
and find nothing to free, since the hot path makes no reference cycles. Those passes cost about
a tenth of a scan's CPU time. Scans may run in several threads at once (the MCP server), so the
pause is counted: the collector comes back when the last scan ends, as it was before the first.
A scan that ends while others still run collects the young generations itself, so back-to-back
scans in a server never keep what the rest of the process made cyclic for long.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
            elif _depth > 0 and _was_enabled:
                gc.collect(1)
