"""The key stored findings are made under: hunting version, thresholds and allowlist.

Light on purpose (no models): a warm `mcpcap analyze` asks it before reading the stored summary.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from typing import Any

from mcpcap.modules.dns.hunting.allow import Allowlist
from mcpcap.modules.dns.hunting.thresholds import THRESHOLDS_DIGEST

HUNT_VERSION = "1"
META_KEY = "dns_findings_key"


def allowed(settings: Any) -> tuple[str, ...]:
    """The settings' `hunt_allow`: names and suffixes that never become findings."""
    return tuple(getattr(settings, "hunt_allow", ()) or ())


def findings_key(allow_extra: Iterable[str] = ()) -> str:
    text = f"{HUNT_VERSION}|{THRESHOLDS_DIGEST}|{Allowlist(allow_extra).digest_text()}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def stored_key(db: sqlite3.Connection) -> str | None:
    try:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (META_KEY,)).fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def is_current(db: sqlite3.Connection, settings: Any) -> bool:
    """Whether the store holds findings made with this mcpcap's hunting and the settings'
    `hunt_allow` (and so whether the DNS summary the scan stored is current)."""
    return stored_key(db) == findings_key(allowed(settings))
