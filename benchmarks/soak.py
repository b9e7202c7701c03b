"""Soak: many concurrent MCP calls on a few captures, random cancellations, kill -9 of the server.

    python benchmarks/soak.py --minutes 10            # the issue's check: 20 calls, 5 captures
    python benchmarks/soak.py --minutes 2 --packets 20000

A real `mcpcap serve` over stdio (JSON-RPC written by hand, so a call can be cancelled with
`notifications/cancelled` and the server killed at any moment). For the given time it keeps
`--calls` tool calls in flight over `--captures` generated captures, cancels some of them at a
random moment, and kills the server with SIGKILL every so often (then starts a new one on the
same cache). Afterwards it checks that:

- every answer that came back equals the answer of a clean run (a fresh cache, one call at a
  time), and a final call per capture on the soaked cache does too;
- the cache holds only complete stores (no temporaries, no half-written or foreign store) and
  stays within `MCPCAP_CACHE_MAX_BYTES`;
- no process of the soak outlived it.

It prints a JSON report (with the peak RSS of the server and of its children) and exits 1 when a
check fails. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

TOOLS = [
    ("capture_info", {}),
    ("analyze_dns_packets", {}),
    ("dns_top", {"by": "qname", "limit": 5}),
    ("dns_top", {"by": "client", "limit": 5}),
    ("dns_transactions", {"limit": 20, "sort": "-rtt"}),
]


class Server:
    """One `mcpcap serve` over stdio; replies are matched to their request by id."""

    def __init__(self, source: Path, cache: Path, cap: int) -> None:
        env = {**os.environ, "MCPCAP_CACHE_DIR": str(cache), "MCPCAP_CACHE_MAX_BYTES": str(cap)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mcpcap", "serve", "--pcap-path", str(source)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env, cwd=ROOT,
        )  # fmt: skip
        self.replies: dict[int, dict] = {}
        self.arrived = threading.Condition()
        self.peak_rss_kib = 0
        self._write_lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._watch_memory, daemon=True).start()
        self.send(
            {"jsonrpc": "2.0", "id": 0, "method": "initialize",
             "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                        "clientInfo": {"name": "soak", "version": "1"}}}
        )  # fmt: skip
        if self.wait(0, 60) is None:
            raise RuntimeError("the server did not initialise")
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def send(self, message: dict) -> bool:
        try:
            with self._write_lock:
                assert self.proc.stdin is not None
                self.proc.stdin.write((json.dumps(message) + "\n").encode())
                self.proc.stdin.flush()
            return True
        except (BrokenPipeError, OSError, ValueError):
            return False

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            message = json.loads(line)  # a line that is not JSON-RPC is a failure of its own
            if "id" in message and "method" not in message:
                with self.arrived:
                    self.replies[message["id"]] = message
                    self.arrived.notify_all()
        with self.arrived:
            self.arrived.notify_all()

    def wait(self, ident: int, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while ident not in self.replies:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return self.replies.pop(ident, None)
                self.arrived.wait(min(left, 0.5))
            return self.replies.pop(ident)

    def _watch_memory(self) -> None:
        while self.proc.poll() is None:
            self.peak_rss_kib = max(self.peak_rss_kib, _tree_rss_kib(self.proc.pid))
            time.sleep(0.2)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def close(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.kill()


def _tree_rss_kib(root: int) -> int:
    """Resident memory of a process and its descendants now (KiB), from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry)] = int(fields[1])
            except (OSError, IndexError):
                continue
    tree, todo = {root}, [root]
    while todo:
        pid = todo.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                todo.append(child)
    total = 0
    for pid in tree:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def call_message(ident: int, capture: str, tool: str, extra: dict) -> dict:
    params = {"name": tool, "arguments": {"capture": capture, **extra}}
    return {"jsonrpc": "2.0", "id": ident, "method": "tools/call", "params": params}


def answer_of(reply: dict) -> object:
    result = reply.get("result") or {}
    return result.get("structuredContent") if not result.get("isError") else None


