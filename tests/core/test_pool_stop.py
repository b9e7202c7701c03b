"""Stopping the worker pool at once never leaves a thread that keeps the interpreter alive, nor
an error in that thread; a scan that ends early beside another withdraws its spans; a worker
that dies ends its scan with an error, whenever it dies."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import struct
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import EXTRA_QUEUED_CALLS, BrokenProcessPool

import pytest

from mcpcap.core import parallel
from mcpcap.core.errors import McpcapError
from mcpcap.core.parallel import _stop
from mcpcap.core.reader import CaptureReader, PcapSpan
from tests.core.fault_captures import write_dns_capture

_SCAN_SPAN = parallel._scan_span


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


def _slow(n: int) -> int:
    time.sleep(0.2)
    return n


def _outstanding(executor: ProcessPoolExecutor, count: int) -> list:
    return [executor.submit(_slow, n) for n in range(count)]


def _slow_span(*args):
    """`parallel._scan_span` a little later (submitted in its place: a worker imports it)."""
    time.sleep(0.2)
    return _SCAN_SPAN(*args)


def test_the_last_scan_to_end_early_leaves_its_futures_to_the_pools_end(monkeypatch, tmp_path):
    """A scan that ends early, alone on the pool, does not cancel its spans before the pool
    stops at once: the pool's thread sets an error on every future it still holds, and on
    Python before 3.12 one cancelled already raised InvalidStateError in that thread (a
    traceback on stderr after a cancelled or failed scan)."""
    from mcpcap.core.reader import CaptureReader
    from tests.core.fault_captures import write_dns_capture

    path = write_dns_capture(tmp_path / "dns.pcap", 3000)
    with CaptureReader(str(path)) as reader:
        layout, spans = reader.pcap_layout, list(reader.pcap_spans(2048, None))
    assert len(spans) > 20
    seen = []
    stop = parallel._stop

    def recording_stop(executor: ProcessPoolExecutor, at_once: bool) -> None:
        held = [item.future for item in executor._pending_work_items.values()]
        seen.append((at_once, len(held), sum(future.cancelled() for future in held)))
        stop(executor, at_once)

    monkeypatch.setattr(parallel, "_stop", recording_stop)
    # slow spans, many in flight: most are still waiting in the pool when the scan ends
    monkeypatch.setattr(parallel, "IN_FLIGHT_PER_WORKER", 8)
    monkeypatch.setattr(parallel, "_scan_span", _slow_span)
    results = parallel.run_spans(layout, spans, ["dns"], 2)
    next(results)
    results.close()  # (the scan ends early: cancelled, or failed)
    assert len(seen) == 1
    at_once, held, cancelled = seen[0]
    assert at_once and held > 8 and cancelled == 0


def test_a_scan_that_ends_early_beside_another_withdraws_its_spans(monkeypatch):
    """While another scan still uses the pool, the spans not begun are withdrawn (cancelled)
    so that the other scan's spans do not wait behind them."""

    pool = parallel._SharedPool()
    with pool.use(1) as executor:  # the other scan
        mine: list = []
        try:
            with pool.use(1, lambda: mine) as same:
                assert same is executor
                mine += _outstanding(executor, 10)
                raise KeyboardInterrupt
        except KeyboardInterrupt:
            pass
        # those running (one a worker: the pool may have more workers than asked for, where
        # it comes from a fork server) and those already in the executor's call queue (the
        # workers plus EXTRA_QUEUED_CALLS) can no longer be withdrawn; every other one is
        workers = executor._max_workers
        movable = len(mine) - workers - (workers + EXTRA_QUEUED_CALLS)
        assert sum(job.cancelled() for job in mine) >= movable
        assert executor.submit(_square, 3).result(timeout=30) == 9  # the pool goes on


def _forever(*args) -> None:
    time.sleep(60)


def test_a_worker_that_dies_while_the_executor_thread_is_stuck_ends_the_scan(monkeypatch, tmp_path):
    """A worker killed in the middle of sending its result leaves the executor's thread reading
    the rest for ever: that thread never tells the futures, so the scan must see the dead
    worker itself and end with the error, not wait for a result that never comes."""
    layout = CaptureReader(write_dns_capture(tmp_path / "dns.pcap", 10)).pcap_layout
    executor = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork"))
    assert executor.submit(_square, 7).result(timeout=30) == 49
    os.write(executor._result_queue._writer.fileno(), struct.pack("!i", 1000))
    time.sleep(0.2)  # the executor's thread is now blocked reading the missing 1000 bytes

    @contextlib.contextmanager
    def this_pool(workers, outstanding=tuple):
        yield executor

    monkeypatch.setattr(parallel.POOL, "use", this_pool)
    monkeypatch.setattr(parallel, "_scan_span", _forever)  # spans that never end by themselves
    span = PcapSpan(24, 100, 1, 1)
    runs = parallel.run_spans(layout, [span] * 4, ["dns"], 2)
    ended: list[BaseException] = []

    def first_result() -> None:
        try:
            next(runs)
        except BaseException as exc:  # (whatever the scan raised: the test checks it)
            ended.append(exc)

    waiter = threading.Thread(target=first_result, daemon=True)
    waiter.start()
    time.sleep(0.3)  # the scan waits for its first span
    next(iter(executor._processes.values())).kill()
    waiter.join(15)
    try:
        assert ended and isinstance(ended[0], McpcapError), ended
        assert "stopped unexpectedly" in str(ended[0])
    finally:
        _stop(executor, at_once=True)


def test_a_pool_broken_before_a_span_is_handed_in_ends_the_scan(monkeypatch):
    """A worker that died between two results breaks the pool before the next span is
    submitted: the scan ends with the same error as when a result reports it."""

    class BrokenPool:
        def submit(self, *args):
            raise BrokenProcessPool("A child process terminated abruptly")

    @contextlib.contextmanager
    def this_pool(workers, outstanding=tuple):
        yield BrokenPool()

    monkeypatch.setattr(parallel.POOL, "use", this_pool)
    with pytest.raises(McpcapError, match="stopped unexpectedly"):
        next(parallel.run_spans(None, [PcapSpan(24, 100, 1, 1)], ["dns"], 2))
