"""What other modules ask of DNS: which name a client resolved before contacting an address.

In the core because two modules ask it and modules never import each other: it names the `dns`
module's kind and filters, and loads that module through the registry like any face does.

`resolved_by` on `tls.handshakes` and `conn.connections` is the latest DNS transaction of the
client, at or before the record's time, whose answers named the server's address. It is asked
through the DNS module's results (its `dns.transactions` kind), never its tables, with the DNS
module loaded through the registry: when DNS was not scanned (or is not installed) the answer
is null.

The transactions whose answers named one address are read once, by client in time order, and
kept for a while (`MAX_SERVERS`): a listing of many connections to one server asks one query.
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_right
from collections import OrderedDict
from typing import Any

from pydantic import BaseModel

from mcpcap.core.modules.registry import open_other_results

MAX_SERVERS = 4096  # server addresses whose resolutions are kept
MAX_PER_SERVER = 10_000  # transactions read per address (the latest: a flood stays bounded)

Resolved = dict[str, Any]
_Pair = tuple[list[float], list[Resolved]]


class ResolvedBy(BaseModel):
    """The DNS transaction whose answer named a server before its client contacted it."""

    dns_uid: str
    query: str
    time: str


class Resolution:
    """`resolved_by` lookups for one analysis.

    Made when its owner's results are opened: opening DNS's results registers SQL functions,
    which SQLite refuses while a page of the owner's records is being read.
    """

    def __init__(self, db: sqlite3.Connection, capture: dict[str, Any], settings: Any) -> None:
        self._dns = _open_dns(db, capture, settings)
        self._servers: OrderedDict[str, dict[str, _Pair]] = OrderedDict()

    @property
    def available(self) -> bool:
        """Whether DNS results can be asked (DNS was scanned and is installed)."""
        return self._dns is not None

    def resolved_by(self, client: str, server: str, ts: float) -> Resolved | None:
        """`{dns_uid, query, time}` of the latest transaction of `client`, at or before `ts`,
        whose answers named `server`; None when there is none or DNS was not scanned."""
        if self._dns is None:
            return None
        clients = self._server(server)
        pair = clients.get(client) if clients else None
        if pair is None:
            return None
        times, found = pair
        at = bisect_right(times, ts)
        return found[at - 1] if at else None

    def _server(self, server: str) -> dict[str, _Pair] | None:
        """The transactions whose answers named `server`, by client (read once, kept a while)."""
        clients = self._servers.get(server)
        if clients is not None:
            self._servers.move_to_end(server)
            return clients
        try:
            clients = self._read(server)
        except sqlite3.OperationalError:  # the store has no DNS tables: DNS was not chosen
            self._dns = None
            return None
        self._servers[server] = clients
        if len(self._servers) > MAX_SERVERS:
            self._servers.popitem(last=False)
        return clients

    def _read(self, server: str) -> dict[str, _Pair]:
        """One query per server address (the answer index finds its transactions): asking per
        (client, server) with a client network filter costs a pass over every client."""
        from mcpcap.core.records import make_filter

        assert self._dns is not None
        results, kind = self._dns
        flt = make_filter(kind, None, {"answer": server})
        clients: dict[str, _Pair] = {}
        for number, record in enumerate(results.iter_records(kind, flt, sort="-ts")):
            if number >= MAX_PER_SERVER:
                break
            if record["query"] is None:  # an answer to no question (a hostile response)
                continue
            times, found = clients.setdefault(record["client"], ([], []))
            times.append(record["ts"])
            found.append({"dns_uid": record["uid"], "query": record["query"],
                          "time": record["time"]})  # fmt: skip
        for times, found in clients.values():  # latest first as read: oldest first for bisect
            times.reverse()
            found.reverse()
        return clients


def _open_dns(db: sqlite3.Connection, capture: dict[str, Any], settings: Any) -> Any:
    """(the DNS module's results, its transactions kind), or None without DNS."""
    return open_other_results(db, "dns.transactions", capture, settings)
