"""The flow logic: Zeek's history and conn_state, timeouts, SYN after a close, span cuts,
sequence-number bytes, retransmissions and the bounded table, on synthetic packets."""

from __future__ import annotations

import pytest

from mcpcap.core.decap import Segment
from mcpcap.core.export import flow_uid
from mcpcap.modules.conn.flows import FlowDecoder
from mcpcap.modules.conn.scan import COLUMNS, ORDER, row_of
from mcpcap.modules.conn.tracker import ConnTracker
from tests.modules.conn.flowkit import (
    ACK,
    FIN,
    PSH,
    RST,
    SYN,
    C,
    S,
    handshake,
    icmp,
    run,
    tcp,
    udp,
)

REQUEST, REPLY = b"GET / HTTP/1.1\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\nhi!!"  # 18 and 23 bytes


def closed_exchange(t: float = 0.0, cseq: int = 1000, sseq: int = 5000) -> list:
    c, s = cseq + 1, sseq + 1
    return [
        *handshake(t, cseq, sseq),
        (t + 0.03, tcp(C, S, PSH | ACK, c, s, REQUEST)),
        (t + 0.04, tcp(S, C, PSH | ACK, s, c + 18, REPLY)),
        (t + 0.05, tcp(C, S, ACK, c + 18, s + 23)),
        (t + 0.06, tcp(C, S, FIN | ACK, c + 18, s + 23)),
        (t + 0.07, tcp(S, C, FIN | ACK, s + 23, c + 19)),
        (t + 0.08, tcp(C, S, ACK, c + 19, s + 24)),
    ]


def only(rows: list[dict]) -> dict:
    assert len(rows) == 1, rows
    return rows[0]


def test_a_complete_exchange_is_sf_with_zeeks_history_and_sequence_bytes():
    conn = only(run(closed_exchange()))
    assert (conn["client"], conn["client_port"], conn["server"], conn["server_port"]) == (*C, *S)
    assert conn["conn_state"] == "SF"
    assert conn["history"] == "ShADdFf"
    assert (conn["client_bytes"], conn["server_bytes"]) == (18, 23)
    assert (conn["client_packets"], conn["server_packets"]) == (6, 3)
    assert conn["client_ip_bytes"] == 6 * 40 + 18 and conn["server_ip_bytes"] == 3 * 40 + 23
    assert conn["syn_rtt"] == pytest.approx(0.01)
    assert conn["service"] == "http" and conn["missed_bytes"] == 0
    assert conn["first_frame"] == 1 and conn["last_frame"] == 9
    # Zeek's duration ends at the FIN that closed the second side: the last ACK is no part
    assert conn["duration"] == pytest.approx(0.07) and conn["last_ts"] == pytest.approx(0.08)


def test_a_close_by_reset_ends_the_duration_as_zeeks_did_close():
    """Zeek stops a connection's last time once both sides closed, by a FIN or a RST
    (`TCPSessionAdapter::Process`: `! orig->did_close || ! resp->did_close`)."""
    c, s = 1001, 5001
    packets = [*handshake(0.0, 1000, 5000),
               (0.1, tcp(C, S, PSH | ACK, c, s, REQUEST)),
               (0.2, tcp(C, S, FIN | ACK, c + 18, s)),
               (0.6, tcp(S, C, RST | ACK, s, c + 19)),
               (3.0, tcp(C, S, RST, c + 19, 0))]  # fmt: skip
    conn = only(run(packets))
    assert conn["duration"] == pytest.approx(0.6) and conn["last_ts"] == pytest.approx(3.0)
    # a RST from one side only closes that side: the other's later packets still count
    one_sided = [*handshake(0.0, 1000, 5000), (0.5, tcp(S, C, RST | ACK, s, c)),
                 (2.0, tcp(C, S, ACK, c, s))]  # fmt: skip
    assert only(run(one_sided))["duration"] == pytest.approx(2.0)


