"""A real streamable HTTP session on 127.0.0.1 (ephemeral port), with and without the token."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx
import httpx2
import pytest
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from mcpcap.core.errors import BadArgumentError
from mcpcap.server.run import check_http_auth, http_app

pytestmark = pytest.mark.anyio
TOKEN = "test-token-123"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@asynccontextmanager
async def running(served, token: str | None) -> AsyncIterator[str]:
    """The server's /mcp URL while uvicorn serves it on an ephemeral port."""
    config = uvicorn.Config(
        http_app(served.server, "127.0.0.1", token), host="127.0.0.1", port=0, log_level="error"
    )
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve)
        while not server.started:
            await anyio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}/mcp"
        server.should_exit = True


def _client(url: str, token: str | None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return Client(streamable_http_client(url, http_client=httpx2.AsyncClient(headers=headers)))


@pytest.mark.parametrize("token", [None, TOKEN])
async def test_http_session(example_served, token) -> None:
    async with running(example_served, token) as url, _client(url, token) as client:
        tools = await client.list_tools()
        result = await client.call_tool("dns_top", {"capture": "example.pcap", "limit": 1})
    assert "dns_transactions" in {tool.name for tool in tools.tools}
    assert result.structured_content["items"] == [{"key": "www.example.com", "count": 52}]


async def test_token_required_when_set(example_served) -> None:
    async with running(example_served, TOKEN) as url, httpx.AsyncClient() as http:
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        missing = await http.post(url, json=body)
        wrong = await http.post(url, json=body, headers={"Authorization": "Bearer nope"})
    assert missing.status_code == wrong.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")


async def test_dns_rebinding_protection(example_served) -> None:
    async with running(example_served, None) as url, httpx.AsyncClient() as http:
        headers = {"Host": "evil.example", "Accept": "application/json, text/event-stream"}
        answer = await http.post(url, json={"jsonrpc": "2.0", "id": 1}, headers=headers)
    assert answer.status_code in (400, 403, 421)


def test_non_loopback_needs_a_token() -> None:
    with pytest.raises(BadArgumentError, match="MCPCAP_AUTH_TOKEN"):
        check_http_auth("0.0.0.0", None, allow_unauthenticated=False)
    assert check_http_auth("0.0.0.0", None, allow_unauthenticated=True) is None
    assert check_http_auth("0.0.0.0", TOKEN, allow_unauthenticated=False) == TOKEN
    assert check_http_auth("127.0.0.1", None, allow_unauthenticated=False) is None


def test_cli_refuses_open_non_loopback_http(monkeypatch) -> None:
    monkeypatch.delenv("MCPCAP_AUTH_TOKEN", raising=False)
    done = subprocess.run(
        [sys.executable, "-m", "mcpcap", "serve", "--transport", "http", "--host", "0.0.0.0"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "MCPCAP_AUTH_TOKEN" in done.stderr and "--allow-unauthenticated-http" in done.stderr
