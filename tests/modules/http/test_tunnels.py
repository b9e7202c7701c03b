"""CONNECT and SOCKS tunnels: HTTP records the CONNECT exchanges and the HTTP inside a SOCKS
tunnel, TLS reads the handshake inside either.

The capture is written by `tunnels.py` (scapy) into a temporary folder; its ground truth is the
script's own. Serial and parallel scans (the stream decoders in the scanning process, or in the
stream worker) must give the same records.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mcpcap.core.config import build_settings
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer
from tests.modules.http import tunnels

HTTP_KEYS = ("method", "uri", "host", "status_code", "request_frame", "response_frame")


@pytest.fixture(scope="module")
def capture(tmp_path_factory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("tunnels") / "tunnels.pcap"
    return path, tunnels.write(path)


def scan(path: Path, workers: int, modules: list[str]) -> dict[str, Any]:
    kinds = ("http.requests", "http.malformed", "tls.handshakes", "tls.malformed")
    settings = build_settings({"modules": modules, "workers": workers})
    with Analyzer(settings).analyze(path, path.name) as analysis:
        found: dict[str, Any] = {kind: list(KindQuery(analysis, kind).iterate()) for kind in kinds}
        found["connections"] = analysis.module("http").summary().connections
        return found


@pytest.fixture(scope="module", params=[1, 2], ids=["serial", "parallel"])
def scanned(request, capture, tmp_path_factory) -> dict[str, list[dict]]:
    with pytest.MonkeyPatch.context() as patch:  # a store of its own (one scan per module)
        patch.setenv("MCPCAP_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        return scan(capture[0], request.param, ["http", "tls"])


def test_every_tunnel_gives_one_handshake_with_its_sni(capture, scanned):
    truth = capture[1]["tls"]
    got = {}
    for record in scanned["tls.handshakes"]:
        assert record["client_port"] not in got, record
        got[record["client_port"]] = {key: record[key] for key in truth[record["client_port"]]}
    assert got == truth
    assert scanned["tls.malformed"] == []


def test_connect_exchanges_and_http_through_socks_are_http_requests(capture, scanned):
    by_port: dict[int, list[dict]] = {}
    for record in scanned["http.requests"]:
        by_port.setdefault(record["client_port"], []).append(
            {key: record[key] for key in HTTP_KEYS}
        )
    assert by_port == capture[1]["http"]
    connect = [r["tags"] for r in scanned["http.requests"] if r["method"] == "CONNECT"]
    assert [tags for tags in connect if "tunnel" in tags] == [["tunnel"]] * 3  # the 2xx ones
    socks = [r["tags"] for r in scanned["http.requests"] if r["method"] != "CONNECT"]
    assert socks and all("socks" in tags for tags in socks)
    assert scanned["http.malformed"] == []  # neither SOCKS nor the bytes sent into a tunnel
    # SOCKS tunnels of TLS, and the refused one, are no HTTP connections
    assert scanned["connections"] == len(capture[1]["http"])


def test_tag_socks_filters_the_requests_read_through_a_socks_proxy(capture, make_settings):
    path = capture[0]
    with Analyzer(make_settings(modules=["http"])).analyze(path, path.name) as analysis:
        got = list(KindQuery(analysis, "http.requests").iterate("tag:socks"))
    assert sorted(r["client_port"] for r in got) == [51008, 51009]


def test_the_default_modules_read_the_tunnels_alike(capture, scanned):
    alone = scan(capture[0], 1, ["dns", "conn", "http", "tls"])
    for kind in ("http.requests", "tls.handshakes"):
        assert alone[kind] == scanned[kind]
