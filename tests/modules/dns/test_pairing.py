"""Query/response pairing rules (see mcpcap/modules/dns/pairing.py)."""

from __future__ import annotations

import sqlite3
from types import SimpleNamespace

import pytest

from mcpcap.modules.dns.domains import registered_domain
from mcpcap.modules.dns.pairing import MULTICAST_WINDOW, QUERY_TIMEOUT, Pairer, message_view
from mcpcap.modules.dns.store_schema import TRANSACTION_COLUMNS, answers_digest, create_tables


def message(trans_id, qr, name="example.com", qtype=1, rcode=0, answers=(), owner=None):
    """A `Brief` (see mcpcap.modules.dns.decoder) of a message with one question."""
    return brief(
        trans_id,
        0x8180 | rcode if qr else 0x0100,
        [question(name, qtype, qr)] if name else [],
        [(owner or name, 1, 1, 300, a, False) for a in answers],
    )


def brief(trans_id: int, flags: int, questions: list, records: list) -> tuple:
    """A `Brief` as the decoder makes it, view included."""
    rcode = flags & 0xF
    digest = answers_digest(records)
    keys = () if questions else tuple((r[0].lower(), r[1]) for r in records)
    view = message_view(flags, rcode, questions, digest, len(records), keys)
    return (trans_id, flags, rcode, 0, None, questions, digest, len(records), keys, b"", view)


def question(name: str, qtype: int, qr: bool) -> tuple:
    """As the decoder gives it: a query's question also carries its lowered name and domain."""
    if qr:
        return (name, qtype, 1, False)
    return (name, qtype, 1, False, name.lower(), registered_domain(name.lower()))


CLIENT, SERVER = ("10.0.0.2", 40000), ("10.0.0.1", 53)


def query(frame, ts, trans_id, client=CLIENT, server=SERVER, protocol="dns", **kw):
    meta = (frame, ts, *client, *server, "udp", protocol)
    return message(trans_id, False, **kw), meta


def response(frame, ts, trans_id, client=CLIENT, server=SERVER, protocol="dns", **kw):
    meta = (frame, ts, *server, *client, "udp", protocol)
    return message(trans_id, True, **kw), meta


def stored(row: tuple, extra: tuple, values: tuple) -> SimpleNamespace:
    """A transaction as pairing hands it to the store: its row's columns by name, with its
    extra questions and answer values."""
    tx = SimpleNamespace(**dict(zip(TRANSACTION_COLUMNS, row, strict=True)))
    tx.extra_questions, tx.values = list(extra), values
    return tx


def run(*messages, python: bool = False):
    """The messages paired by `add` (compiled where it was built), or by its Python reference."""
    done = []
    pairer = Pairer(lambda *emitted: done.append(stored(*emitted)))
    add = pairer.python_add if python else pairer.add
    for msg, meta in messages:
        add(msg[0], msg[10], meta)
    pairer.finish()
    return sorted(done, key=lambda tx: tx.id), pairer


def test_query_and_response_pair_with_rtt():
    (tx,), _ = run(query(1, 10.0, 7), response(2, 10.025, 7, answers=["192.0.2.1"]))
    assert (tx.query_frame, tx.response_frame) == (1, 2)
    assert abs(tx.rtt - 0.025) < 1e-9
    assert (tx.answers, tx.ttls, tx.values) == ("\x1e192.0.2.1", "\x1e300", ("192.0.2.1",))
    assert (tx.client, tx.server) == CLIENT[:1] + SERVER[:1]


def test_same_id_on_another_client_port_is_another_transaction():
    other = ("10.0.0.2", 40001)
    txs, _ = run(
        query(1, 1.0, 7),
        query(2, 1.1, 7, client=other),
        response(3, 1.2, 7, client=other),
        response(4, 1.3, 7),
    )
    assert [(t.query_frame, t.response_frame) for t in txs] == [(1, 4), (2, 3)]


