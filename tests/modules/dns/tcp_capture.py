"""A generated capture of DNS over TCP interleaved with DNS over UDP (for the stream tests).

Several TCP connections to a resolver take turns, segment by segment, with UDP exchanges
between the same hosts: pipelined queries in one segment, a response split across three
segments (the first holding one byte of the length prefix), two responses completing in one
segment, a zero-length message, a hole that never fills (the query after it is read past the
gap), a connection seen from its middle, a length prefix larger than everything that follows,
malformed messages over both transports, queries never answered, and UDP queries whose ids
the TCP responses repeat (which must not pair across transports).
"""

from __future__ import annotations

from itertools import zip_longest
from pathlib import Path

from scapy.layers.dns import DNSRR
from scapy.packet import Packet

from tests.fixtures.packets import (
    LINKTYPE_ETHERNET,
    Clock,
    TcpFlow,
    dns_query,
    dns_response,
    ether,
    pcap_bytes,
    tcp_framed,
    udp_packet,
    write_file,
)

CLIENT, SERVER = "192.0.2.10", "192.0.2.53"
CLIENT_MAC, SERVER_MAC = "02:00:00:00:00:10", "02:00:00:00:00:53"


def exchange(qid: int, name: str) -> tuple[bytes, bytes]:
    query = dns_query(qid, name, "A")
    answer = dns_response(query, [DNSRR(rrname=name, type="A", ttl=60, rdata="192.0.2.99")])
    return bytes(query), answer


def connection(n: int) -> list[Packet]:
    """The segments of TCP connection `n` (its ids are 0x100 * n and up)."""
    flow = TcpFlow(CLIENT, SERVER, 46000 + n)
    base = 0x100 * n
    q1, r1 = exchange(base + 1, f"pipelined-a.c{n}.example")
    q2, r2 = exchange(base + 2, f"pipelined-b.c{n}.example")
    q3, r3 = exchange(base + 3, f"after-empty.c{n}.example")
    lost, _ = exchange(base + 4, f"lost.c{n}.example")
    q5, r5 = exchange(base + 5, f"after-gap.c{n}.example")
    q6, _ = exchange(base + 6, f"never-answered.c{n}.example")
    midstream = n % 4 == 3
    segments = [] if midstream else flow.handshake()
    framed1 = tcp_framed(r1)
    segments += [
        flow.send("client", "PA", tcp_framed(q1) + tcp_framed(q2)),  # pipelined
        flow.send("server", "PA", framed1[:1]),  # half a length prefix
        flow.send("server", "PA", framed1[1:20]),
        flow.send("server", "PA", framed1[20:] + tcp_framed(r2)),  # two complete here
        flow.send("client", "PA", b"\x00\x00" + tcp_framed(q3)),  # a zero-length message
        flow.send("server", "PA", tcp_framed(r3)),
    ]
    if n % 3 == 1:  # a hole: this segment is not in the capture
        flow.send("client", "PA", tcp_framed(lost))
        segments += [
            flow.send("client", "PA", tcp_framed(q5)),
            flow.send("server", "PA", tcp_framed(r5)),
        ]
    segments.append(flow.send("client", "PA", tcp_framed(q6)))
    if n % 4 == 0:  # a message its header does not fit: five questions, part of one
        broken = bytes([n, 9, 1, 0, 0, 5, 0, 0, 0, 0, 0, 0]) + b"\x03abc"
        segments.append(flow.send("client", "PA", tcp_framed(broken)))
    if n % 2:  # a length prefix larger than every byte that follows
        segments.append(flow.send("client", "PA", b"\xff\xf0" + q6[:30]))
    return segments + flow.close()


def udp_exchanges(count: int) -> list[Packet]:
    """Query/response datagrams; their ids repeat the TCP connections' (0x100 * n + 1 ...)."""
    packets = []
    for i in range(count):
        qid = 0x100 * (i % 8) + 1 + i % 6
        query, answer = exchange(qid, f"udp{i}.example")
        sport = 50000 + i
        packets.append(udp_packet(CLIENT, SERVER, sport, 53, query, ip_id=i))
        if i % 7 != 5:  # some are never answered
            packets.append(udp_packet(SERVER, CLIENT, 53, sport, answer, ip_id=i))
        if i % 20 == 10:  # a malformed one: a question cut short
            packets.append(udp_packet(CLIENT, SERVER, sport, 53, query[:20], ip_id=i))
    return packets


def interleaved(path: Path, connections: int = 8, udp: int = 60) -> Path:
    """The capture: the connections' segments round-robin, a datagram after each."""
    turns = zip_longest(*(connection(n) for n in range(connections)))
    tcp = [segment for turn in turns for segment in turn if segment is not None]
    datagrams = udp_exchanges(udp)
    packets = [p for pair in zip_longest(tcp, datagrams) for p in pair if p is not None]
    clock = Clock()
    frames = [clock.frame(_ether(p), ms=3) for p in packets]
    return write_file(path, pcap_bytes(frames, LINKTYPE_ETHERNET))


def tcp_messages(connections: int = 8) -> int:
    """The DNS messages over TCP that `interleaved` holds (what `connection` writes whole)."""
    return sum(7 + 2 * (n % 3 == 1) + (n % 4 == 0) for n in range(connections))


def udp_messages(udp: int = 60) -> int:
    """... and over UDP (what `udp_exchanges` writes)."""
    return udp + sum((i % 7 != 5) + (i % 20 == 10) for i in range(udp))


def _ether(packet: Packet) -> bytes:
    from_client = packet.src == CLIENT
    src, dst = (CLIENT_MAC, SERVER_MAC) if from_client else (SERVER_MAC, CLIENT_MAC)
    return bytes(ether(packet, src, dst))
