"""Names hunting leaves alone: services whose names are long and random by design.

Each entry is a suffix (a name equal to it or below it matches). The lists are short on
purpose: they cover the families that flood a naive ranking (content delivery networks,
operating-system telemetry, anti-malware and block-list look-ups that carry hashes in names,
reverse look-ups, DNS-SD, DNSSEC); anything else is judged on its evidence. More suffixes come
from the settings (`hunt_allow`), so a site silences its own known names without a release; an
address or network there silences the findings about it (an odd resolver, a DGA client).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

CDN = (
    "akamai.net", "akamaiedge.net", "akamaihd.net", "akadns.net", "edgekey.net",
    "edgesuite.net", "akamaized.net", "cloudfront.net", "fastly.net", "fastlylb.net",
    "cloudflare.net", "cdn.cloudflare.net", "azureedge.net", "azurefd.net", "msedge.net",
    "trafficmanager.net", "cloudapp.net", "windows.net", "googlevideo.com", "gvt1.com",
    "gvt2.com", "1e100.net", "googleusercontent.com", "ggpht.com", "amazonaws.com",
    "llnwd.net", "footprint.net", "cdn77.org", "b-cdn.net", "fbcdn.net", "cdninstagram.com",
    "aaplimg.com", "apple-dns.net", "tiktokcdn.com", "edgecastcdn.net", "pool.ntp.org",
)  # fmt: skip
TELEMETRY = (
    "data.microsoft.com", "events.data.microsoft.com", "telemetry.microsoft.com",
    "metric.gstatic.com", "app-measurement.com", "crashlytics.com", "sentry.io",
    "datadoghq.com", "newrelic.com", "nr-data.net", "segment.io", "mixpanel.com",
    "doubleclick.net", "googlesyndication.com", "adnxs.com", "safebrowsing.googleapis.com",
)  # fmt: skip
LOOKUPS = (  # anti-malware, reputation and block lists: hashes and addresses in names by design
    "spamhaus.org", "spamcop.net", "sorbs.net", "surbl.org", "uribl.com", "barracudacentral.org",
    "sophosxl.net", "mcafee.com", "avqs.mcafee.com", "avast.com", "avcdn.net", "eset.com",
    "e5.sk", "trendmicro.com", "senderbase.org", "cymru.com", "dnswl.org", "mailspike.net",
)  # fmt: skip
SPECIAL = (  # reverse look-ups, local names, and names DNS itself defines
    "in-addr.arpa",
    "ip6.arpa",
    "local",
    "localhost",
    "home.arpa",
    "resolver.arpa",
    "ipv4only.arpa",
    "dns-sd.org",
)
ALLOWED = CDN + TELEMETRY + LOOKUPS + SPECIAL
DNSSEC_TYPES = frozenset((43, 46, 47, 48, 50, 51, 59, 60, 61))  # DS RRSIG NSEC DNSKEY NSEC3 ...


class Allowlist:
    """Suffixes matched label-wise: `a.akamaiedge.net` and `akamaiedge.net` match, not
    `notakamaiedge.net`."""

    def __init__(self, extra: Iterable[str] = ()) -> None:
        self.suffixes = frozenset(
            s.strip(".").lower() for s in (*ALLOWED, *extra) if s and s.strip(".")
        )
        self._cache: dict[str, bool] = {}
        self.networks = tuple(n for n in map(_network, self.suffixes) if n is not None)

    def allows(self, name: str) -> bool:
        """Whether `name` is left alone: an allowed suffix, or a DNS-SD or service name (a
        label starting with `_`, such as `_ldap._tcp` or `_dmarc`)."""
        found = self._cache.get(name)
        if found is None:
            found = self._cache[name] = self._match(name.lower().rstrip("."))
        return found

    def _match(self, name: str) -> bool:
        labels = name.split(".")
        if any(label.startswith("_") for label in labels):
            return True
        return any(".".join(labels[i:]) in self.suffixes for i in range(len(labels)))

    def allows_address(self, text: str) -> bool:
        """Whether an address subject (a client, a server) is in an allowed address or
        network (`hunt_allow = ["10.0.0.53", "192.0.2.0/24"]`)."""
        address = _address(text)
        return address is not None and any(
            address.version == net.version and address in net for net in self.networks
        )

    def digest_text(self) -> str:
        return ",".join(sorted(self.suffixes))


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
