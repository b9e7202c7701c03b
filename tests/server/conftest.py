"""Fixtures for the MCP face: servers over the example or generated captures, a client helper."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from mcp import Client
from mcp.types import CallToolResult

from mcpcap.core.config import build_settings
from mcpcap.core.workspace import Workspace
from mcpcap.server.app import build_server

ROOT = Path(__file__).resolve().parents[2]


def generate_capture(path: Path, packets: int, seed: int = 1) -> Path:
    """A synthetic capture written by benchmarks/generate.py (DNS mixed with other traffic)."""
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--packets", str(packets),
         "--seed", str(seed), "--out", str(path)],
        check=True, capture_output=True,
    )  # fmt: skip
    path.with_suffix(".truth.json").unlink(missing_ok=True)
    return path


def json_size(value) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


class Served:
    """A server over a workspace, with a one-call helper for tests."""

    def __init__(self, **flags) -> None:
        self.settings = build_settings(flags)
        self.workspace = Workspace(self.settings)
        self.server = build_server(self.workspace, self.settings)

    async def call(self, tool: str, **arguments) -> CallToolResult:
        async with Client(self.server) as client:
            return await client.call_tool(tool, arguments)

    def close(self) -> None:
        self.workspace.close()


@pytest.fixture
def serve() -> Iterator:
    made: list[Served] = []

    def make(**flags) -> Served:
        made.append(Served(**flags))
        return made[-1]

    yield make
    for served in made:
        served.close()


@pytest.fixture
def example_served(serve) -> Served:
    return serve()


@pytest.fixture(scope="session")
def big_dir(tmp_path_factory) -> Path:
    """A folder with big.pcap: 5,000 packets, about 860 DNS transactions."""
    folder = tmp_path_factory.mktemp("big")
    generate_capture(folder / "big.pcap", 5000)
    return folder


@pytest.fixture(scope="session")
def huge_dir(tmp_path_factory) -> Path:
    """A folder with huge.pcap: 60,000 packets, a scan of a few seconds."""
    folder = tmp_path_factory.mktemp("huge")
    generate_capture(folder / "huge.pcap", 60000, seed=2)
    return folder


@pytest.fixture
def nested_dir(tmp_path, example) -> Path:
    """A source folder holding the example as sub/dir/example.pcap and a non-capture."""
    (tmp_path / "sub" / "dir").mkdir(parents=True)
    shutil.copy(example, tmp_path / "sub" / "dir" / "example.pcap")
    (tmp_path / "notes.pcap").write_text("these are not packets\n" * 10)
    return tmp_path


@pytest.fixture
def http_folder(tmp_path, example) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 listing a folder with the example; yields the folder URL."""
    www = tmp_path / "www"
    www.mkdir()
    shutil.copy(example, www / "example.pcap")
    handler = partial(_QuietHandler, directory=str(www))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass
