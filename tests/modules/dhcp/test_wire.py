"""The DHCP decoder on single messages: options by name, relays, and hostile bytes."""

from __future__ import annotations

import random
import struct
import sys
from pathlib import Path

import pytest

from mcpcap.modules.dhcp import wire

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures"))
import make_dhcp_icmp_captures as gen


def test_a_discover_reads_by_name():
    payload = gen.client(
        gen.DISCOVER, 0xABCD, gen.MAC["A"], gen.opt(12, b"laptop"), gen.opt(60, b"MSFT 5.0"),
        gen.opt(55, bytes((1, 3, 6, 15, 200))), gen.opt(50, gen.ip4("10.0.0.50")),
        gen.opt(61, b"\x01" + bytes.fromhex("02000000" "0d01")),
        gen.opt(81, b"\x05\x00\x00" + b"\x06laptop\x03lan\x00"),
        gen.opt(121, bytes((24, 192, 168, 5, 10, 0, 0, 1, 0, 10, 0, 0, 254))),
        gen.opt(224, b"\xde\xad"),
    )  # fmt: skip
    msg = wire.decode_v4(payload)
    assert msg["type"] == "DISCOVER" and not msg["from_server"] and msg["xid"] == 0xABCD
    assert msg["mac"] == gen.MAC["A"] and msg["malformed"] is None
    opts = msg["opts"]
    assert opts["host_name"] == "laptop" and opts["vendor_class"] == "MSFT 5.0"
    assert opts["parameter_request_list"] == [
        "subnet_mask", "router", "dns_servers", "domain_name", "200"
    ]  # fmt: skip
    assert opts["requested_addr"] == "10.0.0.50"
    assert opts["client_id"] == gen.MAC["A"]
    assert opts["client_fqdn"] == "laptop.lan"
    assert opts["classless_static_routes"] == [
        "192.168.5.0/24 via 10.0.0.1", "0.0.0.0/0 via 10.0.0.254"
    ]  # fmt: skip
    assert opts["option_224"] == "de:ad"  # unknown: number and hex


def test_an_ack_with_relay_agent_information():
    agent = gen.opt(82, gen.opt(1, b"eth0/1") + gen.opt(2, b"sw1") + gen.opt(6, b"\x00\x01"))
    msg = wire.decode_v4(
        gen.server(gen.ACK, 7, gen.MAC["D"], "10.0.0.1", "10.0.0.9", gen.LEASE, agent,
                   giaddr="10.0.9.1")
    )  # fmt: skip
    assert msg["type"] == "ACK" and msg["from_server"] and msg["yiaddr"] == "10.0.0.9"
    assert msg["opts"]["lease_time"] == 3600 and msg["opts"]["server_id"] == "10.0.0.1"
    assert msg["relay"] == {
        "giaddr": "10.0.9.1", "circuit_id": "eth0/1", "remote_id": "sw1", "subscriber_id": "00:01"
    }  # fmt: skip


def test_long_options_are_concatenated():
    """RFC 3396: one option split in pieces is one value."""
    msg = wire.decode_v4(gen.client(gen.INFORM, 1, gen.MAC["C"], gen.opt(12, b"very-long-"),
                                    gen.opt(12, b"host")))  # fmt: skip
    assert msg["opts"]["host_name"] == "very-long-host"


def test_a_long_option_joined_from_its_pieces_stops_at_the_bound():
    """Five pieces of 255 bytes join into one value, cut at `MAX_OPTION_BYTES`; a piece keeps
    its place in the joined value whatever option comes between."""
    pieces = [gen.opt(43, bytes([n]) * 255) for n in range(1, 6)]
    payload = gen.client(gen.INFORM, 1, gen.MAC["C"], pieces[0], gen.opt(12, b"host"), *pieces[1:])
    msg = wire.decode_v4(payload)
    joined = bytes.fromhex(msg["opts"]["vendor_specific"].replace(":", ""))
    expected = b"".join(bytes([n]) * 255 for n in range(1, 6))[: wire.MAX_OPTION_BYTES]
    assert joined == expected and len(joined) == wire.MAX_OPTION_BYTES
    assert msg["opts"]["host_name"] == "host" and msg["malformed"] is None


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (gen.bootp(1, 1, gen.MAC["E"], gen.msg_type(1) + b"\x0c\x40ab")[:-1],
         "option 12 runs past the end of its field"),
        (gen.bootp(1, 1, gen.MAC["E"], gen.msg_type(1) + b"\x0c")[:-1], "option 12 has no length"),
        (gen.bootp(1, 1, gen.MAC["E"], gen.msg_type(1), cookie=b"\0\0\0\0"), "wrong magic cookie"),
        (b"\x01\x01\x06\x00" + b"\0" * 50, "shorter than the BOOTP header"),
        (gen.bootp(1, 1, gen.MAC["E"], gen.opt(50, b"\x01\x02")),
         "option 50 (requested_addr) is malformed"),
        (gen.bootp(1, 1, gen.MAC["E"], gen.opt(82, b"\x01\x09ab")),
         "option 82 (relay_agent_info) is malformed"),
        (gen.bootp(1, 1, gen.MAC["E"], gen.opt(121, b"\x21" + b"\0" * 8)),
         "option 121 (classless_static_routes) is malformed"),
    ],
    ids=["past-end", "no-length", "cookie", "short", "address-length", "relay", "route-width"],
)  # fmt: skip
def test_hostile_messages_say_why_and_keep_what_they_could(payload, reason):
    msg = wire.decode_v4(payload)
    assert msg["malformed"] == reason
    assert msg["xid"] is not None


