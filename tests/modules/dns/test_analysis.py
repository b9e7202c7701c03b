"""The DNS analysis layer end to end: summary, transactions, filters, sorts, pages, rankings."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest

from mcpcap.core.errors import BadArgumentError, NotFoundError
from mcpcap.core.service import Analyzer
from mcpcap.core.timefmt import parse_time

GOLDEN = Path(__file__).parents[2] / "golden" / "example_summary.json"


@pytest.fixture
def analysis(example, make_settings):
    with Analyzer(make_settings(modules=["dns"])).analyze(example, "example.pcap") as result:
        yield result


@pytest.fixture
def dns(analysis):
    return analysis.module("dns")


@pytest.fixture
def records(dns):
    return list(dns.iter_transactions())


def test_summary_matches_reviewed_golden_file(analysis):
    """The capture facts and the DNS summary as reviewed (other modules have their own tests)."""
    golden = json.loads(GOLDEN.read_text())
    summary = analysis.summary()
    assert {key: summary[key] for key in golden} == golden


def test_transaction_counts_are_consistent(dns, records):
    summary = dns.summary()
    assert summary.transactions == len(records)
    assert summary.answered == sum(1 for r in records if r["answered"] and r["query_frame"])
    assert summary.unanswered == sum(1 for r in records if not r["answered"])
    assert summary.unsolicited_responses == sum(1 for r in records if r["query_frame"] is None)
    assert summary.answered + summary.unanswered + summary.unsolicited_responses == len(records)
    assert summary.retransmissions == sum(r["retransmissions"] for r in records)


def test_top_qnames_count_every_question_of_every_query(dns, analysis):
    counted: dict[str, int] = {}
    for message in dns.iter_messages():
        if not message["qr"]:
            for question in message["questions"]:
                name = question["name"].lower()
                counted[name] = counted.get(name, 0) + 1
    expected = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    assert [(i.name, i.count) for i in dns.summary().top_qnames] == expected
    assert dns.summary().distinct_qnames == len(counted)


def test_rtt_is_response_time_minus_query_time(records):
    answered = [r for r in records if r["rtt"] is not None]
    assert answered
    for r in answered:
        assert r["rtt"] >= 0
        assert r["query_frame"] < r["response_frame"]


def test_retransmitted_query_is_one_transaction(records):
    retransmitted = [r for r in records if r["retransmissions"]]
    assert [r["query"] for r in retransmitted] == ["slow.example.org"]
    assert retransmitted[0]["answered"]


PREDICATES = {
    "qname": ("www.example.com", lambda r, v: (r["query"] or "").lower() == v),
    "qname_suffix": (
        "example.com",
        lambda r, v: (q := (r["query"] or "").lower()) == v or q.endswith("." + v),
    ),
    "qname_contains": ("wiki", lambda r, v: v in (r["query"] or "").lower()),
    "qtype": ("AAAA", lambda r, v: r["qtype"] == 28),
    "rcode": ("nxdomain", lambda r, v: r["rcode"] == 3),
    "client": ("192.168.1.0/28", lambda r, v: _in(r["client"], v)),
    "server": ("9.9.9.9", lambda r, v: _in(r["server"], v)),
    "transport": ("tcp", lambda r, v: r["transport"] == "tcp"),
    "protocol": ("mdns", lambda r, v: r["protocol"] == "mdns"),
    "answered": ("false", lambda r, v: not r["answered"]),
    "min_rtt": ("0.05", lambda r, v: r["rtt"] is not None and r["rtt"] >= 0.05),
    "since": ("2024-05-01T09:01:00Z", lambda r, v: r["ts"] >= parse_time(v)),
    "until": ("1714554030", lambda r, v: r["ts"] <= float(v)),
}


def _in(address: str, network: str) -> bool:
    return ipaddress.ip_address(address) in ipaddress.ip_network(network, strict=False)


@pytest.mark.parametrize("name", sorted(PREDICATES))
def test_every_filter_selects_exactly_the_matching_transactions(dns, records, name):
    value, predicate = PREDICATES[name]
    expected = [r for r in records if predicate(r, value)]
    got = list(dns.iter_transactions(**{name: value}))
    assert got == expected
    assert 0 < len(got) < len(records)
    assert dns.count(**{name: value}) == len(expected)


def test_answer_filter_pivots_from_an_address_to_its_queries(dns, records):
    address = next(a for r in records for a in (r["answers"] or []) if a.count(".") == 3)
    got = list(dns.iter_transactions(answer=address))
    assert got and all(address in r["answers"] for r in got)
    assert len(got) == sum(1 for r in records if address in (r["answers"] or []))


@pytest.mark.parametrize(
    ("name", "value", "hint"),
    [
        ("qtype", "BOGUS", "AAAA"),
        ("rcode", "NOPE", "NXDOMAIN"),
        ("client", "10.0.0.300", "CIDR"),
        ("transport", "sctp", "udp, tcp"),
        ("answered", "maybe", "true or false"),
        ("min_rtt", "-1", "seconds"),
        ("since", "yesterday", "ISO 8601"),
        ("colour", "red", "qname_suffix"),
    ],
)
def test_bad_filter_values_name_the_accepted_values(dns, name, value, hint):
    with pytest.raises(BadArgumentError, match=hint):
        dns.transactions(**{name: value})


@pytest.mark.parametrize("sort", ["ts", "-ts", "rtt", "-rtt", "qname"])
def test_sorts_order_pages_and_streams_alike(dns, sort):
    streamed = list(dns.iter_transactions(sort=sort))
    paged = _walk(dns, sort=sort, limit=17)
    assert paged == streamed
    keys = {
        "ts": lambda r: r["ts"],
        "-ts": lambda r: -r["ts"],
        "rtt": lambda r: (r["rtt"] is None, r["rtt"] or 0),
        "-rtt": lambda r: (r["rtt"] is None, -(r["rtt"] or 0)),
        "qname": lambda r: r["query"].lower() if r["query"] else "",
    }
    assert [keys[sort](r) for r in streamed] == sorted(keys[sort](r) for r in streamed)


def _walk(dns, **kwargs) -> list[dict]:
    items, cursor, pages = [], None, 0
    while True:
        page = dns.transactions(cursor=cursor, **kwargs)
        items += [item.model_dump(mode="json") for item in page.items]
        pages += 1
        assert pages < 10_000
        if page.next_cursor is None:
            return items
        cursor = page.next_cursor


def test_filtered_paging_loses_and_repeats_nothing(dns):
    expected = list(dns.iter_transactions(qname_suffix="example.com", sort="-rtt"))
    assert _walk(dns, qname_suffix="example.com", sort="-rtt", limit=5) == expected


def test_page_fits_budget_and_says_truncated(example, make_settings):
    settings = make_settings(max_reply_chars=4000)
    with Analyzer(settings).analyze(example, "example.pcap") as analysis:
        dns = analysis.module("dns")
        page = dns.transactions(limit=100)
        assert page.truncated and page.next_cursor
        assert len(page.model_dump_json()) <= 4000
        assert 0 < len(page.items) < 100
        assert _walk(dns, limit=100) == list(dns.iter_transactions())


def test_cursor_of_another_query_is_refused(dns):
    cursor = dns.transactions(limit=3).next_cursor
    with pytest.raises(BadArgumentError, match="another query"):
        dns.transactions(limit=3, cursor=cursor, qtype="A")
    with pytest.raises(BadArgumentError, match="cursor"):
        dns.transactions(cursor="garbage!")


@pytest.mark.parametrize("limit", [0, 1001, -5])
def test_limit_out_of_range_is_refused(dns, limit):
    with pytest.raises(BadArgumentError, match="limit"):
        dns.transactions(limit=limit)


def test_ranking_by_qname_equals_summary_top_list(dns):
    ranking = dns.rank(by="qname", limit=10)
    assert [(i.key, i.count) for i in ranking.items] == [
        (i.name, i.count) for i in dns.summary().top_qnames
    ]
    assert ranking.others + sum(i.count for i in ranking.items) == sum(
        dns.summary().qtypes.values()
    )


@pytest.mark.parametrize(
    "by", ["qname", "registered_domain", "client", "server", "qtype", "rcode", "answer"]
)
def test_every_ranking_is_sorted_and_complete(dns, by):
    ranking = dns.rank(by=by, limit=1000)
    counts = [(-i.count, i.key) for i in ranking.items]
    assert counts == sorted(counts)
    assert ranking.others == 0
    assert ranking.total_distinct == len(ranking.items)


def test_ranking_of_clients_matches_summary_clients(dns):
    ranking = {i.key: i.count for i in dns.rank(by="client", limit=100).items}
    assert ranking == {c.address: c.queries for c in dns.summary().clients}


def test_filtered_ranking_answers_top_nxdomain_names(dns):
    ranking = dns.rank(by="qname", rcode="NXDOMAIN")
    assert {i.key for i in ranking.items} == {n.name for n in dns.summary().nxdomain_names}


def test_message_lookup_by_frame_and_index(dns, records):
    frame = records[0]["query_frame"]
    message = dns.message(frame)
    assert message.frame == frame and message.qr is False
    assert bytes.fromhex(message.raw_hex)[:2] == message.trans_id.to_bytes(2, "big")
    assert message.record_id == f"{frame}:0"  # what `record(dns.messages, id)` fetches it by
    assert message.id == message.trans_id
    with pytest.raises(NotFoundError, match="no DNS message"):
        dns.message(1_000_000)
    with pytest.raises(NotFoundError, match="index"):
        dns.message(frame, 5)


def test_timeline_counts_every_message_in_its_bucket(dns, analysis):
    timeline = dns.summary().timeline
    base, interval = timeline.buckets[0].start, timeline.interval
    counted = [[0, 0, 0] for _ in timeline.buckets]
    for message in dns.iter_messages():
        bucket = counted[int((message["ts"] - base) // interval)]
        bucket[1 if message["qr"] else 0] += 1
        bucket[2] += bool(message["qr"] and message["rcode"])
    assert [[b.queries, b.responses, b.errors] for b in timeline.buckets] == counted
    assert sum(b.queries + b.responses for b in timeline.buckets) == dns.summary().messages


def test_registered_domain_ranking_equals_summary_top_list(dns):
    ranking = dns.rank(by="registered_domain", limit=10)
    summary = dns.summary()
    assert [(i.key, i.count) for i in ranking.items] == [
        (i.name, i.count) for i in summary.top_registered_domains
    ]
    assert ranking.total_distinct == summary.distinct_registered_domains


@pytest.mark.parametrize("by", ["qname", "registered_domain", "qtype", "client"])
def test_whole_capture_ranking_read_from_scan_tallies_equals_grouping_questions(dns, by):
    everything = dns.rank(by=by, limit=1000)  # read from the scan's tallies
    grouped = dns.rank(by=by, limit=1000, since="2000-01-01T00:00:00Z")  # grouped from questions
    assert everything.items and everything.model_dump() == grouped.model_dump()


def test_question_rankings_count_every_question_of_every_query_message(tmp_path, make_settings):
    """Questions beyond a message's first live beside the transaction (store_schema): rankings
    made from the store count them, and retransmissions, exactly as the scan's tallies do."""
    from tests.fixtures.packets import (
        LINKTYPE_ETHERNET,
        Clock,
        encode_name,
        ether,
        pcap_bytes,
        raw_dns,
        raw_question,
        udp_packet,
    )

    client, server = ("10.0.0.2", 40000, "02:00:00:00:00:02"), ("10.0.0.1", 53)

    def query(qid: int, *names: tuple[str, int]) -> bytes:
        questions = [raw_question(encode_name(name), qtype) for name, qtype in names]
        packet = udp_packet(
            client[0], server[0], client[1], server[1], raw_dns(qid, 0x0100, questions)
        )
        return bytes(ether(packet, client[2]))

    def unsolicited_response(qid: int, name: str) -> bytes:
        message = raw_dns(qid, 0x8180, [raw_question(encode_name(name), 1)])
        packet = udp_packet(server[0], client[0], server[1], client[1], message)
        return bytes(ether(packet, client[2]))

    asked = [
        unsolicited_response(9, "stray.example"),  # a transaction with a question but no query
        query(1, ("www.a.example", 1), ("mail.B.example", 28)),
        query(1, ("WWW.a.example", 1), ("other.c.example", 15)),  # a retransmission
        query(2, ("www.a.example", 28)),
        query(3, ("x.c.example", 1), ("y.c.example", 1), ("x.c.example", 16)),
    ]
    clock = Clock()
    capture = tmp_path / "questions.pcap"
    capture.write_bytes(pcap_bytes([clock.frame(q) for q in asked], LINKTYPE_ETHERNET))
    with Analyzer(make_settings()).analyze(capture, capture.name) as result:
        dns = result.module("dns")
        summary = dns.summary()
        assert summary.transactions == 4  # the retransmission is counted on the first
        for by in ("qname", "registered_domain", "qtype"):
            grouped = dns.rank(by=by, limit=100, since="2000-01-01T00:00:00Z")
            assert sum(i.count for i in grouped.items) == 8, by
            # whole-capture rankings are read from the tallies
            assert grouped.model_dump() == dns.rank(by=by, limit=100).model_dump()
        qtypes = dns.rank(by="qtype", limit=100, since="2000-01-01T00:00:00Z")
        assert {i.key: i.count for i in qtypes.items} == summary.qtypes
        names = dns.rank(by="qname", limit=100, since="2000-01-01T00:00:00Z")
        assert {i.key: i.count for i in names.items} == {
            "www.a.example": 3,
            "mail.b.example": 1,
            "other.c.example": 1,
            "x.c.example": 2,
            "y.c.example": 1,
        }


@pytest.mark.parametrize(
    "filters", [{}, {"qtype": "A"}, {"client": "192.168.1.16/28", "answered": True}]
)
def test_answer_ranking_counts_the_answers_of_the_matching_transactions(dns, filters):
    ranking = dns.rank(by="answer", limit=1000, **filters)
    expected: dict[str, int] = {}
    for record in dns.iter_transactions(**filters):
        for answer in record["answers"] or ():
            expected[answer.lower()] = expected.get(answer.lower(), 0) + 1  # as the store keeps it
    assert expected and {i.key: i.count for i in ranking.items} == expected
