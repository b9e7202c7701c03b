"""A generated benchmark capture: every TLS and QUIC handshake the generator wrote, as it wrote it
(per connection: server name, ALPN, negotiated version and cipher, certificate and its problems)."""

from __future__ import annotations

import pytest

from benchmarks.generate import generate
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer
from mcpcap.modules.tls.kinds import CERT_PROBLEMS

COMPARED = ("server_name", "alpn", "alpn_selected", "cipher", "cert_subject", "cert_issuer",
            "cert_san_dns", "cert_sha256", "cert_problems")  # fmt: skip


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "gen.pcap"
    return path, generate(path, 6000, seed=5, write_truth=False)


def test_every_handshake_is_the_generators(generated, make_settings):
    path, truth = generated
    with Analyzer(make_settings(modules=["tls"], workers=2)).analyze(path, path.name) as found:
        records = list(KindQuery(found, "tls.handshakes").iterate())
        summary = found.module("tls").summary()
    written = [("tcp", c) for c in truth["tls"]["connections"]]
    written += [("quic", c) for c in truth["quic"]["connections"]]
    assert written and len(records) == len(written)
    by_flow = {(r["client"], r["client_port"], r["server"], r["server_port"]): r for r in records}
    for transport, conn in written:
        record = by_flow[(conn["client"], conn["client_port"], conn["server"], conn["server_port"])]
        assert record["transport"] == transport
        assert record["version"] == conn.get("tls_version", conn["version"])
        for key in COMPARED:
            if key in conn:
                assert record[key] == conn[key], (key, conn)
        for key in ("cert_not_before", "cert_not_after"):
            if key in conn:  # the same second, written with microseconds
                assert record[key] == conn[key].replace("Z", ".000000Z"), (key, conn)
    problems = summary.cert_problems.model_dump()
    problems["expired_at_capture_time"] = problems.pop("expired")  # the records' word
    assert {name: problems[name] for name in CERT_PROBLEMS if problems[name]} == dict(
        truth["tls"]["cert_problems"]
    )
    assert problems["with_certificate"] == sum("cert_sha256" in conn for _, conn in written)
    assert summary.malformed == {}
