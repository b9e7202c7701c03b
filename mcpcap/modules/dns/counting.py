"""The per-message tallies of a DNS scan.

Every tally is a sum over messages, so a worker process counts the messages it decodes and the
scanning process adds the workers' shares to its own (`merge`); the order does not matter. The
state is plain dicts of numbers, so a share crosses processes with `marshal`.

Besides the summary's counters this keeps what the summary would otherwise compute from the store
after the scan, on one core, while the workers are idle: the questions per name and per registered
domain (the summary's rankings), and messages per second of capture time (its timeline). Those grow
with distinct names and with the capture's duration, never with the number of packets; seconds
are merged into minutes, hours and days past `MAX_TIME_SLOTS`.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

RCODE_NXDOMAIN = 3
MAX_TIME_SLOTS = 1 << 20
GRAINS = (1, 60, 3600, 86400)  # seconds per time slot; each divides every coarser timeline step
# an endpoint's counts: [queries, responses, errors, nxdomain]
QUERIES, RESPONSES, ERRORS, NXDOMAIN = range(4)


class MessageCounts:
    """Tallies of DNS messages: kinds, rcodes, query types, malformed reasons, endpoints.

    `add` does the least it can per message: it counts the message's shape (second, transport,
    protocol, qr, rcode, malformed reason), its endpoints (sender, receiver, qr, rcode) and a
    query's questions, each under one key. A capture repeats these keys over and over, so the
    tallies below are made from the keys only when they are read (`_settle`), once a key.
    """

    def __init__(self) -> None:
        self.kinds: dict[tuple[str, str, int], int] = {}  # (transport, protocol, qr) -> count
        self.malformed: dict[str, int] = {}
        self.rcodes: dict[int, int] = {}
        self.qtypes: dict[int, int] = {}
        self.nxdomain_names: dict[str, int] = {}
        self.clients: dict[str, list[int]] = {}
        self.servers: dict[str, list[int]] = {}
        self.qnames: dict[str, int] = {}  # questions of queries, by lowered name
        self.domains: dict[str, int] = {}  # ... and by registered domain
        self._grain = 1
        self._slots: dict[int, list[int]] = {}  # slot start -> [queries, responses, errors]
        # counted by `add`, not yet in the tallies above (see `_settle`)
        self._shapes: dict[tuple, int] = {}
        self._ends: dict[tuple, int] = {}
        self._questions: dict[tuple, int] = {}

    def add(self, msg: tuple, ts: float, src: str, dst: str, transport: str, protocol: str) -> None:
        """Count one message (a `Brief`) sent from `src` to `dst` at `ts`."""
        flags, rcode, _opcode, malformed, questions = msg[1:6]
        qr = flags >> 15
        shape = (int(ts), transport, protocol, qr, rcode, malformed)
        shapes = self._shapes
        shapes[shape] = shapes.get(shape, 0) + 1
        ends = (src, dst, qr, rcode)
        tally = self._ends
        tally[ends] = tally.get(ends, 0) + 1
        if qr:
            if rcode == RCODE_NXDOMAIN:
                names = self.nxdomain_names
                for question in questions:
                    name = question[0].lower()
                    names[name] = names.get(name, 0) + 1
            return
        tally = self._questions
        for question in questions:  # a query's questions carry (..., lowered name, domain)
            tally[question] = tally.get(question, 0) + 1

    @property
    def grain(self) -> int:
        """Seconds per time slot."""
        self._settle()
        return self._grain

    @property
    def slots(self) -> dict[int, list[int]]:
        self._settle()
        return self._slots

    def _settle(self) -> None:
        """Add what `add` counted by key to the tallies. Keys are taken in the order they were
        first counted, so every tally (and its order) is the one counting each message in turn
        would make."""
        shapes, ends, questions = self._shapes, self._ends, self._questions
        if shapes:
            self._shapes = {}
            self._settle_shapes(shapes)
        if ends:
            self._ends = {}
            self._settle_ends(ends)
        if questions:
            self._questions = {}
            qtypes, qnames, domains = self.qtypes, self.qnames, self.domains
            for question, n in questions.items():
                qtype, name, domain = question[1], question[4], question[5]
                qtypes[qtype] = qtypes.get(qtype, 0) + n
                qnames[name] = qnames.get(name, 0) + n
                domains[domain] = domains.get(domain, 0) + n

    def _settle_shapes(self, shapes: dict[tuple, int]) -> None:
        kinds, rcodes, reasons = self.kinds, self.rcodes, self.malformed
        for (second, transport, protocol, qr, rcode, malformed), n in shapes.items():
            grain = self._grain
            slot = second // grain * grain  # a capture's times are never negative
            counts = self._slots.get(slot)
            if counts is None:
                if len(self._slots) >= MAX_TIME_SLOTS:
                    self._coarsen(_coarser(grain))
                    slot = slot // self._grain * self._grain
                counts = self._slots.setdefault(slot, [0, 0, 0])
            counts[qr] += n
            kind = (transport, protocol, qr)
            kinds[kind] = kinds.get(kind, 0) + n
            if malformed:
                reasons[malformed] = reasons.get(malformed, 0) + n
            if qr:
                rcodes[rcode] = rcodes.get(rcode, 0) + n
                if rcode:
                    counts[2] += n

    def _settle_ends(self, ends: dict[tuple, int]) -> None:
        clients, servers = self.clients, self.servers
        for (src, dst, qr, rcode), n in ends.items():
            if qr:
                _count_responses(servers, src, rcode, n)
                if not is_multicast(dst):  # an mDNS/LLMNR answer to a group has no client
                    _count_responses(clients, dst, rcode, n)
            else:
                _endpoint(clients, src)[QUERIES] += n
                if not is_multicast(dst):  # mDNS/LLMNR queries go to a group, not to a server
                    _endpoint(servers, dst)[QUERIES] += n

    def state(self) -> tuple:
        """Everything counted so far, as plain data (for `merge` in another process)."""
        self._settle()
        return (
            self.kinds,
            self.malformed,
            self.rcodes,
            self.qtypes,
            self.nxdomain_names,
            self.qnames,
            self.domains,
            self.clients,
            self.servers,
            self._grain,
            self._slots,
        )

    def merge(self, state: tuple) -> None:
        """Add another `MessageCounts`' `state()` to these counts."""
        for mine, theirs in zip(self.state()[:7], state[:7], strict=True):
            for key, count in theirs.items():
                mine[key] = mine.get(key, 0) + count
        for mine, theirs in ((self.clients, state[7]), (self.servers, state[8])):
            for address, counts in theirs.items():
                _add_counts(_endpoint(mine, address), counts)
        grain, slots = state[9], state[10]
        if grain > self._grain:
            self._coarsen(grain)
        mine, grain = self._slots, self._grain
        for slot, counts in slots.items():
            slot = slot // grain * grain
            _add_counts(mine.setdefault(slot, [0, 0, 0]), counts)
        if len(mine) > MAX_TIME_SLOTS:
            self._coarsen(_coarser(self._grain))

    def _coarsen(self, grain: int) -> None:
        """Merge the time slots into slots of `grain` seconds."""
        slots: dict[int, list[int]] = {}
        for slot, counts in self._slots.items():
            _add_counts(slots.setdefault(slot // grain * grain, [0, 0, 0]), counts)
        self._grain, self._slots = grain, slots

    def rows(self) -> dict[str, list[tuple]]:
        """The rankings of questions and query messages and the time slots, as rows of their
        store tables."""
        self._settle()
        grain = self._grain
        return {
            "dns_qname_counts": list(self.qnames.items()),
            "dns_domain_counts": list(self.domains.items()),
            "dns_qtype_counts": list(self.qtypes.items()),
            "dns_client_counts": [(a, c[QUERIES]) for a, c in self.clients.items() if c[QUERIES]],
            "dns_server_counts": [(a, c[QUERIES]) for a, c in self.servers.items() if c[QUERIES]],
            "dns_time_slots": [
                (slot, grain, *counts) for slot, counts in sorted(self._slots.items())
            ],
        }

    def summary(self) -> dict[str, Any]:
        """The counts as the module's summary keeps them (plain JSON data)."""
        self._settle()
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


def _coarser(grain: int) -> int:
    return GRAINS[min(GRAINS.index(grain) + 1, len(GRAINS) - 1)]


def _add_counts(mine: list[int], theirs: list[int]) -> None:
    for i, count in enumerate(theirs):
        mine[i] += count


def _count_responses(table: dict[str, list[int]], address: str, rcode: int, n: int) -> None:
    end = _endpoint(table, address)
    end[RESPONSES] += n
    if rcode:
        end[ERRORS] += n
        if rcode == RCODE_NXDOMAIN:
            end[NXDOMAIN] += n


def _endpoint_counts(counts: list[int]) -> dict[str, int]:
    return dict(zip(("queries", "responses", "errors", "nxdomain"), counts, strict=True))