def test_id_reuse_pairs_first_in_first_out():
    txs, _ = run(
        query(1, 1.0, 9, name="a.example"),
        query(2, 1.1, 9, name="b.example"),
        response(3, 1.2, 9, name="a.example"),
        response(4, 1.3, 9, name="b.example"),
    )
    assert [(t.query, t.response_frame) for t in txs] == [("a.example", 3), ("b.example", 4)]


def test_retransmission_is_counted_not_a_new_transaction():
    txs, pairer = run(query(1, 1.0, 5), query(2, 2.0, 5), response(3, 2.01, 5))
    assert len(txs) == 1
    assert txs[0].retransmissions == 1
    assert pairer.retransmissions == 1
    # the retransmission's question is the transaction's own: rankings count it 1 + retransmissions
    # times, and keep only questions beyond a message's first on the side
    assert (txs[0].query, txs[0].domain, txs[0].extra_questions) == (
        "example.com",
        "example.com",
        [],
    )


def test_questions_beyond_the_first_of_each_query_message_are_kept():
    questions = [question("example.com", 1, False), question("Other.example", 28, False)]
    two = brief(5, 0x0100, questions, [])
    meta = query(1, 1.0, 5)[1]
    txs, _ = run((two, meta), (two, (2, 2.0, *meta[2:])), response(3, 2.01, 5))
    second = ("other.example", 28, "other.example")  # (qname, qtype, domain) as stored
    assert (txs[0].retransmissions, txs[0].extra_questions) == (1, [second, second])
    assert len(two[10][4]) == 1  # the message's own view is left as it was


def test_duplicate_response_is_counted_not_unsolicited():
    txs, pairer = run(query(1, 1.0, 5), response(2, 1.01, 5), response(3, 1.02, 5))
    assert len(txs) == 1
    assert pairer.duplicate_responses == 1
    assert pairer.unsolicited == 0


def test_unsolicited_response_is_its_own_transaction():
    (tx,), pairer = run(response(1, 1.0, 77))
    assert tx.query_frame is None and tx.response_frame == 1
    assert tx.rtt is None
    assert pairer.unsolicited == 1


def test_unanswered_query_is_kept():
    (tx,), _ = run(query(1, 1.0, 3))
    assert tx.response_frame is None and not tx.answered


def test_waiting_query_expires_after_timeout():
    txs, _ = run(query(1, 0.0, 3), response(2, QUERY_TIMEOUT + 50, 3))
    assert [t.answered for t in txs] == [False, True]
    assert txs[1].query_frame is None  # the late response became unsolicited


def after_a_sweep(*later, python: bool):
    """The query of frame 1 (id 3) at 0 s, still waiting after the sweep at 100 s that
    another client's query causes (it is 100 s old then), then `later` before the next sweep."""
    other = ("10.0.0.3", 40001)
    return run(query(1, 0.0, 3), query(2, 100.0, 9, client=other), *later, python=python)


@pytest.mark.parametrize("python", [False, True], ids=["add", "python_add"])
def test_a_response_later_than_the_timeout_answers_nothing_between_sweeps(python):
    txs, pairer = after_a_sweep(response(3, QUERY_TIMEOUT + 1, 3), python=python)
    late = [t for t in txs if t.response_frame == 3]
    assert [t.query_frame for t in late] == [None]  # unsolicited, as past a sweep
    assert [t.answered for t in txs if t.query_frame == 1] == [False]
    assert pairer.unsolicited == 1


@pytest.mark.parametrize("python", [False, True], ids=["add", "python_add"])
def test_a_query_repeated_after_the_timeout_is_a_new_transaction(python):
    txs, pairer = after_a_sweep(
        query(3, QUERY_TIMEOUT + 1, 3), response(4, QUERY_TIMEOUT + 1.5, 3), python=python
    )
    assert pairer.retransmissions == 0
    by_query = {t.query_frame: t for t in txs}
    assert not by_query[1].answered and by_query[1].response_frame is None
    assert by_query[3].response_frame == 4


