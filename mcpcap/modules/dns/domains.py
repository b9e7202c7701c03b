"""Registered domains (eTLD+1): the core's, one Public Suffix List per process for every module."""

from __future__ import annotations

from mcpcap.core.domains import load_suffix_list, registered_domain
from mcpcap.core.domains import suffix_list as _psl

__all__ = ["_psl", "load_suffix_list", "registered_domain"]
