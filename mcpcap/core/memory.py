"""Keep a long-lived, many-threaded process's memory near what it uses (glibc; elsewhere no-ops).

glibc gives each thread that allocates concurrently a malloc arena of its own (up to eight per
core), and memory freed in an arena mostly stays with it. An MCP server answers each call in a
worker thread, so twenty concurrent first calls left hundreds of MiB of freed scan memory spread
over twenty arenas. Two arenas are plenty for a process whose heavy work is one scan at a time.

Even in two arenas, what a scan frees (span results, SQLite pages, the decoded messages of a
span) is kept by the allocator for later: a DNS-dense capture of 360k packets left about 160 MiB
of free memory in a server that had finished its scan. `release_free_memory` gives it back.
"""

from __future__ import annotations

import contextlib
from typing import Any

M_MMAP_THRESHOLD = -3  # mallopt parameters (glibc's malloc.h)
M_ARENA_MAX = -8
SERVER_ARENAS = 2
# Blocks from this size up get pages of their own, returned when freed. glibc raises its threshold
# to the largest block freed so far (up to 32 MiB), so a scan's span results, several MiB each,
# would otherwise come from the arenas and stay there once freed.
SERVER_MMAP_THRESHOLD = 1 << 20


def _libc() -> Any:
    import ctypes

    return ctypes.CDLL(None)


def limit_malloc_arenas(arenas: int = SERVER_ARENAS) -> bool:
    """Cap glibc's malloc arenas, and give large blocks pages of their own; call before threads
    start. False where there is no glibc."""
    with contextlib.suppress(OSError, AttributeError, ImportError):
        libc = _libc()
        return bool(libc.mallopt(M_ARENA_MAX, arenas)) and bool(
            libc.mallopt(M_MMAP_THRESHOLD, SERVER_MMAP_THRESHOLD)
        )
    return False


def release_free_memory() -> bool:
    """Return the allocator's free pages to the system (`malloc_trim`); a few milliseconds.
    False where there is no glibc."""
    with contextlib.suppress(OSError, AttributeError, ImportError):
        _libc().malloc_trim(0)
        return True
    return False
