"""`mcpcap serve`: the MCP server over stdio (default) or streamable HTTP.

stdio: stdout carries JSON-RPC only, from the first byte to the last. Before anything else the
real stdout is set aside for the transport, and fd 1 and `sys.stdout` are pointed at stderr, so
a stray `print`, a library warning or a C-level write can never corrupt the stream. Logs go to
stderr. stdin is read line by line in a thread the server abandons when it stops, so the first
Ctrl+C (SIGINT) ends it even while a read is waiting. Started in a terminal (stdin is a TTY:
someone typed `mcpcap`), it says on stderr what it is and how to open the TUI.

HTTP: the SDK's streamable HTTP app under uvicorn, on 127.0.0.1 by default, with the SDK's
Host/Origin checks (DNS-rebinding protection) always on: loopback names and the bound address on
the served port, plus MCPCAP_ALLOWED_HOSTS. With `MCPCAP_AUTH_TOKEN` set, every request needs
`Authorization: Bearer <token>` (scheme in any case); on an address other than loopback the
token is required unless `--allow-unauthenticated-http` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import hmac
import io
import logging
import os
import socket
import sys
from typing import Any, BinaryIO

from mcpcap.core.config import Settings
from mcpcap.core.errors import ConfigError, McpcapError
from mcpcap.core.memory import limit_malloc_arenas
from mcpcap.core.shutdown import exit_interrupted, sigint_arrived

TOKEN_ENV = "MCPCAP_AUTH_TOKEN"
ALLOWED_HOSTS_ENV = "MCPCAP_ALLOWED_HOSTS"  # extra Host values (name or name:port), comma separated
LOOPBACK = ("127.0.0.1", "localhost", "::1")


TERMINAL_NOTE = (
    "mcpcap: this is an MCP server on stdin/stdout, waiting for an MCP client (an AI assistant "
    "configured to run `mcpcap`).\n"
    "mcpcap: to look at captures yourself, run `mcpcap tui` (terminal UI) or `mcpcap analyze "
    "CAPTURE` (JSON); `mcpcap --help` lists every command. Ctrl+C quits.\n"
)


def run_server(settings: Settings, args: argparse.Namespace) -> int:
    transport = getattr(args, "transport", "stdio") or "stdio"
    wire = guard_stdout() if transport == "stdio" else None
    if wire is not None and _is_terminal(sys.stdin):
        sys.stderr.write(TERMINAL_NOTE)
        sys.stderr.flush()
    _configure_logging(getattr(args, "log_level", None) or "WARNING")
    limit_malloc_arenas()  # a call per worker thread: see mcpcap.core.memory
    one_scan_at_a_time()
    if transport == "http":
        host, port = args.host or "127.0.0.1", args.port
        token = check_http_auth(host, os.environ.get(TOKEN_ENV), args.allow_unauthenticated_http)
    workspace, server = _build(settings)
    import anyio

    interrupted = False
    try:
        if wire is not None:
            anyio.run(serve_stdio, server, wire)
        else:
            anyio.run(serve_http, server, host, port, token)
    except KeyboardInterrupt:
        interrupted = True
    except BaseException:
        # Ctrl+C raised inside anyio's own code (a cancel scope being left) comes out as an
        # ExceptionGroup of the RuntimeError it caused: the interrupt is still why it ended
        if not sigint_arrived():
            raise
        interrupted = True
    finally:
        close_quietly(workspace)
    if interrupted:
        # Leave at once: a thread that a cancelled write left in anyio's pool is not a daemon,
        # and the interpreter's exit would wait for it for ever (seen once in CI: Ctrl+C
        # answered, the process still running 10 s later).
        exit_interrupted()
    return 0


def close_quietly(workspace) -> None:
    """Close the workspace as the server ends (its leases go, the cache is brought within its
    cap). Best effort: a failure is logged, and never replaces how the server ended (Ctrl+C
    still exits 130, a clean end 0)."""
    try:
        workspace.close()
    except Exception as exc:  # the process is ending either way
        logging.getLogger(__name__).warning("closing the analyses at exit: %s", exc)


SERVER_SCANS = 1


def one_scan_at_a_time() -> None:
    """Concurrent first calls scan their captures one at a time; the others wait their turn
    (and say so in their progress).

    Scans in one process share its interpreter lock in the scanning process's stage, the
    narrowest, and share one pool of worker processes: a second scan at once adds little
    throughput but all of its memory (a scan of a DNS-dense capture holds about 150 MiB at its
    peak: the results of the spans in flight, a span's decoded messages, its tallies, SQLite's
    pages). 20 concurrent first calls on DNS-dense captures (benchmarks/concurrent_memory.py
    --calls 20 --packets 360000 --dns-only): server peak 773 MiB before, 279 with this and
    `release_free_memory`, 210 with the allocator settings of `limit_malloc_arenas` too (227
    as the kernel's high-water mark), 185 once scans kept nothing of past captures (see the
    benchmark).
    """
    from mcpcap.core.scan import SCANS

    SCANS.slots = SERVER_SCANS


def _build(settings: Settings):
    """Workspace and server; an unknown module or a bad setting stops here, before serving."""
    from mcpcap.core.workspace import Workspace
    from mcpcap.server.app import build_server

    workspace = Workspace(settings)
    return workspace, build_server(workspace, settings)


# ---------------------------------------------------------------------------- stdio
def guard_stdout() -> BinaryIO:
    """Set the real stdout aside for the protocol; fd 1 and sys.stdout now write to stderr.

    Text a library printed earlier (still in Python's buffer) is flushed to stderr too.
    """
    wire_fd = os.dup(1)  # not inherited by children (PEP 446)
    os.dup2(2, 1)
    sys.stdout.flush()
    sys.stdout = io.TextIOWrapper(
        os.fdopen(1, "wb", closefd=False), encoding="utf-8", errors="replace", line_buffering=True
    )
    return os.fdopen(wire_fd, "wb", buffering=0)


def _is_terminal(stream: Any) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (ValueError, OSError):  # closed or detached
        return False


def claim_stdin() -> BinaryIO:
    """The real stdin, set aside for the protocol; fd 0 now reads the null device (children
    and libraries read EOF instead of stealing requests)."""
    try:
        wire_fd = os.dup(0)
    except OSError:  # no stdin at all: a stream that ends at once
        return open(os.devnull, "rb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    return os.fdopen(wire_fd, "rb", buffering=0)


class StdinLines:
    """Lines of stdin for the SDK's stdio transport, read by a daemon thread of their own.

    The SDK's reader waits in a worker thread for the next line, and neither a cancelled task
    nor the interpreter's exit abandons that thread, so a server stopped by Ctrl+C would hang
    until the next line arrived. A daemon thread never holds the process up.
    """

    def __init__(self, source: BinaryIO) -> None:
        self._lines = io.TextIOWrapper(source, encoding="utf-8", errors="replace")
        self._receive: Any = None

    def __aiter__(self) -> StdinLines:
        import threading

        import anyio
        import anyio.lowlevel

        send, self._receive = anyio.create_memory_object_stream[str](0)
        token = anyio.lowlevel.current_token()
        threading.Thread(
            target=self._pump, args=(send, token), name="mcpcap-stdin", daemon=True
        ).start()
        return self

    def _pump(self, send: Any, token: Any) -> None:
        import anyio.from_thread

        try:
            for line in iter(self._lines.readline, ""):
                anyio.from_thread.run(send.send, line, token=token)
        except Exception:  # the server stopped: nobody reads any more
            return
        finally:
            with contextlib.suppress(Exception):
                anyio.from_thread.run_sync(send.close, token=token)

    async def __anext__(self) -> str:
        import anyio

        try:
            return await self._receive.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None


async def serve_stdio(server, wire: BinaryIO) -> None:
    """Serve one stdio session, writing JSON-RPC to `wire` only."""
    import anyio
    from mcp.server.stdio import stdio_server

    stdout = anyio.wrap_file(io.TextIOWrapper(wire, encoding="utf-8", write_through=True))
    stdin: Any = StdinLines(claim_stdin())
    async with stdio_server(stdin=stdin, stdout=stdout) as (read_stream, write_stream):
        # MCPServer runs stdio only on the process's own fd 1; the low-level server takes streams
        # (the SDK's own in-process client reaches it the same way).
        lowlevel = server._lowlevel_server
        await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())


def _configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("mcpcap %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper() if isinstance(level, str) else level)


# ---------------------------------------------------------------------------- HTTP
def check_http_auth(host: str, token: str | None, allow_unauthenticated: bool) -> str | None:
    """The bearer token to require (None: none). Refuses an open non-loopback server."""
    token = (token or "").strip() or None
    if token is None and host not in LOOPBACK and not allow_unauthenticated:
        raise ConfigError(
            f"serving HTTP on {host} needs a bearer token: set {TOKEN_ENV}, or pass "
            "--allow-unauthenticated-http to serve without one"
        )
    return token


def _bracket(name: str) -> str:
    """`name` as it appears in a Host header: an IPv6 address in brackets, lower case."""
    name = name.strip().lower()
    return f"[{name}]" if ":" in name and not name.startswith("[") else name


def _split_entry(entry: str) -> tuple[str, str | None]:
    """(name, port or None) of a `name`, `name:port`, `[v6]`, `[v6]:port` or bare IPv6 entry."""
    if entry.startswith("["):
        name, _, rest = entry.partition("]")
        return f"{name}]", (rest[1:] if rest.startswith(":") else rest or None)
    if entry.count(":") == 1:
        name, _, port = entry.partition(":")
        return name, port
    return _bracket(entry), None


def _allowed_entry(entry: str, port: int) -> list[str]:
    """The Host values one MCPCAP_ALLOWED_HOSTS entry allows.

    `name:port` (or `name:*`) is taken as written; a bare `name` means the name on the served
    port, or with no port at all (a reverse proxy on the scheme's default port).
    """
    name, given = _split_entry(entry.strip().lower())
    if given is None:
        return [name, f"{name}:{port}"]
    if name in ("", "[]") or not (given == "*" or (given.isdigit() and 0 < int(given) < 65536)):
        raise ConfigError(
            f"{ALLOWED_HOSTS_ENV}: {entry.strip()[:80]!r} is not name or name:port "
            "(a port from 1 to 65535, or *)"
        )
    return [f"{name}:*"] if given == "*" else _host_forms(name, int(given))


def _host_forms(name: str, port: int) -> list[str]:
    """Host values for `name` served on `port` (without the port too, on the default ports)."""
    return [f"{name}:{port}"] + ([name] if port in (80, 443) else [])


def allowed_hosts(host: str, port: int) -> list[str]:
    """Every Host value accepted: loopback names and the bound address on the served port, and
    MCPCAP_ALLOWED_HOSTS."""
    names = ["127.0.0.1", "localhost", "[::1]"]
    if host not in LOOPBACK and host not in ("0.0.0.0", "::", ""):
        names.append(_bracket(host))
    hosts = [form for name in names for form in _host_forms(name, port)]
    for entry in os.environ.get(ALLOWED_HOSTS_ENV, "").split(","):
        if entry.strip():
            hosts += _allowed_entry(entry, port)
    return list(dict.fromkeys(hosts))


def transport_security(host: str, port: int):
    """Host/Origin checks (DNS-rebinding protection) for a server bound to `host`:`port`.

    An Origin is accepted only for an accepted Host: a page served by another port of the same
    machine is another origin and is refused.
    """
    from mcp.server.transport_security import TransportSecuritySettings

    hosts = allowed_hosts(host, port)
    origins = [f"{scheme}://{h}" for h in hosts for scheme in ("http", "https")]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


def http_app(server, host: str, port: int, token: str | None):
    """The ASGI app: the SDK's streamable HTTP app, behind the bearer check when a token is set."""
    security = transport_security(host, port)
    app = server.streamable_http_app(transport_security=security, host=host)
    return app if token is None else BearerAuth(app, token)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on `host`:`port` (port 0: a free one), so the app knows its real port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        raise McpcapError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


async def serve_http(server, host: str, port: int, token: str | None) -> None:
    import uvicorn

    sock = bind(host, port)
    port = sock.getsockname()[1]
    app = http_app(server, host, port, token)
    shown = f"[{host}]" if ":" in host else host
    print(f"mcpcap: serving MCP over HTTP at http://{shown}:{port}/mcp", file=sys.stderr)
    config = uvicorn.Config(app, log_level="warning")
    await uvicorn.Server(config).serve(sockets=[sock])


class BearerAuth:
    """ASGI middleware: HTTP requests without `Authorization: Bearer <token>` get 401.

    The scheme is matched case-insensitively (RFC 7235 section 2.1); the token exactly, in
    constant time.
    """

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self._expected = token.encode()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and not self._authorised(scope):
            await _send_401(send)
            return
        await self.app(scope, receive, send)

    def _authorised(self, scope: dict) -> bool:
        given = dict(scope.get("headers") or []).get(b"authorization", b"")
        scheme, _, credentials = given.strip().partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(
            credentials.strip(), self._expected
        )


async def _send_401(send: Any) -> None:
    body = b'{"error":"unauthorized","error_description":"a valid bearer token is required"}'
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"www-authenticate", b'Bearer realm="mcpcap"'),
    ]
    await send({"type": "http.response.start", "status": 401, "headers": headers})
    await send({"type": "http.response.body", "body": body})