def test_a_fin_then_reset_answered_by_the_peers_fin_is_a_normal_close():
    """Zeek's UpdateEstablishedState: the peer's FIN and RST, then this side's FIN: SF."""
    c, s = 1001, 5001
    packets = [*handshake(0.0, 1000, 5000),
               (0.1, tcp(C, S, PSH | ACK, c, s, REQUEST)),
               (0.2, tcp(S, C, PSH | ACK, s, c + 18, REPLY)),
               (0.3, tcp(S, C, FIN | ACK, s + 23, c + 18)),
               (0.4, tcp(S, C, RST, s + 24, 0)),
               (0.7, tcp(C, S, FIN | ACK, c + 18, s + 24))]  # fmt: skip
    conn = only(run(packets))
    assert conn["conn_state"] == "SF" and conn["history"] == "ShADdfrF"
    assert conn["duration"] == pytest.approx(0.7)  # the client's FIN closed the second side


@pytest.mark.parametrize("every", [1, 2, 3, 4])
def test_spans_cut_anywhere_give_the_same_connection(every):
    assert run(closed_exchange(), flush_every=every) == run(closed_exchange())


def test_a_refused_syn_is_rej():
    conn = only(run([(0, tcp(C, S, SYN, 1)), (0.1, tcp(S, C, RST | ACK, 0, 2))]))
    assert (conn["conn_state"], conn["history"]) == ("REJ", "Sr")
    assert conn["client_bytes"] == conn["server_bytes"] == 0


@pytest.mark.parametrize("every", [0, 1, 2])
def test_each_retry_after_a_reset_is_a_connection_of_its_own(every):
    """Zeek's IsReuse: a SYN on a closed connection starts a new one, whatever its sequence
    number (a client retrying a refused port makes one REJ record per try)."""
    tries = [packet for t in (0, 1, 3) for packet in
             ((t, tcp(C, S, SYN, 1)), (t + 0.01, tcp(S, C, RST | ACK, 0, 2)))]  # fmt: skip
    rows = run(tries, flush_every=every)
    assert [(r["conn_state"], r["history"], r["client_packets"]) for r in rows] == [
        ("REJ", "Sr", 1)] * 3  # fmt: skip


def test_a_syn_ack_then_the_clients_ack_is_s1_though_the_syn_was_missed():
    """Zeek's UpdateInactiveState: no SYN seen, the SYN-ACK and then a pure ACK: established."""
    conn = only(run([(0, tcp(S, C, SYN | ACK, 5000, 1001)), (0.1, tcp(C, S, ACK, 1001, 5001))]))
    assert (conn["conn_state"], conn["history"]) == ("S1", "^hA")
    assert (conn["client"], conn["server_port"]) == (C[0], S[1])


def test_a_resets_payload_and_acknowledgement_are_no_part_of_the_stream():
    """Zeek: a RST's data is out of the sequence space (get_segment_len), and its ACK is not
    trusted (a RST acknowledging far past the data reveals no gap)."""
    c, s = 1001, 5001
    base = [*handshake(0.0, 1000, 5000), (0.1, tcp(C, S, PSH | ACK, c, s, REQUEST))]
    with_data = only(run([*base, (0.2, tcp(C, S, RST | ACK, c + 18, s, b"x" * 12))]))
    assert with_data["client_bytes"] == 18 and with_data["history"] == "ShADR"
    far = only(run([*base, (0.2, tcp(S, C, RST | ACK, s, c + 5000))]))
    assert (far["client_bytes"], far["missed_bytes"], far["history"]) == (18, 0, "ShADr")


def test_an_unanswered_syn_is_s0_and_retried_syns_are_one_connection():
    conn = only(run([(0, tcp(C, S, SYN, 1)), (1, tcp(C, S, SYN, 1)), (3, tcp(C, S, SYN, 1))]))
    assert (conn["conn_state"], conn["history"], conn["client_packets"]) == ("S0", "S", 3)


def test_a_reset_by_the_client_after_the_handshake_is_rsto():
    packets = [*handshake(), (0.05, tcp(C, S, RST | ACK, 1001, 5001))]
    conn = only(run(packets))
    assert (conn["conn_state"], conn["history"]) == ("RSTO", "ShAR")


def test_a_reset_by_the_server_after_data_is_rstr():
    packets = [
        *handshake(),
        (0.03, tcp(C, S, PSH | ACK, 1001, 5001, REQUEST)),
        (0.04, tcp(S, C, RST, 5001)),
    ]
    assert only(run(packets))["conn_state"] == "RSTR"


