"""A real stdio session: the SDK's stdio client spawns `python -m mcpcap serve`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from mcp import Client, StdioServerParameters

from mcpcap.core.config import build_settings
from mcpcap.core.workspace import Workspace

pytestmark = pytest.mark.anyio

INIT = {
    "jsonrpc": "2.0", "id": 1, "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {},
               "clientInfo": {"name": "test", "version": "1"}},
}  # fmt: skip


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def source(tmp_path, example):
    folder = tmp_path / "captures"
    folder.mkdir()
    (folder / "example.pcap").write_bytes(example.read_bytes())
    return folder


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "0"}


async def test_sdk_stdio_client(source) -> None:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "mcpcap", "serve", "--pcap-path", str(source)],
        env=_env(),
    )  # fmt: skip
    async with Client(params) as client:
        tools = await client.list_tools()
        top = await client.call_tool("dns_top", {"capture": "example.pcap", "limit": 5})
        info = await client.call_tool("capture_info", {"capture": "example.pcap"})
        prompts = await client.list_prompts()
        hunt = await client.get_prompt("dns_tunnelling_hunt", {"capture": "example.pcap"})
    assert {tool.name for tool in tools.tools} >= {"dns_top", "analyze_dns_packets"}
    assert "dns_tunnelling_hunt" in {prompt.name for prompt in prompts.prompts}
    assert 'kind="dns.findings"' in hunt.messages[0].content.text
    settings = build_settings({"pcap_path": [str(source)]})
    workspace = Workspace(settings)
    expected = workspace.open("example.pcap").module("dns").rank(limit=5)
    assert top.structured_content == expected.model_dump(mode="json")
    assert info.structured_content["capture"]["packets"] > 0
    workspace.close()


def _requests() -> str:
    call = {"name": "dns_top", "arguments": {"capture": "example.pcap", "limit": 3}}
    lines = [
        INIT,
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": call},
    ]
    return "".join(json.dumps(line) + "\n" for line in lines)


NOISY = textwrap.dedent(
    """
    import os, sys, threading, warnings
    print("noise printed before serving")
    def noise():
        print("python noise while serving", flush=True)
        os.write(1, b"C-level noise while serving\\n")
        warnings.warn("a library warns")
    threading.Timer(0.3, noise).start()
    from mcpcap.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


@pytest.mark.parametrize("noisy", [False, True])
def test_stdout_holds_only_json_rpc(source, noisy) -> None:
    """Raw bytes from the child's stdout: one JSON-RPC message a line, nothing else."""
    launcher = ["-c", NOISY] if noisy else ["-m", "mcpcap"]
    child = subprocess.Popen(
        [sys.executable, *launcher, "serve", "--pcap-path", str(source)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(),
    )  # fmt: skip
    child.stdin.write(_requests().encode())
    child.stdin.flush()
    replies = {}
    while 3 not in replies:
        line = child.stdout.readline()
        assert line, child.stderr.read().decode()
        message = json.loads(line)
        assert message["jsonrpc"] == "2.0"
        replies[message.get("id")] = message
    if noisy:
        import time

        time.sleep(0.6)  # let the noise happen while serving
    child.stdin.close()
    rest = child.stdout.read()
    errors = child.stderr.read().decode()
    assert child.wait(timeout=30) == 0
    for line in rest.splitlines():
        assert json.loads(line)["jsonrpc"] == "2.0"
    assert replies[3]["result"]["structuredContent"]["items"][0]["key"] == "www.example.com"
    if noisy:
        for text in ("noise printed before serving", "python noise", "C-level noise", "warns"):
            assert text in errors


def test_unknown_module_stops_start_up(source) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mcpcap", "serve", "--modules", "dns,nope"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2  # a usage error
    assert done.stdout == ""
    assert (
        "unknown module 'nope'" in done.stderr
        and "available modules: conn, dhcp, dns, http" in done.stderr
    )


def _read_until(fd: int, seconds: float, done) -> bytes:
    """What the terminal shows within `seconds`, stopping early once `done(output)`."""
    import select
    import time

    out, end = b"", time.monotonic() + seconds
    while time.monotonic() < end and not done(out):
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                out += os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
    return out


def _wait(pid: int, seconds: float) -> int | None:
    """The child's exit code, or None if it is still running after `seconds`."""
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    return None


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_plain_mcpcap_in_a_terminal_says_what_it_is_and_quits_on_the_first_ctrl_c() -> None:
    import pty
    import signal

    pid, terminal = pty.fork()
    if pid == 0:  # the child: `mcpcap` typed in a terminal
        os.execvpe(sys.executable, [sys.executable, "-m", "mcpcap"], _env())
    code = None
    try:
        shown = _read_until(terminal, 60, lambda out: b"Ctrl+C quits" in out).decode()
        assert "MCP server" in shown and "waiting for an MCP client" in shown
        assert "mcpcap tui" in shown
        os.write(terminal, b"\x03")  # one Ctrl+C
        code = _wait(pid, 10)
        assert code == 130, "still running after one Ctrl+C"
    finally:
        if code is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(terminal)


def test_a_client_pipe_gets_no_terminal_note_and_sigint_ends_the_server(source) -> None:
    import signal

    # -X faulthandler: a server still running after the Ctrl+C is shown where it waits
    child = subprocess.Popen(
        [sys.executable, "-X", "faulthandler", "-m", "mcpcap", "serve", "--pcap-path", str(source)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(),
    )  # fmt: skip
    child.stdin.write((json.dumps(INIT) + "\n").encode())
    child.stdin.flush()
    assert json.loads(child.stdout.readline())["id"] == 1  # serving, stdin still open
    child.send_signal(signal.SIGINT)
    try:
        code = child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.send_signal(signal.SIGABRT)  # faulthandler prints every thread's stack
        child.wait()
        pytest.fail("still running 10 s after Ctrl+C:\n" + child.stderr.read().decode())
    stderr = child.stderr.read().decode()
    assert code == 130, stderr
    assert "waiting for an MCP client" not in stderr
    assert "mcpcap: interrupted" in stderr
    child.stdin.close()


def test_a_failure_to_close_at_exit_is_logged_not_raised(caplog) -> None:
    from mcpcap.server.run import close_quietly

    class Failing:
        def close(self) -> None:
            raise OSError("the cache folder went away")

    close_quietly(Failing())
    assert "the cache folder went away" in caplog.text
