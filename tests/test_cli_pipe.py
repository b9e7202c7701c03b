"""`mcpcap ... | head -1`: a reader that leaves early ends mcpcap quietly, with status 141.

Each test gives mcpcap's stdout a real pipe whose reader is gone before mcpcap is done: a
process that reads one line and exits while mcpcap still has more than a pipe's buffer (64 KiB)
to write, or no reader at all (`| true` after `true` ended).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mcpcap.cli import BROKEN_PIPE_STATUS

READ_ONE_LINE = "import sys; sys.stdout.write(sys.stdin.readline())"


def mcpcap(*args: str, stdout) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mcpcap", *args], stdout=stdout, stderr=subprocess.PIPE, text=True
    )


def head_one_line(*args: str) -> tuple[int, str, str]:
    """`mcpcap ARGS | head -1`: mcpcap's status and stderr, and the line the reader printed."""
    writer = mcpcap(*args, stdout=subprocess.PIPE)
    read = subprocess.run(
        [sys.executable, "-c", READ_ONE_LINE], stdin=writer.stdout, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    writer.stdout.close()  # the reader has exited: nobody holds the pipe's reading end
    _, err = writer.communicate(timeout=300)
    return writer.returncode, err, read.stdout


def no_reader(*args: str) -> tuple[int, str]:
    """mcpcap writing to a pipe whose reading end is closed before it starts."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        writer = mcpcap(*args, stdout=write_end)
    finally:
        os.close(write_end)
    _, err = writer.communicate(timeout=300)
    return writer.returncode, err


@pytest.mark.parametrize(
    "records",
    [
        ["--records", "dns.messages", "--format", "jsonl"],  # 320 KiB, heapq.merge of cursors
        ["--records", "dns.transactions", "--format", "json"],  # 107 KiB
        ["--records", "conn.connections", "--format", "jsonl"],  # 107 KiB
    ],
)
def test_a_reader_that_leaves_after_one_line(example, records):
    status, err, line = head_one_line("analyze", str(example), *records)
    assert line.strip(), "the reader got its line"
    assert err == ""  # no "Exception ignored", no BrokenPipeError, no sqlite error
    assert status == BROKEN_PIPE_STATUS == 141


@pytest.mark.parametrize(
    "args",
    [
        ["analyze", "{example}"],  # the summary: one small document, still buffered at exit
        ["analyze", "{example}", "--records", "dns.messages"],
        ["schema"],
        ["analyze", "--records", "describe"],
    ],
)
def test_no_reader_at_all(example, args):
    status, err = no_reader(*[arg.format(example=example) for arg in args])
    assert err == ""
    assert status == BROKEN_PIPE_STATUS


@pytest.mark.parametrize(("command", "one_shot"), [("schema", True), ("--version", False)])
def test_a_one_shot_command_runs_without_the_cyclic_collector_and_exits_frozen(command, one_shot):
    """A command that answers and ends the process (analyze, sources, schema) runs without the
    cyclic collector: its pass over what a scan left alive (0.17 s after a 1M-packet analysis)
    is not worth making, the process frees everything by ending. The objects still alive at
    the end are frozen: the interpreter's exit skips a collection over them (0.08 s). `main`
    itself does neither: a process that calls it goes on."""
    code = (
        "import atexit, gc, sys\n"
        "state = lambda: print(gc.isenabled(), gc.get_freeze_count() > 0, file=sys.stderr)\n"
        "atexit.register(state)\n"
        "from mcpcap.cli import main, run\n"
        "if sys.argv[1] == 'schema':\n"
        "    main(['schema'])\n"
        "    assert gc.isenabled() and gc.get_freeze_count() == 0\n"
        "run()"
    )
    run = subprocess.run([sys.executable, "-c", code, command], capture_output=True, text=True)
    assert run.stderr.strip().splitlines()[-1] == f"{not one_shot} {one_shot}"
