"""The per-message tallies of a DNS scan.

Every tally is a sum over messages, so a worker process counts the messages it decodes and the
scanning process adds the workers' shares to its own (`merge`); the order does not matter. The
state is plain dicts of numbers, so a share crosses processes with `marshal`.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

RCODE_NXDOMAIN = 3
# an endpoint's counts: [queries, responses, errors, nxdomain]
QUERIES, RESPONSES, ERRORS, NXDOMAIN = range(4)


class MessageCounts:
    """Tallies of DNS messages: kinds, rcodes, query types, malformed reasons, endpoints."""

    def __init__(self) -> None:
        self.kinds: dict[tuple[str, str, int], int] = {}  # (transport, protocol, qr) -> count
        self.malformed: dict[str, int] = {}
        self.rcodes: dict[int, int] = {}
        self.qtypes: dict[int, int] = {}
        self.nxdomain_names: dict[str, int] = {}
        self.clients: dict[str, list[int]] = {}
        self.servers: dict[str, list[int]] = {}

    def add(self, msg: tuple, src: str, dst: str, transport: str, protocol: str) -> None:
        """Count one message (a `Brief`) sent from `src` to `dst`."""
        flags, rcode, _opcode, malformed, questions = msg[1:6]
        qr = flags >> 15
        kind = (transport, protocol, qr)
        kinds = self.kinds
        kinds[kind] = kinds.get(kind, 0) + 1
        if malformed:
            self.malformed[malformed] = self.malformed.get(malformed, 0) + 1
        if qr:
            self.rcodes[rcode] = self.rcodes.get(rcode, 0) + 1
            _count_response(self.servers, src, rcode)
            if not is_multicast(dst):  # an mDNS/LLMNR answer to a group has no client
                _count_response(self.clients, dst, rcode)
            if rcode == RCODE_NXDOMAIN:
                names = self.nxdomain_names
                for question in questions:
                    name = question[0].lower()
                    names[name] = names.get(name, 0) + 1
            return
        qtypes = self.qtypes
        for question in questions:
            qtype = question[1]
            qtypes[qtype] = qtypes.get(qtype, 0) + 1
        _endpoint(self.clients, src)[QUERIES] += 1
        if not is_multicast(dst):  # mDNS/LLMNR queries go to a group, not to a server
            _endpoint(self.servers, dst)[QUERIES] += 1

    def state(self) -> tuple:
        """Everything counted so far, as plain data (for `merge` in another process)."""
        return (
            self.kinds,
            self.malformed,
            self.rcodes,
            self.qtypes,
            self.nxdomain_names,
            self.clients,
            self.servers,
        )

    def merge(self, state: tuple) -> None:
        """Add another `MessageCounts`' `state()` to these counts."""
        for mine, theirs in zip(self.state()[:5], state[:5], strict=True):
            for key, count in theirs.items():
                mine[key] = mine.get(key, 0) + count
        for mine, theirs in ((self.clients, state[5]), (self.servers, state[6])):
            for address, counts in theirs.items():
                end = _endpoint(mine, address)
                for i, count in enumerate(counts):
                    end[i] += count

    def summary(self) -> dict[str, Any]:
        """The counts as the module's summary keeps them (plain JSON data)."""
        stats: dict[str, int] = {}
        transports: dict[str, int] = {}
        protocols: dict[str, int] = {}
        for (transport, protocol, qr), count in self.kinds.items():
            for table, key in (
                (stats, "messages"),
                (stats, "responses" if qr else "queries"),
                (transports, transport),
                (protocols, protocol),
            ):
                table[key] = table.get(key, 0) + count
        return {
            "stats": stats,
            "malformed": self.malformed,
            "rcodes": self.rcodes,
            "qtypes": self.qtypes,
            "transports": transports,
            "protocols": protocols,
            "nxdomain_names": self.nxdomain_names,
            "clients": {a: _endpoint_counts(c) for a, c in self.clients.items()},
            "servers": {a: _endpoint_counts(c) for a, c in self.servers.items()},
        }


@lru_cache(maxsize=4096)
def is_multicast(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_multicast
    except ValueError:
        return False


def _endpoint(table: dict[str, list[int]], address: str) -> list[int]:
    end = table.get(address)
    if end is None:
        end = table[address] = [0, 0, 0, 0]
    return end


def _count_response(table: dict[str, list[int]], address: str, rcode: int) -> None:
    end = _endpoint(table, address)
    end[RESPONSES] += 1
    if rcode:
        end[ERRORS] += 1
        if rcode == RCODE_NXDOMAIN:
            end[NXDOMAIN] += 1


def _endpoint_counts(counts: list[int]) -> dict[str, int]:
    return dict(zip(("queries", "responses", "errors", "nxdomain"), counts, strict=True))
