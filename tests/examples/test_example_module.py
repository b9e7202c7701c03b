"""The third-party NTP example, installed with pip, driven through the core with no NTP code in it.

The expected values come from the script that wrote the capture (tests/fixtures/make_ntp.py).
"""

from __future__ import annotations

import sys
from collections import Counter
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from mcpcap.core.errors import NotFoundError
from mcpcap.core.modules.contract import ProtocolModule
from mcpcap.core.modules.registry import ENTRY_POINT_GROUP, available_modules, load_module
from mcpcap.core.records import KindQuery, describe
from mcpcap.core.service import Analyzer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
sys.path.insert(0, str(FIXTURES))
import make_ntp  # noqa: E402

CAPTURE = FIXTURES / "ntp" / "ntp.pcap"


@pytest.fixture(params=[1, 2], ids=["serial", "workers"])
def analysis(request, make_settings):
    """dns and ntp in one scan; with 2 workers the NTP decoder runs in worker processes."""
    settings = make_settings(modules=["dns", "ntp"], workers=request.param)
    with Analyzer(settings).analyze(CAPTURE, CAPTURE.name) as found:
        yield found


def approx_record(record: dict) -> dict:
    return {k: pytest.approx(v, abs=1e-6) if isinstance(v, float) else v for k, v in record.items()}


def test_the_committed_capture_is_what_the_script_writes():
    assert CAPTURE.read_bytes() == make_ntp.capture_bytes()


def test_the_module_comes_from_its_package_entry_point():
    (ep,) = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == "ntp"]
    assert ep.dist is not None and ep.dist.name == "mcpcap-example-module"
    assert "ntp" in available_modules()
    module = load_module("ntp")
    assert isinstance(module, ProtocolModule)
    assert module.udp_decoder() is not None  # scans with it stay parallel


def test_every_exchange_pages_out_as_the_generator_wrote_it(analysis):
    query = KindQuery(analysis, "ntp.exchanges")
    seen, cursor = [], None
    while True:
        page = query.page(limit=3, cursor=cursor)
        assert page.total == len(make_ntp.EXCHANGES)
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    expected = sorted(make_ntp.expected_exchanges(), key=lambda r: r["ts"])
    assert [{k: r[k] for k in expected[0]} for r in seen] == [approx_record(r) for r in expected]
    for record in seen:
        query.kind.model(**record)  # every record is what the kind declares
        assert record["time"].startswith("2024-05-01T09:0") and record["time"].endswith("Z")


def test_one_exchange_by_id_and_a_missing_one(analysis):
    query = KindQuery(analysis, "ntp.exchanges")
    kiss = next(r for r in make_ntp.expected_exchanges() if r["reference_id"] == "RATE")
    found = query.one(str(kiss["id"]))
    assert found["stratum"] == 0 and found["offset"] == pytest.approx(kiss["offset"], abs=1e-6)
    assert found["response_frame"] == kiss["response_frame"]
    with pytest.raises(NotFoundError, match=r"^ntp\.exchanges has no record with id '999'$"):
        query.one("999")


FILTERS = {
    "answered:false": lambda r: not r["answered"],
    "stratum>=2": lambda r: r["stratum"] is not None and r["stratum"] >= 2,
    "-stratum:2": lambda r: r["stratum"] != 2,
    "offset<0": lambda r: r["offset"] is not None and r["offset"] < 0,
    "server:192.0.2.0/24 offset>0.0123": lambda r: (
        r["server"] == "192.0.2.123" and r["offset"] > 0.0123
    ),
    "version:3": lambda r: r["version"] == 3,
    "client:2001:db8:0:1::10,192.168.1.12": lambda r: (
        r["client"] in ("2001:db8:0:1::10", "192.168.1.12")
    ),
    "reference_id:GPS,RATE": lambda r: r["reference_id"] in ("GPS", "RATE"),
}


@pytest.mark.parametrize("text", list(FILTERS))
def test_filters_select_what_the_generator_says(analysis, text):
    query = KindQuery(analysis, "ntp.exchanges")
    expected = sorted(r["id"] for r in make_ntp.expected_exchanges() if FILTERS[text](r))
    assert expected
    page = query.page(text, limit=50)
    assert page.total == len(expected)
    assert sorted(r["id"] for r in page.items) == expected


def test_sorted_by_offset_unanswered_last(analysis):
    query = KindQuery(analysis, "ntp.exchanges")
    offsets = [r["offset"] for r in query.iterate(sort="-offset")]
    answered = sorted((r["offset"] for r in make_ntp.expected_exchanges() if r["answered"]),
                      reverse=True)  # fmt: skip
    assert offsets == [pytest.approx(o, abs=1e-6) for o in answered] + [None]


RANKINGS = [("server", "packets"), ("stratum", "count"), ("client", "count"),
            ("reference_id", "packets")]  # fmt: skip


