"""conn on hostile captures (found by benchmarks/fuzz_modules.py): every record it gives still
fits its model."""

from __future__ import annotations

from pathlib import Path

from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer
from mcpcap.modules.conn.models import Connection

CLIENT, RESOLVER, SERVER = "10.0.0.7", "10.0.0.53", "192.0.2.10"


def _answer_without_question(path: Path) -> Path:
    """A DNS query with no question, answered with SERVER's address; then CLIENT connects there."""
    eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    answer = DNSRR(rrname="www.example.com", type="A", rdata=SERVER)
    packets = [
        eth / IP(src=CLIENT, dst=RESOLVER) / UDP(sport=40000, dport=53) / DNS(id=7, qdcount=0),
        eth / IP(src=RESOLVER, dst=CLIENT) / UDP(sport=53, dport=40000)
        / DNS(id=7, qr=1, qd=DNSQR(qname="www.example.com"), an=answer),
        eth / IP(src=CLIENT, dst=SERVER) / TCP(sport=40100, dport=443, flags="S", seq=1),
        eth / IP(src=SERVER, dst=CLIENT) / TCP(sport=443, dport=40100, flags="SA", ack=2),
    ]  # fmt: skip
    for n, packet in enumerate(packets):
        packet.time = 1_700_000_000 + n
    wrpcap(str(path), packets)
    return path


def test_an_answer_to_no_question_resolves_nothing(tmp_path, make_settings):
    """A transaction without a query gave `resolved_by.query` null, which the model refuses."""
    capture = _answer_without_question(tmp_path / "no-question.pcap")
    settings = make_settings(modules=["dns", "conn"], no_cache=True)
    with Analyzer(settings).analyze(capture, capture.name) as analysis:
        (transaction,) = KindQuery(analysis, "dns.transactions").iterate()
        records = list(KindQuery(analysis, "conn.connections").iterate())
    assert transaction["query"] is None and SERVER in transaction["answers"]
    (record,) = [r for r in records if r["server"] == SERVER]
    assert record["resolved_by"] is None
    for record in records:
        Connection.model_validate(record)
