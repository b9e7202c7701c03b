"""Registered domains (eTLD+1) of server names: the core's Public Suffix List logic, shared with
the DNS module (one parse of the list per process)."""

from __future__ import annotations

from mcpcap.core import domains


def registered_domain(name: str) -> str:
    """`www.example.co.uk.` -> `example.co.uk` (an SNI's trailing dots do not count)."""
    return domains.registered_domain(name.rstrip("."))