@pytest.mark.parametrize(("by", "weight"), RANKINGS)
def test_rankings_match_the_generator(analysis, by, weight):
    counts: Counter[str] = Counter()
    for r in make_ntp.expected_exchanges():
        if r[by] is not None:
            counts[str(r[by])] += 1 if weight == "count" else 1 + r["answered"]
    ranking = KindQuery(analysis, "ntp.exchanges").top(by=by, weight=weight, limit=2)
    assert ranking.total_distinct == len(counts)
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:2]
    assert [(i.key, i.count) for i in ranking.items] == top
    assert ranking.others == sum(counts.values()) - sum(n for _, n in top)
    assert (ranking.next_cursor is not None) == (len(counts) > 2)


def test_malformed_datagrams_are_a_kind_with_reason_and_frame(analysis):
    frames = [n for n, (label, _) in enumerate(make_ntp.frames(), 1) if label == "malformed"]
    items = KindQuery(analysis, "ntp.malformed").page().items
    assert [i["frame"] for i in items] == frames
    assert [i["reason"] for i in items] == [
        "empty datagram",
        "shorter than the 48-byte header",
        "unknown version",
    ]
    top = KindQuery(analysis, "ntp.malformed").top(by="reason")
    assert top.total_distinct == 3


def test_summary_counts_and_traffic(analysis):
    truth = make_ntp.expected_exchanges()
    answered = [r for r in truth if r["answered"]]
    summary = analysis.summary()["ntp"]
    assert summary["exchanges"] == len(truth) and summary["answered"] == len(answered)
    assert summary["clients"] == len({r["client"] for r in truth})
    assert summary["servers"] == len({r["server"] for r in truth})
    assert summary["strata"] == dict(Counter(str(r["stratum"]) for r in answered))
    offsets = sorted(r["offset"] for r in answered)
    assert summary["offset"]["min"] == pytest.approx(offsets[0], abs=1e-6)
    assert summary["offset"]["max"] == pytest.approx(offsets[-1], abs=1e-6)
    assert summary["offset"]["p50"] == pytest.approx(offsets[len(offsets) // 2 - 1], abs=1e-6)
    labels = Counter(label.split()[0] for label, _ in make_ntp.frames())
    # every client or server message counts, the response nobody asked for included
    assert analysis.traffic("ntp") == labels["request"] + labels["response"] + labels["unmatched"]
    assert analysis.traffic("dns") == labels["dns"]
    assert "ntp" in [m.name for m in analysis.modules]


def test_describe_reads_the_kinds_declaration(analysis):
    catalog = describe(analysis.modules, "ntp.exchanges")
    (kind,) = catalog.kinds
    assert [f.name for f in kind.filters] == [
        "client", "server", "stratum", "version", "reference_id", "answered", "offset"
    ]  # fmt: skip
    assert kind.sorts == ["ts", "-ts", "offset", "-offset"]
    assert {r.name for r in kind.rank_by} == {"client", "server", "stratum", "reference_id"}


@pytest.mark.parametrize("capture", [CAPTURE, None], ids=["ntp.pcap", "example.pcap"])
def test_dns_results_are_the_same_with_the_ntp_module(make_settings, example, capture):
    capture = capture or example

    def dns_view(modules: list[str]) -> tuple:
        with Analyzer(make_settings(modules=modules)).analyze(capture, capture.name) as found:
            dns = found.module("dns")
            rows = list(dns.iter_transactions())
            return found.summary()["dns"], rows, found.traffic("dns")

    alone, together = dns_view(["dns"]), dns_view(["dns", "ntp"])
    assert alone == together
    assert alone[2] > 0


def test_records_carry_the_uid_conn_gives_their_flow(make_settings):
    """A flow's records share one uid across modules, a third party's too: each exchange's and
    each malformed datagram's uid is that of the conn connection open at its time (the capture
    asks 192.0.2.123 again from 192.168.1.10:123 after more than a minute: conn's second
    connection of that flow, which the later exchange names)."""
    settings = make_settings(modules=["conn", "ntp"])
    with Analyzer(settings).analyze(CAPTURE, CAPTURE.name) as found:
        connections: dict[tuple, list[tuple[float, str]]] = {}
        for c in KindQuery(found, "conn.connections").iterate():
            ends = (c["client"], c["client_port"], c["server"], c["server_port"])
            connections.setdefault(ends, []).append((c["ts"], c["uid"]))
        exchanges = list(KindQuery(found, "ntp.exchanges").iterate())
        malformed = list(KindQuery(found, "ntp.malformed").iterate())

    def open_at(ends: tuple, ts: float) -> str:
        started = [uid for start, uid in sorted(connections[ends]) if start <= ts + 1e-6]
        return started[-1]

    assert exchanges and malformed
    assert any(len(flow) > 1 for flow in connections.values())
    for record in exchanges:
        ends = (record["client"], record["client_port"], record["server"], record["server_port"])
        assert record["uid"] == open_at(ends, record["ts"]) and record["transport"] == "udp"
    for record in malformed:
        ends = (record["src"], record["src_port"], record["dst"], record["dst_port"])
        assert record["uid"] == open_at(ends, record["ts"])