def test_overload_cannot_loop():
    """Option 52 in `file` naming `file` again is skipped: each field is read once."""
    looped = gen.opt(52, b"\x03") + gen.opt(12, b"inner") + b"\xff"
    payload = gen.bootp(1, 5, gen.MAC["E"], gen.msg_type(1) + gen.opt(52, b"\x01"), file=looped)
    msg = wire.decode_v4(payload)
    assert msg["opts"]["host_name"] == "inner" and msg["opts"]["overload"] == 1
    assert msg["malformed"] is None


def test_dhcpv6_request_with_ia_na_and_fqdn():
    payload = gen.v6msg(3, 0x123456, gen.v6opt(1, gen.duid_ll(gen.MAC["F"])), gen.SERVER_DUID,
                        gen.ia_na("2001:db8::100", valid=900), gen.FQDN6,
                        gen.v6opt(6, struct.pack("!HHH", 23, 24, 999)))  # fmt: skip
    msg = wire.decode_v6(payload)
    assert msg["type"] == "REQUEST" and msg["xid"] == 0x123456 and msg["malformed"] is None
    assert msg["mac"] == gen.MAC["F"] and msg["duid"] == "00:03:00:01:02:00:00:00:0d:06"
    assert msg["opts"]["ia_na"] == [{"address": "2001:db8::100", "preferred": 3600, "valid": 900}]
    assert msg["opts"]["client_fqdn"] == "host6.example.lan"
    assert msg["opts"]["option_request"] == ["dns_servers", "domain_list", "999"]


def test_dhcpv6_relay_messages_are_unwrapped():
    inner = gen.v6msg(2, 0x0B0B0B, gen.v6opt(1, gen.duid_ll(gen.MAC["B"])))
    msg = wire.decode_v6(gen.relay(13, gen.relay(13, inner, peer="fe80::b")))
    assert msg["type"] == "ADVERTISE" and msg["from_server"] and msg["relay_type"] == "RELAY-REPL"
    assert msg["relay"]["peer_address"] == "fe80::b" and msg["relay"]["hops"] == 2


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\x01\x00", "shorter than the DHCPv6 header"),
        (gen.v6msg(1, 1) + b"\x00\x01\x00\x40abc", "option 1 runs past the end of the message"),
        (gen.v6msg(1, 1) + b"\x00\x01", "option header runs past the message"),
        (b"\x0c\x00" + b"\0" * 10, "relay message shorter than its header"),
        (gen.relay(12, b"")[: 34], "relay message without a relayed message"),
    ],
    ids=["short", "past-end", "half-header", "short-relay", "empty-relay"],
)  # fmt: skip
def test_hostile_dhcpv6(payload, reason):
    assert wire.decode_v6(payload)["malformed"] == reason


def test_relays_nested_past_the_bound_stop():
    nested = gen.v6msg(1, 1)
    for _ in range(wire.MAX_RELAY_DEPTH + 5):
        nested = gen.relay(12, nested)
    msg = wire.decode_v6(nested)
    assert msg["malformed"] == f"relay messages nested deeper than {wire.MAX_RELAY_DEPTH}"
    assert msg["xid"] is None


def test_huge_lists_are_bounded():
    many = gen.opt(6, gen.ip4("10.0.0.1") * 63)
    assert len(wire.decode_v4(gen.bootp(2, 1, gen.MAC["A"], many))["opts"]["dns_servers"]) == 63
    ia = gen.v6opt(3, struct.pack("!III", 1, 0, 0) + gen.v6opt(5, b"\0" * 24) * 500)
    msg = wire.decode_v6(gen.v6msg(7, 1, ia))
    assert len(msg["opts"]["ia_na"]) == wire.MAX_LIST


def test_random_bytes_never_raise():
    """Whatever comes in, the decoder returns a message or None, quickly."""
    rng = random.Random(22)
    seeds = [gen.client(gen.DISCOVER, 1, gen.MAC["A"], gen.opt(12, b"x")),
             gen.relay(12, gen.v6msg(1, 1, gen.v6opt(1, gen.duid_ll(gen.MAC["A"]))))]  # fmt: skip
    for _ in range(3000):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        data = bytes(data[: rng.randint(0, len(data))])
        for decode in (wire.decode_v4, wire.decode_v6):
            msg = decode(data)
            assert msg is None or isinstance(msg, dict)


