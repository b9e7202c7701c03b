"""Write many small HTTP/1.x captures, one per case family, for the differential oracle.

    python benchmarks/conformance/http.py /work/scratch/diff-http/http
    PATH=$PWD/.venv/bin:$PATH python ../shared/tools/module_oracle.py http \
        --corpus /work/scratch/diff-http/http --show 20

Each family is one capture (classic pcap, Ethernet) built with scapy through the fixture
helpers (tests/fixtures/packets.py): fixed clock, addresses, ports and sequence numbers, and a
fixed seed for the few random choices (segment cuts), so two runs write identical bytes. The
families are the edge cases of RFC 9110/9112 and of TCP that real networks and hostile hosts
produce (see FAMILIES). tshark only dissects HTTP on its registered ports (80, 8080, 3128 ...),
so the odd-port family is not scored by the oracle: its records show as extras to check by hand.
"""

from __future__ import annotations

import itertools
import random
import sys
from collections.abc import Callable
from pathlib import Path

from generator_cli import output_folder  # (this folder: first on the path of a script)

HERE = Path(__file__).resolve().parent
# this file is named like the standard library's `http`: never import it as that
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parents[1] / "tests" / "fixtures"))

from packets import LINKTYPE_ETHERNET, Clock, TcpFlow, ether, mac_for, pcap_bytes  # noqa: E402

SEED = 20261205


class Capture:
    """The frames of one capture, written as they are sent."""

    def __init__(self, seed: int = SEED) -> None:
        self.clock = Clock()
        self.frames: list = []
        self.flows = 0
        self.rng = random.Random(seed)

    def add(self, packet, ms: float = 1) -> int:
        self.frames.append(self.clock.frame(ether(packet, mac_for(1)), ms=ms))
        return len(self.frames)

    def flow(
        self,
        server_port: int = 80,
        client: str = "10.1.0.10",
        server: str = "10.2.0.80",
        handshake: bool = True,
    ) -> TcpFlow:
        self.flows += 1
        flow = TcpFlow(
            client,
            server,
            40000 + self.flows,
            server_port,
            client_seq=100_000 * self.flows,
            server_seq=7_000_000 + self.flows,
        )
        if handshake:
            for packet in flow.handshake():
                self.add(packet)
        return flow

    def send(self, flow: TcpFlow, side: str, data: bytes, flags: str = "PA") -> int:
        frame = self.add(flow.send(side, flags, data))
        flow.client_seq %= 2**32  # sequence numbers wrap
        flow.server_seq %= 2**32
        return frame

    def pieces(self, flow: TcpFlow, side: str, data: bytes, cuts: list[int]) -> None:
        """`data` in segments cut at the given offsets."""
        edges = [0, *sorted(c for c in cuts if 0 < c < len(data)), len(data)]
        for start, end in itertools.pairwise(edges):
            self.send(flow, side, data[start:end])

    def close(self, flow: TcpFlow) -> None:
        for packet in flow.close():
            self.add(packet)

    def exchange(self, flow: TcpFlow, request: bytes, response: bytes) -> None:
        self.send(flow, "client", request)
        self.send(flow, "server", response)

    def bytes(self) -> bytes:
        return pcap_bytes(self.frames, LINKTYPE_ETHERNET)


def req(
    method: str,
    uri: str,
    host: str = "example.com",
    headers: str = "",
    body: bytes = b"",
    version: str = "1.1",
    eol: str = "\r\n",
) -> bytes:
    head = f"{method} {uri} HTTP/{version}{eol}"
    if host is not None:
        head += f"Host: {host}{eol}"
    if body:
        head += f"Content-Length: {len(body)}{eol}"
    head += "".join(f"{h}{eol}" for h in headers.split("\n") if h) + eol
    return head.encode("latin-1") + body


def resp(
    status: str,
    body: bytes = b"",
    headers: str = "",
    version: str = "1.1",
    length: bool = True,
    eol: str = "\r\n",
) -> bytes:
    head = f"HTTP/{version} {status}{eol}"
    if length:
        head += f"Content-Length: {len(body)}{eol}"
    head += "".join(f"{h}{eol}" for h in headers.split("\n") if h) + eol
    return head.encode("latin-1") + body


