"""Parallel scans give exactly the results of one process, and cancel without leftovers."""

from __future__ import annotations

import gc
import json
import marshal
import multiprocessing
import subprocess
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from mcpcap.core import parallel
from mcpcap.core.config import Settings
from mcpcap.core.errors import CancelledError
from mcpcap.core.service import Analyzer
from mcpcap.modules.dns.decoder import BRIEF_FIELDS, decode_brief, decode_message
from mcpcap.modules.dns.store_schema import answers_digest
from mcpcap.modules.dns.tui.rows import message_index

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "captures"


def _everything(path: Path, workers: int, cache: Path) -> dict:
    settings = Settings(use_cache=False, workers=workers, cache_dir=cache)
    with Analyzer(settings).analyze(path, path.name) as analysis:
        dns = analysis.module("dns")
        messages = list(dns.iter_messages())
        return {
            "summary": analysis.summary(),
            "messages": messages,
            # each message again, looked up by its frame (workers store theirs in chunks)
            "by_frame": [
                dns.message(m["frame"], m["index"]).model_dump(mode="json") for m in messages
            ],
            "index_of": [message_index(dns.db, m["frame"], m["id"], m["qr"]) for m in messages],
            "transactions": list(dns.iter_transactions()),
        }


@pytest.fixture
def tiny_spans(monkeypatch):
    """Spans of a few records, so even a small capture is cut into many."""
    monkeypatch.setattr(parallel, "SPAN_BYTES", 2048)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from generate import generate
    finally:
        sys.path.pop(0)
    path = tmp_path_factory.mktemp("bench") / "bench-3k.pcap"
    generate(path, 3000, seed=7, write_truth=False)
    return path


@pytest.mark.parametrize(
    "name",
    [
        "pairing.pcap",
        "tcp_basic.pcap",
        "tcp_out_of_order.pcap",
        "ipv4_fragments.pcap",
        "ipv6_fragments.pcap",
        "nonstandard_port.pcap",
        "mdns.pcap",
        "lying_length.pcap",
        "big_endian.pcap",
    ],
)
def test_fixture_results_equal_one_process(name, tiny_spans, tmp_path):
    path = FIXTURES / name
    one = _everything(path, 1, tmp_path)
    two = _everything(path, 2, tmp_path)
    assert json.dumps(two, sort_keys=True) == json.dumps(one, sort_keys=True)


def test_generated_capture_equal_one_process(generated, tiny_spans, tmp_path):
    one = _everything(generated, 1, tmp_path)
    two = _everything(generated, 2, tmp_path)
    assert one["summary"]["dns"]["messages"] > 500
    assert json.dumps(two, sort_keys=True) == json.dumps(one, sort_keys=True)


def test_max_packets_equal_one_process(generated, tiny_spans, tmp_path):
    settings = {"use_cache": False, "cache_dir": tmp_path, "max_packets": 1234}
    docs = []
    for workers in (1, 2):
        with Analyzer(Settings(workers=workers, **settings)).analyze(generated, "g") as a:
            docs.append(a.summary())
    assert docs[0] == docs[1]
    assert docs[0]["capture"]["packets"] == 1234
    assert docs[0]["capture"]["max_packets"] == 1234


def test_cancel_stops_workers_and_leaves_no_files(generated, tiny_spans, tmp_path):
    cancel = threading.Event()
    seen = []

    def progress(packets, done, total):
        seen.append(packets)
        cancel.set()

    analyzer = Analyzer(Settings(workers=2, cache_dir=tmp_path))
    with pytest.raises(CancelledError):
        analyzer.analyze(generated, "g", progress=progress, cancel=cancel)
    assert seen
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file() and not p.name.endswith(".lock")]
    assert leftovers == []
    assert not analyzer.is_cached(generated)


def test_the_first_wait_imports_what_the_scans_end_needs(monkeypatch):
    """A module's `results_imports`, imported while the scanning process waits for the workers'
    first results; a name that does not import is left to the code that needs it."""
    from mcpcap.core.scan import _FirstWait
    from mcpcap.modules.dns.module import DnsModule

    wanted = "mcpcap.modules.dns.hunting.tunnel"
    monkeypatch.setattr(DnsModule, "results_imports", ("no.such.module", wanted))
    monkeypatch.delitem(sys.modules, wanted, raising=False)
    reports = []
    first_wait = _FirstWait([DnsModule()], lambda: reports.append(wanted in sys.modules))
    first_wait()
    first_wait()
    assert reports == [True, True]


