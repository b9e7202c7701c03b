"""One connection, however the scan cuts it into pieces (a worker span's end, or a flush): the
records must be those one uncut scan gives, TCP data reordered or retransmitted across the cut
included (a later piece's head is replayed against the connection's sequence state).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest
from scapy.layers.l2 import Ether

from mcpcap.core import parallel, scan
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer
from tests.modules.conn.flowkit import ACK, FIN, PSH, SYN, C, S, run, tcp, udp

ETH = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
SEG = 100  # bytes per data segment
CSEQ, SSEQ = 1000, 5000
# the client's segments by number (1 is the first after the handshake), in the order sent
ORDERINGS = {
    "retransmission": [1, 2, 3, 4, 2, 5, 6],  # the second again, after the cut
    "out_of_order": [1, 3, 2, 4, 5, 6],  # a hole opened before the cut, filled after it
    "late_fill": [1, 2, 4, 5, 6, 3],  # the hole filled only in the next piece
    "below_anchor": [1, 2, 3, 4, 5, 1, 2, 6],  # a piece that starts below its predecessor
    "missing": [1, 3, 4, 5, 6],  # a hole never filled (missed bytes)
}


def flow(order: list[int], t: float = 0.0, cport: int = 40000) -> list[tuple[float, Any]]:
    """(ts, segment) of a handshake, the client's data in `order`, each acknowledged."""
    client = (C[0], cport)
    packets = [
        (t, tcp(client, S, SYN, CSEQ)),
        (t + 0.01, tcp(S, client, SYN | ACK, SSEQ, CSEQ + 1)),
        (t + 0.02, tcp(client, S, ACK, CSEQ + 1, SSEQ + 1)),
    ]
    high = CSEQ + 1
    for i, number in enumerate(order):
        seq = CSEQ + 1 + (number - 1) * SEG
        high = max(high, seq + SEG)
        ts = t + 0.03 + i * 0.01
        packets.append((ts, tcp(client, S, PSH | ACK, seq, SSEQ + 1, b"x" * SEG)))
        packets.append((ts + 0.005, tcp(S, client, ACK, SSEQ + 1, high)))
    return packets


def _every_cut_gives_the_uncut_records(packets: list[tuple[float, Any]]) -> list[dict]:
    """The records of one uncut run, asserted equal to those of every cut into pieces."""
    whole = run(packets)
    for every in range(1, len(packets)):
        assert run(packets, flush_every=every) == whole, every
    return whole


@pytest.mark.parametrize("name", ORDERINGS)
def test_every_cut_of_reordered_and_retransmitted_data_gives_the_uncut_record(name):
    """Retransmissions, holes and their fills on either side of a cut: the later piece's head
    is taken again against what the earlier pieces saw."""
    (record,) = _every_cut_gives_the_uncut_records(flow(ORDERINGS[name]))
    assert record["client_bytes"] == SEG * 6


def test_a_retransmission_letter_goes_where_the_retransmission_came_among_the_others():
    """Zeek adds T when the retransmission is seen: before the FINs that came after it, in
    whichever piece each of them falls."""
    packets = flow(ORDERINGS["retransmission"])
    t = packets[-1][0] + 0.01
    client, end = (C[0], 40000), CSEQ + 1 + 6 * SEG
    packets += [
        (t, tcp(client, S, FIN | ACK, end, SSEQ + 1)),
        (t + 0.01, tcp(S, client, FIN | ACK, SSEQ + 1, end + 1)),
        (t + 0.02, tcp(client, S, ACK, end + 1, SSEQ + 2)),
    ]
    (record,) = _every_cut_gives_the_uncut_records(packets)
    assert (record["history"], record["retransmissions"]) == ("ShADaTFf", 1)


def test_every_cut_of_a_flow_with_a_hole_never_filled_gives_the_uncut_record():
    (record,) = _every_cut_gives_the_uncut_records(flow(ORDERINGS["missing"]))
    assert record["missed_bytes"] == SEG


