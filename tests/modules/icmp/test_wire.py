"""The ICMP decoder on single messages: names, echo fields, quoted flows, neighbour discovery,
and hostile bytes."""

from __future__ import annotations

import random

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import (
    ICMPv6DestUnreach,
    ICMPv6EchoRequest,
    ICMPv6ND_NA,
    ICMPv6ND_RA,
    ICMPv6ND_Redirect,
    ICMPv6NDOptDstLLAddr,
    ICMPv6NDOptMTU,
    ICMPv6NDOptPrefixInfo,
    ICMPv6NDOptRDNSS,
    ICMPv6NDOptRedirectedHdr,
    ICMPv6NDOptSrcLLAddr,
    IPv6,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
)

from mcpcap.modules.icmp import wire
from mcpcap.modules.icmp.scan import message_uid, quoted_uid


def test_echo_request():
    kind, code, icmp_id, seq, plen, extra, bad = wire.decode(
        bytes(ICMP(type=8, id=0x1234, seq=9) / b"abcd"), v6=False
    )
    assert (kind, code, icmp_id, seq, plen, extra, bad) == (8, 0, 0x1234, 9, 4, None, None)
    assert wire.type_name(False, 8) == "echo-request" and wire.code_name(False, 8, 0) is None


def test_names_of_types_and_codes():
    assert wire.type_name(False, 3) == "destination-unreachable"
    assert wire.code_name(False, 3, 13) == "communication-prohibited"
    assert wire.code_name(False, 3, 99) == "code-99"
    assert wire.type_name(True, 135) == "neighbor-solicitation"
    assert wire.code_name(True, 1, 4) == "port-unreachable"
    assert wire.type_name(True, 250) == "type-250"


def test_a_request_and_its_reply_share_their_flow():
    assert message_uid("10.0.0.1", "10.0.0.2", False, 8, 0) == message_uid(
        "10.0.0.2", "10.0.0.1", False, 0, 0
    )
    assert message_uid("fe80::1", "fe80::2", True, 128, 0) == message_uid(
        "fe80::2", "fe80::1", True, 129, 0
    )
    assert message_uid("10.0.0.1", "10.0.0.2", False, 8, 0) != message_uid(
        "10.0.0.1", "10.0.0.2", False, 3, 3
    )


def test_unreachable_names_the_quoted_udp_flow():
    quoted = bytes(IP(src="10.0.0.5", dst="10.0.0.9") / UDP(sport=40000, dport=53))[:28]
    *_, extra, bad = wire.decode(bytes(ICMP(type=3, code=3) / quoted), v6=False)
    assert bad is None
    assert extra["quoted"] == {"transport": "udp", "src": "10.0.0.5", "sport": 40000,
                               "dst": "10.0.0.9", "dport": 53}  # fmt: skip


def test_quoted_ipv6_behind_extension_headers():
    quoted = bytes(IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrHopByHop()
                   / IPv6ExtHdrFragment(offset=0) / TCP(sport=1234, dport=443))  # fmt: skip
    *_, extra, bad = wire.decode(bytes(ICMPv6DestUnreach(code=1) / quoted), v6=True)
    assert bad is None and extra["quoted"]["transport"] == "tcp"
    assert (extra["quoted"]["sport"], extra["quoted"]["dport"]) == (1234, 443)
    later = bytes(IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrFragment(offset=100)
                  / UDP(sport=1, dport=2))  # fmt: skip
    *_, extra, _ = wire.decode(bytes(ICMPv6DestUnreach() / later), v6=True)
    assert extra["quoted"]["sport"] is None  # a later fragment carries no ports


def test_quoted_echo_is_named_as_its_flow():
    echo = bytes(IP(src="10.0.0.5", dst="10.0.0.9") / ICMP(type=8, id=1, seq=1))
    *_, extra, bad = wire.decode(bytes(ICMP(type=11) / echo), v6=False)
    assert bad is None
    assert extra["quoted"] == {"transport": "icmp", "src": "10.0.0.5", "sport": 8,
                               "dst": "10.0.0.9", "dport": 0, "type": 8, "code": 0}  # fmt: skip


def test_a_quoted_echo_reply_keeps_its_addresses_and_names_its_requests_flow():
    """The quote's addresses are the packet's own (tshark's ip.src/ip.dst inside the error);
    its ports are its own (type 0, counterpart 8); its uid is the flow of the request it
    answers, as conn keys it (client 10.0.0.9)."""
    reply = bytes(IP(src="10.0.0.5", dst="10.0.0.9") / ICMP(type=0, id=1, seq=1))
    *_, extra, bad = wire.decode(bytes(ICMP(type=11) / reply), v6=False)
    quoted = extra["quoted"]
    assert bad is None
    assert (quoted["src"], quoted["sport"], quoted["dst"], quoted["dport"]) == (
        "10.0.0.5", 0, "10.0.0.9", 8)  # fmt: skip
    request = message_uid("10.0.0.9", "10.0.0.5", False, 8, 0)
    assert quoted_uid(quoted) == request == message_uid("10.0.0.5", "10.0.0.9", False, 0, 0)


def test_extended_echo_has_an_identifier_and_an_8_bit_sequence():
    """RFC 8335 section 2: identifier (16 bits), sequence number (8), then the L bit."""
    for v6, kind in ((False, 42), (False, 43), (True, 160), (True, 161)):
        data = bytes((kind, 0, 0, 0, 0x12, 0x34, 7, 1)) + bytes(4)
        _, _, icmp_id, seq, *_ = wire.decode(data, v6)
        assert (icmp_id, seq) == (0x1234, 7)
    _, _, icmp_id, _, *_ = wire.decode(bytes((160, 0, 0, 0, 0, 1, 2, 0)), v6=False)
    assert icmp_id is None  # type 160 is ICMPv6's: in ICMPv4 it is unassigned


