"""Cases found by the differential run against tshark (benchmarks/conformance/http.py), each
built with scapy and scanned end to end, with the values RFC 9112 gives."""

from __future__ import annotations

import pytest

from mcpcap.modules.http.parser import start_kind, start_prefix
from tests.modules.http.captured import Segments, records

REQUEST = b"GET /split?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: slow/1.0\r\n\r\n"
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow"


@pytest.mark.parametrize(
    "cuts", [(1,), (2, 3), (4,), (3, 4, 5, 6)], ids=["G", "GE-T", "GET_", "GET"]
)
def test_a_request_line_cut_after_its_first_bytes_is_read(tmp_path, cuts):
    """The claim looked only at the first segment, so `G` alone lost the whole request."""
    conn = Segments()
    conn.send("client", REQUEST, cuts)
    conn.send("server", RESPONSE, (1,))
    (record,) = records(tmp_path, conn.close(), "http.requests")
    assert (record["method"], record["uri"], record["host"]) == ("GET", "/split?q=1", "example.com")
    assert (record["status_code"], record["user_agent"]) == (200, "slow/1.0")
    assert record["request_frame"] == 3 + len(cuts) + 1  # the segment ending the header block


def test_a_status_line_cut_after_h_is_read_when_the_server_speaks_first(tmp_path):
    conn = Segments()
    conn.send("server", RESPONSE, (1, 2))
    conn.send("client", REQUEST)
    conn.send("server", RESPONSE)
    got = records(tmp_path, conn.close(), "http.requests")
    assert [(r["method"], r["status_code"]) for r in got] == [(None, 200), ("GET", 200)]
    assert got[0]["tags"] == ["missing_request"]


def test_first_bytes_that_only_looked_like_http_are_no_malformed_item(tmp_path):
    conn = Segments(server_port=5000)
    conn.send("client", b"GEOMETRY-DATA\x00\x01\x02\r\n", (1,))
    conn.send("server", b"\x00\x00OK\r\n")
    packets = conn.close()
    assert records(tmp_path, packets, "http.requests") == []
    assert records(tmp_path, packets, "http.malformed") == []


@pytest.mark.parametrize(
    ("data", "kind"),
    [(b"G", "request"), (b"GE", "request"), (b"GET  ", "request"), (b"PROPF", "request"),
     (b"HTTP", "response"), (b"HTTP/1", "response"), (b"HT", "response"),
     (b"GETX", None), (b"X", None), (b"GET\n", None), (b"", None), (b"\r\nX", None),
     (b"HTTP/1.1 2", None)],
)  # fmt: skip
def test_start_prefix(data, kind):
    assert start_prefix(data, 40000, 80) == kind


@pytest.mark.parametrize("data", [b"H", b"\r\n", b"\r\n\r\nH"])
def test_what_may_begin_either_is_a_request_from_the_higher_port(data):
    assert start_prefix(data, 40000, 80) == "request"
    assert start_prefix(data, 80, 40000) == "response"


def test_a_request_after_a_segment_of_bare_line_ends_is_read(tmp_path):
    """RFC 9112 2.2: empty lines before a request line are ignored; a first segment holding
    only them lost the connection's claim, and with it the request."""
    conn = Segments()
    conn.send("client", b"\r\n" + REQUEST, (2,))
    conn.send("server", RESPONSE)
    (record,) = records(tmp_path, conn.close(), "http.requests")
    assert (record["uri"], record["status_code"], record["request_frame"]) == ("/split?q=1", 200, 5)


@pytest.mark.parametrize(
    "line",
    [b"GET\t/words\tHTTP/1.1", b"GET /words HTTP/1.1 ", b"GET  /words \t HTTP/1.1\t"],
    ids=["tabs", "trailing-space", "runs"],
)
def test_a_request_line_is_read_on_whitespace_word_boundaries(tmp_path, line):
    """RFC 9112 3: a recipient may split the request line on any run of spaces and tabs and
    ignore whitespace after the version (a tab-separated line was lost with its connection's
    claim, a trailing space made the version part of the URI)."""
    conn = Segments()
    conn.send("client", line + b"\r\nHost: words.example\r\n\r\n")
    conn.send("server", RESPONSE)
    (record,) = records(tmp_path, conn.close(), "http.requests")
    assert (record["method"], record["uri"], record["version"]) == ("GET", "/words", "1.1")
    assert (record["host"], record["status_code"], record["tags"]) == ("words.example", 200, [])


H2_SETTINGS = bytes.fromhex("000006040000000000000300000064")


@pytest.mark.parametrize("cuts", [(), (16,), (5, 18)], ids=["whole", "line", "cut"])
def test_http2_with_prior_knowledge_is_left_alone(tmp_path, cuts):
    """RFC 9113 3.4: the HTTP/2 connection preface (gRPC without TLS) was read as two bad
    HTTP/1.x requests, `PRI *` and `SM`, with three malformed items; HTTP/2 is not this
    module's, so the connection gives nothing."""
    conn = Segments(server_port=50051)
    conn.send("client", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + H2_SETTINGS, cuts)
    conn.send("server", H2_SETTINGS)
    packets = conn.close()
    assert records(tmp_path, packets, "http.requests") == []
    assert records(tmp_path, packets, "http.malformed") == []


@pytest.mark.parametrize(
    ("port", "asked", "answer"),
    [(554, b"OPTIONS rtsp://cam.example/s RTSP/1.0\r\nCSeq: 1\r\n\r\n",
      b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n"),
     (5060, b"OPTIONS sip:pbx.example SIP/2.0\r\nContent-Length: 0\r\n\r\n",
      b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"),
     (1344, b"OPTIONS icap://icap.example/reqmod ICAP/1.0\r\nHost: icap.example\r\n\r\n",
      b"ICAP/1.0 200 OK\r\n\r\n")],
    ids=["rtsp", "sip", "icap"],
)  # fmt: skip
def test_protocols_of_http_shape_are_not_http(tmp_path, port, asked, answer):
    """A request line from a known method that ends in another protocol's version was read
    as a bad HTTP request, with a malformed item each way (an IP camera's RTSP, say)."""
    conn = Segments(server_port=port)
    conn.send("client", asked)
    conn.send("server", answer)
    packets = conn.close()
    assert records(tmp_path, packets, "http.requests") == []
    assert records(tmp_path, packets, "http.malformed") == []


def test_a_known_method_with_a_broken_http_version_is_still_a_bad_request(tmp_path):
    conn = Segments()
    conn.send("client", b"GET /broken HTTP/1.x\r\nHost: a.example\r\n\r\n")
    conn.send("server", b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    (record,) = records(tmp_path, conn.close(), "http.requests")
    assert (record["method"], record["status_code"], record["tags"]) == (
        "GET",
        400,
        ["bad_request"],
    )


@pytest.mark.parametrize(
    ("first", "kind"),
    [(b"GET session:42\r\n", None), (b"DELETE cache-key\r\n", None),
     (b"GET /old\r\n", "request"), (b"GET http://a.example/\r\n", "request"),
     (b"OPTIONS *\r\n", "request"), (b"GET\r\n", "request"),
     (b"OPTIONS HTTP/1.1\n", "request")],
)  # fmt: skip
def test_a_versionless_line_is_http_only_when_it_may_name_a_request_target(first, kind):
    """An inline key-value command (Redis's `GET key`) was claimed as a bad HTTP request."""
    assert start_kind(first) == kind
