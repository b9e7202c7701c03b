"""Which quoted flows are connections of the capture: an ICMP error's `quoted.uid` stays only
when the `conn` module has a connection with that uid.

An error often quotes a packet the capture never saw (a traceroute probe sent on another link,
a datagram lost before the capture point): its flow's uid would name nothing. When conn was
scanned, the uids are asked of conn's results through its `conn.connections` kind (its `uid`
filter), with conn loaded through the registry as any face loads it (modules never import each
other); never its tables. Without conn every uid stands: it is the uid conn would give the
flow's first connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from mcpcap.core.filtering import Condition, bind
from mcpcap.core.modules.registry import open_other_results

CONN_KIND = "conn.connections"
BATCH = 200  # uids asked in one query (one `uid:a,b,...` filter)
MAX_CACHED = 65_536  # answers kept; past it the cache starts again


class ConnUids:
    """Answers "is this uid a connection?" for one analysis.

    Made when the ICMP results are opened: opening conn's results registers SQL functions,
    which SQLite refuses while a page of ICMP records is being read.
    """

    def __init__(self, db: sqlite3.Connection, capture: dict[str, Any], settings: Any) -> None:
        self._conn = _open_conn(db, capture, settings)
        self._cache: dict[str, bool] = {}

    @property
    def available(self) -> bool:
        """Whether conn's results can be asked (conn was scanned and is installed)."""
        return self._conn is not None

    def known(self, uids: Iterable[str]) -> set[str] | None:
        """The uids among `uids` that name one of conn's connections; None without conn
        (then every uid stands)."""
        wanted = list(dict.fromkeys(uid for uid in uids if uid))
        found = {uid for uid in wanted if self._cache.get(uid)}
        asked = [uid for uid in wanted if uid not in self._cache]
        for start in range(0, len(asked), BATCH):
            if self._conn is None:
                return None
            batch = asked[start : start + BATCH]
            try:
                hits = self._lookup(batch)
            except sqlite3.OperationalError:  # the store has no conn tables: conn not scanned
                self._conn = None
                return None
            found |= hits
            if len(self._cache) + len(batch) > MAX_CACHED:
                self._cache.clear()
            self._cache.update((uid, uid in hits) for uid in batch)
        return found if self._conn is not None else None

    def _lookup(self, uids: list[str]) -> set[str]:
        assert self._conn is not None
        results, kind = self._conn
        flt = bind([Condition("uid", ":", tuple(uids))], kind.filters)
        return {record["uid"] for record in results.iter_records(kind, flt)} & set(uids)


def _open_conn(db: sqlite3.Connection, capture: dict[str, Any], settings: Any) -> Any:
    """(conn's results, its connections kind), or None without conn (every uid then stands)."""
    return open_other_results(db, CONN_KIND, capture, settings)
