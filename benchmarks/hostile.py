"""Peak memory, time and store size of `mcpcap analyze` on hostile captures (issue 15).

    python benchmarks/hostile.py [--messages 600] [--flows 20000] [--keep]

Writes the captures with `tests/fixtures/hostile.py` into benchmarks/data/hostile/ (once), then
runs `mcpcap analyze` on each in a fresh cache folder and prints, per case, the peak resident
memory of the largest process (the scan or one of its workers, from `wait4`), the wall time, and
the bytes the cache holds afterwards. Every case should stay under 200 MiB.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures.hostile import qdcount_bomb, tcp_unfinished  # noqa: E402

DATA = ROOT / "benchmarks" / "data" / "hostile"
LIMIT_MIB = 200


def measure(capture: Path) -> dict:
    """Run one analysis; its peak RSS (MiB), seconds, exit status and cache bytes."""
    with tempfile.TemporaryDirectory(prefix="mcpcap-hostile-") as cache:
        env = {**os.environ, "MCPCAP_CACHE_DIR": cache}
        cmd = [sys.executable, "-m", "mcpcap", "analyze", str(capture)]
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        stored = sum(p.stat().st_size for p in Path(cache).rglob("*") if p.is_file())
    return {
        "rss_mib": usage.ru_maxrss / 1024,
        "seconds": seconds,
        "status": os.waitstatus_to_exitcode(status),
        "store_mb": stored / 1e6,
        "stderr": stderr.strip()[-300:],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=600, help="qdcount-bomb messages")
    parser.add_argument("--flows", type=int, default=20_000, help="unfinished TCP flows")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    cases = {
        f"qdcount-bomb-{args.messages}": (qdcount_bomb, args.messages, ".pcap"),
        f"tcp-unfinished-{args.flows}": (tcp_unfinished, args.flows, ".pcap.gz"),
    }
    worst = 0.0
    for name, (build, count, suffix) in cases.items():
        path = DATA / f"{name}{suffix}"
        if not path.exists():
            build(path, count)
        result = measure(path)
        worst = max(worst, result["rss_mib"])
        print(
            f"{name:28} {path.stat().st_size / 1e6:7.1f} MB capture  "
            f"peak {result['rss_mib']:7.1f} MiB  {result['seconds']:6.1f} s  "
            f"store {result['store_mb']:7.1f} MB  exit {result['status']}"
        )
        if result["status"]:
            print(f"    {result['stderr']}")
    print(f"worst peak: {worst:.1f} MiB (limit {LIMIT_MIB} MiB)")
    return 0 if worst <= LIMIT_MIB else 1


if __name__ == "__main__":
    raise SystemExit(main())
