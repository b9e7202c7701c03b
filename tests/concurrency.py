"""Running one piece of work in several threads at once, for tests of what threads share."""

from __future__ import annotations

import threading
from collections.abc import Callable


def at_once(work: Callable[[], object], threads: int = 4) -> None:
    """Call `work` in `threads` threads released together, and wait for every one to end."""
    start = threading.Barrier(threads)

    def run() -> None:
        start.wait()
        work()

    started = [threading.Thread(target=run) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()
