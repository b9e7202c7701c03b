"""What three detectors read of every transaction, tallied while the scan stores them.

The tunnel, odd-resolver and answer-shape detectors each start from a grouping of every stored
transaction: by name, by (server, port, client), and by name over the address answers. Grouped
in SQL after the scan, that was three passes over the largest table on the scan's critical
path (about 0.7 CPU-s at 1M packets, most of the hunt). Here each transaction adds to a few
numbers as it is stored, and the scan writes the groups as three small tables
(`dns_hunt_names`, `dns_hunt_resolvers`, `dns_hunt_answer_names`), which the detectors read
instead. Memory grows with distinct names and resolver pairs, as the scan's name counts do.

Each tally keeps exactly what its SQL grouping gave (see tests/modules/dns/test_hunt_tallies.py,
which checks them against those groupings).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from fnmatch import translate
from functools import lru_cache

from mcpcap.core import fastpath
from mcpcap.modules.dns.hunting.allow import DNSSEC_TYPES
from mcpcap.modules.dns.hunting.thresholds import FAST_FLUX

TABLES = """
CREATE TABLE dns_hunt_names (
    qname TEXT NOT NULL, domain TEXT, query TEXT, n INTEGER NOT NULL, first_id INTEGER,
    first_ts REAL, last_ts REAL, unusual INTEGER, answer_chars INTEGER, answers INTEGER,
    nxdomain INTEGER
);
CREATE TABLE dns_hunt_resolvers (
    server TEXT NOT NULL, server_port INTEGER, client TEXT, n INTEGER NOT NULL,
    unsolicited INTEGER, responses INTEGER, first_ts REAL, last_ts REAL, first_id INTEGER,
    asked INTEGER
);
CREATE TABLE dns_hunt_answer_names (
    qname TEXT NOT NULL, addresses INTEGER NOT NULL, private INTEGER NOT NULL,
    public INTEGER NOT NULL
);
"""

UNUSUAL_TYPES = frozenset((5, 10, 13, 15, 16, 99, 255))  # CNAME NULL HINFO MX TXT SPF ANY
PRIVATE_TYPES = range(65280, 65535)
ADDRESS_QTYPES = (1, 28)  # A, AAAA
# answer values that look private: a text test, confirmed on the address in Python later
PRIVATE_PATTERNS = (
    "10.*", "127.*", "192.168.*", "169.254.*", "172.1[6-9].*", "172.2[0-9].*", "172.3[01].*",
    "[fF][cCdD]*:*", "[fF][eE][89abAB]*:*", "::1",
)  # fmt: skip
_PRIVATE = re.compile("|".join(f"(?:{translate(p)})" for p in PRIVATE_PATTERNS))
# a name's distinct address answers are counted up to this: the fast-flux look needs no more
ADDRESS_CAP = FAST_FLUX.min_addresses

# a transaction row's columns (store_schema.TRANSACTION_COLUMNS)
_ID, _TS, _QUERY_FRAME, _RESPONSE_FRAME, _CLIENT = 0, 1, 2, 3, 4
_SERVER, _SERVER_PORT, _PROTOCOL, _QUERY, _QNAME, _DOMAIN = 6, 7, 9, 12, 13, 14
_QTYPE, _RCODE, _ANSWERS = 16, 17, 23


@lru_cache(maxsize=4096)
def looks_private(value: str) -> bool:
    return _PRIVATE.match(value) is not None


class HuntTallies:
    """The three groupings, kept up to date one batch of stored transactions at a time."""

    def __init__(self) -> None:
        # qname -> [domain, query, n, first_id, first_ts, last_ts, unusual, answer_chars,
        #           answers, nxdomain]; domain and query are the least non-null ones
        self.names: dict[str, list] = {}
        # (server, server_port, client) -> [n, unsolicited, responses, first_ts, last_ts,
        #                                   first_id, asked]
        self.resolvers: dict[tuple, list] = {}
        # qname -> [distinct address answers (up to ADDRESS_CAP), private seen, public seen]
        self.answer_names: dict[str, list] = {}
        self.add = self.python_add
        if _COMPILED_ADD is not None:
            self.add = _COMPILED_ADD(self.names, self.resolvers, self.answer_names, looks_private,
                                     _CONSTANTS)  # fmt: skip

    def python_add(self, rows: Sequence[tuple], values: Sequence[Sequence[str]]) -> None:
        """Transaction rows, and each one's answer values (as `dns_answers` holds them); `add`
        is this, or where it was built its C twin (`_tallies.c`)."""
        names, resolvers, answer_names = self.names, self.resolvers, self.answer_names
        for row, answer_values in zip(rows, values, strict=True):
            if row[_PROTOCOL] != "dns":
                continue
            tx_id, ts, qname, qtype = row[_ID], row[_TS], row[_QNAME], row[_QTYPE]
            asked = row[_QUERY_FRAME] is not None
            if row[_SERVER] is not None:
                key = (row[_SERVER], row[_SERVER_PORT], row[_CLIENT])
                pair = resolvers.get(key)
                answered = row[_RESPONSE_FRAME] is not None
                if pair is None:
                    resolvers[key] = [1, not asked, answered, ts, ts, tx_id, asked]
                else:
                    pair[0] += 1
                    pair[1] += not asked
                    pair[2] += answered
                    if ts < pair[3]:
                        pair[3] = ts
                    if ts > pair[4]:
                        pair[4] = ts
                    if tx_id < pair[5]:
                        pair[5] = tx_id
                    pair[6] += asked
            if qname is None:
                continue
            if asked and qtype is not None and qtype not in DNSSEC_TYPES:
                _add_name(names, qname, row, tx_id, ts, qtype)
            if answer_values and qtype in ADDRESS_QTYPES:
                _add_answers(answer_names, qname, answer_values)

    def merge(self, other: HuntTallies, id_shift: int) -> None:
        """Add `other`'s tallies, whose transaction ids are `id_shift` less than the stored
        ones (the DNS over TCP transactions, numbered after the others at the end)."""
        for qname, theirs in other.names.items():
            theirs = [*theirs[:3], theirs[3] + id_shift, *theirs[4:]]
            mine = self.names.get(qname)
            self.names[qname] = theirs if mine is None else _merged_name(mine, theirs)
        for key, theirs in other.resolvers.items():
            theirs = [*theirs[:5], theirs[5] + id_shift, theirs[6]]
            mine = self.resolvers.get(key)
            self.resolvers[key] = theirs if mine is None else _merged_resolver(mine, theirs)
        for qname, (addresses, private, public) in other.answer_names.items():
            _add_answers(self.answer_names, qname, addresses, private, public)

    def store(self, db: sqlite3.Connection) -> None:
        db.executemany(
            "INSERT INTO dns_hunt_names VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            ((qname, *tally) for qname, tally in self.names.items()),
        )
        db.executemany(
            "INSERT INTO dns_hunt_resolvers VALUES (?,?,?,?,?,?,?,?,?,?)",
            ((*key, *tally) for key, tally in self.resolvers.items()),
        )
        db.executemany(
            "INSERT INTO dns_hunt_answer_names VALUES (?,?,?,?)",
            (
                (qname, len(addresses), private, public)
                for qname, (addresses, private, public) in self.answer_names.items()
            ),
        )


def _add_name(names: dict[str, list], qname: str, row: tuple, tx_id: int, ts: float, qtype: int):
    unusual = qtype in UNUSUAL_TYPES or qtype in PRIVATE_TYPES
    answers = row[_ANSWERS]
    chars, counted = (0, 0) if answers is None else (len(answers), 1)
    nx = row[_RCODE] == 3
    tally = names.get(qname)
    if tally is None:
        names[qname] = [row[_DOMAIN], row[_QUERY], 1, tx_id, ts, ts, unusual, chars, counted, nx]
        return
    domain, query = row[_DOMAIN], row[_QUERY]
    if domain is not None and (tally[0] is None or domain < tally[0]):
        tally[0] = domain
    if query is not None and (tally[1] is None or query < tally[1]):
        tally[1] = query
    tally[2] += 1
    if tx_id < tally[3]:
        tally[3] = tx_id
    if ts < tally[4]:
        tally[4] = ts
    if ts > tally[5]:
        tally[5] = ts
    tally[6] += unusual
    tally[7] += chars
    tally[8] += counted
    tally[9] += nx


def _add_answers(
    answer_names: dict[str, list],
    qname: str,
    values: Iterable[str],
    private: bool = False,
    public: bool = False,
) -> None:
    tally = answer_names.get(qname)
    if tally is None:
        tally = answer_names[qname] = [set(), private, public]
    else:
        tally[1] |= private
        tally[2] |= public
    addresses = tally[0]
    for value in values:
        if len(addresses) < ADDRESS_CAP:
            addresses.add(value)
        if not (tally[1] and tally[2]):
            if looks_private(value):
                tally[1] = True
            else:
                tally[2] = True


_CONSTANTS = (DNSSEC_TYPES, UNUSUAL_TYPES, PRIVATE_TYPES, ADDRESS_QTYPES, ADDRESS_CAP)
_COMPILED_ADD = fastpath.checked_bind("mcpcap.modules.dns._tallies", globals(), "row")


def _least(a, b):
    """SQL's min() of two values, either of which may be null."""
    return b if a is None else a if b is None else min(a, b)


def _merged_name(mine: list, theirs: list) -> list:
    return [
        _least(mine[0], theirs[0]),
        _least(mine[1], theirs[1]),
        mine[2] + theirs[2],
        min(mine[3], theirs[3]),
        min(mine[4], theirs[4]),
        max(mine[5], theirs[5]),
        *(a + b for a, b in zip(mine[6:], theirs[6:], strict=True)),
    ]


def _merged_resolver(mine: list, theirs: list) -> list:
    return [
        mine[0] + theirs[0],
        mine[1] + theirs[1],
        mine[2] + theirs[2],
        min(mine[3], theirs[3]),
        max(mine[4], theirs[4]),
        min(mine[5], theirs[5]),
        mine[6] + theirs[6],
    ]
