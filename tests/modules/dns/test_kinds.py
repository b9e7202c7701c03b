"""DNS's record kinds asked the generic way (`KindQuery`), as every face will ask them."""

from __future__ import annotations

from typing import Any

import pytest

from mcpcap.core.errors import BadArgumentError, NotFoundError
from mcpcap.core.export import connection_uid
from mcpcap.core.records import KindQuery, describe


@pytest.fixture(scope="module")
def everything(analysis) -> list[dict[str, Any]]:
    return list(analysis.module("dns").iter_transactions())


def walk(query: KindQuery, text: str, sort: str | None = None, limit: int = 7) -> list[dict]:
    """Every record of a filtered kind, page by page through the cursors."""
    seen, cursor = [], None
    while True:
        page = query.page(text, sort=sort, limit=limit, cursor=cursor)
        seen += page.items
        assert page.total >= len(seen)
        if page.next_cursor is None:
            assert page.total == len(seen)
            return seen
        cursor = page.next_cursor


CASES = [  # filter text -> the same test written in Python over every transaction
    ("rcode:NXDOMAIN,SERVFAIL", lambda r: r["rcode_name"] in ("NXDOMAIN", "SERVFAIL")),
    ("-rcode:NOERROR", lambda r: r["rcode_name"] != "NOERROR"),
    ("qtype:A,AAAA -answered:false", lambda r: r["qtype_name"] in ("A", "AAAA") and r["answered"]),
    ("rtt>0.01", lambda r: r["rtt"] is not None and r["rtt"] > 0.01),
    ("rtt<=0.01 rtt>0", lambda r: r["rtt"] is not None and 0 < r["rtt"] <= 0.01),
    ("-qtype:A -qtype:AAAA", lambda r: r["qtype_name"] not in ("A", "AAAA")),
    ("transport:udp,tcp -protocol:mdns", lambda r: r["protocol"] != "mdns"),
]


@pytest.mark.parametrize(("text", "test"), CASES, ids=[c[0] for c in CASES])
def test_the_filter_language_selects_what_python_selects(analysis, everything, text, test):
    expected = [r["id"] for r in everything if test(r)]
    assert expected, "the case must select something in the example"
    assert len(expected) < len(everything) or text.startswith("transport")
    query = KindQuery(analysis, "dns.transactions")
    assert [r["id"] for r in walk(query, text)] == expected
    assert [r["id"] for r in query.iterate(text)] == expected


def test_named_arguments_and_tokens_are_one_filter(analysis, everything):
    name = next(r["query"] for r in everything if r["rcode_name"] == "NXDOMAIN")
    suffix = ".".join(name.split(".")[-2:])
    query = KindQuery(analysis, "transactions")  # the CLI's shorthand names the same kind
    by_token = query.page(f"rcode:NXDOMAIN qname_suffix:{suffix}", limit=100)
    by_name = query.page(rcode="NXDOMAIN", qname_suffix=suffix, limit=100)
    mixed = query.page("rcode:NXDOMAIN", qname_suffix=suffix, limit=100)
    assert by_token.items == by_name.items == mixed.items
    assert 0 < by_token.total < len(everything)


def test_a_record_is_fetched_alone_by_its_id(analysis, everything):
    query = KindQuery(analysis, "dns.transactions")
    for record in everything[:: max(1, len(everything) // 9)]:
        assert query.one(str(record["id"])) == record
    with pytest.raises(NotFoundError, match="no record with id"):
        query.one("999999999")


def test_records_of_one_flow_share_its_uid(everything):
    for record in everything:
        assert record["uid"] == connection_uid(record)
        assert record["uid"].startswith("C") and len(record["uid"]) == 18
    flows = {(r["client"], r["client_port"], r["server"], r["server_port"]) for r in everything}
    assert len({r["uid"] for r in everything}) == len(flows)


def test_messages_page_through_every_message_once(analysis):
    query = KindQuery(analysis, "dns.messages")
    paged = walk(query, "", limit=23)
    assert paged == list(analysis.module("dns").iter_messages())
    frame, index = paged[5]["frame"], paged[5]["index"]
    assert query.one(f"{frame}:{index}")["frame"] == frame
    with pytest.raises(NotFoundError):
        query.one("twelve")


def test_rankings_read_the_same_filter(analysis):
    query = KindQuery(analysis, "dns.transactions")
    ranking = query.top("rcode:NXDOMAIN", by="qname", limit=5)
    assert ranking == analysis.module("dns").rank(by="qname", limit=5, rcode="NXDOMAIN")
    with pytest.raises(BadArgumentError, match="did you mean 'qname'"):
        query.top(by="qnme")
    with pytest.raises(BadArgumentError, match="weighted by count"):
        query.top(by="qname", weight="bytes")


def test_unknown_kinds_sorts_and_filters_are_one_sentence(analysis):
    with pytest.raises(BadArgumentError, match=r"did you mean 'dns\.transactions'"):
        KindQuery(analysis, "dns.transaction")
    query = KindQuery(analysis, "dns.transactions")
    with pytest.raises(BadArgumentError, match="did you mean 'rtt'"):
        query.page(sort="rt")
    with pytest.raises(BadArgumentError, match="did you mean 'rcode'"):
        query.page("rcod:3")
    with pytest.raises(BadArgumentError, match="filters are: qr, qtype, rcode"):
        KindQuery(analysis, "dns.messages").page("zzzz:3")


def test_describe_lists_every_kind_with_its_filters(analysis):
    brief = {k.kind: k for k in describe(analysis.modules).kinds}
    dns_first = ["dns.transactions", "dns.messages", "dns.malformed", "dns.findings"]
    assert list(brief)[:4] == dns_first  # then the other modules' kinds
    assert brief["dns.transactions"].fields is None  # one kind at a time shows its fields
    kinds = {k.kind: k for k in describe(analysis.modules, "dns.transactions").kinds}
    assert kinds["dns.transactions"].fields
    filters = {f.name: f for f in kinds["dns.transactions"].filters}
    assert "NXDOMAIN" in filters["rcode"].values
    assert filters["rtt"].ordered and not filters["rcode"].ordered
    assert [r.name for r in kinds["dns.transactions"].rank_by][:2] == ["qname", "registered_domain"]


def test_a_message_carries_the_uid_of_its_transaction(analysis, everything):
    dns = analysis.module("dns")
    by_frame = {m["frame"]: m for m in dns.iter_messages()}
    for record in everything:
        for frame in (record["query_frame"], record["response_frame"]):
            if frame is not None and record["protocol"] == "dns":
                assert by_frame[frame]["uid"] == record["uid"]
