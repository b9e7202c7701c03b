"""One scan: claimed TCP connections -> `HttpConnection`s -> rows of `http_requests`.

The core hands every chunk of a claimed connection, both directions, in capture order; the
connection pairs requests with responses and each finished pair becomes one row here. Rows are
written in batches; nothing of a body is kept.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from typing import TYPE_CHECKING, Any

from mcpcap.core.export import connection_uid
from mcpcap.core.modules.contract import ModuleScan
from mcpcap.core.modules.malformed import MalformedLog
from mcpcap.core.tcpstream import StreamBudget
from mcpcap.modules.http.connection import Exchange, HttpConnection, PendingBudget
from mcpcap.modules.http.parser import (
    Message,
    hide_password,
    loose_request,
    start_kind,
    start_prefix,
    text,
)
from mcpcap.modules.http.socks import SocksPreamble, starts_socks

if TYPE_CHECKING:
    from mcpcap.core.modules.counts import ModuleCounts

BATCH = 1_000  # rows waiting for a write
MAX_CONNECTIONS = 10_000  # open connections followed at once; the oldest is closed beyond it

CREATE_TABLES = """
CREATE TABLE http_requests (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL, uid TEXT NOT NULL,
    client TEXT NOT NULL, client_port INTEGER NOT NULL,
    server TEXT NOT NULL, server_port INTEGER NOT NULL,
    trans_depth INTEGER NOT NULL,
    method TEXT, host TEXT, uri TEXT, uri_path TEXT, referrer TEXT, version TEXT,
    user_agent TEXT, origin TEXT,
    request_body_len INTEGER, response_body_len INTEGER,
    status_code INTEGER, status_msg TEXT,
    request_content_type TEXT, response_content_type TEXT, response_body_sha256 TEXT,
    username TEXT, proxied TEXT, rtt REAL,
    request_frame INTEGER, response_frame INTEGER,
    tags TEXT NOT NULL, malformed TEXT
);
"""
COLUMNS = (
    "id", "ts", "uid", "client", "client_port", "server", "server_port", "trans_depth",
    "method", "host", "uri", "uri_path", "referrer", "version", "user_agent", "origin",
    "request_body_len", "response_body_len", "status_code", "status_msg",
    "request_content_type", "response_content_type", "response_body_sha256", "username",
    "proxied", "rtt", "request_frame", "response_frame", "tags", "malformed",
)  # fmt: skip
INSERT = f"INSERT INTO http_requests VALUES ({', '.join('?' * len(COLUMNS))})"


class HttpScan(ModuleScan):
    """The scanning process's half: the stream decoder's rows into the store, with ids."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.rows: list[tuple] = []
        self.next_id = 1
        self.tally: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.malformed = MalformedLog(db, "http")
        self.bad: Counter[str] = Counter()  # malformed items by reason

    def on_udp(self, frame: int, ts: float, seg: Any) -> None:
        """HTTP/1.x runs over TCP only (HTTP/3 is QUIC: not this module's)."""

    def on_tcp(self, frame: int, ts: float, chunk: Any) -> bool:
        raise NotImplementedError("HTTP streams are read by HttpStreams (the stream decoder)")

    def on_stream_flush(self, partial: tuple) -> None:
        rows, malformed, tally, reasons, bad = partial
        for row in rows:
            self.rows.append((self.next_id, *row[1:]))
            self.next_id += 1
        if len(self.rows) >= BATCH:
            self._flush()
        for item in malformed:
            self.malformed.add(tuple(item))
        self.tally.update(tally)
        self.reasons.update(reasons)
        self.bad.update(bad)

    def _flush(self) -> None:
        self.db.executemany(INSERT, self.rows)
        self.rows.clear()

    def finish(self, db: sqlite3.Connection) -> ModuleCounts:
        from mcpcap.core.modules.counts import ModuleCounts  # (pydantic: see `_FirstWait`)

        self._flush()
        self.malformed.flush()
        return ModuleCounts(
            messages=self.tally["requests"] + self.tally["responses"],
            malformed=sum(self.bad.values()),
            detail={**self.tally, "malformed": dict(self.bad), "stopped": dict(self.reasons)},
        )


