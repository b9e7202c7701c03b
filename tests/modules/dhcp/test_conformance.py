"""Cases the differential run (benchmarks/conformance/dhcp.py against tshark) found, each with
the value the RFCs give: a server naming its client, two servers ACKing one REQUEST, a message
cut short inside the BOOTP header, a message type option of the wrong length, datagrams whose
other port is lower (another service's) or a PXE boot server's."""

from __future__ import annotations

import sqlite3

from mcpcap.modules.dhcp import scan, wire
from mcpcap.modules.dhcp.module import DhcpModule
from tests.fixtures.make_dhcp_icmp_captures import (
    ACK,
    DISCOVER,
    OFFER,
    REQUEST,
    bootp,
    client,
    ip4,
    msg_type,
    opt,
    server,
)
from tests.modules.conn.flowkit import udp

MAC = "02:00:00:00:01:20"
A, B = "10.1.0.1", "10.2.0.1"
CLIENT, SERVER = ("0.0.0.0", 68), ("255.255.255.255", 67)


def lease(seconds: int) -> bytes:
    return opt(51, seconds.to_bytes(4, "big"))


def _rows(messages: list[tuple[tuple[str, int], bytes]]) -> list[dict]:
    """The exchanges a scan writes for these (source, payload) datagrams, one a second."""
    db = sqlite3.connect(":memory:")
    db.row_factory = sqlite3.Row
    DhcpModule().create_tables(db)
    dhcp = scan.DhcpScan(db)
    for frame, (src, payload) in enumerate(messages, start=1):
        dst = SERVER if src[1] == 68 else ("255.255.255.255", 68)
        dhcp.on_udp(frame, float(frame), udp(src, dst, payload))
    dhcp.finish(db)
    return [dict(row) for row in db.execute("SELECT * FROM dhcp_transactions ORDER BY id")]


def test_a_server_that_names_the_client_gives_the_host_name():
    """RFC 2132 3.14: option 12 is the client's name, whoever sends it; the client's own name
    (when it sends one) wins."""
    named = [
        (CLIENT, client(DISCOVER, 1, MAC)),
        ((A, 67), server(OFFER, 1, MAC, A, "10.1.0.9", lease(60), opt(12, b"named"))),
        (CLIENT, client(REQUEST, 1, MAC, opt(54, ip4(A)))),
        ((A, 67), server(ACK, 1, MAC, A, "10.1.0.9", lease(60), opt(12, b"named"))),
        (CLIENT, client(DISCOVER, 2, MAC, opt(12, b"own"))),
        ((A, 67), server(OFFER, 2, MAC, A, "10.1.0.9", lease(60), opt(12, b"named"))),
    ]
    first, second = _rows(named)
    assert first["host_name"] == "named"
    assert second["host_name"] == "own"


def test_the_chosen_servers_ack_is_the_assignment():
    """RFC 2131 3.1 (5): the server the REQUEST names commits the binding; another server's
    ACK to the same REQUEST (after it or before it) does not replace it."""
    for rogue_first in (False, True):
        acks = [
            ((B, 67), server(ACK, 3, MAC, B, "10.2.0.9", lease(200))),
            ((A, 67), server(ACK, 3, MAC, A, "10.1.0.9", lease(999))),
        ]
        messages = [
            (CLIENT, client(DISCOVER, 3, MAC)),
            ((A, 67), server(OFFER, 3, MAC, A, "10.1.0.9", lease(999))),
            ((B, 67), server(OFFER, 3, MAC, B, "10.2.0.9", lease(200))),
            (CLIENT, client(REQUEST, 3, MAC, opt(54, ip4(B)), opt(50, ip4("10.2.0.9")))),
            *(acks[::-1] if rogue_first else acks),
        ]
        (row,) = _rows(messages)
        assert (row["server"], row["assigned_addr"], row["lease_time"]) == (B, "10.2.0.9", 200)


def test_a_message_cut_short_keeps_the_fields_it_holds():
    """A datagram shorter than the 236-byte BOOTP header: malformed, but the transaction id and
    the client hardware address it does hold are read (they place it in its exchange)."""
    payload = client(DISCOVER, 0x2AF2003C, MAC)
    for size, mac in ((200, MAC), (44, MAC), (33, None), (20, None)):
        msg = wire.decode_v4(payload[:size])
        assert msg["malformed"] == "shorter than the BOOTP header"
        assert (msg["xid"], msg["mac"]) == (0x2AF2003C, mac)
    assert wire.decode_v4(payload[:7])["xid"] is None


def test_a_message_type_of_the_wrong_length_still_says_its_type():
    """Option 53 has length 1 (RFC 2132 9.6). Two bytes, or the option twice (RFC 3396 joins
    the pieces): malformed, and the first byte is the type the sender meant."""
    for options in (opt(53, b"\x01\x03"), msg_type(DISCOVER) + msg_type(REQUEST)):
        msg = wire.decode_v4(bootp(1, 5, MAC, options))
        assert msg["type"] == "DISCOVER"
        assert msg["malformed"] == "option 53 (message_type) is malformed"
    empty = wire.decode_v4(bootp(1, 5, MAC, opt(53, b"")))
    assert empty["type"] is None and empty["malformed"] == "option 53 (message_type) is malformed"


def test_the_lower_port_names_the_service():
    """A DNS query from port 68 (or 547) to 53 is DNS; a server's answer from 67 or 547 to a
    client's ephemeral port, and a PXE boot server's exchange on 4011, are DHCP."""
    query = bytes.fromhex("123401000001000000000000037777770000010001")
    for sport in (67, 68, 546, 547):
        assert (
            wire.decode_datagram(1, 0.0, udp(("10.0.0.9", sport), ("10.0.0.53", 53), query)) is None
        )
    ack = server(ACK, 9, MAC, A, "10.1.0.9", lease(60))
    for src, dst in (((A, 67), ("10.1.0.9", 1067)), ((A, 4011), ("10.1.0.9", 68)),
                     (("10.1.0.9", 4011), (A, 4011))):  # fmt: skip
        msg = wire.decode_datagram(1, 0.0, udp(src, dst, ack))
        assert (msg["family"], msg["type"], msg["yiaddr"]) == ("dhcpv4", "ACK", "10.1.0.9")
    reply = bytes((7,)) + (0x1234).to_bytes(3, "big")
    msg = wire.decode_datagram(1, 0.0, udp(("2001:db8::1", 547), ("2001:db8::9", 40000), reply))
    assert (msg["family"], msg["type"], msg["xid"]) == ("dhcpv6", "REPLY", 0x1234)
