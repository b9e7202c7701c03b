"""The zone a name's data hides under, and the names hunting judges at all.

A tunnel's names are data under a zone its operator controls: the registered domain for almost
all of them. A tunnel run without a domain of its own (dnscat2 talking straight to its server:
`dnscat.<hex>.<hex>`) has data even in its last label, which no registry knows; its zone is
then its first label (`dnscat.*`), the one part its names share.
"""

from __future__ import annotations

from functools import lru_cache

from mcpcap.core.addresses import make_function
from mcpcap.modules.dns.domains import _psl
from mcpcap.modules.dns.hunting.names import randomness

ANY_BELOW = ".*"  # a zone named by its first label


@lru_cache(maxsize=4096)
def known_suffix(domain: str) -> bool:
    """Whether the Public Suffix List knows the top of `domain` (`com`, `co.uk`, not `lan`)."""
    try:
        return _psl().publicsuffix(domain, accept_unknown=False) is not None
    except Exception:  # an odd label the list library rejects
        return False


@lru_cache(maxsize=4096)
def data_on_top(domain: str) -> bool:
    """Whether the top label of `domain` is data, not a suffix any registry knows."""
    top = domain.rsplit(".", 1)[-1]
    if len(top) < 8 or not (any(c.isdigit() for c in top) or randomness(top) >= 0.5):
        return False
    return not known_suffix(domain)


def zone(domain: str | None, qname: str | None) -> str | None:
    """The zone of a name (its registered domain, or `first-label.*`)."""
    if domain is None or qname is None:
        return domain
    if not data_on_top(domain):
        return domain
    return qname.split(".", 1)[0] + ANY_BELOW


def below(zone_name: str, query: str) -> str:
    """The part of a name (as asked) that lies below its zone ('' for the zone itself)."""
    if zone_name.endswith(ANY_BELOW):
        return query.split(".", 1)[1] if "." in query else ""
    keep = len(query) - len(zone_name) - 1
    return query[:keep] if keep > 0 else ""


def below_length(domain: str | None, qname: str | None) -> int:
    """Characters of the name below its zone (the SQL function `hunt_below`)."""
    name = zone(domain, qname)
    if name is None or qname is None:
        return 0
    return len(below(name, qname))


def zone_filter(zone_name: str) -> str:
    """The transactions filter of a zone's names."""
    if zone_name.endswith(ANY_BELOW):
        return f"qname_contains:{zone_name[: -len(ANY_BELOW)]}."
    return f"qname_suffix:{zone_name}"


def register(db) -> None:
    """`hunt_zone(domain, qname)` and `hunt_below(domain, qname)` callable from SQL."""
    make_function(db, "hunt_zone", 2, zone)
    make_function(db, "hunt_below", 2, below_length)
