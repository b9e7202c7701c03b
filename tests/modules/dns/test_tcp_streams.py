"""DNS over TCP is read by the module's stream decoder: in a stream worker for a parallel scan,
with the records, transactions and summary of a scan in one process."""

from __future__ import annotations

import json
import multiprocessing
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from mcpcap.core import parallel
from mcpcap.core.config import Settings
from mcpcap.core.service import Analyzer
from mcpcap.core.tcpstream import StreamBudget, StreamChunk
from mcpcap.modules.dns.scan import DnsScan
from mcpcap.modules.dns.streams import DnsStreams
from tests.fixtures.hostile import tcp_unfinished
from tests.modules.dns.tcp_capture import (
    CLIENT,
    SERVER,
    exchange,
    interleaved,
    tcp_messages,
    udp_messages,
)

REPO = Path(__file__).resolve().parents[3]
# the CLI with spans of a few frames, so a small capture is cut into many and the stream
# worker's partials come back well after the datagrams of the same frames
TINY_SPANS_CLI = (
    "import sys\n"
    "from mcpcap.core import parallel\n"
    "parallel.SPAN_BYTES = 2048\n"
    "from mcpcap.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


@pytest.fixture(scope="module")
def capture(tmp_path_factory) -> Path:
    return interleaved(tmp_path_factory.mktemp("dnstcp") / "interleaved.pcap")


def _cli(*args: str) -> str:
    run = subprocess.run(
        [sys.executable, "-c", TINY_SPANS_CLI, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def _outputs(capture: Path, workers: int) -> dict[str, str]:
    common = ("analyze", str(capture), "--no-cache", "--modules", "dns", "--workers", str(workers))
    outputs = {"summary": _cli(*common)}
    for kind in ("messages", "transactions", "dns.malformed"):
        outputs[kind] = _cli(*common, "--records", kind, "--format", "jsonl")
    return outputs


def _name(message: dict) -> str:
    return message["questions"][0]["name"] if message["questions"] else ""


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture(scope="module")
def outputs(capture) -> dict[int, dict[str, str]]:
    """What the CLI prints, by number of workers."""
    return {workers: _outputs(capture, workers) for workers in (1, 2)}


def test_one_process_and_two_give_the_same_records_and_summary(outputs):
    one, two = outputs[1], outputs[2]
    for kind in one:
        assert two[kind] == one[kind], kind
    messages = _lines(one["messages"])
    tcp = [m for m in messages if m["transport"] == "tcp"]
    assert len(tcp) == tcp_messages() and len(messages) - len(tcp) == udp_messages()
    assert [(m["frame"], m["index"]) for m in messages] == sorted(
        (m["frame"], m["index"]) for m in messages
    )
    pipelined = [m for m in tcp if _name(m).startswith("pipelined")]
    # both queries in one segment; both responses complete in one (the first was split)
    assert {m["index"] for m in pipelined} == {0, 1}
    assert len({m["frame"] for m in pipelined}) == len(pipelined) // 2
    assert len([m for m in tcp if _name(m).startswith("after-gap")]) == 2 * 3
    assert len([m for m in tcp if _name(m).startswith("after-empty")]) == 2 * 8
    bad = _lines(one["dns.malformed"])
    # stored in frame order, whichever process read them
    assert sorted(b["transport"] for b in bad) == ["tcp", "tcp", "udp", "udp", "udp"]
    assert [b["id"] for b in bad] == [1, 2, 3, 4, 5]
    assert [b["frame"] for b in bad] == sorted(b["frame"] for b in bad)
    assert [b["transport"] for b in bad] != sorted(b["transport"] for b in bad)
    summary = json.loads(one["summary"])["dns"]
    assert summary["transports"] == {"udp": udp_messages(), "tcp": tcp_messages()}
    assert summary["malformed"]["total"] == 5


def test_tcp_transactions_pair_within_their_connection_and_follow_the_udp_ones(outputs):
    transactions = _lines(outputs[2]["transactions"])
    udp = [t for t in transactions if t["transport"] == "udp"]
    tcp = [t for t in transactions if t["transport"] == "tcp"]
    assert sorted(t["id"] for t in udp) == list(range(1, len(udp) + 1))
    assert sorted(t["id"] for t in tcp) == list(range(len(udp) + 1, len(transactions) + 1))
    answered = [t for t in tcp if t["answered"]]
    # the UDP queries repeat these ids between the same hosts: each TCP response still
    # answers the query of its own connection, and names it asked
    assert answered and all(46000 <= t["client_port"] < 46100 for t in answered)
    asked = [t for t in tcp if t["query"] is not None]  # (the malformed ones ask nothing)
    assert len(asked) == len(tcp) - 2
    assert all(f".c{t['client_port'] - 46000}." in t["query"] for t in asked)
    never = [t for t in asked if t["query"].startswith("never-answered")]
    assert never and not any(t["answered"] for t in never)


def test_a_parallel_scan_reads_dns_over_tcp_where_its_streams_are(capture, tmp_path, monkeypatch):
    """The stream decoder runs in this process for one worker, and for two when only port 53 is
    read (a few streams); in a process of its own (here forked, so it keeps these patches) when
    a module claims streams on any port (every TCP segment goes there). `DnsScan.on_tcp` is
    never called, and the results are the same every way."""
    monkeypatch.setattr(parallel, "worker_context", lambda: multiprocessing.get_context("fork"))
    monkeypatch.setattr(parallel, "SPAN_BYTES", 2048)
    log = tmp_path / "pids"
    read = DnsStreams.on_tcp

    def logged(self, frame, ts, chunk):
        with log.open("a") as out:
            out.write(f"{os.getpid()}\n")
        return read(self, frame, ts, chunk)

    def refused(self, frame, ts, chunk):
        raise AssertionError("DnsScan.on_tcp called: DNS over TCP was read in the scan")

    monkeypatch.setattr(DnsStreams, "on_tcp", logged)
    monkeypatch.setattr(DnsScan, "on_tcp", refused)
    here = {str(os.getpid())}
    counts = []
    for workers, modules, in_this_process in ((1, ["dns"], True), (2, ["dns"], True),
                                              (2, ["dns", "http"], False)):  # fmt: skip
        log.write_text("")
        settings = Settings(use_cache=False, workers=workers, cache_dir=tmp_path, modules=modules)
        with Analyzer(settings).analyze(capture, capture.name) as analysis:
            counts.append(analysis.module("dns").summary().transports)
        pids = set(log.read_text().split())
        assert len(pids) == 1 and (pids == here) == in_this_process, (workers, modules)
    assert counts == [{"udp": udp_messages(), "tcp": tcp_messages()}] * 3
    assert not multiprocessing.active_children()


def test_streams_over_the_budget_are_cut_alike_in_one_process_and_two(tmp_path):
    path = tcp_unfinished(tmp_path / "unfinished.pcap", flows=100)  # 100 x 64 KiB held
    seen = []
    for workers in (1, 2):
        settings = Settings(
            use_cache=False, workers=workers, cache_dir=tmp_path, max_stream_bytes=1_000_000
        )
        with Analyzer(settings).analyze(path, path.name) as analysis:
            seen.append((analysis.capture().warnings, analysis.module("dns").summary().messages))
    assert seen[0] == seen[1]
    (warning,) = seen[0][0]
    assert 80 <= int(warning.split()[0]) <= 100
    assert seen[0][1] == 0  # no message ever completed


# ---------------------------------------------------------------------------------- the decoder
def _chunk(data: bytes, sport: int = 46000, *, to_server: bool = True, gap: bool = False):
    ends = (CLIENT, sport, SERVER, 53) if to_server else (SERVER, 53, CLIENT, sport)
    return StreamChunk(*ends, data=data, gap=gap, syn_seen=True)


def _framed(message: bytes, length: int | None = None) -> bytes:
    return struct.pack("!H", len(message) if length is None else length) + message


def test_the_decoder_frames_pairs_and_numbers_on_its_own():
    streams = DnsStreams()
    q1, r1 = exchange(7, "one.example")
    q2, r2 = exchange(7, "two.example")
    streams.on_tcp(1, 1.0, _chunk(_framed(q1)))
    streams.on_tcp(2, 1.1, _chunk(_framed(q2), 46001))  # another connection, the same id
    streams.on_tcp(3, 1.2, _chunk(_framed(r2), 46001, to_server=False))
    streams.on_tcp(4, 1.3, _chunk(_framed(r1)[:5], to_server=False))  # split
    _counts, messages, bad, transactions, totals = streams.flush()
    assert [(m[0], m[1], m[4]) for m in messages] == [(1, 0, 46000), (2, 0, 46001), (3, 0, 53)]
    ((row, extra, values),) = transactions  # 46001's query is answered on its connection
    assert (row[0], row[2], row[3], row[5]) == (2, 2, 3, 46001)
    assert values == ("192.0.2.99",) and extra == () and bad == [] and totals == (0, 0)
    streams.on_tcp(5, 1.4, _chunk(_framed(r1)[5:], to_server=False))
    _counts, messages, bad, transactions, totals = streams.flush()
    assert [(m[0], m[1]) for m in messages] == [(5, 0)]
    assert [(t[0][0], t[0][2], t[0][3]) for t in transactions] == [(1, 1, 5)]
    assert streams.flush() is None  # nothing new


def test_zero_lengths_and_a_length_larger_than_the_data():
    streams = DnsStreams()
    budget = StreamBudget(1 << 20)
    streams.share_budget(budget)
    q1, _ = exchange(9, "after-empty.example")
    streams.on_tcp(1, 1.0, _chunk(b"\x00\x00" + _framed(q1) + b"\x00\x00"))
    streams.on_tcp(2, 1.1, _chunk(_framed(b"\x00" * 30, length=0xFFF0)))
    streams.on_tcp(3, 1.2, _chunk(b"", gap=False)._replace(end=True))
    streams.close()
    _counts, messages, bad, transactions, _totals = streams.flush()
    assert [(m[0], m[1], m[10]) for m in messages] == [(1, 0, 9)]
    assert bad == [] and budget.used == 0  # the end let the unfinished message's buffer go
    assert [t[0][3] for t in transactions] == [None]  # unanswered


def test_the_decoder_counts_what_it_holds_against_the_shared_budget():
    streams = DnsStreams()
    budget = StreamBudget(100_000)
    streams.share_budget(budget)
    for n in range(4):  # 4 unfinished 40 KB messages: the oldest are dropped past the bound
        streams.on_tcp(n + 1, 1.0, _chunk(_framed(bytes(12) + b"\x00" * 100, 40_000), 46000 + n))
    assert budget.cut == 2 and budget.used == 2 * 40_002
    q1, _ = exchange(3, "later.example")
    streams.on_tcp(9, 2.0, _chunk(_framed(q1)))  # the cut stream reads on, out of step
    _counts, messages, *_ = streams.flush()
    assert [m[10] for m in messages] == [3]
