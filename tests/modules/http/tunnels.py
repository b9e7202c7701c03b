"""Tunnels that carry TLS: HTTP CONNECT and SOCKS 4/4a/5 preambles, written with scapy.

`write(path)` writes one capture and returns its ground truth, set down as the script sends
(never read back through mcpcap): the HTTP requests each connection must give (`http`, keyed
by client port), and the TLS handshake inside each tunnel (`tls`: client port -> SNI and the
ClientHello's frame). Fixed clock, addresses, ports and sequence numbers. Connections:

- 51001: CONNECT to a proxy on 3128, answered 200, then TLS (SNI connect.example).
- 51002: CONNECT on 8080 refused with 407 (a body), the same connection asks again with
  Proxy-Authorization and gets 200, then TLS (SNI auth.example).
- 51003: CONNECT on 3128 whose ClientHello follows in the same segment, before the 200
  (an optimistic client), SNI early.example.
- 51004: SOCKS5 on 1080, no authentication, a domain name target, then TLS (socks5.example).
- 51005: SOCKS5 on 9999 with username/password authentication, an IPv4 target, then TLS.
- 51006: SOCKS4 on 4145 (an IPv4 target and a user id), then TLS (socks4.example).
- 51007: SOCKS4a on 9050 (the target's name after the user id), then TLS (socks4a.example).
- 51008: SOCKS5 on 1080 (greeting and request in one segment, then the method choice and
  the reply in one), then plain HTTP through the tunnel: a GET answered 200.
- 51009: SOCKS4a on 9050, then a GET answered 404 whose request's header block spans two
  segments.
- 51010: SOCKS5 refused by the proxy (reply 5: connection refused): nothing follows.
"""

from __future__ import annotations

import socket
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures"))

from make_tls_captures import (
    CCS,
    client_hello,
    encrypted,
    ext,
    record,
    server_hello,
    sni_ext,
    u16,
    vec,
)
from packets import (
    LINKTYPE_ETHERNET,
    Clock,
    TcpFlow,
    ether,
    mac_for,
    pcap_bytes,
    write_file,
)

CLIENT = "10.20.0.5"
PROXY = "10.20.0.1"


class Capture:
    """Frames of the capture and the ground truth, as they are written."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.frames: list = []
        self.http: dict[int, list[dict]] = {}
        self.tls: dict[int, dict] = {}

    def add(self, packet) -> int:
        self.frames.append(self.clock.frame(ether(packet, mac_for(5)), ms=1))
        return len(self.frames)

    def connection(self, port: int, proxy_port: int, steps: list[tuple[str, bytes]]) -> list[int]:
        """Handshake, each (side, bytes) as one segment, FINs; the data segments' frames."""
        flow = TcpFlow(CLIENT, PROXY, port, proxy_port, client_seq=port * 1000)
        for packet in flow.handshake():
            self.add(packet)
        frames = [self.add(flow.send(side, "PA", data)) for side, data in steps]
        for packet in flow.close():
            self.add(packet)
        return frames


def hello(sni: str, seed: int) -> bytes:
    """A TLS 1.3 ClientHello record for `sni`."""
    extensions = [
        sni_ext(sni),
        ext(0x002B, vec(1, u16(0x0304))),
        ext(0x000A, vec(2, u16(0x001D))),
        ext(0x0033, vec(2, u16(0x001D) + vec(2, bytes(32)))),
    ]
    return record(22, client_hello([0x1301, 0x1302], extensions, seed=seed), version=0x0301)


SERVER_FLIGHT = (
    record(22, server_hello(0x1301, [ext(0x002B, u16(0x0304)), ext(0x0033, u16(0x001D))]))
    + CCS
    + encrypted(23, 400, 11)
)


def tunnel(cap: Capture, port: int, proxy_port: int, preamble: list[tuple[str, bytes]], sni: str):
    """A preamble, then a TLS 1.3 handshake through it; the truth of its TLS side."""
    steps = [*preamble, ("client", hello(sni, port)), ("server", SERVER_FLIGHT)]
    steps.append(("client", CCS + encrypted(23, 80, port)))
    frames = cap.connection(port, proxy_port, steps)
    cap.tls[port] = {"server_name": sni, "client_hello_frame": frames[len(preamble)]}
    return frames


def connect_request(target: str, extra: str = "") -> bytes:
    return f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n{extra}\r\n".encode()


ESTABLISHED = b"HTTP/1.1 200 Connection established\r\n\r\n"
REFUSED_BODY = b"proxy authentication required"
REFUSED = (
    b'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="p"\r\n'
    b"Content-Length: %d\r\n\r\n%s" % (len(REFUSED_BODY), REFUSED_BODY)
)


def connect_row(target: str, status: int, request_frame: int, response_frame: int) -> dict:
    return {
        "method": "CONNECT", "uri": target, "host": target, "status_code": status,
        "request_frame": request_frame, "response_frame": response_frame,
    }  # fmt: skip


def connect_tls(cap: Capture) -> None:
    target = "connect.example:443"
    preamble = [("client", connect_request(target)), ("server", ESTABLISHED)]
    frames = tunnel(cap, 51001, 3128, preamble, "connect.example")
    cap.http[51001] = [connect_row(target, 200, frames[0], frames[1])]


