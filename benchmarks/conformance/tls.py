"""Write many small TLS and QUIC captures, one per case family, and their JA4 by FoxIO's spec.

    python benchmarks/conformance/tls.py /work/scratch/diff-http/tls
    PATH=$PWD/.venv/bin:$PATH python ../shared/tools/module_oracle.py tls \
        --corpus /work/scratch/diff-http/tls --show 20
    PATH=$PWD/.venv/bin:$PATH python ../shared/tools/module_oracle.py ja4 \
        --corpus /work/scratch/diff-http/tls --show 20

Handshake messages are built byte by byte with the fixture builders (tests/fixtures/
make_tls_captures.py: RFC 8446/5246 structures, QUIC Initials protected per RFC 9001/9369 with
`cryptography`); frames go through scapy. `ja4-expected.json` holds each ClientHello's JA4 as
computed here from what was sent, by FoxIO's technical_details/JA4.md (`spec_ja4`), never by
mcpcap: the `ja4` oracle compares with it. Fixed clock, addresses and seed: two runs write
identical bytes. tshark 4.0 reads TLS on its registered ports only (443, 993, 8443 ...), so the
odd-port connections are scored by the `ja4` oracle alone.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from generator_cli import output_folder  # (this folder: first on the path of a script)

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "tests" / "fixtures"))

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from make_tls_captures import (  # noqa: E402
    CCS,
    HRR_RANDOM,
    QUIC_V1,
    QUIC_V2,
    SALTS,
    SERVER_HELLO_DONE,
    UTC,
    certificate,
    crypto_frame,
    encrypted,
    ext,
    handshake,
    initial_keys,
    make_certificate,
    protect_initial,
    record,
    server_hello,
    ske_named_curve,
    sslv2_record,
    u8,
    u16,
    u16s,
    u24,
    vec,
)
from packets import (  # noqa: E402
    LINKTYPE_ETHERNET,
    Clock,
    TcpFlow,
    ether,
    mac_for,
    pcap_bytes,
    udp_packet,
)

SEED = 20261205
GREASE = [0x0A0A + 0x1010 * i for i in range(16)]
JA4_VERSIONS = {
    0x0304: "13",
    0x0303: "12",
    0x0302: "11",
    0x0301: "10",
    0x0300: "s3",
    0x0002: "s2",
    0xFEFF: "d1",
    0xFEFD: "d2",
    0xFEFC: "d3",
}
SIG_ALGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]


@dataclass
class Hello:
    """A ClientHello as sent: what its bytes and its JA4 are made of."""

    ciphers: list[int] = field(default_factory=lambda: [0x1301, 0x1302, 0xC02B, 0xC02F])
    sni: list[str] | None = field(default_factory=lambda: ["www.example.com"])
    alpn: list[bytes] | None = field(default_factory=lambda: [b"h2", b"http/1.1"])
    versions: list[int] | None = field(default_factory=lambda: [0x0304, 0x0303])
    sig_algs: list[int] | None = field(default_factory=lambda: list(SIG_ALGS))
    groups: list[int] = field(default_factory=lambda: [0x001D, 0x0017])
    legacy: int = 0x0303
    extra: list[tuple[int, bytes]] = field(default_factory=list)
    order: int = 0  # 0: as listed; else a seed to shuffle the extensions
    session_id: bytes = b""

    def extensions(self) -> list[tuple[int, bytes]]:
        out: list[tuple[int, bytes]] = []
        if self.sni is not None:
            names = b"".join(u8(0) + vec(2, n.encode()) for n in self.sni)
            out.append((0x0000, vec(2, names)))
        out.append((0x000A, vec(2, u16s(self.groups))))
        out.append((0x000B, vec(1, b"\x00")))
        if self.sig_algs is not None:
            out.append((0x000D, vec(2, u16s(self.sig_algs))))
        if self.alpn is not None:
            out.append((0x0010, vec(2, b"".join(vec(1, n) for n in self.alpn))))
        if self.versions is not None:
            out.append((0x002B, vec(1, u16s(self.versions))))
            group = next(g for g in self.groups if g not in GREASE)
            out.append((0x0033, vec(2, u16(group) + vec(2, bytes(32)))))
        out += self.extra
        if self.order:
            random.Random(self.order).shuffle(out)
        return out

    def message(self) -> bytes:
        rand = hashlib.sha256(repr(self).encode()).digest()
        body = u16(self.legacy) + rand + vec(1, self.session_id) + vec(2, u16s(self.ciphers))
        body += vec(1, b"\x00") + vec(2, b"".join(u16(k) + vec(2, v) for k, v in self.extensions()))
        return handshake(1, body)

    def ja4(self, quic: bool = False) -> str:
        return spec_ja4(self, quic)


def spec_ja4(hello: Hello, quic: bool) -> str:
    """FoxIO's JA4 (technical_details/JA4.md) of what `hello` sends."""
    kinds = [k for k, _ in hello.extensions() if k not in GREASE]
    ciphers = [c for c in hello.ciphers if c not in GREASE]
    versions = [v for v in hello.versions or [] if v not in GREASE]
    version = JA4_VERSIONS.get(max(versions) if versions else hello.legacy, "00")
    first = hello.alpn[0] if hello.alpn else b""
    if not first:
        alpn = "00"
    elif all(chr(b).isascii() and chr(b).isalnum() for b in (first[0], first[-1])):
        alpn = chr(first[0]) + chr(first[-1])
    else:
        alpn = first.hex()[0] + first.hex()[-1]
    a = ("q" if quic else "t") + version + ("d" if 0 in kinds else "i")
    a += f"{min(len(ciphers), 99):02d}{min(len(kinds), 99):02d}{alpn}"
    b = ",".join(f"{c:04x}" for c in sorted(ciphers))
    c = ",".join(f"{k:04x}" for k in sorted(k for k in kinds if k not in (0, 0x10)))
    sigs = [s for s in hello.sig_algs or [] if s not in GREASE]
    if sigs:
        c += "_" + ",".join(f"{s:04x}" for s in sigs)

    def h12(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:12] if text else "000000000000"

    return f"{a}_{h12(b) if ciphers else h12('')}_{h12(c) if c.split('_')[0] else h12('')}"


