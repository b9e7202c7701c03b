"""A real HTTP server on 127.0.0.1 for the source tests, and tiny captures made with struct.

`running_site(folder)` serves `folder/www` with Python's own http.server (its index pages are
one of the formats we parse) plus special paths that misbehave on purpose.
"""

from __future__ import annotations

import base64
import gzip
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

USER, PASSWORD = "analyst", "s3cret-pw"
CAP = 4096  # the byte cap tests pass as max_download_bytes


def pcap_bytes(packets: int = 1, ts: int = 1_714_557_600, payload: int = 60) -> bytes:
    """A valid little-endian microsecond pcap with Ethernet records of `payload` bytes."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i in range(packets):
        data = bytes([i % 256]) * payload
        out.append(struct.pack("<IIII", ts + i, 1000 * i, len(data), len(data)) + data)
    return b"".join(out)


HTML_PAGE = b"<!DOCTYPE html><html><body><h1>Error</h1>Session expired.</body></html>\n"


@dataclass
class Site:
    url: str  # http://127.0.0.1:PORT
    root: Path  # the served folder
    hits: list[tuple[str, str, int]] = field(default_factory=list)  # (method, path, status)
    state: dict = field(default_factory=dict)

    def gets(self, path: str) -> int:
        return sum(1 for method, p, _ in self.hits if method == "GET" and p == path)


def build_tree(www: Path) -> None:
    caps = www / "caps"
    (caps / "sub" / "deeper").mkdir(parents=True)
    (www / "other").mkdir()
    (www / "private").mkdir()
    (caps / "a.pcap").write_bytes(pcap_bytes(3))
    (caps / "sub" / "b.pcap").write_bytes(pcap_bytes(2, ts=1_714_560_000))
    (caps / "sub" / "c.pcap.gz").write_bytes(gzip.compress(pcap_bytes(4), mtime=0))
    (caps / "sub" / "deeper" / "d.pcap").write_bytes(pcap_bytes(1))
    (caps / "sub" / "notes.txt").write_text("not listed\n")
    (caps / "sub" / ".hidden.pcap").write_bytes(pcap_bytes(1))
    (caps / "fake.pcap").write_bytes(HTML_PAGE)
    (caps / "big.pcap").write_bytes(pcap_bytes(200))  # > CAP
    (www / "other" / "x.pcap").write_bytes(pcap_bytes(1))
    (www / "private" / "p.pcap").write_bytes(pcap_bytes(5))


CAPS_INDEX = """<html><head><title>Index of /caps/</title></head><body>
<h1>Index of /caps/</h1><hr><pre><a href="../">../</a>
<a href="sub/">sub/</a>                    01-May-2024 10:00                   -
<a href="a.pcap">a.pcap</a>                  01-May-2024 10:01                 {a}
<a href="fake.pcap">fake.pcap</a>               01-May-2024 10:02                 {fake}
<a href="big.pcap">big.pcap</a>                01-May-2024 10:03                 {big}
<a href="stream.pcap">stream.pcap</a>
<a href="short.pcap">short.pcap</a>
<a href="drop.pcap">drop.pcap</a>
<a href="etag.pcap">etag.pcap</a>
<a href="slow.pcap">slow.pcap</a>
<a href="redir.pcap">redir.pcap</a>
<a href="away.pcap">away.pcap</a>
<a href="loop.pcap">loop.pcap</a>
<a href="missing.pcap">missing.pcap</a>
<a href="../other/x.pcap">../other/x.pcap</a>
<a href="http://example.invalid/caps/evil.pcap">evil.pcap</a>
<a href="readme.html">readme.html</a>
<a href="?C=M;O=A">sort</a>
</pre><hr></body></html>
"""


class Handler(SimpleHTTPRequestHandler):
    site: Site

    def log_message(self, format: str, *args: object) -> None:  # quiet tests
        pass

    def send_response(self, code: int, message: str | None = None) -> None:
        self.site.hits.append((self.command, self.path, code))
        super().send_response(code, message)

    def do_HEAD(self) -> None:
        if not self._special():
            super().do_HEAD()

    def do_GET(self) -> None:
        if not self._special():
            super().do_GET()

    # --- misbehaving paths -----------------------------------------------------------------

    def _special(self) -> bool:
        path = self.path.split("?", 1)[0]
        if path.startswith("/private/") and not self._authorised():
            self._reply(401, b"who are you?", {"WWW-Authenticate": 'Basic realm="caps"'})
            return True
        route = {
            "/caps/": self._caps_index,
            "/caps/stream.pcap": self._stream_without_length,
            "/caps/short.pcap": self._short,
            "/caps/drop.pcap": self._drop,
            "/caps/etag.pcap": self._etag,
            "/caps/slow.pcap": self._slow,
            "/caps/redir.pcap": lambda: self._redirect("/caps/a.pcap"),
            "/caps/away.pcap": lambda: self._redirect("/other/x.pcap"),
            "/caps/loop.pcap": lambda: self._redirect("/caps/loop.pcap"),
            "/caps/fake.pcap": lambda: self._reply(200, HTML_PAGE, {"Content-Type": "text/html"}),
        }.get(path)
        if route is None:
            return False
        route()
        return True

    def _authorised(self) -> bool:
        expected = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        return self.headers.get("Authorization") == f"Basic {expected}"

    def _reply(self, code: int, body: bytes, headers: dict | None = None, length=None) -> None:
        self.send_response(code)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _caps_index(self) -> None:
        www = self.site.root
        sizes = {k: (www / "caps" / f"{k}.pcap").stat().st_size for k in ("a", "fake", "big")}
        body = CAPS_INDEX.format(**sizes).encode()
        self._reply(200, body, {"Content-Type": "text/html; charset=utf-8"})

    def _redirect(self, target: str) -> None:
        self._reply(302, b"", {"Location": target})

    def _stream_without_length(self) -> None:
        """A valid capture larger than CAP, sent without Content-Length (close-delimited)."""
        self.send_response(200)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if self.command != "HEAD":
            self.wfile.write(pcap_bytes(200))

    def _short(self) -> None:
        """Announces more bytes than it sends, then closes cleanly."""
        body = pcap_bytes(3)
        self._reply(200, body, {"Connection": "close"}, length=len(body) + 500)
        self.close_connection = True

    def _drop(self) -> None:
        """Sends part of the body, then resets the connection."""
        body = pcap_bytes(40)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "HEAD":
            return
        self.wfile.write(body[:1000])
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def _etag(self) -> None:
        """Serves state['etag_body'] with ETag state['etag']; state['etag_mode'] may lie."""
        state = self.site.state
        tag = state.get("etag", '"v1"')
        if self.headers.get("If-None-Match") == tag:
            self._reply(304, b"", {"ETag": tag})
            return
        body = state.get("etag_body", pcap_bytes(3))
        if state.get("etag_mode") == "short":
            self._reply(200, body, {"ETag": tag, "Connection": "close"}, length=len(body) + 10)
            self.close_connection = True
        elif state.get("etag_mode") == "html":
            self._reply(200, HTML_PAGE, {"ETag": tag, "Content-Type": "text/html"})
        else:
            self._reply(200, body, {"ETag": tag})

    def _slow(self) -> None:
        body = pcap_bytes(50)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "HEAD":
            return
        for i in range(0, len(body), 500):
            self.wfile.write(body[i : i + 500])
            self.wfile.flush()
            time.sleep(0.02)


@contextmanager
def running_site(folder: Path) -> Iterator[Site]:
    www = folder / "www"
    build_tree(www)
    site = Site(url="", root=www)
    handler = type("SiteHandler", (Handler,), {"site": site})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(www)))
    server.daemon_threads = True
    site.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
