"""DNS hunting on the shared corpus of real captures: the tunnels first, no flood elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpcap.core.config import build_settings
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer

pytestmark = pytest.mark.usefixtures("corpus")
TUNNELS = {  # capture -> the zone of its tunnel
    "ndpi-dns-tunnel-iodine.pcap": "pirate.sea",  # iodine, NULL queries
    "ndpi-dns_exfiltration.pcap": "dnscat.*",  # dnscat2 without a domain: dnscat.<hex>...
}
# a finding >= 0.8 outside TUNNELS must be one of these true positives
KNOWN = {("suricata-bug-1158.pcap", "tunnel", "tunnel.com")}  # dns2tcp: base64 in TXT names
HIGH = 0.8


def findings(path: Path) -> list[dict]:
    with Analyzer(build_settings({"no_cache": True})).analyze(path, path.name) as analysis:
        return list(KindQuery(analysis, "dns.findings").iterate())


@pytest.mark.parametrize("name", sorted(TUNNELS))
def test_the_tunnel_is_the_top_finding(corpus, name):
    found = findings(corpus / name)
    top = found[0]
    assert (top["category"], top["subject"]) == ("tunnel", TUNNELS[name])
    assert top["score"] >= HIGH
    assert all(f["score"] < top["score"] for f in found[1:])


def test_no_other_capture_has_a_high_finding(corpus):
    high = []
    for path in sorted(corpus.iterdir()):
        if path.name in TUNNELS or not path.name.endswith((".pcap", ".pcapng", ".gz")):
            continue
        for f in findings(path):
            if f["score"] >= HIGH and (path.name, f["category"], f["subject"]) not in KNOWN:
                high.append((path.name, f["category"], f["subject"], f["evidence"]))
    assert not high
