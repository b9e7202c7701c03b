"""How long one page of DNS transactions takes, in process, for every filter and sort.

    python benchmarks/pages.py [--capture benchmarks/data/bench-1m.pcap] [--repeat 5]

Opens the capture's result store through the `Analyzer` the faces use (building it once, in the
normal cache, when missing), asks `dns.transactions(...)` for the first page (default limit) of
each case `--repeat` times, and prints a markdown table of median milliseconds against the target
(a filtered page under 50 ms at 1m packets). "next page" cases time the page after the first.
The machine's load average is printed: compare numbers from the same session.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from mcpcap.core.config import build_settings
from mcpcap.core.service import Analysis, Analyzer

HERE = Path(__file__).resolve().parent
TARGET_MS = 50.0
T1, T2 = "2024-05-01T12:30:00Z", "2024-05-01T12:45:00Z"

# (label, sort, filters, next page?): every filter field and every sort at least once
CASES = [
    ("no filter", "ts", {}, False),
    ("no filter", "-ts", {}, False),
    ("no filter", "rtt", {}, False),
    ("no filter", "-rtt", {}, False),
    ("no filter", "qname", {}, False),
    ("qname", "ts", {"qname": "fonts.example.net"}, False),
    ("qname_suffix", "ts", {"qname_suffix": "example.com"}, False),
    ("qname_suffix, broad", "ts", {"qname_suffix": "example"}, False),
    ("qname_suffix + rcode", "ts", {"qname_suffix": "example.com", "rcode": "NOERROR"}, False),
    (
        "qname_suffix, broad + rcode",
        "qname",
        {"qname_suffix": "example", "rcode": "NXDOMAIN"},
        False,
    ),
    ("qname_contains", "ts", {"qname_contains": "static"}, False),
    ("qtype", "ts", {"qtype": "AAAA"}, False),
    ("rcode", "ts", {"rcode": "NXDOMAIN"}, False),
    ("rcode, sorted by name", "qname", {"rcode": "SERVFAIL"}, False),
    ("client address", "ts", {"client": "10.1.1.34"}, False),
    ("client CIDR v4", "ts", {"client": "10.1.0.0/16"}, False),
    ("client CIDR v6", "-ts", {"client": "2001:db8:10::/64"}, False),
    ("client CIDR + qtype", "rtt", {"client": "10.1.1.0/24", "qtype": "A"}, False),
    ("server CIDR", "ts", {"server": "10.1.9.0/24"}, False),
    ("server address", "-rtt", {"server": "10.1.0.53"}, False),
    ("answer", "ts", {"answer": "198.18.127.194"}, False),
    ("transport", "ts", {"transport": "tcp"}, False),
    ("protocol", "ts", {"protocol": "mdns"}, False),
    ("answered", "ts", {"answered": "false"}, False),
    ("answered, sorted by rtt", "rtt", {"answered": "false"}, False),
    ("min_rtt", "-rtt", {"min_rtt": "0.2"}, False),
    ("min_rtt", "ts", {"min_rtt": "0.2"}, False),
    ("since + until", "ts", {"since": T1, "until": T2}, False),
    ("until", "-ts", {"until": "2024-05-01T12:10:00Z"}, False),
    ("rcode, next page", "ts", {"rcode": "NXDOMAIN"}, True),
    ("client CIDR, next page", "ts", {"client": "10.1.0.0/16"}, True),
    ("min_rtt, next page", "-rtt", {"min_rtt": "0.2"}, True),
]


def time_case(dns, sort: str, filters: dict, next_page: bool, repeat: int) -> tuple[float, int]:
    """Median milliseconds of the page, and the page's total."""
    cursor = dns.transactions(sort=sort, **filters).next_cursor if next_page else None
    runs, total = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        page = dns.transactions(sort=sort, cursor=cursor, **filters)
        runs.append((time.perf_counter() - start) * 1000)
        total = page.total
    return statistics.median(runs), total


def open_analysis(capture: Path) -> Analysis:
    analyzer = Analyzer(build_settings({"pcap_path": [str(capture.parent)]}))
    if not analyzer.is_cached(capture):
        print(f"building the result store for {capture.name} (once) ...", file=sys.stderr)
    return analyzer.analyze(capture, capture.name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--capture", type=Path, default=HERE / "data" / "bench-1m.pcap")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    capture = args.capture.resolve()
    if not capture.is_file():
        sys.exit(f"{capture} is missing; make it with: python benchmarks/generate.py "
                 "--packets 1m --seed 1 --out benchmarks/data/bench-1m.pcap")  # fmt: skip
    failed = 0
    with open_analysis(capture) as analysis:
        dns = analysis.module("dns")
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"{capture.name}: median of {args.repeat}, first page (default limit); "
              f"load average {load}\n")  # fmt: skip
        print("| case | sort | filters | total | median ms | < 50 ms |")
        print("|---|---|---|--:|--:|---|")
        for label, sort, filters, next_page in CASES:
            ms, total = time_case(dns, sort, filters, next_page, args.repeat)
            failed += ms >= TARGET_MS
            shown = " ".join(f"{k}:{v}" for k, v in filters.items()) or "-"
            status = "pass" if ms < TARGET_MS else "FAIL"
            print(f"| {label} | {sort} | {shown} | {total} | {ms:.1f} | {status} |")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\n{len(CASES) - failed} of {len(CASES)} under {TARGET_MS:.0f} ms; load average {load}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
