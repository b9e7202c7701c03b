"""Synthetic packets for the conn module's flow logic: Segments as the core's packet mode makes
them, fed through the worker decoder and the tracker exactly as a scan does."""

from __future__ import annotations

from typing import Any

from mcpcap.core.decap import Segment
from mcpcap.modules.conn.flows import FlowDecoder
from mcpcap.modules.conn.scan import COLUMNS, row_of
from mcpcap.modules.conn.tracker import ConnTracker

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
C, S = ("10.0.0.1", 40000), ("192.0.2.80", 80)


def tcp(src, dst, flags, seq, ack=0, data=b"", window=65535, size=None, **extra) -> Segment:
    length = len(data) if size is None else size
    fields = dict(transport="tcp", src=src[0], sport=src[1], dst=dst[0], dport=dst[1],
                  payload=data, seq=seq & 0xFFFFFFFF, tcp_flags=flags, ack=ack & 0xFFFFFFFF,
                  window=window, ip_len=40 + length, data_len=length, proto=6, vlan=None,
                  outer=None)  # fmt: skip
    fields.update(extra)
    return Segment(**fields)


def udp(src, dst, data=b"x", **extra) -> Segment:
    fields = dict(transport="udp", src=src[0], sport=src[1], dst=dst[0], dport=dst[1],
                  payload=data, seq=0, tcp_flags=0, ack=0, window=0, ip_len=28 + len(data),
                  data_len=len(data), proto=17, vlan=None, outer=None)  # fmt: skip
    fields.update(extra)
    return Segment(**fields)


def icmp(src, dst, icmp_type, code=0, data=b"\0" * 8, v6=False) -> Segment:
    return Segment(transport="icmpv6" if v6 else "icmp", src=src, sport=icmp_type, dst=dst,
                   dport=code, payload=bytes((icmp_type, code)) + data[2:], seq=0, tcp_flags=0,
                   ack=0, window=0, ip_len=20 + len(data), data_len=len(data),
                   proto=58 if v6 else 1, vlan=None, outer=None)  # fmt: skip


def run(
    packets: list[tuple[float, Segment]], *, flush_every: int = 0, **tracker: Any
) -> list[dict[str, Any]]:
    """Connections made from (ts, segment) in order; `flush_every` N cuts spans of N packets
    (as worker spans are), 0 makes one span."""
    rows: list[tuple] = []
    table = ConnTracker(lambda key, entry: rows.append(row_of(key, entry)[1:]), **tracker)
    decoder = FlowDecoder()
    for frame, (ts, seg) in enumerate(packets, start=1):
        decoder.packet(frame, ts, seg)
        if flush_every and frame % flush_every == 0:
            _merge(table, decoder.flush())
    _merge(table, decoder.flush())
    table.finish()
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows]


def _merge(table: ConnTracker, partial) -> None:
    if partial is not None:
        pieces, _seconds, max_ts, _l2, _malformed, _stacks = partial
        table.add_span(pieces, max_ts)


def handshake(t: float = 0.0, cseq: int = 1000, sseq: int = 5000) -> list[tuple[float, Segment]]:
    return [
        (t, tcp(C, S, SYN, cseq)),
        (t + 0.01, tcp(S, C, SYN | ACK, sseq, cseq + 1)),
        (t + 0.02, tcp(C, S, ACK, cseq + 1, sseq + 1)),
    ]