def test_a_results_import_that_fails_fails_no_scan(generated, tiny_spans, tmp_path, monkeypatch):
    from mcpcap.modules.dns.module import DnsModule

    monkeypatch.setattr(DnsModule, "results_imports", ("no.such.module",))
    settings = Settings(workers=2, use_cache=False, cache_dir=tmp_path, modules=["dns"])
    with Analyzer(settings).analyze(generated, "g") as analysis:
        assert analysis.summary()["dns"]["messages"] > 0


def test_auto_choice_is_one_process_for_small_files():
    assert parallel.choose_workers(None, 1 << 20) == 1
    assert parallel.choose_workers(None, 1 << 30) >= 1
    assert parallel.choose_workers(3, 1) == 3
    assert parallel.choose_workers(0, 1) == 1


def test_brief_matches_the_full_decode():
    raw = (FIXTURES / "pairing.pcap").read_bytes()  # any bytes: both decoders must agree
    for cut in range(0, min(len(raw), 600), 7):
        payload = raw[cut : cut + 120]
        msg = decode_message(payload)
        brief = dict(zip(BRIEF_FIELDS, decode_brief(payload), strict=True))
        assert (brief["id"], brief["flags"], brief["rcode"], brief["opcode"]) == (
            msg.id,
            msg.flags,
            msg.rcode,
            msg.opcode,
        )
        assert brief["malformed"] == msg.malformed
        assert [q[:4] for q in brief["questions"]] == msg.questions
        assert brief["answers"] == answers_digest(msg.answers)
        assert brief["records"] == len(msg.answers) + len(msg.authority) + len(msg.additional)
        records = (*msg.answers, *msg.additional)
        expected_keys = (
            [] if msg.questions else [(rr[0].lower(), rr[1]) for rr in records if rr[1] != 41]
        )
        assert list(brief["keys"]) == expected_keys
        assert brief["raw"] == payload


def test_a_brief_crosses_processes_with_marshal():
    payload = (FIXTURES / "pairing.pcap").read_bytes()[40 + 42 :]  # any bytes decode
    brief = decode_brief(payload)
    assert marshal.loads(marshal.dumps(brief)) == brief