class HttpStreams:
    """The stream decoder: claimed connections -> `HttpConnection`s -> rows (ids come later)."""

    def __init__(self) -> None:
        self.connections: dict[tuple, HttpConnection] = {}
        self.pending = PendingBudget()
        # what unfinished lines and held chunks take counts against the scan's stream budget
        # (`share_budget`): 10,000 open connections could each hold some 100 KB
        self._budget = StreamBudget()
        self._new()

    def share_budget(self, budget: StreamBudget) -> None:
        """The budget the scan's reassembler counts against (the core gives it)."""
        self._budget = budget

    def _new(self) -> None:
        self.rows: list[tuple] = []
        self.malformed: list[tuple] = []
        self.tally: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.bad: Counter[str] = Counter()

    def flush(self) -> tuple | None:
        """(rows with None for their id, malformed items, and the counters' increments)."""
        if not (self.rows or self.malformed or self.tally or self.reasons or self.bad):
            return None
        partial = (self.rows, self.malformed, dict(self.tally), dict(self.reasons), dict(self.bad))
        self._new()
        return partial

    def close(self) -> None:
        for key, conn in list(self.connections.items()):
            self._forget(key, conn, close=True)
            if conn.notes:
                self._notes(conn)

    def on_tcp(self, frame: int, ts: float, chunk: Any) -> bool:
        src, dst = (chunk.src, chunk.sport), (chunk.dst, chunk.dport)
        key = (src, dst) if src <= dst else (dst, src)
        conn = self.connections.get(key)
        if conn is None:
            conn = self._open(key, chunk)
            if conn is None:
                return False
        from_client = src == (conn.client, conn.client_port)
        buffered = conn.buffered()
        kept = conn.chunk(
            from_client, chunk.data, chunk.gap, chunk.end, frame, ts, chunk.syn_seen, chunk.reset,
            chunk.lost,
        )  # fmt: skip
        self._budget.used += conn.buffered() - buffered
        if conn.notes:
            self._notes(conn)
        if not kept:
            self._forget(key, conn)
        elif self._budget.over:
            self._shed()
            kept = key in self.connections  # this one may have been shed: then it is released
        return kept

    def _shed(self) -> None:
        """Over the stream budget: the oldest connections that hold bytes are closed (what
        waits is recorded, each counted as cut) until the budget is relieved."""
        self._budget.shed(self.connections, lambda conn: conn.buffered(), self._cut)

    def _cut(self, key: tuple, conn: HttpConnection) -> None:
        """Close a connection the budget cut, recording what waits in it."""
        self._forget(key, conn, close=True)
        if conn.notes:
            self._notes(conn)

    def _open(self, key: tuple, chunk: Any) -> HttpConnection | None:
        """A connection starts with its first chunk: a request from the client, a SOCKS
        request (HTTP may follow through the proxy), or (a capture started mid-connection) a
        response from the server."""
        kind = start_kind(chunk.data)
        socks = kind is None and starts_socks(chunk.data)
        loose = kind is None and not socks and loose_request(chunk.data)
        tentative = kind is None and not socks and not loose
        if tentative:
            kind = start_prefix(chunk.data, chunk.sport, chunk.dport)
            if kind is None:
                return None
        if kind == "response":
            ends = (chunk.dst, chunk.dport, chunk.src, chunk.sport)
        else:
            ends = (chunk.src, chunk.sport, chunk.dst, chunk.dport)
        conn = HttpConnection(*ends, emit=self._emit, budget=self.pending)
        if socks:
            conn.preamble = SocksPreamble(chunk.data)
        elif loose:
            conn.hold()
        conn.tentative = tentative
        self.connections[key] = conn
        if len(self.connections) > MAX_CONNECTIONS:
            oldest = next(iter(self.connections))
            self.tally["connections closed early (too many open)"] += 1
            self._forget(oldest, self.connections[oldest], close=True)
        return conn

    def _forget(self, key: tuple, conn: HttpConnection, close: bool = False) -> None:
        self._budget.used -= conn.buffered()
        if close:
            conn.close()
        del self.connections[key]
        if conn.tentative:
            return  # its first bytes only looked like the start of HTTP
        if conn.started:  # HTTP was read on it (not only a SOCKS exchange)
            self.tally["connections"] += 1
        for parser in (conn.requests, conn.responses):
            if parser.reason and parser.reason not in ("closed", "tunnel", "gap"):
                self.reasons[parser.reason] += 1

    # ------------------------------------------------------------------ malformed items
    def _notes(self, conn: HttpConnection) -> None:
        """Directions that stopped on bytes that are no HTTP message."""
        for is_response, reason, frame, ts in conn.notes:
            self._bad(conn, is_response, reason, frame, ts)
        conn.notes.clear()

    def _bad(self, conn: HttpConnection, is_response: bool, reason: str, frame: int, ts: float):
        client, server = (conn.client, conn.client_port), (conn.server, conn.server_port)
        src, dst = (server, client) if is_response else (client, server)
        self.bad[reason] += 1
        self.malformed.append((frame, ts, *src, *dst, "tcp", reason))

    def _note_messages(self, conn: HttpConnection, exchange: Exchange) -> None:
        for msg, is_response in ((exchange.request, False), (exchange.response, True)):
            if msg is not None and msg.malformed:
                frame = msg.head_frame or msg.end_frame or msg.start_frame
                ts = msg.head_ts if msg.head_ts is not None else msg.start_ts
                self._bad(conn, is_response, msg.malformed, frame, ts)

    # ------------------------------------------------------------------ records
    def _emit(self, conn: HttpConnection, exchange: Exchange) -> None:
        row = make_row(None, conn, exchange)
        if row is None:
            self.tally["lost in gaps"] += 1
            return
        self.rows.append(row)
        self._note_messages(conn, exchange)
        request, response = exchange.request, exchange.response
        self.tally["requests"] += request is not None
        self.tally["responses"] += response is not None


