"""The first call on a capture scans it with progress notifications; a cancelled call stops it."""

from __future__ import annotations

import time
from itertools import pairwise

import anyio
import pytest
from mcp import Client

from mcpcap.server import progress

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_progress_notifications_during_a_scan(serve, huge_dir, monkeypatch) -> None:
    monkeypatch.setattr(progress, "MIN_INTERVAL", 0.0)
    served = serve(pcap_path=[str(huge_dir)])
    events: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        events.append((done, total, message))

    async with Client(served.server) as client:
        result = await client.call_tool(
            "capture_info", {"capture": "huge.pcap"}, progress_callback=on_progress
        )
        assert not result.is_error
        assert len(events) >= 3
        done = [event[0] for event in events]
        assert all(a < b for a, b in pairwise(done)), done  # strictly: none sent twice
        size = (huge_dir / "huge.pcap").stat().st_size
        assert events[-1][:2] == (size, size)
        assert events[-1][2].startswith("scanning the capture: ")
        assert events[-1][2].endswith(" packets")
        events.clear()  # the second call reads the store: no scan, no progress
        again = await client.call_tool(
            "dns_top", {"capture": "huge.pcap"}, progress_callback=on_progress
        )
        assert not again.is_error and events == []


async def test_a_cancelled_call_stops_the_scan(serve, huge_dir, monkeypatch) -> None:
    monkeypatch.setattr(progress, "MIN_INTERVAL", 0.0)
    served = serve(pcap_path=[str(huge_dir)])
    started = anyio.Event()

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        started.set()

    outcome = []
    async with Client(served.server) as client:
        begun = time.monotonic()
        with anyio.move_on_after(60) as scope:  # cancel once the scan has begun

            async def cancel_when_started() -> None:
                await started.wait()
                scope.cancel()

            async with anyio.create_task_group() as tg:
                tg.start_soon(cancel_when_started)
                arguments = {"capture": "huge.pcap"}
                call = client.call_tool("analyze_dns_packets", arguments, None, on_progress)
                outcome.append(await call)
        cancelled_after = time.monotonic() - begun
        # the call ends cancelled, or (in-process, the reply raced the cancellation) as an error
        assert scope.cancelled_caught or "cancelled" in outcome[0].content[0].text
        assert not served.workspace.is_ready("huge.pcap")  # the scan stopped: nothing was stored
        begun = time.monotonic()
        result = await client.call_tool("analyze_dns_packets", {"capture": "huge.pcap"})
        assert not result.is_error  # a later call scans afresh
        assert cancelled_after < time.monotonic() - begun  # the cancelled scan stopped early


async def test_progress_keeps_increasing_from_download_to_scan(serve, http_folder, monkeypatch):
    """A remote capture is downloaded, then scanned: the scan counts on after the download."""
    monkeypatch.setattr(progress, "MIN_INTERVAL", 0.0)
    served = serve(pcap_url=[http_folder])
    events: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        events.append((done, total, message))

    async with Client(served.server) as client:
        arguments = {"capture": "example.pcap"}
        result = await client.call_tool("capture_info", arguments, progress_callback=on_progress)
    assert not result.is_error
    stages = [message.split(":")[0] for _, _, message in events]
    assert "downloading the capture" in stages and "scanning the capture" in stages
    done = [event[0] for event in events]
    assert all(a < b for a, b in pairwise(done)), events
    assert all(total is None or value <= total for value, total, _ in events)