def test_mdns_multicast_response_pairs_by_question():
    group = ("224.0.0.251", 5353)
    asker = ("192.168.1.20", 5353)
    responder = ("192.168.1.30", 5353)
    q_msg, q_meta = query(
        1, 5.0, 0, client=asker, server=group, protocol="mdns", name="printer.local"
    )
    r_msg = message(0, True, name=None, answers=["192.168.1.30"], owner="printer.local")
    r_meta = (2, 5.1, *responder, *group, "udp", "mdns")
    (tx,), _ = run((q_msg, q_meta), (r_msg, r_meta))
    assert tx.answered and tx.server == responder[0]
    assert tx.query_frame == 1 and tx.response_frame == 2


def test_mdns_response_outside_window_is_unsolicited():
    group = ("224.0.0.251", 5353)
    asker = ("192.168.1.20", 5353)
    q_msg, q_meta = query(
        1, 5.0, 0, client=asker, server=group, protocol="mdns", name="printer.local"
    )
    r_msg = message(0, True, name="printer.local", answers=["192.168.1.30"])
    r_meta = (2, 5.0 + MULTICAST_WINDOW + 1, "192.168.1.30", 5353, *group, "udp", "mdns")
    txs, pairer = run((q_msg, q_meta), (r_msg, r_meta))
    assert [t.answered for t in txs] == [False, True]
    assert pairer.unsolicited == 1


def test_transaction_columns_name_the_table_columns(tmp_path) -> None:
    """Pairing's rows are laid out as `TRANSACTION_COLUMNS` says: the table's own order."""
    db = sqlite3.connect(tmp_path / "store.db")
    create_tables(db)
    columns = tuple(row[1] for row in db.execute("PRAGMA table_info(dns_transactions)"))
    assert columns == TRANSACTION_COLUMNS


def analysed(tmp_path, port: int, messages: list, step: float) -> dict[str, list]:
    """(from the client?, DNS message) as datagrams between 10.0.0.1:40000 and 10.0.0.53 on
    `port`, `step` seconds apart, analysed: every DNS kind's records."""
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.utils import wrpcap

    from mcpcap.core.config import build_settings
    from mcpcap.core.records import KindQuery
    from mcpcap.core.service import Analyzer

    ask = Ether() / IP(src="10.0.0.1", dst="10.0.0.53") / UDP(sport=40000, dport=port)
    back = Ether() / IP(src="10.0.0.53", dst="10.0.0.1") / UDP(sport=port, dport=40000)
    packets = [(ask if from_client else back) / message for from_client, message in messages]
    for n, packet in enumerate(packets):
        packet.time = 1_714_554_000 + n * step
    capture = tmp_path / "exchange.pcap"
    wrpcap(str(capture), packets)
    settings = build_settings({"modules": "dns", "no_cache": True})
    with Analyzer(settings).analyze(capture, capture.name) as found:
        kinds = ("dns.transactions", "dns.malformed", "dns.messages")
        return {kind: list(KindQuery(found, kind).iterate()) for kind in kinds}


def test_a_message_shorter_than_its_header_is_malformed_and_never_paired(tmp_path):
    """Six bytes with a query's id, then the real query and its response on the same flow: the
    fragment is a malformed message, and the response answers the real query (Zeek's DNS
    analyzer raises no event for a message shorter than its header)."""
    from scapy.layers.dns import DNS, DNSQR, DNSRR

    from mcpcap.core.decap import Segment
    from mcpcap.modules.dns.scan import WorkerDecoder

    fragment = bytes.fromhex("080801000001")  # id 0x0808, RD, then nothing of a header
    real = DNS(id=0x0808, rd=1, qd=DNSQR(qname="real.example"))
    answer = DNS(id=0x0808, qr=1, rd=1, ra=1, qd=real.qd,
                 an=DNSRR(rrname="real.example", rdata="192.0.2.7"))  # fmt: skip
    found = analysed(tmp_path, 53, [(True, fragment), (True, real), (False, answer)], 0.1)
    (transaction,), (malformed,) = found["dns.transactions"], found["dns.malformed"]
    messages = found["dns.messages"]
    assert (transaction["query"], transaction["query_frame"]) == ("real.example", 2)
    assert (transaction["response_frame"], transaction["answers"]) == (3, ["192.0.2.7"])
    assert (malformed["frame"], malformed["reason"]) == (1, "truncated_header")
    assert len(messages) == 3
    worker = WorkerDecoder()  # a span worker hands pairing nothing of it either
    seg = Segment("udp", "10.0.0.1", 40000, "10.0.0.53", 53, fragment, 0, 0)
    assert worker(1, 0.0, seg) is None


