"""Peak memory of one `mcpcap serve` answering many first-time calls at once (issue: faults).

    python benchmarks/concurrent_memory.py --calls 20 --packets 60000

Writes `--calls` different captures with the benchmark generator (different seeds), starts
`mcpcap serve` over stdio on them with an empty cache, sends one `capture_info` per capture at
the same time from an MCP client, and samples the resident memory of the server and of every
process below it from /proc until all calls are answered. Prints the peak of the server alone
(the kernel's high-water mark, VmHWM, read before the server ends; and the largest 0.1 s sample),
of the largest child and of all of them together, the number of processes seen at once, and
the wall time.

Measured (peak RSS of the server; a 2-core machine shared with other work):

    --calls 20 --packets 360000 --dns-only   1145 MiB with 8 arenas a core, 773 with 2 arenas,
                                             279 scanning one capture at a time and trimming
                                             the heap after each, 210 with 1 MiB mmap blocks
                                             and a 4 MB page cache for building stores
    --calls 20 --packets 60000                311 MiB before, 115 after the same changes

Then as VmHWM (--packets 360000 --dns-only, --calls 1 / 4 / 8 / 20): 170 / 184 / 201 / 227 MiB;
158 / 178 / 177 / 185 once a scan held one span's worker results at a time (two before) and no
cache kept a past capture's names (DNS hunting's name scores, the DNS decoder's messages seen,
registered domains: together 30+ MiB after a few DNS-heavy captures).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import generate  # noqa: E402


def write_dns_only(path: Path, packets: int, seed: int) -> None:
    """A query and its response per two packets, every name different (the pairing's worst)."""
    import struct

    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    eth = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00"
    for n in range(packets // 2):
        name = f"h{n}-{seed}.example.com".encode()
        qname = b"".join(bytes([len(p)]) + p for p in name.split(b".")) + b"\0"
        for response in (False, True):
            dns = (
                struct.pack(
                    "!HHHHHH", n & 0xFFFF, 0x8180 if response else 0x0100, 1, int(response), 0, 0
                )
                + qname
                + b"\0\x01\0\x01"
            )
            if response:
                dns += b"\xc0\x0c\0\x01\0\x01\0\0\x01\x2c\0\x04" + struct.pack("!I", n)
            ports = (53, 40000 + n % 20000) if response else (40000 + n % 20000, 53)
            udp = struct.pack("!HHHH", *ports, 8 + len(dns), 0) + dns
            hosts = (b"\x0a\0\0\x35", b"\x0a\0\x01\x01")
            src, dst = hosts if response else hosts[::-1]
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, src, dst)
            frame = eth + ip + udp
            ts = 1_714_557_600 + n // 100
            out += struct.pack("<IIII", ts, (n % 100) * 1000 + response, len(frame), len(frame))
            out += frame
    path.write_bytes(bytes(out))


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """A process's resident memory (`VmRSS`), or its high-water mark (`VmHWM`), in KiB."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    parent = int(fh.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class Sampler(threading.Thread):
    """Samples the server's and its descendants' memory every 0.1 s."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.server: int | None = None
        self.peaks = {"server": 0, "child": 0, "total": 0, "processes": 0, "server_hwm": 0}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.1):
            if self.server is None:
                continue
            server = rss_kib(self.server)
            kids = [rss_kib(pid) for pid in descendants(self.server)]
            for key, value in (
                ("server", server),
                ("child", max(kids, default=0)),
                ("total", server + sum(kids)),
                ("processes", 1 + len(kids)),
            ):
                self.peaks[key] = max(self.peaks[key], value)


async def run(folder: Path, names: list[str], cache: Path, sampler: Sampler) -> float:
    env = {**os.environ, "MCPCAP_CACHE_DIR": str(cache)}
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "mcpcap", "serve", "--pcap-path", str(folder)], env=env
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        sampler.server = next(pid for pid in descendants(os.getpid()) if b"serve" in _cmdline(pid))
        start = time.monotonic()
        replies = await asyncio.gather(
            *(session.call_tool("capture_info", {"capture": name}) for name in names)
        )
        elapsed = time.monotonic() - start
        # the kernel's high-water mark: a peak between two samples is not missed
        sampler.peaks["server_hwm"] = rss_kib(sampler.server, "VmHWM")
    errors = [r for r in replies if r.is_error]
    if errors:
        raise SystemExit(f"{len(errors)} call(s) failed: {errors[0].content}")
    return elapsed


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--packets", type=int, default=60_000)
    parser.add_argument(
        "--dns-only", action="store_true",
        help="captures of DNS transactions only (every packet a message for the server's scan)",
    )  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mcpcap-memory-") as tmp:
        folder, cache = Path(tmp) / "captures", Path(tmp) / "cache"
        folder.mkdir()
        names = []
        for seed in range(1, args.calls + 1):
            name = f"capture-{seed:02}.pcap"
            if args.dns_only:
                write_dns_only(folder / name, args.packets, seed)
            else:
                generate(folder / name, args.packets, seed, write_truth=False)
            names.append(name)
        size = sum(p.stat().st_size for p in folder.glob("*.pcap")) / 2**20
        sampler = Sampler()
        sampler.start()
        elapsed = asyncio.run(run(folder, names, cache, sampler))
        sampler.stop.set()
    peaks = sampler.peaks
    print(
        f"{args.calls} concurrent first calls on {size:.0f} MiB of captures in {elapsed:.1f} s: "
        f"peak RSS server {peaks['server_hwm'] / 1024:.0f} MiB (VmHWM; sampled every 0.1 s: "
        f"{peaks['server'] / 1024:.0f}), largest child "
        f"{peaks['child'] / 1024:.0f} MiB, all {peaks['total'] / 1024:.0f} MiB, "
        f"at most {peaks['processes']} processes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
