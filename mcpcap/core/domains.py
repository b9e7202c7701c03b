"""Registered domains (eTLD+1) by the Public Suffix List shipped with `publicsuffixlist`.

Shared by every module that names domains (DNS query names, TLS server names): the list is
parsed once per process (about 80 ms and a few MB), at the first name or at `load_suffix_list`,
and the answers are cached once for all of them.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList


@lru_cache(maxsize=1)
def suffix_list() -> PublicSuffixList:
    """The parsed list (ICANN and private sections)."""
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(only_icann=False)


def load_suffix_list() -> None:
    """Parse the list now rather than at the first name (before worker processes fork)."""
    suffix_list()


@lru_cache(maxsize=65_536)
def registered_domain(name: str) -> str:
    """`www.example.co.uk` -> `example.co.uk`; a name that is itself a suffix stays as it is
    (lowercased); the root (`.` or an empty name) is `.`."""
    lowered = name.lower()
    if lowered in (".", ""):
        return "."
    try:
        private = suffix_list().privatesuffix(lowered)
    except Exception:  # an odd label the list library rejects
        private = None
    return private or lowered
