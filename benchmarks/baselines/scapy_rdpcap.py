"""Baseline: load the capture with scapy's ``rdpcap`` and count DNS messages with ``haslayer``.

    python benchmarks/baselines/scapy_rdpcap.py CAPTURE

This is the approach most scripts start with; it holds every dissected packet in memory.
Prints one JSON line with the counts (on stdout).
"""

from __future__ import annotations

import json
import sys


def count_dns(path: str) -> dict[str, int]:
    """Packets, DNS queries and DNS responses as scapy sees them (UDP/TCP 53, UDP 5353)."""
    from scapy.all import DNS, rdpcap

    packets = rdpcap(path)
    queries = responses = 0
    for packet in packets:
        if packet.haslayer(DNS):
            if packet[DNS].qr:
                responses += 1
            else:
                queries += 1
    return {"packets": len(packets), "queries": queries, "responses": responses}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(count_dns(argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
