"""A real streamable HTTP session on 127.0.0.1 (ephemeral port), with and without the token."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from urllib.parse import urlsplit

import anyio
import httpx
import httpx2
import pytest
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from mcpcap.core.errors import ConfigError
from mcpcap.server.run import allowed_hosts, bind, check_http_auth, http_app

pytestmark = pytest.mark.anyio
TOKEN = "test-token-123"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}
ACCEPT = {"Accept": "application/json, text/event-stream"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@asynccontextmanager
async def running(served, token: str | None) -> AsyncIterator[str]:
    """The server's /mcp URL while uvicorn serves it on an ephemeral port (as `serve` does)."""
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    app = http_app(served.server, "127.0.0.1", port, token)
    server = uvicorn.Server(uvicorn.Config(app, log_level="error"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(partial(server.serve, sockets=[sock]))
        while not server.started:
            await anyio.sleep(0.02)
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
    with pytest.raises(ConfigError, match="MCPCAP_AUTH_TOKEN"):
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


async def _initialize(url: str, **headers: str) -> int:
    """The status of an MCP initialize POST to `url` with these extra headers."""
    async with httpx.AsyncClient() as http:
        answer = await http.post(url, json=INITIALIZE, headers={**ACCEPT, **headers})
    return answer.status_code


@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {TOKEN}", f"bearer {TOKEN}", f"BEARER {TOKEN}", f"BeArEr   {TOKEN}"],
)
async def test_bearer_scheme_is_case_insensitive(example_served, authorization) -> None:
    async with running(example_served, TOKEN) as url:
        assert await _initialize(url, Authorization=authorization) == 200


@pytest.mark.parametrize(
    "authorization",
    [f"Basic {TOKEN}", f"Bearer{TOKEN}", "Bearer", f"Bearer {TOKEN.upper()}", f"Bearer {TOKEN}x"],
)
async def test_other_credentials_are_refused(example_served, authorization) -> None:
    async with running(example_served, TOKEN) as url:
        assert await _initialize(url, Authorization=authorization) == 401


async def test_allowed_host_bare_name_is_accepted_on_the_served_port(
    example_served, monkeypatch
) -> None:
    monkeypatch.setenv("MCPCAP_ALLOWED_HOSTS", "192.0.2.2, proxy.example:8443")
    async with running(example_served, None) as url:
        port = urlsplit(url).port
        statuses = {
            host: await _initialize(url, Host=host)
            for host in (
                f"192.0.2.2:{port}", "192.0.2.2", f"192.0.2.2:{port + 1}", f"192.0.2.3:{port}",
                "proxy.example:8443", f"proxy.example:{port}", f"localhost:{port}",
                f"localhost:{port + 1}",
            )
        }  # fmt: skip
    assert statuses == {
        f"192.0.2.2:{port}": 200,
        "192.0.2.2": 200,  # behind a proxy on the default port
        f"192.0.2.2:{port + 1}": 421,
        f"192.0.2.3:{port}": 421,
        "proxy.example:8443": 200,
        f"proxy.example:{port}": 421,
        f"localhost:{port}": 200,
        f"localhost:{port + 1}": 421,
    }


async def test_origin_must_be_the_served_host_and_port(example_served) -> None:
    async with running(example_served, None) as url:
        port = urlsplit(url).port
        origins = (
            f"http://127.0.0.1:{port}", f"http://localhost:{port}", f"https://localhost:{port}",
            f"http://localhost:{port + 1}", "http://localhost", f"http://evil.example:{port}",
            "null",
        )  # fmt: skip
        statuses = {origin: await _initialize(url, Origin=origin) for origin in origins}
    assert statuses == {
        f"http://127.0.0.1:{port}": 200,
        f"http://localhost:{port}": 200,
        f"https://localhost:{port}": 200,
        f"http://localhost:{port + 1}": 403,
        "http://localhost": 403,
        f"http://evil.example:{port}": 403,
        "null": 403,
    }


def test_allowed_hosts_forms(monkeypatch) -> None:
    monkeypatch.setenv("MCPCAP_ALLOWED_HOSTS", "Name.Example, 2001:db8::1, [2001:db8::2]:9000, p:*")
    hosts = allowed_hosts("0.0.0.0", 18105)
    assert {"name.example", "name.example:18105", "[2001:db8::1]:18105", "p:*"} <= set(hosts)
    assert "[2001:db8::2]:9000" in hosts and "[2001:db8::2]:18105" not in hosts
    assert "localhost:*" not in hosts and "localhost:18105" in hosts
    assert "localhost" in allowed_hosts("127.0.0.1", 80)  # default port: no port in Host


@pytest.mark.parametrize("entry", ["name:port", "name:0", "name:70000", ":80", "[2001:db8::1]x"])
def test_allowed_hosts_refuses_bad_entries(monkeypatch, entry) -> None:
    monkeypatch.setenv("MCPCAP_ALLOWED_HOSTS", entry)
    with pytest.raises(ConfigError, match="MCPCAP_ALLOWED_HOSTS"):
        allowed_hosts("127.0.0.1", 8000)


def test_cli_serves_http_on_a_free_port_with_allowed_hosts(monkeypatch) -> None:
    """`mcpcap serve --transport http --port 0` end to end: the Host a remote client sends."""
    monkeypatch.setenv("MCPCAP_ALLOWED_HOSTS", "192.0.2.2")
    monkeypatch.setenv("MCPCAP_AUTH_TOKEN", TOKEN)
    process = subprocess.Popen(
        [sys.executable, "-m", "mcpcap", "serve", "--transport", "http", "--port", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = process.stderr.readline()
        assert "serving MCP over HTTP at http://127.0.0.1:" in line, line
        url = line.split(" at ", 1)[1].strip()
        port = urlsplit(url).port
        headers = {**ACCEPT, "Authorization": f"bearer {TOKEN}", "Host": f"192.0.2.2:{port}"}
        answer = httpx.post(url, json=INITIALIZE, headers=headers, timeout=30)
        assert answer.status_code == 200
        assert httpx.post(url, json=INITIALIZE, headers={**headers, "Host": "192.0.2.9"},
                          timeout=30).status_code == 421  # fmt: skip
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_cli_refuses_a_bad_allowed_host(monkeypatch) -> None:
    monkeypatch.setenv("MCPCAP_ALLOWED_HOSTS", "host:port")
    done = subprocess.run(
        [sys.executable, "-m", "mcpcap", "serve", "--transport", "http", "--port", "0"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "mcpcap: MCPCAP_ALLOWED_HOSTS: 'host:port' is not name or name:port "
        "(a port from 1 to 65535, or *)"
    ]
