"""Stopping the worker pool at once never leaves a thread that keeps the interpreter alive."""

from __future__ import annotations

import multiprocessing
import os
import struct
import time
from concurrent.futures import ProcessPoolExecutor

from mcpcap.core.parallel import _stop


def _square(n: int) -> int:
    return n * n


def test_a_half_sent_result_does_not_hold_the_executor_thread():
    """A worker killed in the middle of sending its result: the executor's thread was left
    reading the rest for ever, and the interpreter hung at exit joining it."""
    executor = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork"))
    assert executor.submit(_square, 7).result(timeout=30) == 49
    manager = executor._executor_manager_thread
    # what a killed worker leaves behind: a message header announcing bytes that never come
    os.write(executor._result_queue._writer.fileno(), struct.pack("!i", 1000))
    time.sleep(0.2)  # the thread is now blocked reading the missing 1000 bytes
    _stop(executor, at_once=True)
    manager.join(10)
    assert not manager.is_alive()
