"""`dns.messages` filters and sorts: tested on stored rows, they keep exactly the messages whose
fully decoded record says so (the records are decoded by another path: `decode_message`)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mcpcap.core.config import build_settings
from mcpcap.core.errors import BadArgumentError
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer

from .test_kinds import walk

Record = dict[str, Any]


@pytest.fixture(scope="module")
def messages(analysis) -> list[Record]:
    return list(analysis.module("dns").iter_messages())


def _names(record: Record) -> list[str]:
    return [q["name"].lower().rstrip(".") for q in record["questions"]]


def _inside(address: str, network: str) -> bool:
    return ipaddress.ip_address(address) in ipaddress.ip_network(network)


def _expected(messages: list[Record], keep: Callable[[Record], bool]) -> list[tuple[int, int]]:
    return [(m["frame"], m["index"]) for m in messages if keep(m)]


def _kept(analysis, text: str, sort: str | None = None) -> list[tuple[int, int]]:
    return [(m["frame"], m["index"]) for m in walk(KindQuery(analysis, "dns.messages"), text,
                                                     sort=sort, limit=9)]  # fmt: skip


@pytest.fixture(scope="module")
def samples(messages) -> dict[str, Any]:
    """Values the capture has, so every filter below keeps some messages and drops others."""
    response = next(m for m in messages if m["qr"] and m["questions"])
    return {
        "name": _names(response)[0],
        "server": response["src"],
        "client": response["dst"],
        "port": response["dport"],
        "id": response["trans_id"],
        "middle": messages[len(messages) // 2],
    }


CASES: dict[str, tuple[Callable[[dict], str], Callable[[Record, dict], bool]]] = {
    "qname": (lambda s: f"qname:{s['name'].upper()}", lambda m, s: s["name"] in _names(m)),
    "qname_suffix": (
        lambda s: "qname_suffix:" + s["name"].split(".", 1)[-1],
        lambda m, s: any(
            n == s["name"].split(".", 1)[-1] or n.endswith("." + s["name"].split(".", 1)[-1])
            for n in _names(m)
        ),
    ),
    "qname_contains": (
        lambda s: f"qname_contains:{s['name'][1:4]}",
        lambda m, s: any(s["name"][1:4] in n for n in _names(m)),
    ),
    "qtype": (
        lambda s: "qtype:AAAA,MX",
        lambda m, s: any(q["type"] in (28, 15) for q in m["questions"]),
    ),
    "rcode": (lambda s: "rcode:NXDOMAIN", lambda m, s: m["rcode_name"] == "NXDOMAIN"),
    "not rcode": (lambda s: "-rcode:NOERROR", lambda m, s: m["rcode_name"] != "NOERROR"),
    "qr": (lambda s: "qr:true", lambda m, s: m["qr"]),
    "src": (lambda s: f"src:{s['server']}", lambda m, s: m["src"] == s["server"]),
    "dst network": (
        lambda s: f"dst:{s['client']}/24",
        lambda m, s: _inside(
            m["dst"], str(ipaddress.ip_network(s["client"] + "/24", strict=False))
        ),
    ),
    "host": (lambda s: f"host:{s['client']}", lambda m, s: s["client"] in (m["src"], m["dst"])),
    "port": (lambda s: f"port:{s['port']}", lambda m, s: s["port"] in (m["sport"], m["dport"])),
    "trans_id": (lambda s: f"trans_id:{s['id']}", lambda m, s: m["trans_id"] == s["id"]),
    "transport": (lambda s: "transport:udp", lambda m, s: m["transport"] == "udp"),
    "protocol": (lambda s: "protocol:dns,mdns", lambda m, s: m["protocol"] in ("dns", "mdns")),
    "frame range": (
        lambda s: f"frame>{s['middle']['frame']} qr:false",
        lambda m, s: m["frame"] > s["middle"]["frame"] and not m["qr"],
    ),
    "since": (lambda s: f"since:{s['middle']['ts']}", lambda m, s: m["ts"] >= s["middle"]["ts"]),
}


@pytest.mark.parametrize("case", CASES)
def test_each_filter_keeps_what_the_decoded_records_say(analysis, messages, samples, case):
    text, keep = CASES[case]
    expected = _expected(messages, lambda m: keep(m, samples))
    assert 0 < len(expected) < len(messages), "the case must keep some and drop some"
    assert _kept(analysis, text(samples)) == expected


def test_malformed_keeps_the_messages_that_did_not_decode_cleanly():
    capture = Path(__file__).parents[2] / "fixtures" / "captures" / "malformed.pcap"
    settings = build_settings({"no_cache": True})
    with Analyzer(settings).analyze(capture, capture.name) as analysis:
        messages = list(analysis.module("dns").iter_messages())
        for value in (True, False):
            expected = [(m["frame"], m["index"]) for m in messages if bool(m["malformed"]) == value]
            assert expected, "the capture has messages of both kinds"
            assert _kept(analysis, f"malformed:{str(value).lower()}") == expected


def test_extended_rcodes_are_matched_with_their_edns_bits():
    capture = Path(__file__).parents[2] / "fixtures" / "captures" / "edns_options.pcap"
    with Analyzer(build_settings({"no_cache": True})).analyze(capture, capture.name) as analysis:
        messages = list(analysis.module("dns").iter_messages())
        badvers = _expected(messages, lambda m: m["rcode"] == 16)
        assert badvers, "the capture has a BADVERS response (rcode 16: header 0, EDNS 1)"
        assert _kept(analysis, "rcode:BADVERS") == badvers
        noerror = _expected(messages, lambda m: m["rcode"] == 0)
        assert _kept(analysis, "rcode:NOERROR") == noerror  # the header's 0 alone is not enough


def test_newest_first_pages_are_the_same_messages_reversed(analysis, messages):
    expected = _expected(messages, lambda m: m["qr"])
    assert _kept(analysis, "qr:true", sort="-frame") == expected[::-1]
    everything = [(m["frame"], m["index"]) for m in messages]
    assert _kept(analysis, "", sort="-frame") == everything[::-1]


def test_bad_values_name_the_filter_and_what_it_takes(analysis):
    query = KindQuery(analysis, "dns.messages")
    with pytest.raises(BadArgumentError, match="did you mean 'AAAA'"):
        query.page("qtype:AAA")
    with pytest.raises(BadArgumentError, match="src must be an IP address or CIDR"):
        query.page("src:nowhere")
    with pytest.raises(BadArgumentError, match="port"):
        query.page("port:70000")
    with pytest.raises(BadArgumentError, match="qr is not ordered"):
        query.page("qr>1")
    with pytest.raises(BadArgumentError, match="sorts by frame, -frame"):
        query.page(sort="rtt")


def test_info_is_one_line_saying_what_the_message_is(messages):
    for message in messages:
        info = message["info"]
        kind = "response" if message["qr"] else "query"
        assert info.startswith(f"{kind} 0x{message['id']:04x}"), info
        assert ("\n" not in info) and len(info) < 400
        for question in message["questions"]:
            assert f"{question['type_name']} {question['name']}" in info
        assert (message["rcode_name"] in info) == (message["qr"] and message["rcode"] != 0)
        answers = message["answers"] if message["qr"] else []
        for answer in answers[:4]:
            assert f"{answer['type_name']} {answer['data'][:20]}" in info
        assert info.endswith(f"+{len(answers) - 4}") == (len(answers) > 4)
    assert any(len(m["answers"]) > 4 and m["qr"] for m in messages), "a long answer is cut"