# ---------------------------------------------------------------------- one row
def make_row(row_id: int | None, conn: HttpConnection, exchange: Exchange) -> tuple | None:
    """The `http_requests` row of a finished pair (None when neither half was seen)."""
    req, resp = exchange.request, exchange.response
    first = req if req is not None else resp
    if first is None:
        return None
    tags = list(exchange.tags)
    for msg in (req, resp):
        if msg is not None:
            tags += [tag for tag in msg.tags if tag not in tags]
    if resp is None and "missing_response" not in tags:
        tags.append("missing_response")
    if conn.preamble is not None:
        tags.append("socks")
    ends = {
        "client": conn.client, "client_port": conn.client_port,
        "server": conn.server, "server_port": conn.server_port, "transport": "tcp",
    }  # fmt: skip
    uri = _uri(req.target) if req is not None and req.target is not None else None
    return (
        row_id, first.start_ts, connection_uid(ends),
        conn.client, conn.client_port, conn.server, conn.server_port, exchange.depth,
        text(req.method) if req is not None and req.method is not None else None,
        _header(req, b"host"), uri, uri.partition("?")[0] if uri is not None else None,
        _referrer(req),
        req.version if req is not None else resp.version if resp is not None else None,
        _header(req, b"user-agent"), _header(req, b"origin"),
        req.body_len if req is not None else None,
        resp.body_len if resp is not None else None,
        resp.status if resp is not None else None,
        text(resp.reason) if resp is not None and resp.reason is not None else None,
        _header(req, b"content-type"), _header(resp, b"content-type"),
        _sha256(resp),
        req.username if req is not None else None,
        json.dumps(req.proxied) if req is not None and req.proxied else None,
        _rtt(exchange),
        req.head_frame if req is not None else None,
        resp.head_frame if resp is not None else None,
        ",".join(tags),
        _malformed(req, resp),
    )  # fmt: skip


def _sha256(msg: Message | None) -> str | None:
    """Of the transfer-decoded body, only when all of it was seen."""
    if msg is None or msg.digest is None or not msg.body_done or not msg.body_len:
        return None
    return msg.digest.hexdigest()


def _header(msg: Message | None, name: bytes) -> str | None:
    value = msg.header(name) if msg is not None else None
    return None if value is None else text(value)


def _uri(target: bytes) -> str:
    """As sent, but for a password in it (`http://user:****@host/`): never stored."""
    return text(hide_password(target))


def _referrer(request: Message | None) -> str | None:
    value = request.header(b"referer") if request is not None else None
    return None if value is None else _uri(value)


def _rtt(exchange: Exchange) -> float | None:
    """End of the request to the first byte of its first response begun after it: an interim
    1xx (102, 103) when one came, else the final response (None when that came first)."""
    request, response = exchange.request, exchange.response
    if request is None or response is None:
        return None
    end = request.end_ts if request.end_ts is not None else request.head_ts
    if end is None:
        return None
    first = exchange.interim_ts if exchange.interim_ts is not None else response.start_ts
    rtt = first - end
    return round(rtt, 6) if rtt >= 0 else None


def _malformed(request: Message | None, response: Message | None) -> str | None:
    reasons = []
    if request is not None and request.malformed:
        reasons.append(f"request: {request.malformed}")
    if response is not None and response.malformed:
        reasons.append(f"response: {response.malformed}")
    return "; ".join(reasons) or None
