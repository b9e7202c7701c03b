"""Ctrl+C ends the server with status 130 however the event loop reports it."""

from __future__ import annotations

import builtins
import os
import signal
from types import SimpleNamespace

import pytest

import mcpcap.server.run as run
from mcpcap.core import shutdown

# (Python 3.10: anyio's backport)
Group = (
    getattr(builtins, "BaseExceptionGroup", None) or __import__("exceptiongroup").BaseExceptionGroup
)

ARGS = SimpleNamespace(transport="http", host="127.0.0.1", port=0,
                       allow_unauthenticated_http=False, log_level="ERROR")  # fmt: skip


class _Closed:
    closed = False

    def close(self) -> None:
        self.closed = True


def _broken_loop(*_args) -> None:
    """What anyio raised in CI when Ctrl+C landed while a cancel scope was being left."""
    raise Group("unhandled errors in a TaskGroup", [RuntimeError("cancel scope")])


@pytest.fixture
def server(monkeypatch):
    """`run_server` with nothing built, nothing served, and the process-wide settings kept."""
    workspace = _Closed()
    monkeypatch.setattr(run, "_build", lambda settings: (workspace, object()))
    for name in ("limit_malloc_arenas", "one_scan_at_a_time", "_configure_logging"):
        monkeypatch.setattr(run, name, lambda *args: None)
    monkeypatch.setattr("anyio.run", _broken_loop)

    def exit_interrupted() -> None:
        raise SystemExit(130)

    monkeypatch.setattr(run, "exit_interrupted", exit_interrupted)
    return workspace


def test_an_interrupt_the_event_loop_wrapped_still_exits_130(server, monkeypatch):
    monkeypatch.setattr(shutdown, "_sigint_arrived", True)
    with pytest.raises(SystemExit) as ended:
        run.run_server(run.Settings(), ARGS)
    assert ended.value.code == 130
    assert server.closed


def test_the_same_error_without_an_interrupt_is_not_hidden(server, monkeypatch):
    monkeypatch.setattr(shutdown, "_sigint_arrived", False)
    with pytest.raises(Group):
        run.run_server(run.Settings(), ARGS)
    assert server.closed


def test_ctrl_c_is_remembered_as_it_raises(monkeypatch):
    monkeypatch.setattr(shutdown, "_main_pid", os.getpid())
    monkeypatch.setattr(shutdown, "_sigint_arrived", False)
    with pytest.raises(KeyboardInterrupt):
        shutdown._on_signal(signal.SIGINT, None)
    assert shutdown.sigint_arrived()
