"""How the `mcpcap` process ends on SIGTERM, SIGHUP and SIGINT: quietly, leaving nothing behind.

During a scan the process removes what the scan was writing (`service.abandon_scans`), kills its
worker processes and exits at once with status 130, printing one line. It does not unwind: the
signal may have reached the workers too (a terminal's hangup, `kill` of the process group), and a
worker that dies holding a lock of its pool makes any wait for that pool wait forever. Outside a
scan each signal does what it always did: SIGINT raises KeyboardInterrupt, the others end the
process. A signal the process inherited as ignored (`nohup`, `cmd &`) stays ignored.

Worker processes forked from this one leave it to this one, and die with it (Linux), so a
`kill -9` of the scanning process does not leave workers that fail to deliver their results.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading

PR_SET_PDEATHSIG = 1
_main_pid = 0
_forking_pid = 0


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
        print("mcpcap: interrupted", file=sys.stderr, flush=True)
        os._exit(130)
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _children_die_with_their_parent() -> None:
    """Every process forked from here gets SIGKILL when the thread that forked it ends."""
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (ImportError, OSError, AttributeError):  # not Linux
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
