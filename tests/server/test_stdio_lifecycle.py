"""A real `mcpcap serve` over stdio, faulted mid-scan: a cancelled call stops its scan and a
repeat call answers, a capture truncated under the scan is a clear error, and the server exits
when its stdin closes, leaving no store half-written and no process behind. In one server,
a call whose scan waits for its turn says so in its progress."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest
from mcp import Client

from mcpcap.core import scan
from mcpcap.server import progress
from tests.core.fault_captures import write_dns_capture

ROOT = Path(__file__).resolve().parents[2]
PAIRS = 200_000  # 400k packets, 37 MB: scanned with two workers, for some seconds
pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")


@pytest.fixture(scope="module")
def big_capture(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("stdio-caps")
    write_dns_capture(folder / "big.pcap", PAIRS)
    return folder


class Session:
    """JSON-RPC lines to and from a `mcpcap serve` subprocess."""

    def __init__(self, source: Path, cache: Path) -> None:
        env = {**os.environ, "MCPCAP_CACHE_DIR": str(cache)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mcpcap", "serve", "--pcap-path", str(source)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env, cwd=ROOT,
        )  # fmt: skip
        self.send(
            {"jsonrpc": "2.0", "id": 1, "method": "initialize",
             "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                        "clientInfo": {"name": "test", "version": "1"}}}
        )  # fmt: skip
        assert self.until(lambda m: m.get("id") == 1, 30)["result"]
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def send(self, message: dict) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        self.proc.stdin.flush()

    def call(self, ident: int, name: str, arguments: dict) -> None:
        params = {"name": name, "arguments": arguments, "_meta": {"progressToken": f"p{ident}"}}
        self.send({"jsonrpc": "2.0", "id": ident, "method": "tools/call", "params": params})

    def until(self, wanted, timeout: float) -> dict:
        """The first message `wanted` accepts (every line on stdout must be JSON-RPC)."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.proc.stdout], [], [], max(0.0, left))
            if not ready:
                raise AssertionError(f"no wanted message within {timeout} s")
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError("the server closed stdout")
            message = json.loads(line)
            assert message["jsonrpc"] == "2.0"
            if wanted(message):
                return message

    def first_progress(self, ident: int) -> dict:
        return self.until(lambda m: _progress_of(m) == f"p{ident}", 60)["params"]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def _progress_of(message: dict) -> str | None:
    if message.get("method") != "notifications/progress":
        return None
    return message["params"]["progressToken"]


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry))
    return found


def _scan_workers(server: int) -> list[int]:
    """The server's grandchildren: its fork server's children, the scan's workers."""
    return [worker for child in _children(server) for worker in _children(child)]


def _processes_using(cache: Path) -> list[int]:
    """Living processes whose environment names this test's cache (the server and its own)."""
    marker = f"MCPCAP_CACHE_DIR={cache}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                if marker in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0"):
                    found.append(int(entry))
            except OSError:
                continue
    return found