def test_a_relayed_message_with_broken_relay_information_is_malformed_not_fatal():
    """giaddr set and option 82 whose sub-option runs past it: the message keeps its relay
    (the giaddr) and says why; decoding it used to raise and end the whole capture's scan."""
    broken = gen.opt(82, b"\x01\x09ab")
    msg = wire.decode_v4(gen.client(gen.REQUEST, 9, gen.MAC["E"], broken, giaddr=gen.RELAY))
    assert msg["relay"] == {"giaddr": gen.RELAY}
    assert msg["malformed"] == "option 82 (relay_agent_info) is malformed"
    assert msg["opts"]["relay_agent_info_malformed"] == "01:09:61:62"


def test_options_of_the_wrong_length_never_take_their_typed_place():
    """A lease time, server id or requested address of the wrong length stays out of the typed
    option (its hex sits beside it): records and exports read only values of the right type."""
    bad = gen.opt(50, b"\x0a\x00\x00") + gen.opt(51, b"\x00\x01\x00") + gen.opt(54, b"\x0a\x00")
    msg = wire.decode_v4(gen.bootp(2, 3, gen.MAC["E"], gen.msg_type(gen.ACK) + bad))
    opts = msg["opts"]
    assert "requested_addr" not in opts and "lease_time" not in opts and "server_id" not in opts
    assert opts["lease_time_malformed"] == "00:01:00" and opts["server_id_malformed"] == "0a:00"
    assert msg["malformed"] == "option 50 (requested_addr) is malformed"
    v6 = wire.decode_v6(gen.v6msg(7, 1, gen.v6opt(8, b"\x01"), gen.v6opt(7, b"\x01\x02")))
    assert "elapsed_time" not in v6["opts"] and "preference" not in v6["opts"]
    assert v6["opts"]["elapsed_time_malformed"] == "01" and v6["malformed"].startswith("option 8")


def test_the_client_link_layer_address_a_relay_adds_is_the_mac():
    """RFC 6939: option 79 travels in the relay's RELAY-FORW, never in the client's message."""
    client = gen.v6msg(11, 0x1234, gen.v6opt(1, bytes.fromhex("0004") + bytes(16)))  # a UUID
    lladdr = gen.v6opt(79, b"\x00\x01" + bytes.fromhex("0200000000aa"))
    relayed = gen.relay(12, client)
    msg = wire.decode_v6(relayed[:2] + relayed[2:34] + lladdr + relayed[34:])
    assert msg["mac"] == "02:00:00:00:00:aa" and msg["malformed"] is None
    assert msg["relay"]["client_linklayer_addr"] == "02:00:00:00:00:aa"


def test_a_dhcpv6_option_cut_short_keeps_the_options_before_it():
    duid = gen.duid_ll(gen.MAC["F"])
    cut = gen.v6msg(11, 0x4321, gen.v6opt(1, duid), struct.pack("!HH", 8, 2) + b"\x00")
    msg = wire.decode_v6(cut)
    assert msg["duid"] == duid.hex(":") and msg["mac"] == gen.MAC["F"]
    assert msg["malformed"] == "option 8 runs past the end of the message"
    # a relay's own option cut short after the relayed message: the message is still read
    relayed = gen.relay(12, gen.v6msg(11, 0x4321, gen.v6opt(1, duid))) + b"\x00\x12\x00\x09ab"
    msg = wire.decode_v6(relayed)
    assert msg["duid"] == duid.hex(":") and msg["type"] == "INFORMATION-REQUEST"
    assert msg["malformed"] == "option 18 runs past the end of the message"


def test_a_domain_search_list_follows_its_compression_pointers():
    """RFC 3397 section 2's example: the second name points into the first."""
    names = b"\x03eng\x05apple\x03com\x00\x09marketing\xc0\x04"
    msg = wire.decode_v4(gen.bootp(2, 9, gen.MAC["A"], gen.msg_type(5) + gen.opt(119, names)))
    assert msg["opts"]["domain_search"] == ["eng.apple.com", "marketing.apple.com"]
    assert msg["malformed"] is None
    for looping in (b"\xc0\x00", b"\x03abc\xc0\x00", b"\x03abc\xc0\x40"):
        msg = wire.decode_v4(gen.bootp(2, 9, gen.MAC["A"], gen.opt(119, looping)))
        assert msg["malformed"] == "option 119 (domain_search) is malformed"


def test_bootp_with_an_empty_vendor_area_is_bootp_not_a_wrong_cookie():
    plain = gen.bootp(1, 7, gen.MAC["E"], b"", cookie=b"")[:-1] + bytes(64)  # RFC 951: 300
    assert len(plain) == 300
    assert wire.decode_v4(plain)["malformed"] == "no magic cookie (BOOTP without options)"