def test_a_syn_then_reset_from_the_client_is_rstos0():
    conn = only(run([(0, tcp(C, S, SYN, 1)), (0.2, tcp(C, S, RST, 2))]))
    assert (conn["conn_state"], conn["history"]) == ("RSTOS0", "SR")


def test_only_the_client_closing_is_sh_or_s2():
    assert only(run([(0, tcp(C, S, SYN, 1)), (0.1, tcp(C, S, FIN, 2))]))["conn_state"] == "SH"
    packets = [*handshake(), (0.1, tcp(C, S, FIN | ACK, 1001, 5001))]
    assert only(run(packets))["conn_state"] == "S2"


def test_established_and_open_is_s1():
    assert only(run(handshake()))["conn_state"] == "S1"


def test_a_capture_starting_mid_connection_flips_by_port_and_says_so():
    packets = [
        (0, tcp(S, C, PSH | ACK, 500, 77, REPLY)),
        (0.1, tcp(C, S, ACK, 77, 523)),
        (0.2, tcp(C, S, PSH | ACK, 77, 523, REQUEST)),
    ]
    conn = only(run(packets))
    assert (conn["client"], conn["server_port"]) == (C[0], 80)  # the port-80 side serves
    assert conn["history"] == "^dAD" and conn["conn_state"] == "OTH"
    assert (conn["client_bytes"], conn["server_bytes"]) == (18, 23)
    assert conn["syn_rtt"] is None


def test_a_syn_ack_first_makes_its_receiver_the_client():
    conn = only(run([(0, tcp(S, C, SYN | ACK, 5000, 1001)), (0.1, tcp(C, S, ACK, 1001, 5001))]))
    assert conn["client"] == C[0] and conn["history"].startswith("^h")


def test_tcp_inactivity_over_five_minutes_splits_the_connection():
    packets = [*closed_exchange()[:5], (400.0, tcp(C, S, PSH | ACK, 1019, 5024, b"more"))]
    first, second = run(packets)
    assert first["conn_state"] == "S1" and second["conn_state"] == "OTH"
    assert second["client_packets"] == 1 and second["ts"] == 400.0
    # within five minutes it stays one
    assert len(run([*closed_exchange()[:5], (290.0, tcp(C, S, ACK, 1019, 5024, b"m"))])) == 1


def test_udp_and_icmp_time_out_after_a_minute():
    mdns, group = ("10.0.0.9", 5353), ("224.0.0.251", 5353)
    assert len(run([(0, udp(mdns, group)), (59, udp(mdns, group))])) == 1
    assert len(run([(0, udp(mdns, group)), (61, udp(mdns, group))])) == 2
    pings = [(t, icmp("10.0.0.1", "10.0.0.2", 8)) for t in (0.0, 1.0, 70.0)]
    assert [row["client_packets"] for row in run(pings)] == [2, 1]


@pytest.mark.parametrize("every", [0, 3, 9, 10])
def test_a_new_syn_after_a_close_is_a_new_connection(every):
    packets = closed_exchange() + closed_exchange(t=2.0, cseq=90000, sseq=70000)
    first, second = run(packets, flush_every=every)
    assert first["conn_state"] == second["conn_state"] == "SF"
    assert first["history"] == second["history"] == "ShADdFf"
    assert (first["last_frame"], second["first_frame"]) == (9, 10)


def test_a_syn_on_an_open_connection_does_not_split_it():
    packets = [*handshake(), (0.5, tcp(C, S, SYN, 777))]
    assert len(run(packets)) == 1


def test_retransmissions_are_counted_and_reordering_is_not():
    resent = [
        *handshake(),
        (0.03, tcp(C, S, PSH | ACK, 1001, 5001, REQUEST)),
        (0.5, tcp(C, S, PSH | ACK, 1001, 5001, REQUEST)),
    ]
    conn = only(run(resent))
    assert conn["retransmissions"] == 1 and conn["history"] == "ShADT"
    assert conn["client_bytes"] == 18
    reordered = [
        *handshake(),
        (0.03, tcp(C, S, PSH | ACK, 1011, 5001, b"b" * 10)),
        (0.04, tcp(C, S, PSH | ACK, 1001, 5001, b"a" * 10)),
    ]
    conn = only(run(reordered))
    assert conn["retransmissions"] == 0 and conn["client_bytes"] == 20
    assert conn["missed_bytes"] == 0


