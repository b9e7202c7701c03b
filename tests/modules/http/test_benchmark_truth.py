"""The benchmark generator's HTTP (written from its own bookkeeping): every request agrees."""

from __future__ import annotations

import pytest

from benchmarks.generate import generate
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "gen.pcap"
    truth = generate(path, 20_000, seed=5, write_truth=False)
    return path, truth["http"]


def test_every_generated_request_is_recorded_as_written(generated, make_settings):
    path, truth = generated
    with Analyzer(make_settings(modules=["http"])).analyze(path, path.name) as analysis:
        records = list(KindQuery(analysis, "http.requests").iterate())
        summary = analysis.module("http").summary()
    assert truth["requests"] > 50
    assert summary.requests == len(records) == truth["requests"]
    assert summary.connections == truth["connections"]
    assert summary.methods == truth["by_method"]
    assert summary.status_codes == truth["by_status"]
    assert summary.request_body_bytes == truth["request_body_bytes"]
    assert summary.response_body_bytes == truth["response_body_bytes"]
    fields = [key for key in truth["requests_list"][0] if key != "chunked"]
    ours = {(r["client"], r["client_port"], r["trans_depth"]): r for r in records}
    for expected in truth["requests_list"]:
        record = ours[(expected["client"], expected["client_port"], expected["trans_depth"])]
        assert {key: record[key] for key in fields} == {key: expected[key] for key in fields}
        assert record["response_body_sha256"] is not None or not record["response_body_len"]