def chunked(pieces: list[bytes], extension: str = "", trailer: str = "") -> bytes:
    out = b"".join(b"%x%s\r\n%s\r\n" % (len(p), extension.encode(), p) for p in pieces)
    return out + b"0" + extension.encode() + b"\r\n" + trailer.encode() + b"\r\n"


# ------------------------------------------------------------------------------ families
def versions(cap: Capture) -> None:
    """HTTP/1.0 (to the close and with a length), 1.1 keep-alive, 0.9."""
    flow = cap.flow()
    cap.exchange(flow, req("GET", "/ten", version="1.0"), resp("200 OK", b"x" * 10, version="1.0"))
    cap.close(flow)
    flow = cap.flow()
    cap.send(flow, "client", req("GET", "/ten-close", version="1.0", host=None))
    cap.send(flow, "server", resp("200 OK", b"closing body", version="1.0", length=False))
    cap.close(flow)
    flow = cap.flow()
    cap.exchange(flow, req("GET", "/a"), resp("200 OK", b"a"))
    cap.exchange(flow, req("GET", "/b"), resp("404 Not Found", b"nope"))
    cap.exchange(flow, req("POST", "/c", body=b"k=v"), resp("201 Created"))
    cap.close(flow)
    flow = cap.flow()
    cap.send(flow, "client", b"GET /nine.html\r\n")
    cap.send(flow, "server", b"<html>old</html>\n")
    cap.close(flow)


def pipelined(cap: Capture) -> None:
    flow = cap.flow()
    cap.send(flow, "client", req("GET", "/p1") + req("GET", "/p2") + req("HEAD", "/p3"))
    cap.send(flow, "server", resp("200 OK", b"one") + resp("301 Moved", b"", "Location: /x"))
    cap.send(
        flow,
        "server",
        resp("200 OK", b"", "Content-Type: text/plain")[:-2].replace(
            b"Content-Length: 0", b"Content-Length: 99"
        )
        + b"\r\n",
    )
    cap.exchange(flow, req("GET", "/p4"), resp("200 OK", b"four"))
    cap.close(flow)


def continue_100(cap: Capture) -> None:
    flow = cap.flow()
    body = b"a=1&b=2"
    head = req("POST", "/upload", headers=f"Content-Length: {len(body)}\nExpect: 100-continue")
    cap.send(flow, "client", head)
    cap.send(flow, "server", b"HTTP/1.1 100 Continue\r\n\r\n")
    cap.send(flow, "client", body)
    cap.send(flow, "server", resp("201 Created", b"ok"))
    cap.send(flow, "client", req("PUT", "/r", headers="Expect: 100-continue", body=b"xy"))
    cap.send(
        flow,
        "server",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n"
        b"Link: </s.css>\r\n\r\n" + resp("204 No Content", length=False),
    )
    cap.send(
        flow, "client", req("POST", "/refused", headers="Expect: 100-continue\nContent-Length: 5")
    )
    cap.send(flow, "server", resp("417 Expectation Failed", b"", "Connection: close"))
    cap.close(flow)


def no_body(cap: Capture) -> None:
    """HEAD, 204 and 304 with framing headers that must not be read as a body."""
    flow = cap.flow()
    cap.exchange(
        flow, req("HEAD", "/h"), resp("200 OK", length=False, headers="Content-Length: 5000")
    )
    cap.exchange(
        flow, req("DELETE", "/d"), resp("204 No Content", length=False, headers="Content-Length: 0")
    )
    cap.exchange(
        flow,
        req("GET", "/cached", headers='If-None-Match: "x"'),
        resp("304 Not Modified", length=False, headers='Content-Length: 1234\nETag: "x"'),
    )
    cap.exchange(flow, req("GET", "/after"), resp("200 OK", b"fine"))
    cap.exchange(
        flow,
        req("OPTIONS", "*"),
        resp("200 OK", length=False, headers="Allow: GET\nContent-Length: 0"),
    )
    cap.close(flow)