def _wait_for(check, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


@pytest.mark.parametrize("truncated", [False, True], ids=["whole", "truncated"])
def test_serve_exits_when_stdin_closes_mid_scan(truncated, big_capture, tmp_path):
    """Also when the capture was cut short under the scan (which used to loop forever)."""
    source = tmp_path / "caps"
    source.mkdir()
    path = source / "big.pcap"
    path.write_bytes((big_capture / "big.pcap").read_bytes())
    cache = tmp_path / "cache"
    session = Session(source, cache)
    try:
        session.call(2, "capture_info", {"capture": "big.pcap"})
        progress = session.first_progress(2)
        assert progress["progress"] < progress["total"]
        if truncated:
            os.truncate(path, path.stat().st_size // 2)
        assert session.proc.stdin is not None
        session.proc.stdin.close()
        closed = time.monotonic()
        assert session.proc.wait(15) == 0
        assert time.monotonic() - closed < 10
        assert _wait_for(lambda: not _processes_using(cache), 5)  # workers and helpers too
        leftovers = [p.name for p in (cache / "results").iterdir() if not p.name.endswith(".lock")]
        assert leftovers == []  # the scan was abandoned, not half-stored
    finally:
        session.close()


def test_a_cancelled_call_stops_its_scan_and_a_repeat_call_answers(big_capture, tmp_path):
    session = Session(big_capture, tmp_path / "cache")
    try:
        session.call(2, "capture_info", {"capture": "big.pcap"})
        session.first_progress(2)
        assert _wait_for(lambda: _scan_workers(session.proc.pid), 10)
        session.send(
            {"jsonrpc": "2.0", "method": "notifications/cancelled",
             "params": {"requestId": 2, "reason": "the test changed its mind"}}
        )  # fmt: skip
        # its workers go at once, long before the scan could have ended
        assert _wait_for(lambda: not _scan_workers(session.proc.pid), 5)
        session.call(3, "list_captures", {})
        assert session.until(lambda m: m.get("id") == 3, 10)["result"]["isError"] is False
        session.call(4, "capture_info", {"capture": "big.pcap"})
        reply = session.until(lambda m: m.get("id") in (2, 4), 120)
        assert reply["id"] == 4
        assert reply["result"]["structuredContent"]["capture"]["packets"] == 2 * PAIRS
    finally:
        session.close()


def test_a_capture_truncated_mid_scan_is_an_error_and_the_repeat_call_answers(
    big_capture, tmp_path
):
    source = tmp_path / "caps"
    source.mkdir()
    path = source / "big.pcap"
    path.write_bytes((big_capture / "big.pcap").read_bytes())
    size = path.stat().st_size
    session = Session(source, tmp_path / "cache")
    try:
        session.call(2, "capture_info", {"capture": "big.pcap"})
        session.first_progress(2)
        os.truncate(path, size // 2)
        reply = session.until(lambda m: m.get("id") == 2, 30)["result"]
        assert reply["isError"] is True
        text = reply["content"][0]["text"]
        assert "big.pcap changed while it was being read" in text
        assert f"shrank from {size:,} to {size // 2:,} bytes" in text
        session.call(3, "capture_info", {"capture": "big.pcap"})
        again = session.until(lambda m: m.get("id") == 3, 120)["result"]
        capture = again["structuredContent"]["capture"]
        packets = capture["packets"]
        assert 0 < packets < 2 * PAIRS
        assert capture["warnings"] == [f"capture ends mid-record after {packets} packets"]
    finally:
        session.close()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_a_call_queued_behind_another_scan_says_so(serve, tmp_path, monkeypatch):
    """In one server, scans take turns; the one waiting reports why in its progress."""
    monkeypatch.setattr(progress, "MIN_INTERVAL", 0.0)
    monkeypatch.setattr(scan, "SCANS", scan.ScanQueue(1))
    for name in ("one", "two"):
        write_dns_capture(tmp_path / f"{name}.pcap", 60_000)
    served = serve(pcap_path=[str(tmp_path)])
    messages: dict[str, list[str]] = {"one.pcap": [], "two.pcap": []}
    results = {}

    async with Client(served.server) as client:

        async def ask(name: str) -> None:
            async def on_progress(done: float, total: float | None, message: str | None) -> None:
                messages[name].append(message or "")

            result = await client.call_tool("capture_info", {"capture": name}, None, on_progress)
            results[name] = result.structured_content["capture"]["packets"]

        async with anyio.create_task_group() as tg:
            tg.start_soon(ask, "one.pcap")
            with anyio.fail_after(30):
                while not messages["one.pcap"]:
                    await anyio.sleep(0.01)
            tg.start_soon(ask, "two.pcap")
    assert results == {"one.pcap": 120_000, "two.pcap": 120_000}
    assert "queued behind 1 scan" in messages["two.pcap"]
    assert messages["two.pcap"][-1].startswith("scanning the capture: ")
    assert not any(m.startswith("queued") for m in messages["one.pcap"])