def clean_answers(source: Path, names: list[str]) -> tuple[dict, int]:
    """Every (capture, tool) answer from a fresh, uncapped cache, one call at a time; and the
    bytes of the stores that run made."""
    with tempfile.TemporaryDirectory(prefix="mcpcap-soak-clean-") as cache:
        server = Server(source, Path(cache), 1 << 40)
        answers, ident = {}, 1
        for name in names:
            for index, (tool, extra) in enumerate(TOOLS):
                server.send(call_message(ident, name, tool, extra))
                reply = server.wait(ident, 600)
                if reply is None or answer_of(reply) is None:
                    raise RuntimeError(f"the clean run failed on {tool} {name}: {reply}")
                answers[(name, index)] = answer_of(reply)
                ident += 1
        server.close()
        stores = sum(p.stat().st_size for p in Path(cache, "results").glob("*.sqlite"))
    return answers, stores


class Soak:
    def __init__(self, args: argparse.Namespace, source: Path, cache: Path, names: list[str]):
        self.args = args
        self.source, self.cache, self.names = source, cache, names
        self.random = random.Random(args.seed)
        self.lock = threading.Lock()
        self.server = Server(source, cache, args.cap)
        self.next_id = 1
        self.stats = {"calls": 0, "answered": 0, "cancelled": 0, "lost_to_kill": 0,
                      "errors": 0, "mismatches": 0, "kills": 0}  # fmt: skip
        self.problems: list[str] = []
        self.peak_rss_kib = 0

    def run(self, reference: dict) -> None:
        stop = time.monotonic() + self.args.minutes * 60
        threads = [
            threading.Thread(target=self._caller, args=(reference, stop), daemon=True)
            for _ in range(self.args.calls)
        ]
        for thread in threads:
            thread.start()
        while time.monotonic() < stop:
            time.sleep(min(self.random.uniform(*self.args.kill_every), stop - time.monotonic()))
            if time.monotonic() < stop:
                self._kill_and_restart()
        for thread in threads:
            thread.join(600)
        with self.lock:
            self.peak_rss_kib = max(self.peak_rss_kib, self.server.peak_rss_kib)
            self.server.close()

    def _kill_and_restart(self) -> None:
        with self.lock:
            old = self.server
            self.peak_rss_kib = max(self.peak_rss_kib, old.peak_rss_kib)
            old.kill()
            self.stats["kills"] += 1
            self.server = Server(self.source, self.cache, self.args.cap)

    def _caller(self, reference: dict, stop: float) -> None:
        rng = random.Random(self.random.random())
        while time.monotonic() < stop:
            name = rng.choice(self.names)
            index = rng.randrange(len(TOOLS))
            tool, extra = TOOLS[index]
            with self.lock:
                server, ident = self.server, self.next_id
                self.next_id += 1
            if not server.send(call_message(ident, name, tool, extra)):
                time.sleep(0.05)  # killed: the next server is on its way
                continue
            self._count("calls")
            cancelled = rng.random() < self.args.cancel_share
            if cancelled:
                time.sleep(rng.uniform(0, 0.5))
                server.send(
                    {"jsonrpc": "2.0", "method": "notifications/cancelled",
                     "params": {"requestId": ident, "reason": "soak"}}
                )  # fmt: skip
            reply = server.wait(ident, 600 if not cancelled else 30)
            self._judge(reply, server, cancelled, reference[(name, index)], f"{tool} {name}")

    def _judge(self, reply, server: Server, cancelled: bool, expected, what: str) -> None:
        if reply is None:
            if server.proc.poll() is not None:
                self._count("lost_to_kill")
            elif cancelled:
                self._count("cancelled")
            else:
                self._problem("errors", f"{what}: no reply within the time allowed")
            return
        answer = answer_of(reply)
        if answer is None:
            text = json.dumps(reply)[:300]
            if cancelled and "cancelled" in text:
                self._count("cancelled")
            else:
                self._problem("errors", f"{what}: {text}")
        elif answer != expected:
            self._problem("mismatches", f"{what}: the answer differs from the clean run's")
        else:
            self._count("answered")

    def _count(self, key: str) -> None:
        with self.lock:
            self.stats[key] += 1

    def _problem(self, key: str, text: str) -> None:
        with self.lock:
            self.stats[key] += 1
            if len(self.problems) < 20:
                self.problems.append(text)