def chunked_bodies(cap: Capture) -> None:
    flow = cap.flow()
    body = chunked([b"hello ", b"world" * 40], extension=';name="v"', trailer="X-Sum: 1\r\n")
    head = resp("200 OK", length=False, headers="Transfer-Encoding: chunked")
    cap.send(flow, "client", req("GET", "/chunked"))
    whole = head + body
    cap.pieces(flow, "server", whole, [len(head) - 1, len(head) + 3, len(head) + 9, len(whole) - 4])
    cap.send(
        flow,
        "client",
        req("POST", "/upload-chunked", headers="Transfer-Encoding: chunked")
        + chunked([b"part1", b"part22"]),
    )
    cap.send(
        flow,
        "server",
        resp("200 OK", length=False, headers="Transfer-Encoding: gzip, chunked")
        + chunked([b"\x1f\x8b" + bytes(20)]),
    )
    cap.exchange(
        flow,
        req("GET", "/upper"),
        resp("200 OK", length=False, headers="Transfer-Encoding: Chunked")
        + b"A\r\n0123456789\r\n0\r\n\r\n",
    )
    cap.exchange(flow, req("GET", "/last"), resp("200 OK", b"done"))
    cap.close(flow)


def close_delimited(cap: Capture) -> None:
    flow = cap.flow()
    cap.exchange(flow, req("GET", "/len"), resp("200 OK", b"L" * 100))
    cap.send(flow, "client", req("GET", "/stream"))
    cap.send(flow, "server", resp("200 OK", b"part one ", length=False))
    cap.send(flow, "server", b"part two")
    cap.close(flow)


def split_segments(cap: Capture) -> None:
    """A request one byte a segment; a header block cut mid-line, mid-CRLF and mid-name."""
    flow = cap.flow()
    data = req("GET", "/byte-by-byte?q=1", headers="User-Agent: slow/1.0")
    cap.pieces(flow, "client", data, list(range(1, len(data))))
    cap.send(flow, "server", resp("200 OK", b"slow"))
    data = req("GET", "/midline", headers="User-Agent: cut/2.0\nAccept: */*")
    cut = data.index(b"Agent") + 2
    cap.pieces(flow, "client", data, [cut, data.index(b"\r\n\r\n") + 1, len(data) - 1])
    answer = resp("200 OK", b"body", headers="Content-Type: text/html")
    cap.pieces(flow, "server", answer, [3, 9, answer.index(b"\r\n") + 1, len(answer) - 2])
    cap.close(flow)


def line_endings(cap: Capture) -> None:
    """Bare LF line endings (RFC 9112 2.2 lets a recipient accept them) and obs-fold (5.2)."""
    flow = cap.flow()
    cap.exchange(flow, req("GET", "/lf", eol="\n"), resp("200 OK", b"lf", eol="\n"))
    cap.exchange(
        flow,
        req("GET", "/fold", headers="User-Agent: folded\n  agent/1.0\nX-A: b"),
        resp("200 OK", b"ok", headers="X-Folded: one\n\ttwo"),
    )
    cap.exchange(
        flow,
        req("GET", "/mixed").replace(b"Host: example.com\r\n", b"Host: example.com\n"),
        resp("200 OK", b"mixed"),
    )
    cap.close(flow)


