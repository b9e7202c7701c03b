"""Odd resolution: DNS servers nobody else uses, DNS on other ports, answers never asked for.

The scan's tallies give every (server, port, client) its transactions and unsolicited
responses (rows: resolvers times their clients, few); the rest is Python.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from mcpcap.modules.dns.hunting.finding import Finding, plural
from mcpcap.modules.dns.hunting.thresholds import ODD_RESOLVER

STANDARD_PORTS = (53,)
# each (server, port, client)'s transactions, grouped as the scan stored them (`tallies`)
PAIRS_SQL = """
SELECT server, server_port, client, n, unsolicited, responses, first_ts, last_ts, first_id, asked
FROM dns_hunt_resolvers ORDER BY server, server_port, client
"""


@dataclass
class Server:
    address: str
    ports: set[int] = field(default_factory=set)
    transactions: int = 0
    asking: set[str] = field(default_factory=set)  # clients that sent it queries
    unsolicited: int = 0
    responses: int = 0
    first_ts: float = float("inf")
    last_ts: float = float("-inf")
    example: int | None = None
    odd_ports: list[int] = field(default_factory=list)

    @property
    def clients(self) -> int:
        return len(self.asking)

    def add(self, row: tuple) -> None:
        _, port, client, n, unsolicited, responses, first_ts, last_ts, first_id, asked = row
        self.ports.add(port)
        if port not in STANDARD_PORTS and asked and port not in self.odd_ports:
            self.odd_ports.append(port)  # queries were sent to it there
        if asked and client is not None:
            self.asking.add(client)
        self.transactions += n
        self.unsolicited += unsolicited or 0
        self.responses += responses or 0
        self.first_ts = min(self.first_ts, first_ts)
        self.last_ts = max(self.last_ts, last_ts)
        self.example = first_id if self.example is None else min(self.example, first_id)


def find_odd_resolvers(db: sqlite3.Connection) -> list[Finding]:
    servers: dict[str, Server] = {}
    for row in db.execute(PAIRS_SQL):
        servers.setdefault(row[0], Server(row[0])).add(row)
    clients = _clients_by_family(servers)
    lone: set[str] = set()
    for family, count in clients.items():
        same = {a: s for a, s in servers.items() if _family(a) == family}
        lone |= _lone_servers(same, count)
    found = []
    for server in servers.values():
        count = clients.get(_family(server.address), 0)
        reasons = _reasons(server, count, server.address in lone)
        if reasons:
            found.append(_finding(server, reasons))
    return found


def _family(address: str) -> int:
    return 6 if ":" in address else 4


def _clients_by_family(servers: dict[str, Server]) -> dict[int, int]:
    """Clients that sent queries, per address family (a client reaches the resolvers of its
    own family only, so an IPv6 client's resolver is compared with IPv6 ones)."""
    everyone = set().union(*(s.asking for s in servers.values()))
    families = [_family(client) for client in everyone]
    return {family: families.count(family) for family in set(families)}


def _lone_servers(servers: dict[str, Server], clients: int) -> set[str]:
    """Servers one client alone asks, where most clients share one resolver and such
    servers are rare (a network of many resolvers has no odd one)."""
    if clients < ODD_RESOLVER.min_clients or not servers:
        return set()
    main = max(s.clients for s in servers.values())
    if main < ODD_RESOLVER.main_share * clients:
        return set()
    lone = {
        s.address
        for s in servers.values()
        if s.clients == 1 and s.transactions - s.unsolicited >= ODD_RESOLVER.min_lone_queries
    }
    return lone if len(lone) <= ODD_RESOLVER.max_lone else set()


def _reasons(server: Server, clients: int, lone: bool) -> list[tuple[float, str]]:
    reasons = []
    if server.odd_ports:
        ports = ", ".join(map(str, sorted(server.odd_ports)))
        reasons.append((ODD_RESOLVER.port_score, f"DNS on port {ports}, not 53"))
    if lone:
        reasons.append(
            (
                ODD_RESOLVER.lone_score,
                f"only one of the capture's {clients} IPv{_family(server.address)} clients asks "
                "it, while most share another resolver",
            )
        )
    if (
        server.unsolicited >= ODD_RESOLVER.min_unsolicited
        and server.responses
        and (server.unsolicited / server.responses >= ODD_RESOLVER.unsolicited_share)
    ):
        reasons.append(
            (
                ODD_RESOLVER.unsolicited_score,
                f"{plural(server.unsolicited, 'response')} of its "
                f"{server.responses} answer no query in the capture",
            )
        )
    return reasons


def _finding(server: Server, reasons: list[tuple[float, str]]) -> Finding:
    best = max(score for score, _ in reasons)
    score = best + 0.1 * (len(reasons) - 1)  # each further reason adds a little
    clients = sorted(server.asking)
    metrics = {
        "transactions": server.transactions,
        "clients": server.clients,
        "ports": sorted(server.ports),
        "unsolicited_responses": server.unsolicited,
        "responses": server.responses,
    }
    return Finding(
        category="odd_resolver",
        subject=server.address,
        score=score,
        evidence=f"server {server.address}: " + "; ".join(text for _, text in reasons),
        metrics=metrics,
        first_ts=server.first_ts,
        last_ts=server.last_ts,
        clients=clients,
        client_count=server.clients,
        transactions=server.transactions,
        examples=[server.example] if server.example is not None else [],
        filter=f"server:{server.address}",
    )
