"""A SYN with a new ISN on ports that carried another connection (its FIN or RST never captured)
starts a new connection: the old one's streams end, the new one is read from its own ISN and
claimed afresh; a retransmitted SYN changes nothing. The same in one process and in many."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scapy.layers.dns import DNSRR
from scapy.packet import Packet

from mcpcap.core import parallel, scan
from mcpcap.core.config import Settings
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer, stored_counts
from mcpcap.core.tcpstream import TcpReassembler
from tests.core.test_tcpstream import ACK, RST, SYN, feed_all, seg, stream
from tests.fixtures.make_tls_captures import (
    CCS,
    SERVER_HELLO_DONE,
    encrypted,
    ext,
    record,
    server_hello,
    tls12_client_hello,
)
from tests.fixtures.packets import (
    LINKTYPE_ETHERNET,
    Clock,
    TcpFlow,
    dns_query,
    dns_response,
    ether,
    mac_for,
    pcap_bytes,
    tcp_framed,
)

CLIENT, SERVER = ("10.0.0.1", 40000), ("10.0.0.2", 53)


def ends(chunks: list) -> list[tuple[str, bool]]:
    """The end chunks, as (sender, reset)."""
    return [(c.src, c.reset) for c in chunks if c.end]


# ---------------------------------------------------------------------- the reassembler
@pytest.mark.parametrize("isn", [900_000, 100], ids=["isn-ahead", "isn-behind"])
def test_a_new_isn_ends_the_old_connection_and_starts_a_new_stream(isn) -> None:
    """The old connection never ended in the capture: the new SYN ends both its sides (what
    waited behind a hole first), and the new stream counts from its own ISN."""
    r = TcpReassembler()
    feed_all(r, [seg(5000, flags=SYN), seg(7000, flags=SYN | ACK, reply=True)])
    old = feed_all(
        r, [seg(5001, b"old query"), seg(5020, b"stranded"), seg(7001, b"ok", reply=True)]
    )
    assert stream(old) == b"old query"
    chunks = r.feed(seg(isn, flags=SYN))
    assert [(c.src, c.data, c.gap) for c in chunks if not c.end] == [
        ("10.0.0.1", b"stranded", True)
    ]
    assert sorted(ends(chunks)) == [("10.0.0.1", True), ("10.0.0.2", True)]
    assert chunks[-1].end  # every chunk of the old connection, then nothing of the new one yet
    assert r.buffered_bytes == 0 and r.budget.used == 0
    new = feed_all(r, [seg(isn + 1, b"new query"), seg(isn + 10, b"!")])
    assert stream(new) == b"new query!"
    assert all(c.syn_seen and not c.gap for c in new)
    assert r.active_connections == 1


def test_a_side_that_never_sent_hears_the_end_too() -> None:
    """A reader of both sides (HTTP) knows the old connection is over only when both ended."""
    r = TcpReassembler()
    feed_all(r, [seg(0, flags=SYN), seg(1, b"question")])
    chunks = r.feed(seg(777_777, flags=SYN))
    assert [(c.src, c.dst, c.end, c.reset) for c in chunks] == [
        ("10.0.0.1", "10.0.0.2", True, True),
        ("10.0.0.2", "10.0.0.1", True, True),
    ]


def test_after_a_half_close_only_the_open_side_ends_again() -> None:
    r = TcpReassembler()
    feed_all(r, [seg(0, flags=SYN), seg(50, flags=SYN | ACK, reply=True), seg(1, b"q")])
    feed_all(r, [seg(2, flags=0x11), seg(51, b"answer", reply=True)])  # the client's FIN
    chunks = r.feed(seg(123_456, flags=SYN))
    assert ends(chunks) == [("10.0.0.2", True)]


@pytest.mark.parametrize(
    "again",
    [seg(0, flags=SYN), seg(50, flags=SYN | ACK, reply=True)],
    ids=["syn", "syn-ack"],
)
def test_a_retransmitted_syn_after_data_splits_nothing(again) -> None:
    r = TcpReassembler()
    feed_all(r, [seg(0, flags=SYN), seg(50, flags=SYN | ACK, reply=True), seg(1, b"abc")])
    assert r.supersede(again) is None
    assert r.feed(again) == []
    assert stream(r.feed(seg(4, b"def"))) == b"def"


def test_a_syn_ack_answering_the_syn_splits_nothing_a_syn_ack_with_a_new_isn_does() -> None:
    """A SYN/ACK that acknowledges the client's SYN is of its connection whatever its own
    number; one that acknowledges another (the client's new SYN was not captured) is not."""
    r = TcpReassembler()
    feed_all(r, [seg(0, flags=SYN), seg(50, flags=SYN | ACK, reply=True), seg(1, b"abc")])
    feed_all(r, [seg(51, b"reply", reply=True)])
    answering = seg(999, flags=SYN | ACK, reply=True)._replace(ack=1)
    assert r.supersede(answering) is None
    other = seg(4_000_000, flags=SYN | ACK, reply=True)._replace(ack=3_000_001)
    chunks = r.feed(other)
    assert sorted(ends(chunks)) == [("10.0.0.1", True), ("10.0.0.2", True)]
    assert stream(r.feed(seg(4_000_001, b"new", reply=True)), "10.0.0.2") == b"new"


def test_a_syn_captured_after_the_bytes_it_opened_splits_nothing() -> None:
    """A capture that started mid-connection, or merged from two points, may show the SYN
    after the first bytes: just before them, it is theirs."""
    r = TcpReassembler()
    first = feed_all(r, [seg(1001, b"first"), seg(1006, b"second")])
    assert r.feed(seg(1000, flags=SYN)) == []
    chunks = feed_all(r, [seg(1012, b"third")])
    assert stream(first + chunks) == b"firstsecondthird"


def test_a_released_connection_reopens_at_a_new_syn_without_ends() -> None:
    """Nobody read it, so nobody hears it end; its SYN/ACK again leaves it released."""
    r = TcpReassembler()
    feed_all(r, [seg(0, flags=SYN), seg(50, flags=SYN | ACK, reply=True), seg(1, b"ab")])
    r.release(CLIENT, SERVER)
    assert r.supersede(seg(50, flags=SYN | ACK, reply=True)) is None
    assert r.feed(seg(50, flags=SYN | ACK, reply=True)) == [] and r.feed(seg(3, b"cd")) == []
    assert r.supersede(seg(5_000, flags=SYN)) == []
    assert stream(r.feed(seg(5_001, b"new"))) == b"new"


@pytest.mark.parametrize("closing", [0x11, RST], ids=["fin", "rst"])
def test_the_same_isn_after_the_connection_ended_opens_a_new_one(closing) -> None:
    """A capture may reuse a connection's numbers exactly once it ended: no retransmitted SYN
    comes after the bytes it opened and their end."""
    r = TcpReassembler()
    feed_all(r, [seg(0, flags=SYN), seg(1, b"one"), seg(4, flags=closing)])
    chunks = feed_all(r, [seg(0, flags=SYN), seg(1, b"two")])
    assert stream(chunks) == b"two"


def test_syns_before_any_byte_just_restart_the_direction() -> None:
    """Nothing reached a reader yet: a SYN with another ISN (a retried connect) ends nothing."""
    r = TcpReassembler()
    r.feed(seg(0, flags=SYN))
    assert r.supersede(seg(40_000, flags=SYN)) is None
    chunks = feed_all(r, [seg(40_000, flags=SYN), seg(40_001, b"data")])
    assert stream(chunks) == b"data" and not any(c.gap or c.end for c in chunks)


# ---------------------------------------------------------------------- whole scans
def _dns_pair(qid: int, name: str) -> tuple[bytes, bytes]:
    query = dns_query(qid, name, "A")
    answer = dns_response(query, [DNSRR(rrname=name, type="A", ttl=60, rdata="192.0.2.9")])
    return tcp_framed(query), tcp_framed(answer)


def _reuse(port: int, server_port: int, isn_ahead: bool) -> tuple[TcpFlow, TcpFlow]:
    """Two connections on the same ports; the second's ISNs ahead of or behind the first's."""
    old = TcpFlow("10.1.0.1", "10.1.0.2", port, server_port, client_seq=50_000_000,
                  server_seq=60_000_000)  # fmt: skip
    shift = 20_000_000 if isn_ahead else -30_000_000
    new = TcpFlow("10.1.0.1", "10.1.0.2", port, server_port, client_seq=50_000_000 + shift,
                  server_seq=60_000_000 + shift)  # fmt: skip
    return old, new


def dns_reused(port: int, isn_ahead: bool) -> list[Packet]:
    """(a) DNS over TCP: one transaction and half a query, no FIN; then the same ports again."""
    old, new = _reuse(port, 53, isn_ahead)
    q1, r1 = _dns_pair(port, f"first.p{port}.example")
    stranded, _ = _dns_pair(port + 1, f"stranded.p{port}.example")
    q2, r2 = _dns_pair(port + 2, f"second.p{port}.example")
    packets = [*old.handshake(), old.send("client", "PA", q1), old.send("server", "PA", r1)]
    packets.append(old.send("client", "PA", stranded[:9]))
    packets += [*new.handshake(), new.send("client", "PA", q2), new.send("server", "PA", r2)]
    return packets + new.close()


HTTP_REQUEST = b"GET /first HTTP/1.1\r\nHost: reuse.example\r\n\r\n"
HTTP_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


def http_then_tls(port: int, isn_ahead: bool) -> list[Packet]:
    """(b) HTTP on a port, no FIN; then TLS on the same ports."""
    old, new = _reuse(port, 8443, isn_ahead)
    packets = [*old.handshake(), old.send("client", "PA", HTTP_REQUEST)]
    packets.append(old.send("server", "PA", HTTP_RESPONSE))
    hello = record(22, tls12_client_hello(f"p{port}.reuse.example"))
    answer = record(22, server_hello(0xC02F, [ext(0xFF01, b"\x00")]) + SERVER_HELLO_DONE)
    packets += [*new.handshake(), new.send("client", "PA", hello), new.send("server", "PA", answer)]
    return packets + new.close()


def retransmitted_syn(port: int) -> list[Packet]:
    """(c) HTTP whose client SYN comes again between the response's head and its body, and
    DNS over TCP whose SYN comes again in the middle of a query."""
    flow = TcpFlow("10.1.0.1", "10.1.0.2", port, 8080, client_seq=70_000_000)
    syn = flow.segment("client", "S", seq=70_000_000)
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\n"
    packets = [
        *flow.handshake(),
        flow.send("client", "PA", HTTP_REQUEST.replace(b"first", b"again")),
    ]
    packets += [flow.send("server", "PA", head), syn, flow.send("server", "PA", b"hello world")]
    packets += flow.close()
    dns = TcpFlow("10.1.0.1", "10.1.0.2", port + 1, 53, client_seq=80_000_000)
    query, answer = _dns_pair(port + 1, f"again.p{port + 1}.example")
    packets += [*dns.handshake(), dns.send("client", "PA", query[:7])]
    packets += [dns.segment("client", "S", seq=80_000_000), dns.send("client", "PA", query[7:])]
    return [*packets, dns.send("server", "PA", answer), *dns.close()]


def tls_released_then_syn_again(port: int) -> list[Packet]:
    """(c) A TLS handshake over (the connection is let go), then its client SYN again, then
    application data: still one connection, never read again."""
    flow = TcpFlow("10.1.0.1", "10.1.0.2", port, 443, client_seq=90_000_000)
    hello = record(22, tls12_client_hello(f"p{port}.again.example"))
    answer = record(22, server_hello(0xC02F, [ext(0xFF01, b"\x00")]) + SERVER_HELLO_DONE)
    packets = [*flow.handshake(), flow.send("client", "PA", hello)]
    packets += [
        flow.send("server", "PA", answer),
        flow.send("client", "PA", CCS + encrypted(22, 40, 1)),
    ]
    packets += [flow.send("server", "PA", CCS + encrypted(22, 40, 2))]
    packets.append(flow.segment("client", "S", seq=90_000_000))
    packets += [
        flow.send("client", "PA", encrypted(23, 200, 3)),
        flow.send("server", "PA", encrypted(23, 90, 4)),
    ]
    return packets + flow.close()


def capture(path: Path) -> Path:
    packets = [*dns_reused(42001, True), *dns_reused(42002, False)]
    packets += [*http_then_tls(42011, True), *http_then_tls(42012, False)]
    packets += [*retransmitted_syn(42021), *tls_released_then_syn_again(42031)]
    clock = Clock()
    frames = [clock.frame(ether(packet, mac_for(1))) for packet in packets]
    path.write_bytes(pcap_bytes(frames, LINKTYPE_ETHERNET))
    return path


@pytest.fixture(scope="module")
def reused(tmp_path_factory) -> Path:
    return capture(tmp_path_factory.mktemp("generations") / "reused.pcap")


def analyze(path: Path, workers: int, cache: Path) -> dict[str, Any]:
    settings = Settings(use_cache=False, workers=workers, cache_dir=cache,
                        modules=["dns", "http", "tls"])  # fmt: skip
    with Analyzer(settings).analyze(path, path.name) as analysis:
        found: dict[str, Any] = {
            "transactions": list(analysis.module("dns").iter_transactions()),
            "messages": list(analysis.module("dns").iter_messages()),
        }
        for kind in ("http.requests", "tls.handshakes"):
            found[kind] = list(KindQuery(analysis, kind).iterate())
        found["tallies"] = {
            name: stored_counts(analysis.db, name).detail for name in ("dns", "http", "tls")
        }
        return found


@pytest.fixture(scope="module")
def serial(reused, tmp_path_factory) -> dict[str, Any]:
    return analyze(reused, 1, tmp_path_factory.mktemp("cache"))


def _answered(found: dict[str, Any], port: int) -> dict[str, bool]:
    return {
        t["query"].split(".")[0]: t["answered"]
        for t in found["transactions"]
        if t["client_port"] == port and t["query"] is not None
    }


def _by_port(records: list[dict[str, Any]], port: int) -> list[dict[str, Any]]:
    return [r for r in records if r["client_port"] == port]


def check_dns_reused(found: dict[str, Any]) -> None:
    for port in (42001, 42002):
        assert _answered(found, port) == {"first": True, "second": True}, port


def check_http_then_tls(found: dict[str, Any]) -> None:
    for port in (42011, 42012):
        http = _by_port(found["http.requests"], port)
        assert [(r["uri"], r["status_code"], r["response_body_len"]) for r in http] == [
            ("/first", 200, 5)
        ], port
        tls = _by_port(found["tls.handshakes"], port)
        assert [r["server_name"] for r in tls] == [f"p{port}.reuse.example"], port
        assert tls[0]["cipher"] is not None


def check_retransmitted_syn(found: dict[str, Any]) -> None:
    http = _by_port(found["http.requests"], 42021)
    assert [(r["uri"], r["status_code"], r["response_body_len"]) for r in http] == [
        ("/again", 200, 11)
    ]
    assert "missing_response" not in http[0]["tags"]
    assert _answered(found, 42022) == {"again": True}
    tls = _by_port(found["tls.handshakes"], 42031)
    assert [(r["server_name"], r["established"]) for r in tls] == [("p42031.again.example", True)]
    assert found["tallies"]["tls"]["tcp handshakes"] == len(found["tls.handshakes"])
    assert "connections without a hello" not in found["tallies"]["tls"]


def test_dns_over_tcp_on_reused_ports_finds_both_transactions(serial) -> None:
    check_dns_reused(serial)


def test_http_then_tls_on_the_same_ports_makes_one_record_of_each(serial) -> None:
    check_http_then_tls(serial)


def test_a_retransmitted_syn_splits_nothing(serial) -> None:
    check_retransmitted_syn(serial)


def test_a_parallel_scan_with_tiny_spans_agrees(reused, serial, tmp_path, monkeypatch) -> None:
    """Spans of a few frames and flushes every few packets, so connections and their ends
    cross span and flush boundaries; the stream worker reads them all."""
    monkeypatch.setattr(parallel, "SPAN_BYTES", 512)
    monkeypatch.setattr(scan, "PACKETS_PER_FLUSH", 3)
    many = analyze(reused, 2, tmp_path)
    one = analyze(reused, 1, tmp_path)
    for found in (many, one):
        check_dns_reused(found)
        check_http_then_tls(found)
        check_retransmitted_syn(found)
    assert many == one == serial


def test_the_streams_end_where_the_new_syn_is(serial) -> None:
    """Sanity on the frames: the old connection's records come from its own frames."""
    http = _by_port(serial["http.requests"], 42011)[0]
    tls = _by_port(serial["tls.handshakes"], 42011)[0]
    assert http["response_frame"] < tls["client_hello_frame"]