def connect_after_407(cap: Capture) -> None:
    target = "auth.example:443"
    again = connect_request(target, "Proxy-Authorization: Basic dXNlcjpwYXNz\r\n")
    preamble = [("client", connect_request(target)), ("server", REFUSED),
                ("client", again), ("server", ESTABLISHED)]  # fmt: skip
    frames = tunnel(cap, 51002, 8080, preamble, "auth.example")
    cap.http[51002] = [
        connect_row(target, 407, frames[0], frames[1]),
        connect_row(target, 200, frames[2], frames[3]),
    ]


def connect_optimistic(cap: Capture) -> None:
    target = "early.example:443"
    steps = [("client", connect_request(target) + hello("early.example", 51003)),
             ("server", ESTABLISHED + SERVER_FLIGHT)]  # fmt: skip
    frames = cap.connection(51003, 3128, steps)
    cap.tls[51003] = {"server_name": "early.example", "client_hello_frame": frames[0]}
    cap.http[51003] = [connect_row(target, 200, frames[0], frames[1])]


def socks5(cap: Capture) -> None:
    name = b"socks5.example"
    request = b"\x05\x01\x00\x03" + bytes([len(name)]) + name + struct.pack("!H", 443)
    reply = b"\x05\x00\x00\x01" + socket.inet_aton("198.51.100.7") + struct.pack("!H", 443)
    preamble = [("client", b"\x05\x01\x00"), ("server", b"\x05\x00"),
                ("client", request), ("server", reply)]  # fmt: skip
    tunnel(cap, 51004, 1080, preamble, "socks5.example")


def socks5_password(cap: Capture) -> None:
    address = socket.inet_aton("198.51.100.8") + struct.pack("!H", 443)
    preamble = [("client", b"\x05\x02\x00\x02"), ("server", b"\x05\x02"),
                ("client", b"\x01\x04user\x06secret"), ("server", b"\x01\x00"),
                ("client", b"\x05\x01\x00\x01" + address),
                ("server", b"\x05\x00\x00\x01" + address)]  # fmt: skip
    tunnel(cap, 51005, 9999, preamble, "auth5.example")


def socks4(cap: Capture) -> None:
    request = b"\x04\x01" + struct.pack("!H", 443) + socket.inet_aton("198.51.100.9") + b"me\0"
    reply = b"\x00\x5a" + bytes(6)
    tunnel(cap, 51006, 4145, [("client", request), ("server", reply)], "socks4.example")


def socks4a(cap: Capture) -> None:
    request = b"\x04\x01" + struct.pack("!H", 443) + b"\0\0\0\x01" + b"me\0socks4a.example\0"
    reply = b"\x00\x5a" + struct.pack("!H", 443) + socket.inet_aton("198.51.100.10")
    tunnel(cap, 51007, 9050, [("client", request), ("server", reply)], "socks4a.example")


def http_row(uri: str, host: str, status: int, request_frame: int, response_frame: int) -> dict:
    return {
        "method": "GET", "uri": uri, "host": host, "status_code": status,
        "request_frame": request_frame, "response_frame": response_frame,
    }  # fmt: skip


def get(uri: str, host: str) -> bytes:
    return f"GET {uri} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: curl/8.5.0\r\n\r\n".encode()


def answer(status: str, body: bytes) -> bytes:
    return b"HTTP/1.1 %s\r\nContent-Length: %d\r\n\r\n%s" % (status.encode(), len(body), body)


def socks5_http(cap: Capture) -> None:
    name = b"plain.example"
    request = b"\x05\x01\x00\x03" + bytes([len(name)]) + name + struct.pack("!H", 80)
    reply = b"\x05\x00\x00\x01" + socket.inet_aton("198.51.100.20") + struct.pack("!H", 80)
    frames = cap.connection(51008, 1080, [
        ("client", b"\x05\x01\x00" + request), ("server", b"\x05\x00" + reply),
        ("client", get("/", "plain.example")), ("server", answer("200 OK", b"hello")),
    ])  # fmt: skip
    cap.http[51008] = [http_row("/", "plain.example", 200, frames[2], frames[3])]


def socks4a_http(cap: Capture) -> None:
    request = b"\x04\x01" + struct.pack("!H", 80) + b"\0\0\0\x01" + b"me\0onion.example\0"
    reply = b"\x00\x5a" + bytes(6)
    wire = get("/missing", "onion.example")
    frames = cap.connection(51009, 9050, [
        ("client", request), ("server", reply), ("client", wire[:20]), ("client", wire[20:]),
        ("server", answer("404 Not Found", b"")),
    ])  # fmt: skip
    cap.http[51009] = [http_row("/missing", "onion.example", 404, frames[3], frames[4])]


def socks5_refused(cap: Capture) -> None:
    reply = b"\x05\x05\x00\x01" + bytes(6)
    request = b"\x05\x01\x00\x01" + socket.inet_aton("198.51.100.21") + struct.pack("!H", 80)
    cap.connection(51010, 1080, [("client", b"\x05\x01\x00"), ("server", b"\x05\x00"),
                                 ("client", request), ("server", reply)])  # fmt: skip


def write(path: Path) -> dict:
    """Write the capture; its ground truth (`http`, `tls`: client port -> truth)."""
    cap = Capture()
    for scenario in (connect_tls, connect_after_407, connect_optimistic, socks5,
                     socks5_password, socks4, socks4a, socks5_http, socks4a_http,
                     socks5_refused):  # fmt: skip
        scenario(cap)
    write_file(path, pcap_bytes(cap.frames, LINKTYPE_ETHERNET))
    return {"frames": len(cap.frames), "http": cap.http, "tls": cap.tls}
