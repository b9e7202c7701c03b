"""A share of some work done in a forked copy of this process, meanwhile.

After its last span a scan's end runs alone on one core: the other cores are idle. Part of
that end is read-only (the modules' summaries read the committed store), so a copy of the
process made by `fork` can do a share of it while the process does the rest, and hand back its
result as bytes through a pipe.

`fork` is only safe in a process with one thread: a lock another thread held at the fork stays
held in the copy forever. So `forked` gives None in a process with threads (the MCP server, the
TUI) or without `fork`, and the caller does the work itself, as it does when the copy fails.
The copy never returns into the caller's code: it ends with `os._exit`, running no atexit
handler and flushing no inherited buffer, whatever the work did; and a signal ends it at once,
not through the process's own handlers (which clean up after the scan the copy is not).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from typing_extensions import Self

READ_SIZE = 1 << 16
T = TypeVar("T")


def can_fork() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


def forked(work: Callable[[], bytes]) -> Forked | None:
    """`work` started in a forked copy of this process, or None where forking is not safe."""
    if not can_fork():
        return None
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # pragma: no cover - the copy (its coverage is never written)
        _run_copy(work, read_end, write_end)
    os.close(write_end)
    return Forked(pid, read_end)


def _run_copy(work: Callable[[], bytes], read_end: int, write_end: int) -> None:
    """The copy's whole life: its result into the pipe, then out, whatever happens."""
    status = 1
    try:
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, signal.SIG_DFL)
        os.close(read_end)
        data = work()
        view = memoryview(data)
        while view:
            view = view[os.write(write_end, view) :]
        status = 0
    except BaseException:  # the caller does the work again and meets any real error itself
        pass
    finally:
        os._exit(status)


class _ReadEnd:
    """The reading end of a pipe this process holds, closed when the `with` block ends."""

    def __init__(self, read_end: int) -> None:
        self._read_end: int | None = read_end

    def _close(self) -> None:
        if self._read_end is not None:
            os.close(self._read_end)
            self._read_end = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._end()

    def _end(self) -> None:
        self._close()


class Forked(_ReadEnd):
    """A running copy; `result()` waits for its bytes. Leaving the `with` block without them
    ends the copy (an error in the caller's share must not leave it behind)."""

    def __init__(self, pid: int, read_end: int) -> None:
        super().__init__(read_end)
        self.pid = pid

    def result(self) -> bytes | None:
        """The bytes `work` returned, or None when the copy failed or was ended."""
        if self._read_end is None:
            return None
        chunks = []
        try:
            while chunk := os.read(self._read_end, READ_SIZE):
                chunks.append(chunk)
        finally:
            self._close()
        _, status = os.waitpid(self.pid, 0)
        return b"".join(chunks) if os.waitstatus_to_exitcode(status) == 0 else None

    def _end(self) -> None:
        if self._read_end is not None:  # the result was never taken: end and reap the copy
            self._close()
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)


class Turns(_ReadEnd, Generic[T]):
    """`items` shared out one at a time between this process and the copies it forks while the
    block runs: whoever is ready takes the next. Their numbers wait in a pipe and reading one
    byte of it is atomic, so each item is taken once, and a share's size follows how long each
    item takes (which nobody knows beforehand: a summary of many records, or of few)."""

    MAX_ITEMS = 255  # a byte each

    def __init__(self, items: Sequence[T]) -> None:
        if len(items) > self.MAX_ITEMS:
            raise ValueError(f"at most {self.MAX_ITEMS} items take turns")
        self._items = items
        read_end, write_end = os.pipe()
        try:
            os.write(write_end, bytes(range(len(items))))  # (far less than a pipe's buffer)
        finally:
            os.close(write_end)
        super().__init__(read_end)

    def __iter__(self) -> Iterator[T]:
        """The items this process takes, until none is left."""
        while self._read_end is not None and (taken := os.read(self._read_end, 1)):
            yield self._items[taken[0]]
