"""Registered domains (eTLD+1) by the Public Suffix List shipped with `publicsuffixlist`."""

from __future__ import annotations

from functools import lru_cache


def load_suffix_list() -> None:
    """Parse the list now (about 80 ms) rather than at the first name."""
    _psl()


@lru_cache(maxsize=1)
def _psl():
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(only_icann=False)


@lru_cache(maxsize=65_536)
def registered_domain(name: str) -> str:
    """`www.example.co.uk` -> `example.co.uk`; a name that is itself a suffix stays as it is."""
    lowered = name.lower()
    if lowered in (".", ""):
        return "."
    try:
        private = _psl().privatesuffix(lowered)
    except Exception:  # an odd label the list library rejects
        private = None
    return private or lowered
