"""DNS's MCP prompts: ready-made investigations that steer the model to mcpcap's tools
(`DnsModule.prompts`; the server registers them with every chosen module's)."""

from __future__ import annotations

from mcpcap.core.modules.contract import ModulePrompt

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

HUNT = """Hunt for DNS tunnelling, exfiltration, DGA, fast flux, odd resolvers and rebinding in
the capture "{capture}" with the mcpcap tools.

1. Call records(capture="{capture}", kind="dns.findings"): the suspects mcpcap's DNS hunt
   ranked, best first. Each has a category (tunnel, dga, fast_flux, odd_resolver, rebinding),
   a subject (zone, client, name or server), a score from 0 to 1 (0.8 and over is strong), its
   evidence in words, metrics, clients, example transaction ids and a filter.
   describe(kind="dns.findings") lists its filters (category:tunnel, min_score:0.8,
   client:10.0.0.0/8). No records means nothing scored 0.5 or more.
2. Drill into a finding with its filter, a dns.transactions filter:
   records(capture="{capture}", kind="dns.transactions", filter=FILTER) lists every
   transaction behind it (page with next_cursor), and top(capture="{capture}",
   kind="dns.transactions", filter=FILTER, by="client") (or by="qtype", by="server") shows who
   asked and how. record(capture="{capture}", kind="dns.findings", id="1") gives finding 1 whole.
3. Read some of those names and answers: long random, hex, base32 or base64 labels, counters,
   TXT or NULL answers, many NXDOMAIN domains, short TTLs; dns_message(capture="{capture}",
   frame=N) decodes one packet completely.
4. Judge each finding: a real tunnel, malware or rebinding, or a benign service that puts data
   in names (a CDN, telemetry, anti-malware look-ups, a privacy DNS product). Known benign names
   are silenced with hunt_allow in mcpcap's settings.

Report each suspect with its category, subject, score, evidence, clients, time span, example
frames and your verdict; say plainly when nothing looks suspicious."""

PROMPTS = (
    ModulePrompt("dns_triage", "DNS triage", "First look at a capture's DNS traffic.", TRIAGE),
    ModulePrompt(
        "dns_failures",
        "DNS failure investigation",
        "Find NXDOMAIN, SERVFAIL and unanswered queries and explain them.",
        FAILURES,
    ),
    ModulePrompt(
        "dns_tunnelling_hunt",
        "DNS tunnelling and exfiltration hunt",
        "Start from the ranked DNS findings (tunnels, DGA, fast flux, odd resolvers, "
        "rebinding) and drill into each one's transactions.",
        HUNT,
    ),
)
