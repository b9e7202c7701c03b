"""Keep a many-threaded process's heap from growing with its thread count.

glibc gives each thread that allocates concurrently a malloc arena of its own (up to eight per
core), and memory freed in an arena mostly stays with it. An MCP server answers each call in a
worker thread, so twenty concurrent first calls left hundreds of MiB of freed scan memory spread
over twenty arenas. Two arenas are plenty for a process whose heavy work is one scan per core.
"""

from __future__ import annotations

import contextlib

M_ARENA_MAX = -8  # mallopt parameter (glibc's malloc.h)
SERVER_ARENAS = 2


def limit_malloc_arenas(arenas: int = SERVER_ARENAS) -> bool:
    """Cap glibc's malloc arenas; call before threads start. False where there is no glibc."""
    with contextlib.suppress(OSError, AttributeError, ImportError):
        import ctypes

        return bool(ctypes.CDLL(None).mallopt(M_ARENA_MAX, arenas))
    return False
