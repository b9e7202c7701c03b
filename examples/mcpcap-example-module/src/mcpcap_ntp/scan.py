"""One scan: pair each client request (mode 3) with its server response (mode 4).

A response answers the request that went the other way between the same two endpoints and whose
transmit timestamp it echoes as its origin timestamp (RFC 5905, section 8). The clock offset and
round-trip delay use the four timestamps of the exchange: T1 the origin, T2 the server's receive,
T3 its transmit, T4 the time the capture saw the response.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from typing import Any

from mcpcap.core.modules.contract import ModuleScan
from mcpcap.core.modules.counts import ModuleCounts
from mcpcap_ntp import wire

BATCH = 10_000

CREATE_TABLES = """
CREATE TABLE ntp_exchanges (
    id INTEGER PRIMARY KEY,      -- the request's frame
    ts REAL NOT NULL, client TEXT NOT NULL, client_port INTEGER NOT NULL,
    server TEXT NOT NULL, server_port INTEGER NOT NULL, version INTEGER NOT NULL,
    stratum INTEGER, reference_id TEXT, offset REAL, delay REAL,
    request_frame INTEGER NOT NULL, response_frame INTEGER,
    answered INTEGER NOT NULL, packets INTEGER NOT NULL
);
CREATE TABLE ntp_malformed (
    id INTEGER PRIMARY KEY, frame INTEGER NOT NULL, ts REAL NOT NULL,
    src TEXT NOT NULL, src_port INTEGER NOT NULL, dst TEXT NOT NULL, dst_port INTEGER NOT NULL,
    reason TEXT NOT NULL
);
"""
INSERT_EXCHANGE = "INSERT INTO ntp_exchanges VALUES (" + ", ".join("?" * 15) + ")"
INSERT_MALFORMED = "INSERT INTO ntp_malformed VALUES (NULL, ?, ?, ?, ?, ?, ?, ?)"


class NtpScan(ModuleScan):
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        # (client, client port, server, server port, transmit) -> (frame, ts, version)
        self.pending: dict[tuple, tuple[int, float, int]] = {}
        self.exchanges: list[tuple] = []
        self.malformed: list[tuple] = []
        self.tally: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()

    def on_udp(self, frame: int, ts: float, seg: Any) -> None:
        """A serial scan's datagram: decode here, as a worker would have."""
        decoded = wire.decode(seg.payload)
        self.on_udp_decoded(frame, ts, seg.src, seg.sport, seg.dst, seg.dport, decoded)

    def on_tcp(self, frame: int, ts: float, chunk: Any) -> None:
        """NTP is UDP only: no TCP port is asked for."""

    def on_udp_decoded(
        self, frame: int, ts: float, src: str, sport: int, dst: str, dport: int, decoded: Any
    ) -> None:
        tag = decoded[0]
        if tag == wire.MALFORMED:
            self.reasons[decoded[1]] += 1
            self.malformed.append((frame, ts, src, sport, dst, dport, decoded[1]))
        elif tag == wire.OTHER:
            self.tally[f"mode {decoded[1]}"] += 1
        elif decoded[1] == wire.CLIENT:
            self._request(frame, ts, (src, sport, dst, dport, decoded[7]), decoded[2])
        else:
            self._response(frame, ts, (dst, dport, src, sport, decoded[5]), decoded)
        if len(self.exchanges) >= BATCH:
            self._flush()

    def _request(self, frame: int, ts: float, key: tuple, version: int) -> None:
        self.tally["requests"] += 1
        earlier = self.pending.pop(key, None)
        if earlier is not None:  # the same transmit time sent again: the first went unanswered
            self.exchanges.append(_unanswered(key, earlier))
        self.pending[key] = (frame, ts, version)

    def _response(self, frame: int, ts: float, key: tuple, decoded: tuple) -> None:
        self.tally["responses"] += 1
        request = self.pending.pop(key, None)
        if request is None:
            self.tally["unmatched responses"] += 1
            return
        _, _, _, stratum, reference_id, origin, receive, transmit = decoded
        offset = (wire.difference(receive, origin) + (wire.unix_seconds(transmit) - ts)) / 2
        delay = (ts - wire.unix_seconds(origin)) - wire.difference(transmit, receive)
        req_frame, req_ts, version = request
        client, client_port, server, server_port, _ = key
        self.exchanges.append(
            (req_frame, req_ts, client, client_port, server, server_port, version, stratum,
             reference_id, round(offset, 6), round(delay, 6), req_frame, frame, 1, 2)
        )  # fmt: skip

    def _flush(self) -> None:
        self.db.executemany(INSERT_EXCHANGE, self.exchanges)
        self.db.executemany(INSERT_MALFORMED, self.malformed)
        self.exchanges.clear()
        self.malformed.clear()

    def finish(self, db: sqlite3.Connection) -> ModuleCounts:
        self.exchanges.extend(_unanswered(key, request) for key, request in self.pending.items())
        self.pending.clear()
        self._flush()
        db.execute("CREATE INDEX ntp_exchanges_ts ON ntp_exchanges (ts)")
        return ModuleCounts(
            messages=self.tally["requests"] + self.tally["responses"],
            malformed=sum(self.reasons.values()),
            detail={**self.tally, "malformed": dict(self.reasons)},
        )


def _unanswered(key: tuple, request: tuple[int, float, int]) -> tuple:
    client, client_port, server, server_port, _ = key
    frame, ts, version = request
    return (frame, ts, client, client_port, server, server_port, version,
            None, None, None, None, frame, None, 0, 1)  # fmt: skip
