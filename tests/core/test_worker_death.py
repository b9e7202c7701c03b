"""A scanning process killed with SIGKILL leaves no worker behind, however its workers started.

Forked workers die with it (`shutdown._children_die_with_their_parent`, see test_store_faults);
these are the workers of a process with threads (the MCP server, the TUI), which a fork server
starts: they are the server's children, not the scanning process's.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.core.fault_captures import write_dns_capture

REPO = Path(__file__).resolve().parents[2]

SCAN = """
import sys, threading, time
from pathlib import Path
from mcpcap.core.config import Settings
from mcpcap.core import parallel
from mcpcap.core.service import Analyzer

parallel.SPAN_BYTES = 64 << 10  # many spans: the workers are busy when the kill comes
threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()  # threads: a fork server
told = []

def progress(packets, done, total):
    if packets and not told:
        told.append(True)
        print(parallel.worker_context().get_start_method(), flush=True)

path = Path(sys.argv[1])
settings = Settings(use_cache=False, workers=2, cache_dir=path.parent / "cache")
with Analyzer(settings).analyze(path, path.name, progress=progress) as analysis:
    print("finished", flush=True)
"""


def _children() -> dict[int, list[int]]:
    table: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                if fields[0] != "Z":
                    table.setdefault(int(fields[1]), []).append(int(entry))
    return table


def _below(root: int) -> dict[int, int]:
    """Every living process below `root`, with its depth (1: a child, 2: a grandchild)."""
    table = _children()
    found: dict[int, int] = {}
    todo = [(root, 0)]
    while todo:
        pid, depth = todo.pop()
        for child in table.get(pid, []):
            found[child] = depth + 1
            todo.append((child, depth + 1))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_killing_the_scanning_process_leaves_no_fork_server_worker(tmp_path) -> None:
    capture = write_dns_capture(tmp_path / "big.pcap", 150_000)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", SCAN, str(capture)], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    started: dict[int, int] = {}
    try:
        assert proc.stdout.readline().decode().strip() == "forkserver"
        started = _below(proc.pid)
        workers = [pid for pid, depth in started.items() if depth == 2]
        assert workers, started  # the fork server's children: the scan's workers
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 15
        while any(_alive(pid) for pid in started) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [pid for pid in started if _alive(pid)] == []
    finally:
        for pid in [proc.pid, *started]:  # whatever a failure left of what this test started
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        proc.wait()
