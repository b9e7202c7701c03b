"""Cases the differential run against tshark found (benchmarks/conformance/dns.py), each built
here with scapy and checked against what the RFCs say, through `analyze --records messages`.

Expected values come from the RFCs cited in each test, not from tshark's output.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mcpcap.cli import main
from mcpcap.core.tcpstream import StreamBudget, StreamChunk
from mcpcap.modules.dns.decoder import decode_message
from mcpcap.modules.dns.models import DnsMessage
from mcpcap.modules.dns.records import message_record
from mcpcap.modules.dns.streams import DnsStreams
from mcpcap.modules.dns.tui.detail import message_text
from tests.fixtures.packets import (
    LINKTYPE_ETHERNET,
    Clock,
    TcpFlow,
    encode_name,
    ether,
    pcap_bytes,
    raw_dns,
    raw_question,
    raw_rr,
    tcp_framed,
    write_file,
)
from tests.modules.dns.tcp_capture import CLIENT, CLIENT_MAC, SERVER, SERVER_MAC, exchange


def _records(capture: Path, capsys: pytest.CaptureFixture[str]) -> list[dict]:
    """The DNS messages `mcpcap analyze` prints for `capture` (one process, no cache)."""
    args = ["analyze", str(capture), "--no-cache", "--modules", "dns", "--workers", "1"]
    assert main([*args, "--records", "messages", "--format", "jsonl"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def _write(path: Path, packets: list) -> Path:
    clock = Clock()
    frames = []
    for packet in packets:
        mac = (CLIENT_MAC, SERVER_MAC) if packet.src == CLIENT else (SERVER_MAC, CLIENT_MAC)
        frames.append(clock.frame(ether(packet, *mac)))
    return write_file(path, pcap_bytes(frames, LINKTYPE_ETHERNET))


def test_ports_reused_after_a_reset_start_a_new_stream(tmp_path, capsys):
    """RFC 9293 3.5.3: an RST ends the connection, and a later SYN on the same ports with a new
    ISN starts a new one. The bytes of a response the RST cut short are not the start of the
    new connection's first response."""
    old = TcpFlow(CLIENT, SERVER, 48003)
    q1, r1 = exchange(0x9104, "reset.example")
    packets = [*old.handshake(), old.send("client", "PA", tcp_framed(q1))]
    packets += [old.send("server", "PA", tcp_framed(r1)[:20]), old.send("server", "RA")]
    new = TcpFlow(CLIENT, SERVER, 48003, client_seq=7_000_000, server_seq=9_000_000)
    q2, r2 = exchange(0x9105, "reused.example")
    packets += [*new.handshake(), new.send("client", "PA", tcp_framed(q2))]
    packets += [new.send("server", "PA", tcp_framed(r2)), *new.close()]
    records = _records(_write(tmp_path / "reset-reuse.pcap", packets), capsys)
    seen = [(r["frame"], r["id"], r["qr"], r["malformed"]) for r in records]
    assert seen == [(4, 0x9104, False, None), (10, 0x9105, False, None), (11, 0x9105, True, None)]
    assert records[2]["answers"][0]["data"] == "192.0.2.99"


def test_ports_reused_after_a_fin_start_a_new_stream(tmp_path, capsys):
    """The same after a FIN (RFC 9293 3.6): the half message the server sent before closing
    is cut short, the new connection's response is read from its own length prefix."""
    old = TcpFlow(CLIENT, SERVER, 48010)
    q1, r1 = exchange(0x9201, "closed.example")
    packets = [*old.handshake(), old.send("client", "PA", tcp_framed(q1))]
    packets += [old.send("server", "FPA", tcp_framed(r1)[:30]), old.send("client", "FA")]
    packets.append(old.send("server", "A"))
    new = TcpFlow(CLIENT, SERVER, 48010, client_seq=3_000_000, server_seq=4_000_000)
    q2, r2 = exchange(0x9202, "again.example")
    packets += [*new.handshake(), new.send("client", "PA", tcp_framed(q2))]
    packets += [new.send("server", "PA", tcp_framed(r2)), *new.close()]
    records = _records(_write(tmp_path / "fin-reuse.pcap", packets), capsys)
    seen = [(r["id"], r["qr"], r["malformed"]) for r in records]
    assert seen == [(0x9201, False, None), (0x9202, False, None), (0x9202, True, None)]


def test_an_end_lets_the_unfinished_message_go():
    """The decoder forgets a direction at its end: its buffer leaves the shared budget, and
    bytes on the same ports later are framed from their own first byte."""
    streams = DnsStreams()
    budget = StreamBudget(1 << 20)
    streams.share_budget(budget)
    ends = (SERVER, 53, CLIENT, 46000)
    _, r1 = exchange(1, "cut.example")
    streams.on_tcp(1, 1.0, StreamChunk(*ends, data=tcp_framed(r1)[:25], gap=False, syn_seen=True))
    assert budget.used > 0
    streams.on_tcp(2, 1.1, StreamChunk(*ends, b"", False, True, end=True, reset=True))
    assert budget.used == 0
    _, r2 = exchange(2, "next.example")
    streams.on_tcp(3, 1.2, StreamChunk(*ends, data=tcp_framed(r2), gap=False, syn_seen=True))
    _counts, messages, bad, _transactions, _totals = streams.flush()
    assert [(m[0], m[10]) for m in messages] == [(3, 2)] and bad == []


def test_a_message_cut_by_the_end_of_its_direction_is_not_counted(tmp_path, capsys):
    """A length prefix promising more bytes than arrive before the FIN: no message (RFC 7766 8:
    the length gives the message's size; what is missing was never sent)."""
    flow = TcpFlow(CLIENT, SERVER, 48020)
    q1, _ = exchange(0x9301, "cut-at-fin.example")
    packets = [*flow.handshake(), flow.send("client", "PA", tcp_framed(q1)[:-5]), *flow.close()]
    assert _records(_write(tmp_path / "cut.pcap", packets), capsys) == []


def test_the_detail_pane_names_an_update_messages_sections_as_rfc_2136_does():
    """RFC 2136 2.3: in an UPDATE the four sections are the zone, the prerequisites, the
    updates and the additional data (tshark names them so too); a query keeps its names."""
    zone = encode_name("example.com")
    host = encode_name("host.example.com")
    prereq = raw_rr(host, 255, 255, 0, b"")  # the name is in use (RFC 2136 2.4.4)
    update = raw_rr(host, 1, 1, 300, bytes([192, 0, 2, 2]))  # add an A record (2.5.1)
    wire = raw_dns(0x7001, 5 << 11, [raw_question(zone, 6)], [prereq], [update])
    text = message_text("Query", _message(wire)).plain
    for part in ("opcode UPDATE", "Zone (1)", "Prerequisites (1)", "Updates (1)",
                 "Additional (0)", "host.example.com  300  IN  A  192.0.2.2"):  # fmt: skip
        assert part in text, part
    query = raw_dns(1, 0x0100, [raw_question(zone, 1)])
    assert "Questions (1)" in message_text("Query", _message(query)).plain


def _message(wire: bytes) -> DnsMessage:
    record = message_record(
        decode_message(wire), frame=1, ts=0.0, src="192.0.2.10", sport=40000,
        dst="192.0.2.53", dport=53, transport="udp", protocol="dns",
    )  # fmt: skip
    return DnsMessage(**record, raw_hex=wire.hex())