def check_cache(cache: Path, cap: int) -> dict:
    """What the cache holds after the soak, and whether it is only complete stores within cap."""
    from mcpcap.core import store

    results = cache / "results"
    stores = sorted(results.glob(f"*{store.STORE_SUFFIX}")) if results.exists() else []
    incomplete = [p.name for p in stores if not store.is_valid(p, p.stem)]
    others = [
        p.name
        for p in (results.iterdir() if results.exists() else [])
        if p.is_file() and p.suffix not in (store.STORE_SUFFIX, ".lock")
    ]
    total = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file() and p.suffix != ".lock")
    return {
        "stores": len(stores),
        "incomplete_stores": incomplete,
        "other_files": others,
        "bytes": total,
        "cap": cap,
        "ok": not incomplete and not others and total <= cap,
    }


def leftover_processes(cache: Path) -> list[int]:
    marker = f"MCPCAP_CACHE_DIR={cache}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if marker in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0"):
                    found.append(int(entry))
            except OSError:
                continue
    return found


def make_captures(folder: Path, count: int, packets: int) -> list[str]:
    from generate import generate

    names = []
    for n in range(count):
        path = folder / f"soak-{n}.pcap"
        generate(path, packets + 997 * n, seed=100 + n, write_truth=False)
        names.append(path.name)
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--calls", type=int, default=20, help="calls in flight at once")
    parser.add_argument("--captures", type=int, default=5)
    parser.add_argument("--packets", type=int, default=50_000, help="packets per capture")
    parser.add_argument(
        "--cap", type=int, default=None, help="MCPCAP_CACHE_MAX_BYTES (default: 60%% of the stores)"
    )
    parser.add_argument("--cancel-share", type=float, default=0.2)
    parser.add_argument("--kill-every", type=float, nargs=2, default=(10.0, 40.0),
                        metavar=("MIN", "MAX"), help="seconds between two kill -9")  # fmt: skip
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mcpcap-soak-") as work:
        source, cache = Path(work) / "captures", Path(work) / "cache"
        source.mkdir()
        names = make_captures(source, args.captures, args.packets)
        started = time.monotonic()
        reference, stores_bytes = clean_answers(source, names)
        clean_seconds = time.monotonic() - started
        if args.cap is None:  # room for 60% of the stores: eviction and rescans go on
            args.cap = int(stores_bytes * 0.6)
        soak = Soak(args, source, cache, names)
        soak.run(reference)
        cache_state = check_cache(cache, args.cap)
        final = Soak(args, source, cache, names)  # one call per capture and tool, soaked cache
        for name in names:
            for index, (tool, extra) in enumerate(TOOLS):
                final.server.send(call_message(final.next_id, name, tool, extra))
                reply = final.server.wait(final.next_id, 600)
                final._judge(reply, final.server, False, reference[(name, index)], tool)
                final.next_id += 1
        final.server.close()
        time.sleep(1)
        orphans = leftover_processes(cache)
        report = {
            "minutes": args.minutes,
            "calls_in_flight": args.calls,
            "captures": {n: (source / n).stat().st_size for n in names},
            "clean_run_seconds": round(clean_seconds, 1),
            "soak": soak.stats,
            "final_check": final.stats,
            "problems": soak.problems + final.problems,
            "cache": cache_state,
            "leftover_processes": orphans,
            "peak_rss_mib_server_and_children": round(soak.peak_rss_kib / 1024, 1),
        }
    ok = (
        cache_state["ok"]
        and not orphans
        and soak.stats["mismatches"] == soak.stats["errors"] == 0
        and final.stats["answered"] == len(names) * len(TOOLS)
    )
    report["ok"] = ok
    print(json.dumps(report, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
