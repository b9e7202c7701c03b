"""A real stdio session: the SDK's stdio client spawns `python -m mcpcap serve`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from mcp import Client, StdioServerParameters

from mcpcap.config import build_settings
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
    assert {tool.name for tool in tools.tools} >= {"dns_top", "analyze_dns_packets"}
    settings = build_settings({"pcap_path": [str(source)]})
    workspace = Workspace(settings)
    expected = workspace.open("example.pcap").module("dns").top(limit=5)
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
    assert done.returncode == 1
    assert done.stdout == ""
    assert "unknown module 'nope'" in done.stderr and "available modules: dns" in done.stderr
