"""Registered domains (eTLD+1) of server names: the core's Public Suffix List logic, shared with
the DNS module (one parse of the list per process)."""

from __future__ import annotations

import ipaddress

from mcpcap.core import domains


def registered_domain(name: str) -> str | None:
    """`www.example.co.uk.` -> `example.co.uk` (an SNI's trailing dots do not count); an IP
    address literal (which some clients send as SNI) has none: None."""
    name = name.rstrip(".")
    if _is_address(name):
        return None
    return domains.registered_domain(name)


def _is_address(name: str) -> bool:
    """An IPv4 or IPv6 literal (bracketed or not). A name ending in a digit or holding a colon
    is rare enough that only these are tried."""
    if not (name[-1:].isdigit() or ":" in name):
        return False
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True
