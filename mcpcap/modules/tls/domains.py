"""Registered domains (eTLD+1) of server names, by the Public Suffix List.

The same list and rule as the DNS module's (`publicsuffixlist`, ICANN and private sections);
modules do not import each other, so the few lines live here too.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _psl():
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(only_icann=False)


@lru_cache(maxsize=65_536)
def registered_domain(name: str) -> str:
    """`www.example.co.uk` -> `example.co.uk`; a name that is itself a suffix stays as it is."""
    lowered = name.lower().rstrip(".")
    if not lowered:
        return "."
    try:
        private = _psl().privatesuffix(lowered)
    except Exception:  # an odd label the list library rejects
        private = None
    return private or lowered