def lowercase(cap: Capture) -> None:
    """Methods are case-sensitive (RFC 9110 9.1): `get` is a method of its own; a lower-case
    `http/1.1` is no HTTP-version (RFC 9112 2.3)."""
    flow = cap.flow()
    cap.exchange(flow, req("get", "/lower-method"), resp("405 Method Not Allowed", b""))
    cap.exchange(
        flow, req("GET", "/lower-status"), b"http/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    )
    cap.close(flow)
    flow = cap.flow()
    cap.exchange(flow, req("GET", "/Mixed-Case-Host", host="WWW.Example.COM"), resp("200 OK", b"m"))
    cap.close(flow)


def absolute_form(cap: Capture) -> None:
    flow = cap.flow(server_port=3128, server="10.2.0.3")
    cap.exchange(
        flow, req("GET", "http://example.org/abs?x=1", host="example.org"), resp("200 OK", b"abs")
    )
    cap.exchange(
        flow,
        req("GET", "http://user:secret@example.net/private", host="example.net"),
        resp("401 Unauthorized", b""),
    )
    cap.exchange(flow, req("GET", "http://nohost.example/", host=None), resp("200 OK", b"n"))
    cap.exchange(flow, req("GET", "/pct%20enc/%E2%82%AC?a=%00"), resp("200 OK", b"p"))
    cap.close(flow)


def connect_tls(cap: Capture) -> None:
    flow = cap.flow(server_port=8080)
    cap.exchange(
        flow,
        req("CONNECT", "secure.example:443", host="secure.example:443"),
        resp("200 Connection established", length=False),
    )
    hello = (
        bytes.fromhex("16030100310100002d0303")
        + bytes(32)
        + bytes.fromhex("000002130101000002ff01")
    )
    cap.send(flow, "client", hello)
    cap.send(flow, "server", bytes.fromhex("1603030005") + b"\x02\x00\x00\x01\x00")
    cap.send(flow, "client", b"GET /inside HTTP/1.1\r\nHost: x\r\n\r\n")
    cap.close(flow)
    flow = cap.flow(server_port=8080)
    cap.exchange(
        flow,
        req("CONNECT", "denied.example:443", host="denied.example:443"),
        resp("407 Proxy Authentication Required", b"auth"),
    )
    cap.exchange(
        flow,
        req(
            "CONNECT",
            "denied.example:443",
            host="denied.example:443",
            headers="Proxy-Authorization: Basic dXNlcjpwYXNz",
        ),
        resp("200 OK", length=False),
    )
    cap.close(flow)


def odd_ports(cap: Capture) -> None:
    """Not scored by the oracle (tshark reads HTTP on its ports only): check the extras."""
    for port in (5000, 12345, 443, 22):
        flow = cap.flow(server_port=port)
        cap.exchange(flow, req("GET", f"/port{port}"), resp("200 OK", b"p"))
        cap.close(flow)


def server_first(cap: Capture) -> None:
    """The capture starts mid-connection with a response; then a request and its response."""
    flow = cap.flow(handshake=False)
    cap.send(flow, "server", resp("200 OK", b"earlier"))
    cap.exchange(flow, req("GET", "/after-response"), resp("200 OK", b"now"))
    cap.close(flow)
    flow = cap.flow(handshake=False)
    cap.send(flow, "server", b"ody of something earlier\r\n")
    cap.exchange(flow, req("GET", "/after-junk"), resp("200 OK", b"later"))
    cap.close(flow)


def gaps(cap: Capture) -> None:
    """Lost segments: in a response body, a whole request, a whole response."""
    flow = cap.flow()
    cap.send(flow, "client", req("GET", "/body-gap"))
    body = resp("200 OK", b"B" * 300)
    cap.send(flow, "server", body[:120])
    flow.server_seq += 100  # the capture missed these
    cap.send(flow, "server", body[220:])
    flow.client_seq += len(req("GET", "/lost-request"))
    cap.send(flow, "server", resp("200 OK", b"for lost"))
    cap.exchange(flow, req("GET", "/after-lost"), resp("200 OK", b"after"))
    cap.send(flow, "client", req("GET", "/lost-response"))
    flow.server_seq += len(resp("500 Internal Server Error", b"x"))
    cap.exchange(flow, req("GET", "/after-lost-response"), resp("200 OK", b"z"))
    cap.close(flow)


def reordered(cap: Capture) -> None:
    """Retransmissions, out-of-order segments, overlapping retransmissions."""
    flow = cap.flow()
    data = req("GET", "/out-of-order", headers="User-Agent: reorder/1.0")
    start = flow.client_seq
    a, b = 10, 30
    cap.add(flow.segment("client", "PA", data[b:], seq=start + b))
    cap.add(flow.segment("client", "PA", data[:a], seq=start))
    cap.add(flow.segment("client", "PA", data[a:b], seq=start + a))
    flow.client_seq += len(data)
    answer = resp("200 OK", b"r" * 50)
    cap.send(flow, "server", answer)
    cap.add(flow.segment("server", "PA", answer, seq=flow.server_seq - len(answer)))
    data = req("GET", "/overlap")
    start = flow.client_seq
    cap.add(flow.segment("client", "PA", data[:20], seq=start))
    cap.add(flow.segment("client", "PA", data[10:], seq=start + 10))
    flow.client_seq += len(data)
    cap.send(flow, "server", resp("200 OK", b"o"))
    cap.close(flow)


def hostile(cap: Capture) -> None:
    """Shapes RFC 9112 calls errors: counted, never fatal."""
    cases = [
        req("POST", "/te-cl", headers="Transfer-Encoding: chunked\nContent-Length: 4")
        + b"0\r\n\r\n",
        req("POST", "/cl-cl", headers="Content-Length: 3\nContent-Length: 4") + b"abcd",
        req("POST", "/neg", headers="Content-Length: -1"),
        req("GET", "/two-hosts", headers="Host: other.example"),
        req("POST", "/huge-chunk", headers="Transfer-Encoding: chunked") + b"10000000000000000\r\n",
        req("GET", "/space-colon", headers="Content-Length : 5") + b"hello",
        b"GET /flood HTTP/1.1\r\n" + b"X: y\r\n" * 400 + b"\r\n",
        b"GET /" + b"a" * 20000,
        b"\x00\x01\x02GET / HTTP/1.1\r\n\r\n",
        req("GET", "/te-identity", headers="Transfer-Encoding: identity"),
    ]
    for data in cases:
        flow = cap.flow()
        cap.send(flow, "client", data)
        cap.send(flow, "server", resp("400 Bad Request", b"bad", headers="Connection: close"))
        cap.close(flow)


def websocket(cap: Capture) -> None:
    flow = cap.flow()
    cap.exchange(
        flow,
        req("GET", "/chat", headers="Upgrade: websocket\nConnection: Upgrade"),
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
    )
    cap.send(flow, "client", b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58")
    cap.send(flow, "client", b"GET /not-http-any-more HTTP/1.1\r\n\r\n")
    cap.close(flow)


def status_lines(cap: Capture) -> None:
    """Status lines without a reason phrase, with odd reason bytes, extra spaces, 1xx only."""
    flow = cap.flow()
    cap.exchange(flow, req("GET", "/no-reason"), b"HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nx")
    cap.exchange(flow, req("GET", "/no-reason-sp"), b"HTTP/1.1 200 \r\nContent-Length: 1\r\n\r\ny")
    cap.exchange(flow, req("GET", "/odd-reason"), resp("299 \xe9t\xe9 fine", b"z"))
    cap.exchange(flow, req("GET", "/http10-reply"), resp("200 OK", b"old", version="1.0"))
    cap.exchange(flow, req("GET", "/http2-version"), resp("200 OK", b"v", version="2.0"))
    cap.send(flow, "client", req("GET", "/only-interim"))
    cap.send(flow, "server", b"HTTP/1.1 102 Processing\r\n\r\n")
    cap.close(flow)


def ipv6_vlan(cap: Capture) -> None:
    flow = cap.flow(client="2001:db8::10", server="2001:db8::80")
    cap.exchange(flow, req("GET", "/v6", host="[2001:db8::80]:80"), resp("200 OK", b"6"))
    cap.close(flow)


def leading_crlf(cap: Capture) -> None:
    flow = cap.flow()
    cap.exchange(flow, req("POST", "/with-crlf", body=b"abc") + b"\r\n", resp("200 OK", b"1"))
    cap.exchange(flow, req("GET", "/after-crlf"), resp("200 OK", b"2"))
    cap.close(flow)


def many_requests(cap: Capture) -> None:
    """A long keep-alive connection with random splits (the seed fixes them)."""
    flow = cap.flow()
    for i in range(60):
        data = req(
            cap.rng.choice(["GET", "POST", "PUT", "DELETE"]),
            f"/item/{i}",
            host=f"h{i % 7}.example",
            body=b"b" * cap.rng.randrange(0, 40),
        )
        cap.pieces(flow, "client", data, [cap.rng.randrange(1, len(data)) for _ in range(2)])
        answer = resp(
            cap.rng.choice(["200 OK", "404 Not Found", "500 Oops"]),
            b"r" * cap.rng.randrange(0, 3000),
        )
        cap.pieces(flow, "server", answer, list(range(1460, len(answer), 1460)))
    cap.close(flow)


def tcp_shapes(cap: Capture) -> None:
    """Data on the SYN (TCP Fast Open), a FIN carrying the last bytes, sequence numbers that
    wrap, keep-alive probes (one old byte), a reused port after a FIN and after an RST."""
    flow = cap.flow(handshake=False)
    data = req("GET", "/fast-open")
    cap.add(flow.segment("client", "S", data))
    flow.client_seq += 1 + len(data)
    cap.add(flow.send("server", "SA"))
    cap.add(flow.send("client", "A"))
    cap.send(flow, "server", resp("200 OK", b"tfo"))
    cap.close(flow)
    flow = cap.flow()
    cap.send(flow, "client", req("GET", "/fin-with-data"), flags="FPA")
    cap.send(flow, "server", resp("200 OK", b"fin"), flags="FPA")
    cap.add(flow.send("client", "A"))
    flow = cap.flow(handshake=False)
    flow.client_seq, flow.server_seq = 2**32 - 30, 2**32 - 5
    cap.add(flow.send("client", "S"))
    cap.send(flow, "server", b"", "SA")
    cap.send(flow, "client", b"", "A")
    data = req("GET", "/wrap", headers="User-Agent: wrap/1")
    cap.pieces(flow, "client", data, [20, 40])
    answer = resp("200 OK", b"w" * 30)
    cap.pieces(flow, "server", answer, [3])
    cap.add(flow.segment("client", "A", b"\x00", seq=flow.client_seq - 1))  # keep-alive probe
    cap.exchange(flow, req("GET", "/after-probe"), resp("200 OK", b"k"))
    cap.close(flow)
    for reuse in ("FIN", "RST"):
        cap.flows -= 1  # the same ports again
        flow = cap.flow()
        cap.exchange(flow, req("GET", f"/reuse-{reuse}-1"), resp("200 OK", b"1"))
        if reuse == "RST":
            cap.send(flow, "client", req("GET", "/reset-before-answer"))
            cap.add(flow.send("server", "R"))
        else:
            cap.close(flow)
    cap.flows -= 1
    flow = cap.flow()
    cap.exchange(flow, req("GET", "/reuse-after-rst"), resp("200 OK", b"2"))
    cap.close(flow)


def framing_conflicts(cap: Capture) -> None:
    """A response with Transfer-Encoding and Content-Length (chunked wins, RFC 9112 6.3), a
    HEAD answered with Transfer-Encoding: chunked, a 304 with chunked, a GET with a body."""
    flow = cap.flow()
    body = chunked([b"abc", b"defg"])
    cap.exchange(
        flow,
        req("GET", "/te-and-cl"),
        resp("200 OK", length=False, headers="Transfer-Encoding: chunked\nContent-Length: 3")
        + body,
    )
    cap.exchange(
        flow,
        req("HEAD", "/head-chunked"),
        resp("200 OK", length=False, headers="Transfer-Encoding: chunked"),
    )
    cap.exchange(
        flow,
        req("GET", "/304-chunked"),
        resp("304 Not Modified", length=False, headers="Transfer-Encoding: chunked"),
    )
    cap.exchange(flow, req("GET", "/get-with-body", body=b"payload"), resp("200 OK", b"g"))
    cap.exchange(
        flow,
        req("GET", "/cl-list", headers="Content-Length: 2, 2", host="x.example") + b"zz",
        resp("200 OK", b"l"),
    )
    cap.exchange(flow, req("GET", "/last"), resp("200 OK", b"done"))
    cap.close(flow)


def rst_mid_body(cap: Capture) -> None:
    flow = cap.flow()
    cap.send(flow, "client", req("GET", "/big"))
    cap.send(flow, "server", resp("200 OK", b"x" * 100)[:-60])
    cap.add(flow.send("server", "RA"))
    flow = cap.flow()
    cap.send(flow, "client", req("POST", "/upload-reset", body=b"y" * 500)[:-400])
    cap.add(flow.send("client", "RA"))


def odd_request_lines(cap: Capture) -> None:
    """Request lines and Host values real clients and scanners send."""
    lines = [
        b"GET /a b HTTP/1.1",
        b"GET  /two-spaces  HTTP/1.1",
        b"GET\t/tab\tHTTP/1.1",
        b"GET /trailing-space HTTP/1.1 ",
        b"GET /caf\xc3\xa9/\xff HTTP/1.1",
        b"GET /" + b"L" * 8000 + b" HTTP/1.1",
        b"GET /q?x=<script>&y=%0d%0a HTTP/1.1",
        b"GET //double//slash HTTP/1.1",
        b"GET http://[2001:db8::1]:8080/v6 HTTP/1.1",
        b"M-SEARCH * HTTP/1.1",
        b"BREW /pot HTTP/1.1",
        b"GET / HTTP/1.2",
    ]
    hosts = [
        b"Host: ",
        b"Host:no-space.example",
        b"Host: \tpadded.example \t",
        b"Host: Example.COM:8080",
        b"host: lower.example",
        b"HOST: UPPER.EXAMPLE",
    ]
    flow = cap.flow()
    for i, line in enumerate(lines):
        host = hosts[i % len(hosts)]
        cap.exchange(flow, line + b"\r\n" + host + b"\r\n\r\n", resp("200 OK", b"%d" % i))
    cap.close(flow)


def more_gaps(cap: Capture) -> None:
    """Holes inside a header block, inside a chunked body, and across the end of one response
    and the start of the next (pipelined); a hole the receiver acknowledges past."""
    flow = cap.flow()
    data = req("GET", "/head-hole", headers="User-Agent: hole/1.0\nAccept: */*")
    cap.send(flow, "client", data[:30])
    flow.client_seq += 10
    cap.send(flow, "client", data[40:])
    cap.send(flow, "server", resp("400 Bad Request", b"x"))
    cap.exchange(flow, req("GET", "/after-head-hole"), resp("200 OK", b"a"))
    cap.send(flow, "client", req("GET", "/chunk-hole"))
    body = resp("200 OK", length=False, headers="Transfer-Encoding: chunked")
    body += chunked([b"c" * 100, b"d" * 100])
    cap.send(flow, "server", body[:80])
    flow.server_seq += 60
    cap.send(flow, "server", body[140:])
    cap.exchange(flow, req("GET", "/after-chunk-hole"), resp("200 OK", b"b"))
    cap.send(flow, "client", req("GET", "/pipe-1") + req("GET", "/pipe-2") + req("GET", "/pipe-3"))
    answers = resp("200 OK", b"1" * 50) + resp("201 Created", b"2" * 50) + resp("202 OK", b"3")
    cut = len(resp("200 OK", b"1" * 50)) - 10
    cap.send(flow, "server", answers[:cut])
    flow.server_seq += 40
    cap.send(flow, "server", answers[cut + 40 :])
    cap.close(flow)


def one_sided(cap: Capture) -> None:
    """A tap that saw one direction only (each way), a lost SYN (the SYN-ACK seen), a SYN
    retransmitted, and an idle keep-alive connection the server ends with an unsolicited 408."""
    flow = cap.flow(handshake=False)
    cap.add(flow.send("client", "S"))
    flow.server_seq += 1
    cap.add(flow.send("client", "A"))
    cap.send(flow, "client", req("GET", "/client-side-only-1"))
    cap.send(flow, "client", req("GET", "/client-side-only-2"))
    flow = cap.flow(handshake=False)
    flow.client_seq += 1
    cap.add(flow.send("server", "SA"))
    flow.client_seq -= 0
    cap.send(flow, "server", resp("200 OK", b"server only"))
    flow = cap.flow(handshake=False)
    syn = flow.segment("client", "S")
    cap.add(syn)
    cap.add(syn, ms=1000)
    flow.client_seq += 1
    cap.add(flow.send("server", "SA"))
    cap.add(flow.send("client", "A"))
    cap.exchange(flow, req("GET", "/after-syn-retry"), resp("200 OK", b"s"))
    cap.exchange(flow, req("GET", "/idle-then-408"), resp("200 OK", b"t"))
    cap.send(flow, "server", resp("408 Request Timeout", b"", "Connection: close"), flags="FPA")
    cap.add(flow.send("client", "FA"))


def h2c(cap: Capture) -> None:
    """HTTP/2 over cleartext: with prior knowledge (gRPC's way: the connection preface, then
    binary frames) and by an HTTP/1.1 Upgrade answered 101."""
    settings = bytes.fromhex("000006040000000000000300000064")
    headers = bytes.fromhex("000005010500000001") + b"\x82\x86\x84\x41\x8a"
    flow = cap.flow(server_port=50051)
    cap.send(flow, "client", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + settings + headers)
    cap.send(flow, "server", settings + bytes.fromhex("000000040100000000"))
    cap.close(flow)
    flow = cap.flow(server_port=80)
    cap.send(flow, "client", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + settings)
    cap.send(flow, "server", settings)
    cap.close(flow)
    flow = cap.flow()
    cap.exchange(
        flow,
        req(
            "GET",
            "/upgrade-h2c",
            headers="Connection: Upgrade, HTTP2-Settings\n"
            "Upgrade: h2c\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA",
        ),
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
        + settings,
    )
    cap.send(flow, "client", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + settings)
    cap.close(flow)


def lookalikes(cap: Capture) -> None:
    """Protocols with HTTP's shape but not HTTP: RTSP (an IP camera), SIP over TCP, ICAP."""
    dialogues = [
        (
            554,
            [
                b"OPTIONS rtsp://cam.example/stream RTSP/1.0\r\nCSeq: 1\r\n\r\n",
                b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: DESCRIBE, SETUP\r\n\r\n",
                b"DESCRIBE rtsp://cam.example/stream RTSP/1.0\r\nCSeq: 2\r\n\r\n",
                b"RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Length: 3\r\n\r\nv=0",
            ],
        ),
        (
            8554,
            [
                b"GET_PARAMETER rtsp://cam.example/ RTSP/1.0\r\nCSeq: 9\r\n\r\n",
                b"RTSP/1.0 200 OK\r\nCSeq: 9\r\n\r\n",
            ],
        ),
        (
            5060,
            [
                b"REGISTER sip:pbx.example SIP/2.0\r\nVia: SIP/2.0/TCP c\r\nContent-Length: 0"
                b"\r\n\r\n",
                b"SIP/2.0 401 Unauthorized\r\nContent-Length: 0\r\n\r\n",
                b"OPTIONS sip:pbx.example SIP/2.0\r\nContent-Length: 0\r\n\r\n",
                b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
            ],
        ),
        (
            1344,
            [
                b"OPTIONS icap://icap.example/reqmod ICAP/1.0\r\nHost: icap.example\r\n\r\n",
                b"ICAP/1.0 200 OK\r\nMethods: REQMOD\r\n\r\n",
            ],
        ),
    ]
    for port, messages in dialogues:
        flow = cap.flow(server_port=port)
        for i, data in enumerate(messages):
            cap.send(flow, "client" if i % 2 == 0 else "server", data)
        cap.close(flow)


FAMILIES: dict[str, Callable[[Capture], None]] = {
    "versions": versions,
    "pipelined": pipelined,
    "continue": continue_100,
    "no_body": no_body,
    "chunked": chunked_bodies,
    "close_delimited": close_delimited,
    "split": split_segments,
    "line_endings": line_endings,
    "lowercase": lowercase,
    "absolute_form": absolute_form,
    "connect_tls": connect_tls,
    "odd_ports": odd_ports,
    "server_first": server_first,
    "gaps": gaps,
    "reordered": reordered,
    "hostile": hostile,
    "websocket": websocket,
    "status_lines": status_lines,
    "ipv6": ipv6_vlan,
    "leading_crlf": leading_crlf,
    "many": many_requests,
    "tcp_shapes": tcp_shapes,
    "framing": framing_conflicts,
    "rst": rst_mid_body,
    "odd_request_lines": odd_request_lines,
    "more_gaps": more_gaps,
    "one_sided": one_sided,
    "h2c": h2c,
    "lookalikes": lookalikes,
}


def write_all(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, family in FAMILIES.items():
        cap = Capture()
        family(cap)
        path = folder / f"http-{name}.pcap"
        path.write_bytes(cap.bytes())
        paths.append(path)
    return paths


def main() -> None:
    folder = output_folder("http", __doc__.splitlines()[0])
    paths = write_all(folder)
    print(f"{len(paths)} captures in {folder}")


if __name__ == "__main__":
    main()