def test_bytes_acknowledged_but_never_captured_are_missed():
    packets = [
        *handshake(),
        (0.03, tcp(C, S, PSH | ACK, 1001, 5001, b"a" * 100)),
        # 100 more bytes were sent but are not in the capture; the server acknowledges all
        (0.05, tcp(S, C, ACK, 5001, 1201)),
    ]
    conn = only(run(packets))
    assert conn["client_bytes"] == 200 and conn["missed_bytes"] == 100
    assert conn["history"].endswith("G")


def test_sequence_numbers_wrapping_around_count_right():
    start = 0xFFFFFFF0
    packets = [
        *handshake(cseq=start),
        (0.03, tcp(C, S, PSH | ACK, start + 1, 5001, b"a" * 100)),
        (0.04, tcp(S, C, ACK, 5001, start + 101)),
    ]
    conn = only(run(packets, flush_every=4))
    assert conn["client_bytes"] == 100 and conn["missed_bytes"] == 0


def test_zero_windows_are_counted():
    packets = [*handshake(), (0.1, tcp(S, C, ACK, 5001, 1001, window=0))]
    conn = only(run(packets))
    assert conn["zero_windows"] == 1 and "w" in conn["history"]


def test_udp_starting_with_a_response_flips_to_the_client():
    server, client = ("192.0.2.53", 53), ("10.0.0.7", 33333)
    conn = only(run([(0, udp(server, client, b"\0" * 30))]))
    assert (conn["client"], conn["server_port"]) == ("10.0.0.7", 53)
    assert (conn["conn_state"], conn["history"], conn["service"]) == ("SHR", "^d", "dns")
    both = only(run([(0, udp(client, server, b"\0" * 20)), (0.1, udp(server, client, b"\0" * 30))]))
    assert (both["conn_state"], both["history"]) == ("SF", "Dd")
    assert (both["client_bytes"], both["server_bytes"]) == (20, 30)


@pytest.mark.parametrize(
    ("server", "client"),
    [(("10.0.0.1", 67), ("10.0.0.50", 68)), (("fe80::1", 547), ("fe80::f", 546))],
)
def test_a_dhcp_servers_unicast_answer_makes_the_client_the_originator(server, client):
    """As Zeek: only the servers' ports (67, 547) are likely server ports, so an answer a capture
    sees alone is the client's connection, seen from its server's side (SHR)."""
    conn = only(run([(0, udp(server, client, b"\0" * 300))]))
    assert (conn["client"], conn["client_port"], conn["server"], conn["server_port"]) == (
        *client, *server)  # fmt: skip
    assert (conn["conn_state"], conn["history"]) == ("SHR", "^d")


def test_an_answer_to_the_broadcast_address_is_never_flipped():
    """Zeek flips no connection whose first packet went to 255.255.255.255 (a DHCP server's
    broadcast OFFER stays the server's own connection)."""
    conn = only(run([(0, udp(("10.0.0.1", 67), ("255.255.255.255", 68), b"\0" * 300))]))
    assert (conn["client"], conn["client_port"], conn["server_port"]) == ("10.0.0.1", 67, 68)
    assert (conn["conn_state"], conn["history"]) == ("S0", "D")


def test_icmp_echo_and_reply_are_one_connection_keyed_by_type_pairs():
    pings = [(0.0, icmp("10.0.0.1", "10.0.0.2", 8)), (0.1, icmp("10.0.0.2", "10.0.0.1", 0))]
    conn = only(run(pings))
    assert (conn["client_port"], conn["server_port"]) == (8, 0)
    assert (conn["client_packets"], conn["server_packets"], conn["conn_state"]) == (1, 1, "OTH")
    unreachable = only(run([(0.0, icmp("10.0.0.2", "10.0.0.1", 3, 1))]))
    assert (unreachable["client_port"], unreachable["server_port"]) == (3, 1)