def test_a_syn_after_a_close_seen_in_an_earlier_piece_starts_a_new_connection():
    """The close (FINs, the last ACK) and the new SYN in different pieces: two connections,
    wherever the cut falls (a piece that does not begin with a SYN may follow a close)."""
    first = flow([1, 2])
    t = first[-1][0] + 0.01
    client = (C[0], 40000)
    end = CSEQ + 1 + 2 * SEG
    close = [
        (t, tcp(client, S, FIN | ACK, end, SSEQ + 1)),
        (t + 0.01, tcp(S, client, FIN | ACK, SSEQ + 1, end + 1)),
        (t + 0.02, tcp(client, S, ACK, end + 1, SSEQ + 2)),
    ]
    t += 0.03  # the same 5-tuple again, with another initial sequence number
    again = [
        (t, tcp(client, S, SYN, 777_000)),
        (t + 0.01, tcp(S, client, SYN | ACK, 9000, 777_001)),
        (t + 0.02, tcp(client, S, ACK, 777_001, 9001)),
        (t + 0.03, tcp(client, S, PSH | ACK, 777_001, 9001, b"y" * SEG)),
        (t + 0.04, tcp(S, client, ACK, 9001, 777_001 + SEG)),
    ]
    records = _every_cut_gives_the_uncut_records(first + close + again)
    assert [(r["conn_state"], r["history"], r["missed_bytes"]) for r in records] == [
        ("SF", "ShADaFf", 0),
        ("S1", "ShADa", 0),
    ]


def test_a_sides_service_is_its_first_payloads_in_whichever_piece():
    """A UDP flow whose first datagram is too short for DNS names no service; a later piece's
    first datagram (long enough) does not name one either."""
    client, server = (C[0], 53001), (S[0], 53)
    packets = [(i * 0.01, udp(client, server, b"u" * size)) for i, size in enumerate((8, 16, 24))]
    (record,) = _every_cut_gives_the_uncut_records(packets)
    assert record["service"] is None


def test_the_orderings_mean_what_they_say():
    """The uncut records: the reference the cut ones must equal (Zeek's meanings)."""
    found = {name: run(flow(order))[0] for name, order in ORDERINGS.items()}
    assert {name: r["retransmissions"] for name, r in found.items()} == {
        "retransmission": 1, "out_of_order": 0, "late_fill": 0, "below_anchor": 2, "missing": 0,
    }  # fmt: skip
    assert {name: r["missed_bytes"] for name, r in found.items()} == {
        "retransmission": 0, "out_of_order": 0, "late_fill": 0, "below_anchor": 0,
        "missing": SEG,
    }  # fmt: skip
    assert "T" in found["retransmission"]["history"] and "G" in found["missing"]["history"]


# ------------------------------------------------------------------ the same through scans
def _records(make_settings, path: Path, **flags: Any) -> list[dict]:
    settings = make_settings(modules=["conn"], no_cache=True, **flags)
    with Analyzer(settings).analyze(path, path.name) as analysis:
        return list(KindQuery(analysis, "conn.connections").iterate())


def _conformance() -> Any:
    """benchmarks/conformance/conn.py, the generator of the conn conformance captures."""
    folder = Path(__file__).resolve().parents[3] / "benchmarks" / "conformance"
    spec = importlib.util.spec_from_file_location("conn_conformance", folder / "conn.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(folder))  # its own helpers, as when it runs as a script
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(folder))
    return module


def test_the_conformance_captures_give_the_same_records_cut_small(
    make_settings, tmp_path, monkeypatch
):
    """Every generated conn capture (tunnels, fragments, link layers, timeouts, every
    conn_state ...) scanned whole, then cut every 3 packets and in 700-byte spans over two
    workers: the same records."""
    captures = dict(_conformance().build().items())
    assert len(captures) > 50
    whole = {}
    for name, data in captures.items():
        path = tmp_path / name
        path.write_bytes(data)
        whole[name] = _records(make_settings, path, workers=1)
    monkeypatch.setattr(scan, "PACKETS_PER_FLUSH", 3)
    monkeypatch.setattr(parallel, "SPAN_BYTES", 700)
    differ = [name for name in captures
              if _records(make_settings, tmp_path / name, workers=2) != whole[name]]  # fmt: skip
    assert differ == []