def test_workers_start_when_stderr_is_not_a_real_file(generated, tmp_path):
    """A TUI replaces sys.stderr and scans in a thread (so workers come from a forkserver, which
    needs multiprocessing's resource tracker): the helper processes must still start."""
    code = (
        "import io, json, sys, threading\n"
        "from pathlib import Path\n"
        "from mcpcap.core.config import Settings\n"
        "from mcpcap.core.service import Analyzer\n"
        "class Captured(io.StringIO):\n"
        "    def fileno(self):\n"
        "        return -1\n"
        "sys.stderr = Captured()\n"
        "settings = Settings(use_cache=False, workers=2, cache_dir=Path(sys.argv[2]))\n"
        "def scan():\n"
        "    with Analyzer(settings).analyze(Path(sys.argv[1]), 'x') as analysis:\n"
        "        print(json.dumps(analysis.summary()['dns']['messages']))\n"
        "worker = threading.Thread(target=scan)\n"
        "worker.start()\n"
        "worker.join()\n"
    )
    import subprocess

    run = subprocess.run(
        [sys.executable, "-c", code, str(generated), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    assert (
        json.loads(run.stdout) == _everything(generated, 1, tmp_path)["summary"]["dns"]["messages"]
    )


def test_prepared_fork_server_serves_the_first_scan(generated, tmp_path):
    """With threads (the TUI), `prepare_workers` starts the fork server before any scan (even
    with a replaced sys.stderr); the first scan's workers then come from that same server."""
    code = (
        "import io, json, os, sys, threading, time\n"
        "from multiprocessing import forkserver\n"
        "from pathlib import Path\n"
        "from mcpcap.core.config import Settings\n"
        "from mcpcap.core import parallel\n"
        "from mcpcap.core.service import Analyzer\n"
        "class Captured(io.StringIO):\n"
        "    def fileno(self):\n"
        "        return -1\n"
        "if __name__ == '__main__':\n"
        "    sys.stderr = Captured()\n"
        "    threading.Thread(target=time.sleep, args=(2,), daemon=True).start()\n"
        "    assert forkserver._forkserver._forkserver_pid is None\n"
        "    parallel.prepare_workers()\n"
        "    server = forkserver._forkserver._forkserver_pid\n"
        "    os.kill(server, 0)  # alive\n"
        "    settings = Settings(use_cache=False, workers=2, cache_dir=Path(sys.argv[2]))\n"
        "    with Analyzer(settings).analyze(Path(sys.argv[1]), 'x') as analysis:\n"
        "        messages = analysis.summary()['dns']['messages']\n"
        "    print(json.dumps([server, forkserver._forkserver._forkserver_pid, messages]))\n"
    )
    import subprocess

    script = tmp_path / "prepared.py"
    script.write_text(code)
    run = subprocess.run(
        [sys.executable, str(script), str(generated), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    before, after, messages = json.loads(run.stdout.strip().splitlines()[-1])
    assert before == after
    assert messages == _everything(generated, 1, tmp_path)["summary"]["dns"]["messages"]


@pytest.mark.parametrize("compiled", [True, False])
def test_a_datagram_is_put_to_the_one_module_reading_udp_alone(monkeypatch, compiled):
    """With one module reading UDP, workers ask it alone: in C from its ports and signatures,
    or (the Python code) its test alone (`UdpDispatch.only`); the same answer as the module's
    own `wants_udp`."""
    from mcpcap.core import scan
    from mcpcap.core.modules.registry import load_modules
    from mcpcap.core.scan import UdpDispatch

    if not compiled:
        monkeypatch.setattr(scan, "_COMPILED", None)
    elif scan._COMPILED is None:
        pytest.skip("the compiled code is turned off (MCPCAP_PURE_PYTHON)")
    dns, conn, dhcp, tls = load_modules(["dns", "conn", "dhcp", "tls"])
    header = b"\x00" * 12
    query = bytes.fromhex("1234010000010000000000000378797a0000010001")
    initial = bytes([0xC3, 0, 0, 0, 1]) + bytes(30)
    datagrams = [(40000, 53, header), (53, 40000, header), (5353, 5353, header),
                 (40000, 53, b"x"), (68, 67, b"\x01" * 240), (40000, 8080, header),
                 (40000, 8080, query), (50000, 443, initial), (5, 443, initial[:6])]  # fmt: skip
    for reader in (dns, dhcp, tls):
        dispatch = UdpDispatch([(reader, 0), (conn, 1)])
        assert (dispatch.only is None) == compiled
        answers = [reader.wants_udp(*datagram) for datagram in datagrams]
        assert [dispatch.for_datagram(*d) == [0] for d in datagrams] == answers
        assert [bool(dispatch.wanted(*d)) for d in datagrams] == answers
        assert True in answers and False in answers
    assert UdpDispatch([(dns, 0), (dhcp, 1)]).only is None


SUMMARIES_AFTER_THE_FIRST_WAIT = """
import sys
from pathlib import Path
from mcpcap.core import forking, service
from mcpcap.core.config import Settings
from mcpcap.core.modules.registry import load_modules
from mcpcap.core.scan import _FirstWait

forking.forked = lambda work: None  # every summary made here, where its imports are seen
_FirstWait(load_modules(None), None)()
late = []
store_summaries = service.Analyzer._store_summaries

def watched(self, *args):
    before = set(sys.modules)
    store_summaries(self, *args)
    late.extend(sorted(name for name in set(sys.modules) - before if name.startswith("mcpcap")))

service.Analyzer._store_summaries = watched
settings = Settings(workers=1, cache_dir=Path(sys.argv[2]))
with service.Analyzer(settings).analyze(Path(sys.argv[1]), "c") as analysis:
    assert {module.name for module in load_modules(None)} <= set(analysis.summary())
print(" ".join(late))
"""


def test_every_modules_summary_imports_nothing_the_first_wait_left_out(tmp_path):
    """What the modules' summaries import at a scan's end, which runs beside nothing, is
    imported while the scanning process waits for its workers (`results_imports`); a fresh
    interpreter shows it (this one has imported everything already)."""
    capture = ROOT / "example.pcap"
    done = subprocess.run(
        [sys.executable, "-c", SUMMARIES_AFTER_THE_FIRST_WAIT, str(capture), str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []


_INHERITED = [[n] for n in range(50_000)]  # tracked objects every forked worker inherits


def _collector_state() -> tuple[bool, bool, int]:
    """In a worker: whether the collector runs, whether what the worker inherited is frozen,
    and how many of the objects a collection would walk are that inheritance."""
    ours = {id(item) for item in _INHERITED}
    walked = sum(1 for obj in gc.get_objects() if id(obj) in ours)
    return gc.isenabled(), gc.get_freeze_count() >= len(_INHERITED), walked


def test_a_worker_never_walks_what_it_inherited():
    """A collection in a worker (`_scanner_for`, at each new file) walks what the worker made,
    not the heap it was forked with: walked, a test process's millions of objects took seconds
    at every new pool, and a CLI scan's 25k objects 17 ms in each worker."""
    fork = multiprocessing.get_context("fork")  # (the pool's choice in a one-thread process)
    with ProcessPoolExecutor(1, mp_context=fork, initializer=parallel.init_worker) as executor:
        enabled, frozen, walked = executor.submit(_collector_state).result(timeout=60)
    assert (enabled, frozen, walked) == (False, True, 0)