@pytest.mark.parametrize("mixed", [False, True])
def test_the_active_table_is_bounded_and_flushes_the_oldest(mixed):
    """TCP connections, or TCP and UDP ones (lone pieces) in turn: the oldest goes first."""
    packets = [
        (float(i), udp((f"10.0.1.{i}", 1000 + i), S) if mixed and i % 2 else
         tcp((f"10.0.1.{i}", 1000 + i), S, SYN, i))
        for i in range(10)
    ]  # fmt: skip
    rows: list = []
    table = ConnTracker(lambda key, entry: rows.append(record(key, entry)), max_active=3)
    decoder = FlowDecoder()
    for frame, (ts, seg) in enumerate(packets, start=1):
        decoder.packet(frame, ts, seg)
        pieces, _, max_ts, *_ = decoder.flush()
        table.add_span(pieces, max_ts)
        assert table.active() <= 3
    table.finish()
    assert table.evicted == 7 and len(rows) == 10
    assert [row["first_frame"] for row in rows[:7]] == list(range(1, 8))


def test_tunnelled_flows_name_their_carrier():
    outer = (17, "198.51.100.1", 4789, "198.51.100.2", 4789)
    inner = tcp(C, S, SYN, 1, outer=outer)
    carrier = udp(outer[1:3], outer[3:5], b"\0" * 60)
    rows = run([(0.0, carrier), (0.0, inner)])
    assert [row["transport"] for row in rows] == ["udp", "tcp"]
    assert rows[1]["tunnel_parents"] == rows[0]["uid"]


def record(key: tuple, entry) -> dict:
    """A connection the tracker emits, as its row with the id."""
    return dict(zip(("id", *COLUMNS), row_of(key, entry), strict=True))


def numbered(packets: list, every: int = 0) -> tuple[ConnTracker, list]:
    """The tracker after `packets`, and its connections in the order they finished."""
    done: list = []
    table = ConnTracker(lambda key, entry: done.append(record(key, entry)))
    decoder = FlowDecoder()
    for frame, (ts, seg) in enumerate(packets, start=1):
        decoder.packet(frame, ts, seg)
        if every and frame % every == 0:
            pieces, _, max_ts, *_ = decoder.flush()
            table.add_span(pieces, max_ts)
    partial = decoder.flush()
    if partial is not None:
        table.add_span(partial[0], partial[2])
    table.finish()
    return table, done


@pytest.mark.parametrize("every", [0, 1, 2])
def test_connections_are_numbered_in_time_order_as_they_begin(every):
    packets = [(t, udp(("10.0.0.1", 1000 + i), ("10.0.0.53", 53))) for i, t in enumerate(
        (1.0, 2.0, 2.0, 70.0, 71.0))]  # fmt: skip
    packets.insert(2, (1.5, udp(("10.0.0.53", 53), ("10.0.0.1", 1000))))  # a reply: no new one
    table, done = numbered(packets, every)
    assert table.in_order and table.created == 5
    by_number = sorted(done, key=lambda row: row["id"])
    assert [row["id"] for row in by_number] == [1, 2, 3, 4, 5]
    order = [tuple(row[column] for column in ORDER.split(", ")) for row in by_number]
    assert order == sorted(order)
    assert [row["client_port"] for row in by_number] == [1000, 1001, 1002, 1003, 1004]


def test_times_going_back_say_the_numbers_are_not_in_order():
    packets = [(5.0, udp(("10.0.0.1", 1000), S)), (4.0, udp(("10.0.0.1", 1001), S))]
    table, _ = numbered(packets)
    assert not table.in_order


def test_one_frame_starting_two_connections_is_ordered_by_transport_then_ends():
    carrier = (("10.0.0.9", 4789), ("10.0.0.1", 4789))
    inner = tcp(C, S, SYN, 1, outer=(17, *carrier[0], *carrier[1]))
    for first, second, in_order in ((inner, udp(*carrier), True), (udp(*carrier), inner, False)):
        table = ConnTracker(lambda key, entry: None)
        for seg in (first, second):  # one frame (7), handed over in two spans
            decoder = FlowDecoder()
            decoder.packet(7, 1.0, seg)
            table.add_span(decoder.flush()[0], None)
        assert table.in_order is in_order  # "tcp" < "udp"


