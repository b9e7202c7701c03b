"""The conn module on its second generated capture (make_conn_captures.build_more): the DNS
answer a connection follows (`resolved_by`), conn_state S3 and RSTRH, failed connections
without one-way multicast and broadcast, `conn.malformed`, and the early-flush warning."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from mcpcap.core import parallel, scan
from mcpcap.core.export import connection_uid
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer
from mcpcap.modules.conn import tracker
from tests.fixtures.make_conn_captures import MALFORMED, MORE, build_more, expected_more

KEY = ("client", "client_port", "server", "server_port", "transport")


def analyzed(make_settings, modules: list[str], **flags: Any) -> dict[str, Any]:
    """The records of conn's kinds and of dns.transactions, the summary and the warnings."""
    settings = make_settings(modules=modules, no_cache=True, **flags)
    with Analyzer(settings).analyze(MORE, MORE.name) as analysis:
        found = {
            kind: list(KindQuery(analysis, kind).iterate())
            for kind in ("conn.connections", "conn.malformed")
        }
        if "dns" in modules:
            found["dns"] = list(KindQuery(analysis, "dns.transactions").iterate())
        found["summary"] = analysis.module("conn").summary()
        found["warnings"] = analysis.capture().warnings
        found["csv"] = _csv(analysis)
    return found


def _csv(analysis) -> list[dict[str, str]]:
    from mcpcap.core.export import write_records

    query = KindQuery(analysis, "conn.connections")
    out = io.StringIO()
    write_records(query.iterate(), out, "csv", query.kind)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


@pytest.fixture(scope="module")
def both() -> dict[str, Any]:
    from mcpcap.core.config import build_settings

    return analyzed(lambda **flags: build_settings(flags), ["dns", "conn"])


def keyed(records: list[dict]) -> dict[tuple, dict]:
    return {tuple(record[k] for k in KEY): record for record in records}


def test_the_capture_is_the_generator_output():
    assert MORE.read_bytes() == build_more()


def test_every_connection_as_the_ground_truth_says(both):
    records = keyed(both["conn.connections"])
    expected = expected_more()
    assert len(records) == len(expected)
    for truth in expected:
        record = records[tuple(truth[k] for k in KEY)]
        resolved = truth.pop("resolved_by", None)
        assert {k: record[k] for k in truth} == truth
        assert (record["resolved_by"] or {}).get("query") == resolved


def test_resolved_by_names_the_latest_answer_before_the_connection(both):
    (s3,) = [r for r in both["conn.connections"] if r["conn_state"] == "S3"]
    (transaction,) = [t for t in both["dns"] if t["query"] == "www.example.com"]
    assert s3["resolved_by"] == {
        "dns_uid": connection_uid(transaction),
        "query": "www.example.com",
        "time": transaction["time"],
    }
    assert transaction["ts"] <= s3["ts"]
    # the later answer names the same server, after the connection began: not it
    assert any(t["query"] == "later.example.com" for t in both["dns"])
    # another client that never asked: null
    (rstrh,) = [r for r in both["conn.connections"] if r["conn_state"] == "RSTRH"]
    assert rstrh["server"] == s3["server"] and rstrh["resolved_by"] is None


def test_resolved_by_is_in_the_csv_export(both):
    rows = {(row["client"], row["client_port"]): row for row in both["csv"]}
    assert json.loads(rows[("10.0.0.7", "40100")]["resolved_by"])["query"] == "www.example.com"
    assert rows[("10.0.0.8", "40200")]["resolved_by"] == ""


def test_without_dns_resolved_by_is_null(make_settings):
    found = analyzed(make_settings, ["conn"])
    assert all(record["resolved_by"] is None for record in found["conn.connections"])
    assert len(found["conn.connections"]) == len(expected_more())


def test_failed_connections_leave_one_way_multicast_and_broadcast_out(both):
    summary = both["summary"]
    assert summary.conn_states["S0"] == 5  # LLMNR (v4, v6), SSDP, DHCP discover, one unicast
    assert summary.failed_connections == {"192.0.2.99 udp/9999": 1}


def test_packets_whose_headers_do_not_decode_are_conn_malformed(both):
    items = both["conn.malformed"]
    assert [(i["frame"], i["reason"], i["transport"], i["src_port"], i["dst_port"])
            for i in items] == MALFORMED  # fmt: skip
    assert all(i["src"] == "10.0.0.7" and i["dst"] == "192.0.2.10" for i in items)
    assert both["summary"].malformed == {reason: 1 for _, reason, *_ in MALFORMED}
    # no connection holds them; the timeline still counts every frame
    assert not any(r["client_port"] in (58657, 5000) for r in both["conn.connections"])
    assert sum(bucket.packets for bucket in both["summary"].timeline) == 18


def test_the_same_however_the_scan_is_cut(make_settings, both, monkeypatch):
    monkeypatch.setattr(scan, "PACKETS_PER_FLUSH", 3)
    monkeypatch.setattr(parallel, "SPAN_BYTES", 512)
    for workers in (1, 2):
        found = analyzed(make_settings, ["dns", "conn"], workers=workers)
        for kind in ("conn.connections", "conn.malformed"):
            assert found[kind] == both[kind], (workers, kind)


def test_connections_finished_early_are_a_capture_warning(make_settings, both, monkeypatch):
    assert not any("finished early" in warning for warning in both["warnings"])
    monkeypatch.setattr(tracker, "MAX_ACTIVE", 2)
    found = analyzed(make_settings, ["conn"], workers=1)
    evicted = found["summary"].evicted
    assert evicted > 0
    (warning,) = [w for w in found["warnings"] if "finished early" in w]
    assert warning.startswith(f"{evicted} connection(s)") and "bound of 2" in warning


def test_describe_says_which_bytes_the_bytes_weight_counts():
    from mcpcap.core.modules.registry import load_module
    from mcpcap.core.records import describe

    (kind, *_) = describe([load_module("conn")], "conn.connections").kinds
    assert "bytes: IP bytes both ways, headers included" in kind.description
    assert "payload" in kind.description


def test_the_schema_names_resolved_by():
    from mcpcap.commands.schema import result_schemas

    connection = result_schemas()["Connection"]
    field = connection["properties"]["resolved_by"]
    assert {"$ref": "#/$defs/ResolvedBy"} in field["anyOf"]
    assert set(connection["$defs"]["ResolvedBy"]["required"]) == {"dns_uid", "query", "time"}
