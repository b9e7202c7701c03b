"""How the `mcpcap` process ends on SIGTERM, SIGHUP and SIGINT: quietly, leaving nothing behind.

During a scan the process removes what the scan was writing (`service.abandon_scans`), kills its
worker processes and exits at once with status 130, printing one line. It does not unwind: the
signal may have reached the workers too (a terminal's hangup, `kill` of the process group), and a
worker that dies holding a lock of its pool makes any wait for that pool wait forever. Outside a
scan each signal does what it always did: SIGINT raises KeyboardInterrupt, the others end the
process. A signal the process inherited as ignored (`nohup`, `cmd &`) stays ignored.

Worker processes forked from this one leave it to this one, and die with it (Linux), so a
`kill -9` of the scanning process does not leave workers that fail to deliver their results.
Workers a fork server starts (a process with threads: the MCP server, the TUI) are that server's
children: they die with it (`die_with_parent`), and it ends when the scanning process does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import NoReturn

PR_SET_PDEATHSIG = 1
_main_pid = 0
_forking_pid = 0
_sigint_arrived = False


def end_quietly_on_signals() -> None:
    """Install the handlers (from the main thread of the main process; elsewhere a no-op)."""
    global _main_pid
    if threading.current_thread() is not threading.main_thread() or _main_pid:
        return
    _main_pid = os.getpid()
    for name in ("SIGTERM", "SIGHUP", "SIGINT"):
        sig = getattr(signal, name, None)
        if sig is not None and signal.getsignal(sig) is not signal.SIG_IGN:
            signal.signal(sig, _on_signal)
    _children_die_with_their_parent()


def _on_signal(signum: int, _frame: object) -> None:
    if os.getpid() != _main_pid:  # a forked worker: its scanning process ends it
        if signum == signal.SIGTERM:  # what ends a pool's workers
            os._exit(128 + signum)
        return
    service = sys.modules.get("mcpcap.core.service")  # not loaded: nothing is scanning
    if service is not None and service.abandon_scans():
        exit_interrupted()
    if signum == signal.SIGINT:
        global _sigint_arrived
        _sigint_arrived = True
        raise KeyboardInterrupt
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def sigint_arrived() -> bool:
    """Whether Ctrl+C reached this process (its KeyboardInterrupt may have come out as another
    error: raised inside an event loop's own code, anyio reports the state it broke)."""
    return _sigint_arrived


def exit_interrupted() -> NoReturn:
    """End the process now with status 130, saying so on stderr (no unwinding, no joins)."""
    print("mcpcap: interrupted", file=sys.stderr, flush=True)
    os._exit(130)


def _prctl() -> Callable[..., int] | None:
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (ImportError, OSError, AttributeError):  # not Linux
        return None


def die_with_parent() -> None:
    """A worker process gets SIGKILL when its parent ends (Linux; elsewhere a no-op).

    For a worker started by a fork server, which `_children_die_with_their_parent` does not
    reach: a worker left waiting for spans from a dead scanning process would wait for ever (it
    holds the writing end of its own queue). Its parent is the fork server, which exits when no
    process holds the writing end of its 'alive' pipe any more; the scanning process holds one,
    and so does each process the server starts, to start processes of its own. A worker starts
    none: it lets go of its end, so the server ends with the scanning process and its workers
    with the server.
    """
    _let_go_of_the_fork_server()
    prctl = _prctl()
    if prctl is None:
        return
    parent = os.getppid()
    with contextlib.suppress(Exception):
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(0)


def _let_go_of_the_fork_server() -> None:
    forkserver = sys.modules.get("multiprocessing.forkserver")
    server = getattr(forkserver, "_forkserver", None)
    alive = getattr(server, "_forkserver_alive_fd", None)
    if alive is None:
        return
    server._forkserver_alive_fd = None  # this process can no longer ask the server for any
    with contextlib.suppress(OSError):
        os.close(alive)


def _children_die_with_their_parent() -> None:
    """Every process forked from here gets SIGKILL when the thread that forked it ends."""
    prctl = _prctl()
    if prctl is None:
        return

    def before() -> None:
        global _forking_pid
        _forking_pid = os.getpid()

    def in_child() -> None:
        with contextlib.suppress(Exception):
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != _forking_pid:  # the parent died before the line above
            os._exit(0)

    os.register_at_fork(before=before, after_in_child=in_child)