def lone_and_joined_flows() -> list:
    """UDP, ICMP and other IP flows of one, two or more pieces: with a reply or none, flipped
    by the port heuristics, in a tunnel, on a VLAN, with services both ways."""
    resolver, quic = ("192.0.2.53", 53), ("192.0.2.9", 443)
    outer = (17, "198.51.100.1", 4789, "198.51.100.2", 4789)
    dns_query = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x00\x00\x01\x00\x01"
    quic_initial = b"\xc3\x00\x00\x00\x01" + b"\0" * 20
    other = Segment("ip", "10.0.0.1", 0, "10.0.0.2", 0, b"gre", 0, 0, 0, 0, 23, 3, 47)
    return [
        (0.0, udp(C, resolver, dns_query)),
        (0.1, udp(resolver, C, dns_query)),
        (0.2, udp(resolver, ("10.0.0.7", 5000), b"late reply")),  # a reply first: flipped
        (0.3, udp(("10.0.0.8", 6000), quic, quic_initial, vlan=12)),
        (0.4, udp(quic, ("10.0.0.8", 6000), b"\x40short", vlan=12)),
        (0.5, udp(("10.0.0.9", 7000), ("10.0.0.10", 7001), b"x" * 9, outer=outer)),
        (0.6, icmp("10.0.0.1", "10.0.0.2", 8)),
        (0.7, icmp("10.0.0.2", "10.0.0.1", 0)),
        (0.8, icmp("10.0.0.3", "10.0.0.1", 3, 1)),  # one-way: its sender stays the client
        (0.9, other),
        (1.0, udp(C, resolver, dns_query)),  # the first flow again, later
        (
            1.1,
            udp(
                ("10.0.0.9", 7000),
                ("10.0.0.10", 7001),
                b"y",
                outer=outer[:1] + outer[3:] + outer[1:3],
            ),
        ),
        (61.5, udp(C, resolver, dns_query)),  # after a minute: another connection
        (62.0, udp(resolver, C, b"\0" * 20)),
    ]


@pytest.mark.parametrize("every", [1, 2, 3, 5])
def test_flows_kept_as_lone_pieces_or_joined_across_spans_give_the_same_rows(every):
    """One span keeps most flows as lone pieces (rows made from the piece); spans cut between
    their packets join pieces into connections (rows made from a Conn): the same rows."""

    def in_order(rows: list) -> list:  # (the order they finished in depends on the cuts)
        return sorted(rows, key=lambda row: [row[column] for column in ORDER.split(", ")])

    whole = in_order(run(lone_and_joined_flows()))
    assert len(whole) == 8
    assert in_order(run(lone_and_joined_flows(), flush_every=every)) == whole
    first, tunnelled = whole[0], whole[3]
    assert (first["history"], first["conn_state"], first["service"]) == ("Dd", "SF", "dns")
    assert tunnelled["tunnel_parents"].count(",") == 0  # the carrier both ways: one uid
    assert (first["client_packets"], first["server_packets"]) == (2, 1)


@pytest.mark.parametrize("every", [0, 1])
def test_a_flow_names_every_carrier_once_whichever_span_saw_it(every):
    """Both directions of one tunnel are one carrier; another tunnel later is another."""
    one = (17, "198.51.100.1", 4789, "198.51.100.2", 4789)
    back = (17, "198.51.100.2", 4789, "198.51.100.1", 4789)
    other = (17, "198.51.100.1", 50000, "198.51.100.3", 4789)
    packets = [(0.0, udp(C, S, outer=one)), (0.1, udp(S, C, outer=back)),
               (0.2, udp(C, S, outer=other)), (0.3, udp(C, S, outer=one))]  # fmt: skip
    (conn,) = [row for row in run(packets, flush_every=every) if row["server_port"] == 80]
    carriers = [flow_uid(*outer[1:], "udp") for outer in (one, other)]
    assert conn["tunnel_parents"] == ",".join(carriers)


def test_a_reset_after_both_fins_leaves_the_connection_sf():
    """Zeek's UpdateClosedState: a side that sent its FIN, whose peer did too, stays closed on
    a RST (a server resetting after the FIN exchange is common); before both FINs it resets."""
    packets = [*closed_exchange(), (0.09, tcp(S, C, RST, 5025))]
    conn = only(run(packets))
    assert (conn["conn_state"], conn["history"]) == ("SF", "ShADdFfr")
    half = [*closed_exchange()[:-2], (0.09, tcp(C, S, RST, 1020))]
    assert only(run(half))["conn_state"] == "RSTO"
