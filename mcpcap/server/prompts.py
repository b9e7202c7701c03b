"""Prompts: ready-made DNS investigations that steer the model to mcpcap's tools."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from pydantic import Field

CaptureName = Annotated[str, Field(description="The capture's name, as list_captures shows it.")]

TRIAGE = """Triage the DNS traffic in the capture "{capture}" with the mcpcap tools.

1. Call capture_info(capture="{capture}") for the time span, packet count and link types.
2. Call analyze_dns_packets(capture="{capture}") for the overview: messages, rcodes, query
   types, top domains, servers, clients, latency and the timeline.
3. Call dns_top(capture="{capture}", by="registered_domain") and by="server" to see who is
   asked and who answers; look for unexpected resolvers.
4. Use dns_transactions with filters (rcode, qname_suffix, client, answered=false, min_rtt) to
   look at anything unusual, and dns_message(capture, frame) for a single packet's details.

Report: what the capture contains, the busiest names and resolvers, errors and unanswered
queries, slow lookups, and anything that deserves a closer look, citing frame numbers."""

FAILURES = """Investigate DNS failures in the capture "{capture}" with the mcpcap tools.

1. Call analyze_dns_packets(capture="{capture}"): read rcodes, unanswered, nxdomain_names and
   the timeline's errors.
2. Call dns_top(capture="{capture}", by="qname", rcode="NXDOMAIN") for the names that do not
   exist, and dns_top(..., by="client", rcode="NXDOMAIN") for who asks for them.
3. Call dns_transactions(capture="{capture}", rcode="SERVFAIL") and with answered=false for
   resolver failures and timeouts; page with next_cursor when there are more.
4. Open a typical failing response with dns_message(capture="{capture}", frame=N).

Report: which names fail and why (typos, search-domain suffixes, blocked or sinkholed names,
misconfigured or unreachable resolvers), which clients are affected, when, and what to fix."""

TUNNELLING = """Hunt for DNS tunnelling and data exfiltration in the capture "{capture}".

1. Call analyze_dns_packets(capture="{capture}"): compare distinct_qnames with
   distinct_registered_domains, and note unusual qtypes (TXT, NULL, CNAME, MX, ANY).
2. Call dns_top(capture="{capture}", by="registered_domain", limit=20): a domain with very many
   distinct subdomains is a candidate. For each candidate, call
   dns_transactions(capture="{capture}", qname_suffix=DOMAIN, limit=50) and look at the labels:
   long, high-entropy, hex or base32/base64-like labels, sequence numbers.
3. Call dns_top(capture="{capture}", by="client", qname_suffix=DOMAIN) to find the sending hosts,
   and dns_top(..., by="qtype") to see which record types carry data.
4. Check TXT or NULL answers with dns_message(capture="{capture}", frame=N).

Report each suspicious domain with its evidence (query count, label length and shape, qtypes,
clients, time span, frames) and a confidence; say so plainly when nothing looks suspicious."""

PROMPTS = (
    ("dns_triage", "DNS triage", "First look at a capture's DNS traffic.", TRIAGE),
    (
        "dns_failures",
        "DNS failure investigation",
        "Find NXDOMAIN, SERVFAIL and unanswered queries and explain them.",
        FAILURES,
    ),
    (
        "dns_tunnelling_hunt",
        "DNS tunnelling and exfiltration hunt",
        "Look for data hidden in DNS names and answers.",
        TUNNELLING,
    ),
)


def register_prompts(server: MCPServer) -> None:
    for name, title, description, template in PROMPTS:
        server.prompt(name=name, title=title, description=description)(_renderer(template))


def _renderer(template: str):
    def render(capture: CaptureName) -> str:
        return template.format(capture=capture)

    return render
