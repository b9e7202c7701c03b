"""Cases found by the differential run against tshark and FoxIO's JA4 spec
(benchmarks/conformance/tls.py), each built with scapy and scanned end to end."""

from __future__ import annotations

import pytest

from mcpcap.modules.tls.module import TlsModule
from tests.fixtures.make_tls_captures import (
    CCS,
    encrypted,
    ext,
    record,
    server_hello,
    tls12_client_hello,
    tls12_ja4,
    u16,
)
from tests.modules.http.captured import Segments, records

HELLO = record(22, tls12_client_hello("split.example"), version=0x0301)
REPLY = record(22, server_hello(0xC02F, [ext(0xFF01, b"\x00")])) + CCS + encrypted(22, 40, 1)


@pytest.mark.parametrize("cuts", [(1,), (2,), (1, 2, 3, 4, 5)], ids=["16", "16-03", "bytewise"])
def test_a_client_hello_whose_first_segment_is_one_or_two_bytes_is_read(tmp_path, cuts):
    """The claim looked only at the first segment: `\\x16` alone lost the whole handshake."""
    conn = Segments(server_port=443)
    conn.send("client", HELLO, cuts)
    conn.send("server", REPLY)
    conn.send("client", CCS + encrypted(22, 40, 2))
    (record_,) = records(tmp_path, conn.close(), "tls.handshakes", ("tls",))
    assert record_["server_name"] == "split.example"
    assert record_["ja4"] == tls12_ja4(True)
    assert (record_["version"], record_["cipher_id"]) == ("TLSv12", 0xC02F)
    assert record_["client_hello_frame"] == 3 + len(cuts) + 1


def test_one_or_two_bytes_that_cannot_begin_a_record_are_not_claimed():
    module = TlsModule()
    assert module.claims_tcp(40000, 443, b"\x16") and module.claims_tcp(40000, 443, b"\x16\x03")
    for data in (b"\x17", b"\x16\x02", b"G", b"\x03"):
        assert not module.claims_tcp(40000, 443, data), data


def test_a_stream_claimed_on_one_byte_that_is_no_tls_gives_nothing(tmp_path):
    conn = Segments(server_port=443)
    conn.send("client", b"\x16 not a record at all" + bytes(40) + u16(7), (1,))
    conn.send("server", b"\x00" * 30)
    packets = conn.close()
    assert records(tmp_path, packets, "tls.handshakes", ("tls",)) == []
    assert records(tmp_path, packets, "tls.malformed", ("tls",)) == []