def test_a_quote_cut_in_its_ipv6_extension_headers_names_no_flow():
    quoted = bytes(IPv6(src="2001:db8::1", dst="2001:db8::2", nh=0)) + bytes((17, 0, 1, 0))
    *_, extra, bad = wire.decode(bytes(ICMPv6DestUnreach(code=4)) + quoted, v6=True)
    assert extra["quoted"]["transport"] == "udp" and extra["quoted"]["sport"] is None
    assert bad == "quoted udp header is cut short" and quoted_uid(extra["quoted"]) is None
    nested = bytes(IPv6(src="2001:db8::1", dst="2001:db8::2", nh=0)) + bytes((60, 0, 1, 0))
    *_, extra, bad = wire.decode(bytes(ICMPv6DestUnreach(code=4)) + nested, v6=True)
    assert extra["quoted"]["transport"] is None
    assert bad == "quoted IPv6 extension headers are cut short"


def test_neighbour_discovery():
    ra = (ICMPv6ND_RA(routerlifetime=600) / ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:01")
          / ICMPv6NDOptMTU(mtu=1400)
          / ICMPv6NDOptPrefixInfo(prefix="2001:db8:5::", prefixlen=64, validlifetime=10,
                                  preferredlifetime=5)
          / ICMPv6NDOptRDNSS(dns=["2001:db8::53"]))  # fmt: skip
    *_, extra, bad = wire.decode(bytes(ra), v6=True)
    assert bad is None and extra["lladdr"] == "02:00:00:00:00:01" and extra["mtu"] == 1400
    assert extra["prefixes"] == [{"prefix": "2001:db8:5::/64", "on_link": True,
                                  "autonomous": True, "valid": 10, "preferred": 5}]  # fmt: skip
    assert extra["rdnss"] == ["2001:db8::53"] and extra["router_lifetime"] == 600
    na = ICMPv6ND_NA(tgt="fe80::9", R=1, S=1, O=0) / ICMPv6NDOptDstLLAddr(
        lladdr="02:00:00:00:00:09"
    )
    *_, extra, _ = wire.decode(bytes(na), v6=True)
    assert extra == {"nd_target": "fe80::9", "flags": "RS", "lladdr": "02:00:00:00:00:09"}


def test_redirect_with_a_redirected_header():
    quoted = bytes(IPv6(src="2001:db8::5", dst="2001:db8:9::1") / UDP(sport=5000, dport=53))
    redirect = (ICMPv6ND_Redirect(tgt="fe80::2", dst="2001:db8:9::1")
                / ICMPv6NDOptRedirectedHdr(pkt=quoted))  # fmt: skip
    *_, extra, bad = wire.decode(bytes(redirect), v6=True)
    assert bad is None and extra["nd_target"] == "fe80::2"
    assert extra["destination"] == "2001:db8:9::1" and extra["quoted"]["dport"] == 53


@pytest.mark.parametrize(
    ("message", "v6", "reason"),
    [
        (b"\x08", False, "shorter than the ICMP header"),
        (bytes(ICMP(type=3)) + b"\x45\x00\x00", False, "quoted IPv4 header is cut short"),
        (bytes(ICMP(type=3)), False, "quotes no packet"),
        (bytes(ICMP(type=3)) + b"\x75" + b"\0" * 30, False, "quoted packet is not IPv4 or IPv6"),
        (bytes(ICMPv6DestUnreach()) + b"\x60" + b"\0" * 20, True,
         "quoted IPv6 header is cut short"),
        (bytes(ICMPv6ND_NA()) + b"\x02\x00" + b"\0" * 6, True,
         "neighbour discovery option of length 0"),
        (bytes(ICMPv6ND_NA()) + b"\x02\x02" + b"\0" * 6, True,
         "neighbour discovery option 2 is cut short"),
        (bytes(ICMPv6ND_NA())[:10], True, "neighbour discovery message is cut short"),
        (bytes(ICMPv6ND_NA()) + b"\x0e\x01" + b"\0" * 6 * 1 + b"\x0e\x01\0\0\0\0\0\0" * 40, True,
         f"more than {wire.MAX_ND_OPTIONS} neighbour discovery options"),
        (bytes(ICMP(type=3) / IP(src="1.1.1.1", dst="2.2.2.2") / ICMP(type=11)), False,
         "an ICMP error about an ICMP error"),
    ],
    ids=["short", "cut-quote", "no-quote", "not-ip", "cut-v6-quote", "nd-zero", "nd-past-end",
         "nd-short", "nd-many", "error-about-error"],
)  # fmt: skip
def test_hostile_messages_say_why(message, v6, reason):
    decoded = wire.decode(message, v6)
    assert decoded[-1] == reason


def test_random_bytes_never_raise():
    rng = random.Random(22)
    seeds = [
        bytes(ICMP(type=3) / IP(src="1.1.1.1", dst="2.2.2.2") / UDP(sport=1, dport=2)),
        bytes(ICMPv6ND_RA() / ICMPv6NDOptSrcLLAddr() / ICMPv6NDOptPrefixInfo()),
        bytes(ICMPv6EchoRequest(id=1, seq=2) / b"xyz"),
    ]
    for _ in range(3000):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        data = bytes(data[: rng.randint(0, len(data))])
        for v6 in (False, True):
            decoded = wire.decode(data, v6)
            assert len(decoded) == 7
