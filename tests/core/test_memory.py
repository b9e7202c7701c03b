"""The server caps glibc's malloc arenas before its worker threads start."""

import platform
import subprocess
import sys

import pytest

from mcpcap.core.memory import limit_malloc_arenas


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_the_arena_cap_is_accepted_by_glibc():
    assert limit_malloc_arenas() is True


def test_serve_sets_the_cap_before_serving():
    code = (
        "import sys; from unittest import mock; import mcpcap.server.run as run\n"
        "with mock.patch.object(run, 'limit_malloc_arenas') as cap, "
        "mock.patch.object(run, '_build', side_effect=SystemExit(0)):\n"
        "    try: run.run_server(run.Settings(), type('A', (), {'transport': 'http', "
        "'host': '127.0.0.1', 'port': 0, 'allow_unauthenticated_http': False, "
        "'log_level': 'ERROR'})())\n"
        "    except SystemExit: pass\n"
        "print(cap.call_count)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "1", done.stderr