@pytest.mark.parametrize(
    ("rcode", "with_question", "records", "rejected"),
    [
        (3, True, 1, 0),  # NXDOMAIN with its SOA: Zeek's dns_query_reply, not rejected
        (3, True, 0, 1),  # no record at all: DNS.cc raises dns_rejected
        (0, True, 0, 1),
        (0, True, 2, 0),
        (2, False, 0, 1),  # a failure naming no question: dns/main.zeek sets rejected
        (0, False, 0, 0),
    ],
)
def test_rejected_is_zeeks(rcode, with_question, records, rejected):
    questions = [question("example.com", 1, True)] if with_question else []
    digest = answers_digest([])
    view = message_view(0x8180 | rcode, rcode, questions, digest, records, ())
    assert view[1][8] == rejected


@pytest.mark.parametrize("python", [False, True], ids=["add", "python_add"])
def test_the_querys_z_bits_stay_the_transactions_as_its_rd_does(python):
    """Zeek takes Z from the request (dns_request), as RD: an AD bit the query set (Z 2)
    stays though the response clears it, answered or not."""
    asked = brief(5, 0x0120, [question("example.com", 1, False)], [])
    answer = brief(5, 0x8180, [question("example.com", 1, True)], [])
    meta_q = (1, 1.0, *CLIENT, *SERVER, "udp", "dns")
    meta_r = (2, 1.5, *SERVER, *CLIENT, "udp", "dns")
    (answered,), _ = run((asked, meta_q), (answer, meta_r), python=python)
    assert answered.z == 2 and answered.response_frame == 2
    (unanswered,), _ = run((asked, meta_q), python=python)
    assert unanswered.z == 2


def test_an_mdns_query_of_two_questions_pairs_with_an_answer_to_either():
    group, asker = ("224.0.0.251", 5353), ("192.168.1.20", 5353)
    responder = ("192.168.1.30", 5353)
    asked = brief(0, 0, [question("host.local", 1, False), question("host.local", 28, False)],
                  [])  # fmt: skip
    q_meta = (1, 5.0, *asker, *group, "udp", "mdns")
    answer = brief(0, 0x8400, [], [("host.local", 28, 1, 120, "fe80::1", False)])
    r_meta = (2, 5.1, *responder, *group, "udp", "mdns")
    (tx,), pairer = run((asked, q_meta), (answer, r_meta))
    assert tx.answered and tx.server == responder[0] and tx.response_frame == 2
    assert pairer.unsolicited == 0


def test_a_query_retransmitted_on_another_port_counts_on_the_first(tmp_path):
    """DNS on a port that is not DNS's is kept until a response proves the server speaks it;
    a retransmission waiting beside the first query is a retransmission once proven (it
    replaced the first: rtt from the second, the first message lost)."""
    from scapy.layers.dns import DNS, DNSQR, DNSRR

    query = DNS(id=7, rd=1, qd=DNSQR(qname="again.example"))
    answer = DNS(id=7, qr=1, rd=1, ra=1, qd=query.qd,
                 an=DNSRR(rrname="again.example", rdata="192.0.2.9"))  # fmt: skip
    found = analysed(tmp_path, 5300, [(True, query), (True, query), (False, answer)], 0.5)
    (transaction,), messages = found["dns.transactions"], found["dns.messages"]
    assert (transaction["query_frame"], transaction["rtt"]) == (1, 1.0)
    assert transaction["retransmissions"] == 1 and len(messages) == 3