class Capture:
    """Frames of one capture, and the JA4 each ClientHello must give."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.clock = Clock()
        self.frames: list = []
        self.flows = 0
        self.expected: list[dict] = []

    def add(self, packet, ms: float = 1) -> int:
        self.frames.append(self.clock.frame(ether(packet, mac_for(2)), ms=ms))
        return len(self.frames)

    def flow(self, port: int = 443, client: str = "10.3.0.10", server: str = "10.4.0.1") -> TcpFlow:
        self.flows += 1
        flow = TcpFlow(
            client,
            server,
            42000 + self.flows,
            port,
            client_seq=300_000 * self.flows,
            server_seq=9_000_000 + self.flows,
        )
        for packet in flow.handshake():
            self.add(packet)
        return flow

    def send(self, flow: TcpFlow, side: str, data: bytes, cuts: tuple[int, ...] = ()) -> None:
        edges = [0, *cuts, len(data)]
        for start, end in itertools.pairwise(edges):
            self.add(flow.send(side, "PA", data[start:end]))

    def close(self, flow: TcpFlow) -> None:
        for packet in flow.close():
            self.add(packet)

    def expect(self, flow: TcpFlow, hello: Hello) -> None:
        self.expected.append(
            {
                "src": flow.client,
                "dst": flow.server,
                "src_port": flow.client_port,
                "dst_port": flow.server_port,
                "transport": "tcp",
                "server_name": hello.sni[0] if hello.sni else None,
                "ja4": hello.ja4(),
            }
        )

    def tls13(
        self,
        hello: Hello,
        port: int = 443,
        cuts: tuple[int, ...] = (),
        cipher: int = 0x1301,
        rec_version: int = 0x0301,
    ) -> TcpFlow:
        """A whole TLS 1.3 exchange for `hello` (expected JA4 noted)."""
        flow = self.flow(port)
        self.send(flow, "client", record(22, hello.message(), version=rec_version), cuts)
        reply = server_hello(
            cipher, [ext(0x002B, u16(0x0304)), ext(0x0033, u16(0x001D) + vec(2, bytes(32)))]
        )
        self.send(flow, "server", record(22, reply) + CCS + encrypted(23, 300, self.flows))
        self.send(flow, "client", CCS + encrypted(23, 60, self.flows))
        self.close(flow)
        self.expect(flow, hello)
        return flow

    def tls12(
        self,
        hello: Hello,
        port: int = 443,
        version: int = 0x0303,
        cipher: int = 0xC02F,
        server_flight: bytes | None = None,
        cuts: tuple[int, ...] = (),
    ) -> TcpFlow:
        flow = self.flow(port)
        self.send(flow, "client", record(22, hello.message(), version=min(version, 0x0301)), cuts)
        if server_flight is None:
            sh = server_hello(cipher, [ext(0xFF01, b"\x00")])
            sh = sh[:4] + u16(version) + sh[6:]
            server_flight = record(
                22,
                sh + certificate([CERTS["good"]]) + ske_named_curve(0x1D) + SERVER_HELLO_DONE,
                version=version,
            )
        self.send(flow, "server", server_flight)
        self.send(
            flow,
            "client",
            record(22, handshake(16, vec(1, bytes(32))), version=version)
            + CCS
            + encrypted(22, 40, self.flows),
        )
        self.send(flow, "server", CCS + encrypted(22, 40, self.flows + 1))
        self.close(flow)
        self.expect(flow, hello)
        return flow

    def bytes(self) -> bytes:
        return pcap_bytes(self.frames, LINKTYPE_ETHERNET)


def _cert(subject: str, issuer: str, sans: list[str], years: tuple[int, int], seed: int) -> bytes:
    start, end = (datetime.datetime(y, 1, 1, tzinfo=UTC) for y in years)
    return make_certificate(subject, issuer, sans, start, end, seed)


CERTS = {
    "good": _cert("www.example.com", "Conformance CA", ["www.example.com"], (2024, 2030), 41),
    "self": _cert("self.example", "self.example", ["self.example"], (2024, 2030), 42),
    "expired": _cert("old.example", "Conformance CA", ["old.example"], (2020, 2021), 43),
    "mismatch": _cert("other.example", "Conformance CA", ["other.example"], (2024, 2030), 44),
    "ca": _cert("Conformance CA", "Conformance CA", [], (2024, 2030), 45),
}


# ------------------------------------------------------------------------------ families
def versions(cap: Capture) -> None:
    """TLS 1.0, 1.1, 1.2 (no supported_versions) and 1.3."""
    for version in (0x0301, 0x0302, 0x0303):
        hello = Hello(
            ciphers=[0xC013, 0x002F, 0x0035],
            versions=None,
            legacy=version,
            sig_algs=None if version < 0x0303 else SIG_ALGS,
            alpn=None,
            sni=[f"v{version:x}.example"],
        )
        cap.tls12(hello, version=version, cipher=0xC013)
    cap.tls13(Hello())
    cap.tls13(Hello(ciphers=[0x1303], sni=["only-13.example"], versions=[0x0304]), cipher=0x1303)


def split(cap: Capture) -> None:
    """A ClientHello across records, across segments (one byte a segment), both; several
    handshake messages in one record; a ServerHello split across records."""
    hello = Hello(sni=["across-records.example"])
    message = hello.message()
    flow = cap.flow()
    cap.send(flow, "client", record(22, message[:50], 0x0301) + record(22, message[50:], 0x0301))
    reply = server_hello(
        0x1301, [ext(0x002B, u16(0x0304)), ext(0x0033, u16(0x001D) + vec(2, bytes(32)))]
    )
    cap.send(flow, "server", record(22, reply[:10]) + record(22, reply[10:]) + CCS)
    cap.close(flow)
    cap.expect(flow, hello)
    hello = Hello(sni=["byte-by-byte.example"])
    data = record(22, hello.message(), 0x0301)
    cap.tls13(hello, cuts=tuple(range(1, len(data))))
    hello = Hello(sni=["three-records.example"], alpn=[b"http/1.1"])
    message = hello.message()
    flow = cap.flow()
    records = b"".join(record(22, message[i : i + 40], 0x0301) for i in range(0, len(message), 40))
    cap.send(flow, "client", records, (3, 45, 100))
    cap.send(
        flow,
        "server",
        record(22, server_hello(0xC02F, []) + certificate([CERTS["good"]]) + SERVER_HELLO_DONE),
    )
    cap.close(flow)
    cap.expect(flow, hello)


def grease(cap: Capture) -> None:
    hello = Hello(
        ciphers=[GREASE[3], 0x1301, GREASE[5], 0x1302],
        versions=[GREASE[1], 0x0304, 0x0303],
        groups=[GREASE[2], 0x001D],
        sig_algs=[GREASE[7], 0x0403, 0x0804],
        alpn=[b"h2"],
        sni=["grease.example"],
        extra=[(GREASE[0], b""), (GREASE[9], b"\x00")],
    )
    cap.tls13(hello)
    hello = Hello(
        ciphers=[GREASE[4], 0x1301],
        extra=[(GREASE[6], b"")],
        sni=None,
        alpn=None,
        sig_algs=[GREASE[8]],
    )
    cap.tls13(hello)


def odd_orders(cap: Capture) -> None:
    for seed in (1, 2, 3):
        cap.tls13(
            Hello(
                order=seed,
                sni=[f"order{seed}.example"],
                extra=[
                    (0x0017, b""),
                    (0x0023, b""),
                    (0xFF01, b"\x00"),
                    (0x0005, u8(1) + u16(0) + u16(0)),
                ],
            )
        )


def sni_shapes(cap: Capture) -> None:
    cap.tls13(Hello(sni=None))
    cap.tls13(Hello(sni=["first.example", "second.example"]))
    cap.tls13(Hello(sni=["UPPER.Example.COM"]))
    cap.tls13(Hello(sni=["with-trailing-dot.example."]))


def alpn_lists(cap: Capture) -> None:
    for alpn in (
        [b"http/1.1", b"h2"],
        [b"h3", b"h3-29", b"h2", b"http/1.1", b"spdy/3"],
        [b"h"],
        [b"\xab\xcd"],
        [b"0\xab"],
        [b"acme-tls/1"],
        [b"x" * 200],
        [],
    ):
        cap.tls13(Hello(alpn=alpn, sni=[f"alpn{len(cap.expected)}.example"]))


def hrr(cap: Capture) -> None:
    flow = cap.flow()
    first = Hello(sni=["hrr.example"], groups=[0x001D, 0x0017])
    second = Hello(sni=["hrr.example"], groups=[0x0017, 0x001D])
    retry = server_hello(
        0x1302, [ext(0x002B, u16(0x0304)), ext(0x0033, u16(0x0017))], random=HRR_RANDOM
    )
    reply = server_hello(
        0x1302, [ext(0x002B, u16(0x0304)), ext(0x0033, u16(0x0017) + vec(2, bytes(65)))]
    )
    cap.send(flow, "client", record(22, first.message(), 0x0301))
    cap.send(flow, "server", record(22, retry) + CCS)
    cap.send(flow, "client", CCS + record(22, second.message()))
    cap.send(flow, "server", record(22, reply) + CCS + encrypted(23, 200, 5))
    cap.close(flow)
    cap.expect(flow, first)


def resumption(cap: Capture) -> None:
    session = bytes(range(32))
    hello = Hello(
        ciphers=[0xC02F],
        versions=None,
        session_id=session,
        sni=["resume.example"],
        extra=[(0x0023, b"ticket-bytes" * 8)],
    )
    sh = server_hello(0xC02F, [ext(0x0023, b"")], session_id=session)
    cap.tls12(hello, server_flight=record(22, sh) + CCS + encrypted(22, 40, 9))
    identity = vec(2, b"ticket" + bytes(26)) + (3600).to_bytes(4, "big")
    hello = Hello(
        sni=["psk.example"],
        extra=[(0x002D, vec(1, b"\x01")), (0x0029, vec(2, identity) + vec(2, vec(1, bytes(32))))],
    )
    cap.tls13(hello)


def ech(cap: Capture) -> None:
    payload = u8(0) + u16(1) + u16(1) + u8(7) + vec(2, bytes(32)) + vec(2, bytes(200))
    cap.tls13(Hello(sni=["public.example"], extra=[(0xFE0D, payload)]))


def sslv2_hello(cap: Capture) -> None:
    """An SSLv2-format ClientHello offering TLS 1.0 (RFC 5246 appendix E.2)."""
    flow = cap.flow()
    specs = [0x00002F, 0x000035, 0x010080]
    body = u8(1) + u16(0x0301) + u16(3 * len(specs)) + u16(0) + u16(16)
    body += b"".join(s.to_bytes(3, "big") for s in specs) + bytes(range(16))
    cap.send(flow, "client", sslv2_record(body))
    sh = server_hello(0x002F, [])
    sh = sh[:4] + u16(0x0301) + sh[6:]
    cap.send(
        flow,
        "server",
        record(22, sh + certificate([CERTS["good"]]) + SERVER_HELLO_DONE, version=0x0301),
    )
    cap.close(flow)
    # FoxIO's JA4 has no SSLv2 hello: not in ja4-expected.json


def alerts(cap: Capture) -> None:
    flow = cap.flow()
    hello = Hello(sni=["refused.example"])
    cap.send(flow, "client", record(22, hello.message(), 0x0301))
    cap.send(flow, "server", record(21, b"\x02\x28"))  # handshake_failure
    cap.close(flow)
    cap.expect(flow, hello)
    flow = cap.flow(port=8443)
    hello = Hello(sni=["protocol-version.example"], versions=None, ciphers=[0x002F], legacy=0x0301)
    cap.send(flow, "client", record(22, hello.message(), 0x0301))
    cap.send(flow, "server", record(21, b"\x02\x46", version=0x0301))
    cap.close(flow)
    cap.expect(flow, hello)


def certificates(cap: Capture) -> None:
    for name, sni in (
        ("self", "self.example"),
        ("expired", "old.example"),
        ("mismatch", "wanted.example"),
    ):
        flight = record(
            22,
            server_hello(0xC02F, [])
            + certificate([CERTS[name], CERTS["ca"]])
            + ske_named_curve(0x17)
            + SERVER_HELLO_DONE,
        )
        cap.tls12(Hello(sni=[sni], versions=None), server_flight=flight)
    garbage = record(
        22,
        server_hello(0xC02F, [])
        + certificate([b"\x30\x82\x01\x00" + bytes(8)])
        + SERVER_HELLO_DONE,
    )
    cap.tls12(Hello(sni=["garbage-cert.example"], versions=None), server_flight=garbage)


def odd_ports(cap: Capture) -> None:
    for port in (993, 8443, 5061, 50443, 80):
        cap.tls13(Hello(sni=[f"port{port}.example"]), port=port)


def quic(cap: Capture) -> None:
    """v1 over two Initials with CRYPTO frames out of order, coalesced with a 0-RTT packet;
    v2; on a non-443 port."""
    client, server = ("10.5.0.10", 53001), ("10.6.0.1", 443)
    dcid, scid = bytes.fromhex("a1a2a3a4a5a6a7a8"), b"\xc1\xc2\xc3\xc4"
    hello = Hello(
        sni=["quic.example"],
        alpn=[b"h3"],
        ciphers=[0x1301, 0x1302, 0x1303],
        versions=[0x0304],
        extra=[(0x0039, bytes(12)), (0x002D, vec(1, b"\x01"))],
    )
    message = hello.message()
    one_third, two_thirds = len(message) // 3, 2 * len(message) // 3
    frames1 = crypto_frame(two_thirds, message[two_thirds:]) + crypto_frame(0, message[:one_third])
    frames2 = crypto_frame(one_third, message[one_third:two_thirds])
    one = protect_initial(QUIC_V1, dcid, dcid, scid, 0, frames1, server=False, pad_to=1200)
    two = protect_initial(QUIC_V1, dcid, dcid, scid, 1, frames2, server=False)
    zero_rtt = (
        u8(0xD0 | 3)
        + QUIC_V1.to_bytes(4, "big")
        + vec(1, dcid)
        + vec(1, scid)
        + u16(0x4000 | 40)
        + bytes(40)
    )
    cap.add(udp_packet(*client_server(client, server), one))
    cap.add(udp_packet(*client_server(client, server), two + zero_rtt))
    reply = server_hello(
        0x1301, [ext(0x0033, u16(0x001D) + vec(2, bytes(32))), ext(0x002B, u16(0x0304))]
    )
    answer = protect_initial(
        QUIC_V1, dcid, scid, b"\x5e" * 8, 0, crypto_frame(0, reply), server=True
    )
    cap.add(udp_packet(*client_server(server, client), answer))
    cap.expected.append(quic_expect(client, server, hello))
    for version, port, sni in ((QUIC_V2, 443, "v2.example"), (QUIC_V1, 8443, "odd.example")):
        client = (client[0], client[1] + 1)
        hello = Hello(sni=[sni], alpn=[b"h3"], ciphers=[0x1301], versions=[0x0304])
        dcid = hashlib.sha256(sni.encode()).digest()[:8]
        packet = protect_initial(
            version, dcid, dcid, b"", 0, crypto_frame(0, hello.message()), server=False, pad_to=1200
        )
        cap.add(udp_packet(*client_server(client, (server[0], port)), packet))
        cap.expected.append(quic_expect(client, (server[0], port), hello))


def client_server(a: tuple[str, int], b: tuple[str, int]) -> tuple[str, str, int, int]:
    return a[0], b[0], a[1], b[1]


def quic_expect(client: tuple[str, int], server: tuple[str, int], hello: Hello) -> dict:
    return {
        "src": client[0],
        "dst": server[0],
        "src_port": client[1],
        "dst_port": server[1],
        "transport": "quic",
        "server_name": hello.sni[0] if hello.sni else None,
        "ja4": hello.ja4(quic=True),
    }


def hostile(cap: Capture) -> None:
    """Counted as malformed, never fatal."""
    flow = cap.flow()
    cap.send(flow, "client", u8(22) + u16(0x0301) + u16(0xFFFF) + bytes(64))
    cap.close(flow)
    flow = cap.flow()
    cap.send(flow, "client", record(22, u8(1) + u24(0xFFFFFF) + bytes(100)))
    cap.close(flow)
    flow = cap.flow()
    message = bytearray(Hello(sni=["overrun.example"]).message())
    message[-20] = 0xFF
    cap.send(flow, "client", record(22, bytes(message)))
    cap.close(flow)
    dcid = bytes(8)
    bad = protect_initial(
        QUIC_V1,
        dcid,
        dcid,
        b"",
        0,
        crypto_frame(0, Hello().message()),
        server=False,
        pad_to=1200,
        corrupt=True,
    )
    cap.add(udp_packet("10.5.0.99", "10.6.0.1", 54000, 443, bad))


STARTTLS = {  # port: the plain-text dialogue before the ClientHello, (side, bytes) in order
    25: [
        ("server", b"220 mx.example ESMTP\r\n"),
        ("client", b"EHLO client.example\r\n"),
        ("server", b"250-mx.example\r\n250 STARTTLS\r\n"),
        ("client", b"STARTTLS\r\n"),
        ("server", b"220 2.0.0 Ready to start TLS\r\n"),
    ],
    587: [
        ("server", b"220 smtp.example ESMTP\r\n"),
        ("client", b"EHLO c\r\n"),
        ("server", b"250 STARTTLS\r\n"),
        ("client", b"STARTTLS\r\n"),
        ("server", b"220 Go ahead\r\n"),
    ],
    143: [
        ("server", b"* OK IMAP4rev1 ready\r\n"),
        ("client", b"a1 STARTTLS\r\n"),
        ("server", b"a1 OK Begin TLS negotiation now\r\n"),
    ],
    110: [
        ("server", b"+OK POP3 ready\r\n"),
        ("client", b"STLS\r\n"),
        ("server", b"+OK Begin TLS\r\n"),
    ],
    21: [
        ("server", b"220 FTP ready\r\n"),
        ("client", b"AUTH TLS\r\n"),
        ("server", b"234 AUTH TLS OK\r\n"),
    ],
    5432: [("client", bytes.fromhex("0000000804d2162f")), ("server", b"S")],
    5222: [
        (
            "client",
            b"<?xml version='1.0'?><stream:stream to='x.example' "
            b"xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
            b"version='1.0'>",
        ),
        (
            "server",
            b"<?xml version='1.0'?><stream:stream from='x.example' id='1' "
            b"xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
            b"version='1.0'><stream:features><starttls "
            b"xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>",
        ),
        ("client", b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
        ("server", b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
    ],
}


def mysql_packet(seq: int, payload: bytes) -> bytes:
    return len(payload).to_bytes(3, "little") + u8(seq) + payload


MYSQL_GREETING = mysql_packet(
    0,
    b"\x0a8.0.36\x00"
    + (7).to_bytes(4, "little")
    + b"abcdefgh\x00"
    + b"\xff\xff\xff\x02\x00\xff\xdf\x15"
    + bytes(10)
    + b"ijklmnopqrst\x00mysql_native_password\x00",
)
MYSQL_SSL_REQUEST = mysql_packet(
    1,
    (0x000FAA85 | 0x0800).to_bytes(4, "little")
    + (1 << 24).to_bytes(4, "little")
    + b"\xff"
    + bytes(23),
)
STARTTLS[389] = [
    ("client", bytes.fromhex("301d02010177188016") + b"1.3.6.1.4.1.1466.20037"),
    ("server", bytes.fromhex("300c02010178070a010004000400")),
]
STARTTLS[3306] = [("server", MYSQL_GREETING), ("client", MYSQL_SSL_REQUEST)]


def starttls(cap: Capture) -> None:
    """TLS after a plain-text upgrade (SMTP, IMAP, POP3, FTP, PostgreSQL, XMPP)."""
    for port, dialogue in STARTTLS.items():
        flow = cap.flow(port)
        for side, data in dialogue:
            cap.send(flow, side, data)
        hello = Hello(sni=[f"starttls{port}.example"], alpn=None)
        cap.send(flow, "client", record(22, hello.message(), 0x0301))
        reply = server_hello(
            0x1302, [ext(0x002B, u16(0x0304)), ext(0x0033, u16(0x001D) + vec(2, bytes(32)))]
        )
        cap.send(flow, "server", record(22, reply) + CCS + encrypted(23, 300, port))
        cap.send(flow, "client", CCS + encrypted(23, 60, port))
        cap.close(flow)
        cap.expect(flow, hello)


def initial(
    version: int,
    key_dcid: bytes,
    dcid: bytes,
    scid: bytes,
    number: int,
    frames: bytes,
    *,
    server: bool = False,
    pn_len: int = 4,
    token: bytes = b"",
    pad_to: int = 0,
) -> bytes:
    """An Initial protected per RFC 9001 5, with a packet number of `pn_len` bytes and a token."""
    key, iv, hp = initial_keys(version, key_dcid, server)
    head = u8(0xC0 | SALTS[version][2] << 4 | (pn_len - 1)) + version.to_bytes(4, "big")
    head += vec(1, dcid) + vec(1, scid) + qvarint(len(token)) + token
    overhead = len(head) + 2 + pn_len + 16
    frames += bytes(max(0, pad_to - overhead - len(frames), 4 - pn_len - len(frames)))
    header = head + u16(0x4000 | (pn_len + len(frames) + 16)) + number.to_bytes(pn_len, "big")
    nonce = (int.from_bytes(iv, "big") ^ number).to_bytes(12, "big")
    sealed = AESGCM(key).encrypt(nonce, frames, header)
    pn_at = len(header) - pn_len
    sample = sealed[4 - pn_len : 20 - pn_len]
    encryptor = Cipher(algorithms.AES(hp), modes.ECB()).encryptor()
    mask = encryptor.update(sample) + encryptor.finalize()
    first = bytes([header[0] ^ (mask[0] & 0x0F)])
    pn = bytes(b ^ m for b, m in zip(header[pn_at:], mask[1 : 1 + pn_len], strict=True))
    return first + header[1:pn_at] + pn + sealed


def qvarint(n: int) -> bytes:
    return u8(n) if n < 64 else u16(0x4000 | n)


def quic_shapes(cap: Capture) -> None:
    """Packet numbers of 1 and 2 bytes, a Retry and the Initial after it (a token, a new
    DCID), two client Initials coalesced in one datagram, a ServerHello Initial coalesced with
    a Handshake packet, PING/ACK frames among the CRYPTO, a post-quantum-sized ClientHello."""
    server = ("10.6.0.2", 443)
    big = Hello(
        sni=["pq.example"],
        alpn=[b"h3"],
        ciphers=[0x1301, 0x1302, 0x1303],
        versions=[0x0304],
        groups=[0x11EC, 0x001D],
        extra=[
            (0x0039, bytes(40)),
            (0x002D, vec(1, b"\x01")),
            (0xFE0D, bytes(300)),
            (0x0015, bytes(900)),
        ],
    )
    cases = [(1, 54001, "pn1.example"), (2, 54002, "pn2.example"), (4, 54003, "pq.example")]
    for pn_len, port, sni in cases:
        hello = big if sni == "pq.example" else Hello(sni=[sni], alpn=[b"h3"], versions=[0x0304])
        message = hello.message()
        dcid = hashlib.sha256(sni.encode()).digest()[:8]
        half = len(message) // 2
        one = initial(
            QUIC_V1,
            dcid,
            dcid,
            b"\x01",
            0,
            b"\x01" + crypto_frame(0, message[:half]),
            pn_len=pn_len,
            pad_to=1200,
        )
        two = initial(
            QUIC_V1,
            dcid,
            dcid,
            b"\x01",
            1,
            crypto_frame(half, message[half:]) + b"\x01",
            pn_len=pn_len,
            pad_to=1200,
        )
        client = ("10.5.1.10", port)
        if pn_len == 2:  # both in one datagram
            cap.add(udp_packet(*client_server(client, server), one + two))
        else:
            cap.add(udp_packet(*client_server(client, server), one))
            cap.add(udp_packet(*client_server(client, server), two))
        reply = server_hello(
            0x1302, [ext(0x0033, u16(0x001D) + vec(2, bytes(32))), ext(0x002B, u16(0x0304))]
        )
        answer = initial(
            QUIC_V1,
            dcid,
            b"\x01",
            b"\x5a" * 8,
            0,
            b"\x02\x00\x00\x00\x00" + crypto_frame(0, reply),
            server=True,
            pn_len=pn_len,
        )
        handshake_packet = (
            u8(0xE0 | 1)
            + QUIC_V1.to_bytes(4, "big")
            + vec(1, b"\x01")
            + vec(1, b"\x5a" * 8)
            + u16(0x4000 | 60)
            + bytes(60)
        )
        cap.add(udp_packet(*client_server(server, client), answer + handshake_packet))
        cap.expected.append(quic_expect(client, server, hello))
    client = ("10.5.1.10", 54004)
    hello = Hello(sni=["retry.example"], alpn=[b"h3"], versions=[0x0304])
    first_dcid, new_dcid = bytes.fromhex("1111111111111111"), bytes.fromhex("2222222222222222")
    cap.add(
        udp_packet(
            *client_server(client, server),
            initial(
                QUIC_V1,
                first_dcid,
                first_dcid,
                b"\x03",
                0,
                crypto_frame(0, hello.message()),
                pad_to=1200,
            ),
        )
    )
    retry = (
        u8(0xF0)
        + QUIC_V1.to_bytes(4, "big")
        + vec(1, b"\x03")
        + vec(1, new_dcid)
        + b"retry-token-bytes"
        + bytes(16)
    )
    cap.add(udp_packet(*client_server(server, client), retry))
    cap.add(
        udp_packet(
            *client_server(client, server),
            initial(
                QUIC_V1,
                new_dcid,
                new_dcid,
                b"\x03",
                1,
                crypto_frame(0, hello.message()),
                token=b"retry-token-bytes",
                pad_to=1200,
            ),
        )
    )
    reply = server_hello(
        0x1301, [ext(0x0033, u16(0x001D) + vec(2, bytes(32))), ext(0x002B, u16(0x0304))]
    )
    cap.add(
        udp_packet(
            *client_server(server, client),
            initial(QUIC_V1, new_dcid, b"\x03", new_dcid, 0, crypto_frame(0, reply), server=True),
        )
    )
    cap.expected.append(quic_expect(client, server, hello))


def ja4_edges(cap: Capture) -> None:
    """An SNI extension with no name (still `d`), more than 99 ciphers, no extensions at all
    (SSL 3.0 and TLS 1.0 style), an SCSV, a ServerHello in one-byte segments, a client sending
    0-RTT data right after its ClientHello, and a TLS 1.2 flight with OCSP stapling, a
    certificate request and a NewSessionTicket."""
    cap.tls13(Hello(sni=[]))
    cap.tls13(Hello(ciphers=list(range(0x0001, 0x0080)), sni=["many-ciphers.example"]))
    for legacy in (0x0300, 0x0301):
        hello = Hello(
            ciphers=[0x002F, 0x00FF],
            sni=None,
            alpn=None,
            versions=None,
            sig_algs=None,
            legacy=legacy,
        )
        flow = cap.flow()
        body = u16(legacy) + bytes(32) + vec(1, b"") + vec(2, u16s(hello.ciphers)) + vec(1, b"\x00")
        cap.send(flow, "client", record(22, handshake(1, body), version=legacy))
        sh = server_hello(0x002F, [])
        sh = sh[:4] + u16(legacy) + sh[6:-2]  # no extensions block
        sh = sh[:1] + u24(len(sh) - 4) + sh[4:]
        cap.send(
            flow,
            "server",
            record(22, sh + certificate([CERTS["good"]]) + SERVER_HELLO_DONE, version=legacy),
        )
        cap.close(flow)
        hello.extra = []
        cap.expected.append(
            {
                "src": flow.client,
                "dst": flow.server,
                "src_port": flow.client_port,
                "dst_port": flow.server_port,
                "transport": "tcp",
                "server_name": None,
                "ja4": f"t{JA4_VERSIONS[legacy]}i0200"
                + "00_"
                + hashlib.sha256(b"002f,00ff").hexdigest()[:12]
                + "_000000000000",
            }
        )
    flow = cap.flow()
    hello = Hello(sni=["slow-server.example"])
    cap.send(flow, "client", record(22, hello.message(), 0x0301))
    reply = record(
        22,
        server_hello(
            0x1301, [ext(0x002B, u16(0x0304)), ext(0x0033, u16(0x001D) + vec(2, bytes(32)))]
        ),
    )
    cap.send(flow, "server", reply + CCS, tuple(range(1, len(reply) + 6)))
    cap.close(flow)
    cap.expect(flow, hello)
    flow = cap.flow()
    hello = Hello(sni=["early-data.example"], extra=[(0x002A, b""), (0x002D, vec(1, b"\x01"))])
    cap.send(flow, "client", record(22, hello.message(), 0x0301) + CCS + encrypted(23, 500, 77))
    cap.send(flow, "server", reply + CCS + encrypted(23, 300, 78))
    cap.close(flow)
    cap.expect(flow, hello)
    status = handshake(22, u8(1) + vec(3, bytes(100)))
    request = handshake(13, vec(1, b"\x01\x40") + vec(2, u16s([0x0403])) + vec(2, b""))
    ticket = record(22, handshake(4, (7200).to_bytes(4, "big") + vec(2, bytes(64))))
    flight = record(
        22,
        server_hello(0xC02F, [ext(0x0005, b""), ext(0x0023, b"")])
        + certificate([CERTS["good"], CERTS["ca"]])
        + status
        + ske_named_curve(0x1D)
        + request
        + SERVER_HELLO_DONE,
    )
    flow = cap.tls12(
        Hello(
            sni=["ocsp.example"],
            versions=None,
            extra=[(0x0005, u8(1) + u16(0) + u16(0)), (0x0023, b"")],
        ),
        server_flight=flight,
    )
    del ticket


def quic_chaos(cap: Capture) -> None:
    """Chrome's "chaos protection": the ClientHello in many small CRYPTO frames, shuffled,
    with PING and PADDING runs between them, across two Initials sent in reverse order."""
    rng = random.Random(SEED)
    server = ("10.6.0.3", 443)
    for n, (version, port) in enumerate(((QUIC_V1, 55001), (QUIC_V2, 55002), (QUIC_V1, 55003))):
        hello = Hello(
            sni=[f"chaos{n}.example"],
            alpn=[b"h3", b"h3-29"],
            versions=[0x0304],
            ciphers=[0x1301, 0x1302, 0x1303],
            order=n + 10,
            extra=[(0x0039, bytes(50)), (0x002D, vec(1, b"\x01")), (0x001B, b"\x02\x00\x02")],
        )
        message = hello.message()
        cuts = sorted(rng.sample(range(1, len(message)), 12))
        pieces = [(a, message[a:b]) for a, b in itertools.pairwise([0, *cuts, len(message)])]
        rng.shuffle(pieces)
        packets = []
        for number, group in enumerate((pieces[:7], pieces[7:])):
            frames = b"".join(
                b"\x01" + bytes(rng.randrange(0, 5)) + crypto_frame(o, d) for o, d in group
            )
            dcid = hashlib.sha256(b"chaos %d" % n).digest()[:8]
            packets.append(
                initial(version, dcid, dcid, b"", number, frames, pn_len=1 + n, pad_to=1200)
            )
        client = ("10.5.2.10", port)
        for packet in reversed(packets):
            cap.add(udp_packet(*client_server(client, server), packet))
        cap.expected.append(quic_expect(client, server, hello))


def quic_ids(cap: Capture) -> None:
    """Destination connection ids of 8, 18 and 20 bytes, a source id of 20, a Version
    Negotiation answer, a GREASE version the server refuses, then the retried v1 Initial."""
    server = ("10.6.0.4", 443)
    for n, (dcid_len, scid_len) in enumerate(((8, 0), (18, 20), (20, 8))):
        hello = Hello(sni=[f"cid{dcid_len}.example"], alpn=[b"h3"], versions=[0x0304])
        dcid = hashlib.sha256(b"cid %d" % n).digest()[:dcid_len]
        scid = bytes(range(scid_len))
        packet = initial(
            QUIC_V1, dcid, dcid, scid, 0, crypto_frame(0, hello.message()), pad_to=1200
        )
        client = ("10.5.3.10", 56000 + n)
        cap.add(udp_packet(*client_server(client, server), packet))
        cap.expected.append(quic_expect(client, server, hello))
    client = ("10.5.3.10", 56010)
    greased = u8(0xC3) + bytes.fromhex("1a2a3a4a") + vec(1, bytes(8)) + vec(1, b"") + bytes(1180)
    cap.add(udp_packet(*client_server(client, server), greased))
    negotiation = u8(0x80) + bytes(4) + vec(1, b"") + vec(1, bytes(8)) + QUIC_V1.to_bytes(4, "big")
    cap.add(udp_packet(*client_server(server, client), negotiation))
    hello = Hello(sni=["after-vn.example"], alpn=[b"h3"], versions=[0x0304])
    dcid = bytes.fromhex("0102030405060708")
    cap.add(
        udp_packet(
            *client_server(client, server),
            initial(QUIC_V1, dcid, dcid, b"", 0, crypto_frame(0, hello.message()), pad_to=1200),
        )
    )
    cap.expected.append(quic_expect(client, server, hello))


FAMILIES: dict[str, Callable[[Capture], None]] = {
    "versions": versions,
    "split": split,
    "grease": grease,
    "odd_orders": odd_orders,
    "sni": sni_shapes,
    "alpn": alpn_lists,
    "hrr": hrr,
    "resumption": resumption,
    "ech": ech,
    "sslv2": sslv2_hello,
    "alerts": alerts,
    "certificates": certificates,
    "odd_ports": odd_ports,
    "quic": quic,
    "hostile": hostile,
    "starttls": starttls,
    "quic_shapes": quic_shapes,
    "ja4_edges": ja4_edges,
    "quic_chaos": quic_chaos,
    "quic_ids": quic_ids,
}


def write_all(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    expected, paths = {}, []
    for name, family in FAMILIES.items():
        cap = Capture(f"tls-{name}.pcap")
        family(cap)
        path = folder / cap.name
        path.write_bytes(cap.bytes())
        paths.append(path)
        if cap.expected:
            expected[cap.name] = cap.expected
    (folder / "ja4-expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    return paths


def main() -> None:
    folder = output_folder("tls", __doc__.splitlines()[0])
    paths = write_all(folder)
    print(f"{len(paths)} captures in {folder}")


if __name__ == "__main__":
    main()
