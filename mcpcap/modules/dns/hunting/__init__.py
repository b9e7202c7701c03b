"""DNS hunting: tunnels, DGA, fast flux, odd resolvers and rebinding, found and explained.

Findings are computed from the stored transactions the first time a face asks for them (grouped
SQL per detector; Python keeps a few numbers per zone, client or name), ranked by score, and
written once into the capture's store (`cache`), so every face and every later question reads
the same rows. Every threshold lives in `thresholds`; names that are random by design are left
alone by `allow`. A finding's score is 0 to 1; those under `REPORT.threshold` (0.5) are not kept.

The heuristics (the numbers are `thresholds`' defaults):

- **tunnel** (subject: the zone, i.e. the registered domain; `dnscat.*` for a tunnel without a
  domain, whose last label is data). Over a zone's distinct names (queries only, DNSSEC types
  left out): how many look like encoded data (`names.data_score`: at least 8 characters below
  the zone, random by a letter-pair model shipped in `bigrams.py`, or hex, base32, base64 or raw
  bytes), scaled by volume (1 - e^(-data names / 25)), the share of such names, the mean length
  below the zone (short names weigh 0.6), how often name parts are new (names that recombine a
  few parts, `ipv4-c047-lhr001-ix.1.oca`, weigh 0.4), a bonus for TXT, NULL, CNAME, MX, ANY or
  private-type queries and for one client sending 4 KB or more in names. At least five distinct
  names carrying data. Known false positives: services that put hashes or ids in host names and
  are not on the allowlist (anti-malware and reputation look-ups, per-user hashed hosts), when
  a capture holds enough of them; the allowlist takes their suffixes.
- **dga** (subject: the client). NXDOMAIN answers for distinct registered domains under a suffix
  the Public Suffix List knows, within 300 s: at least 5, scored 1 - e^(-domains / 12), times
  0.55 plus 0.45 x the share whose own label reads as random. Browser probes (single labels),
  search-list suffixes (`.lan`) and one domain's missing subdomains do not count. Known false
  positives: mail servers and crawlers that look up many dead domains in a burst.
- **fast_flux** (subject: the name). At least 10 addresses in 6 networks (/24, /48), responses
  of at least 2 addresses that change between responses (distinct / most in one response, full
  at 3), median TTL 300 s or less counting fully (none at 1800 s). Known false positives: cloud
  load balancers queried many times with short TTLs; the allowlist takes CDN suffixes and
  `pool.ntp.org`.
- **odd_resolver** (subject: the server). DNS to a port other than 53 (0.6); a resolver that
  one client alone asks (at least 5 queries) while the busiest resolver of its address family
  serves 60% of at least 3 clients, and at most two such resolvers (0.55); 5 or more
  responses nobody asked, half of the server's (0.55); each further reason adds 0.1. Known
  false positives: DNS over port 443 by privacy products, test resolvers, a capture that
  starts after the queries.
- **rebinding** (subject: the name). A name under a known suffix answered with a public
  address, later with a private, loopback or link-local one: 0.75 from the same server, 0.55
  from another (split horizon). Names always private are not findings; 0.0.0.0 (block pages)
  is not private here.

Reverse look-ups (in-addr.arpa, ip6.arpa), `.local` and other special names, service names
(a label starting with `_`: DNS-SD, SRV, DKIM), mDNS and LLMNR, and the suffixes of well-known
CDNs, telemetry and block lists are left alone; `hunt_allow` in the settings adds suffixes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from mcpcap.modules.dns.hunting.finding import CATEGORIES, Finding
from mcpcap.modules.dns.hunting.thresholds import REPORT

__all__ = ["CATEGORIES", "Finding", "hunt"]


def hunt(db: sqlite3.Connection, allow_extra: Iterable[str] = ()) -> list[Finding]:
    """Every finding at or above the report threshold, best first."""
    from mcpcap.modules.dns.hunting import zones
    from mcpcap.modules.dns.hunting.allow import Allowlist
    from mcpcap.modules.dns.hunting.answers import find_answer_shapes
    from mcpcap.modules.dns.hunting.dga import find_dga
    from mcpcap.modules.dns.hunting.resolvers import find_odd_resolvers
    from mcpcap.modules.dns.hunting.tunnel import find_tunnels

    zones.register(db)
    allow = Allowlist(allow_extra)
    found = [
        *find_tunnels(db, allow),
        *find_dga(db, allow),
        *find_answer_shapes(db, allow),
        *find_odd_resolvers(db),
    ]
    kept = [f for f in found if f.score >= REPORT.threshold]
    return sorted(kept, key=lambda f: (-f.score, CATEGORIES.index(f.category), f.subject))
