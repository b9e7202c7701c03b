"""A process that analyses capture after capture (the MCP server) keeps no more of each than it
must, and a scan holds one span's decoded results at a time.

Both are measured exactly, without timing: Python's own allocations (`tracemalloc`) after each
analysis, and whether the previous span's results are still alive when the next one arrives.
"""

from __future__ import annotations

import gc
import random
import struct
import tracemalloc
import weakref
from pathlib import Path
from types import SimpleNamespace

from mcpcap.core import parallel, scan
from mcpcap.core.config import build_settings
from mcpcap.core.service import Analyzer
from tests.fixtures.packets import dns_query, dns_response, ether, mac_for, udp_packet

PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
LABEL = 16  # characters of the random first label of every name
QNAME_AT = 14 + 20 + 8 + 12 + 1  # Ethernet, IPv4, UDP, the DNS header, the label's length


def _frame(packet) -> bytes:
    frame = bytes(packet)
    return frame[:40] + b"\0\0" + frame[42:]  # no UDP checksum: the name is patched in


def write_random_names(path: Path, pairs: int, seed: int) -> Path:
    """`pairs` DNS transactions whose names are all different and look random (what hunting
    judges name by name): `<16 hex>.tunnel.example.com`."""
    query = dns_query(0, "0" * LABEL + ".tunnel.example.com")
    frames = (
        _frame(ether(udp_packet("10.0.0.2", "10.0.0.1", 40000, 53, query), mac_for(2))),
        _frame(
            ether(udp_packet("10.0.0.1", "10.0.0.2", 53, 40000, dns_response(query)), mac_for(1))
        ),
    )
    rng = random.Random(seed)
    out = [PCAP_HEADER]
    for i in range(pairs):
        label = rng.randbytes(LABEL // 2).hex().encode()
        ident = struct.pack(">H", i & 0xFFFF)
        for frame, later in zip(frames, (0, 500), strict=True):
            data = frame[: QNAME_AT - 13] + ident + frame[QNAME_AT - 11 : QNAME_AT]
            data += label + frame[QNAME_AT + LABEL :]
            out.append(struct.pack("<IIII", 1_714_557_600 + i // 100, later, len(data), len(data)))
            out.append(data)
    path.write_bytes(b"".join(out))
    return path


def test_python_memory_does_not_grow_from_analysis_to_analysis(tmp_path, monkeypatch):
    """Each analysis of a new capture (opened, then closed) leaves the process as it found it:
    no cache keeps what one capture's names were (hunting's name caches kept up to 2 x 65536
    names, 20+ MiB in a server that had analysed a few DNS-heavy captures)."""
    monkeypatch.setenv("MCPCAP_CACHE_DIR", str(tmp_path / "cache"))
    analyzer = Analyzer(build_settings({"workers": 1}))
    captures = [write_random_names(tmp_path / f"c{n}.pcap", 3000, seed=n) for n in range(4)]
    held = []
    tracemalloc.start()
    try:
        for capture in captures:
            with analyzer.analyze(capture, capture.name) as analysis:
                assert analysis.traffic("dns") == 6000
            gc.collect()
            held.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    # the first analysis imports what analyses need; from the second on, nothing accumulates
    # (3000 new names a capture kept 1.2 MB more per analysis before)
    assert held[3] - held[1] < 256 << 10, [h >> 10 for h in held]


class _Items(list):
    """A span's items that can be watched (a list takes no weak reference)."""


def test_a_scan_holds_one_span_of_worker_results_at_a_time(monkeypatch):
    """The next span's results are unpacked only once the previous span's are gone (they were
    kept by the loop while the next arrived: two spans' items, the largest part of a parallel
    scan's memory in the scanning process)."""
    alive_when_next = []
    previous: list[weakref.ref] = []

    def unpack(packed: bytes):
        alive_when_next.append(bool(previous) and previous[-1]() is not None)
        items = _Items([(0, int(packed), 0.0, "10.0.0.2", 40000, "10.0.0.1", 53, None)])
        previous.append(weakref.ref(items))
        return items, [None]

    monkeypatch.setattr(parallel, "unpack_items", unpack)
    seen = []
    module = SimpleNamespace(on_udp_decoded=lambda *item: seen.append(item[0]))
    feeder = SimpleNamespace(frame=None, flush_packets=lambda: None, stream_items=None)
    results = (
        (SimpleNamespace(end=n * 100), (str(n).encode(), None, 1, 100, float(n), float(n)))
        for n in range(1, 5)
    )
    counted = scan._consume_spans(results, feeder, [module], 1, None, None, 400)
    assert counted == (4, 400, 1.0, 4.0)
    assert seen == [1, 2, 3, 4]
    assert alive_when_next == [False, False, False, False]
