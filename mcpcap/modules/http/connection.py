"""One HTTP connection: both directions' parsers, and requests paired with responses in order.

HTTP/1.x answers requests in the order they were sent (RFC 9112, 9.3.2), so a response pairs
with the oldest request still waiting for its final response; interim (1xx) responses other
than 101 do not consume it. When both halves of a pair are done the pair becomes a record
(`Exchange`), handed to `emit`. Gaps are not guessed over: a hole inside a body of known
length that ends within it is skipped (the parser knows how many bytes it held), any other cuts
the message in progress, which is recorded as far as it was seen and tagged `gap`; when the lost
bytes must have held the start of a message (the hole ran past the end of a body of known
length; or no message was in progress, and the data after the gap is not a start line, or the
direction was between messages: then the hole held at least one whole message), the pairing
counts one lost message so later pairs stay right.
"""

from __future__ import annotations

import weakref
from collections import deque
from collections.abc import Callable

from mcpcap.modules.http.parser import (
    BAD,
    CHUNKED,
    GAP_IDLE,
    GAP_PAST_END,
    MAX_HEAD_BYTES,
    NO_BODY,
    NOT_HTTP,
    TO_CLOSE,
    TUNNEL,
    Message,
    MessageParser,
    start_kind,
)
from mcpcap.modules.http.socks import SocksPreamble

MAX_PENDING = 512  # requests waiting for a response, per connection
MAX_TOTAL_PENDING = 10_000  # ... and in all connections of a scan (a few KB each at most)
MAX_PLACEHOLDERS = 100_000  # overflowed requests kept only as a place in the response order
MAX_HELD_CHUNKS = 16  # a loose first request line's chunks held until the server speaks


class Exchange:
    """A request and its response, as far as each was seen."""

    __slots__ = (
        "depth", "interim_ts", "request", "request_done", "response", "response_done", "tags",
    )  # fmt: skip

    def __init__(self, request: Message | None, depth: int) -> None:
        self.request = request
        self.response: Message | None = None
        self.interim_ts: float | None = None  # the first 1xx begun after the request ended
        self.depth = depth
        self.request_done = request is None
        self.response_done = False
        self.tags: list[str] = []

    def tag(self, name: str) -> None:
        if name not in self.tags:
            self.tags.append(name)


Emit = Callable[["HttpConnection", Exchange], None]


class PendingBudget:
    """Requests waiting for their responses in all the connections of one scan."""

    __slots__ = ("held", "limit")

    def __init__(self, limit: int = MAX_TOTAL_PENDING) -> None:
        self.held = 0
        self.limit = limit


class HttpConnection:
    """Feed it the connection's chunks (`chunk`); finished pairs go to `emit`."""

    __slots__ = (
        "__weakref__", "budget", "client", "client_port", "closed", "depth", "emit", "held",
        "last_frame", "last_ts", "notes", "open_request", "open_response", "pending", "preamble",
        "released", "requests", "responses", "server", "server_port", "started", "tentative",
        "tunnel",
    )  # fmt: skip

    def __init__(
        self,
        client: str,
        client_port: int,
        server: str,
        server_port: int,
        emit: Emit,
        budget: PendingBudget | None = None,
    ) -> None:
        self.client, self.client_port = client, client_port
        self.server, self.server_port = server, server_port
        self.emit = emit
        self.budget = budget if budget is not None else PendingBudget()
        # the parsers tell the connection through a weak reference: a strong one would make a
        # cycle, which only the collector frees, and scans pause it (`mcpcap.core.gcpause`), so
        # every connection a scan forgot stayed until the scan ended
        sink = weakref.proxy(self)
        self.requests = MessageParser(sink, is_response=False)
        self.responses = MessageParser(sink, is_response=True)
        self.pending: deque[Exchange | None] = deque()  # None: a place kept for an overflow
        self.open_request: Exchange | None = None
        self.open_response: Exchange | None = None
        self.depth = 0
        self.closed: set[bool] = set()  # the directions (is_response) that ended
        self.started: set[bool] = set()  # the directions (from_client) that carried data
        self.notes: list[tuple[bool, str, int, float]] = []  # (is_response, reason, frame, ts)
        self.tunnel = False
        self.released = False
        # claimed on first bytes too few to tell (`start_prefix`): not HTTP is then no error
        self.tentative = False
        self.last_frame, self.last_ts = 0, 0.0
        self.preamble: SocksPreamble | None = None  # a SOCKS exchange before the HTTP
        # the client's chunks (data, end, frame, ts, syn_seen) while its first line is a loose
        # request line (`hold`): HTTP only once the server answers with a status line
        # (data, end, frame, ts, syn_seen, reset) of the client's chunks held
        self.held: list[tuple[bytes, bool, int, float, bool, bool]] | None = None

    # ------------------------------------------------------------------ input
    def chunk(
        self,
        from_client: bool,
        data: bytes,
        gap: bool,
        end: bool,
        frame: int,
        ts: float,
        syn_seen: bool = True,
        reset: bool = False,
        lost: int = 0,
    ) -> bool:
        """One chunk of one direction; returns False once the connection needs nothing more.

        A direction whose SYN the capture missed may start anywhere: its first bytes are read
        as if after a gap. An end by an RST (`reset`) leaves a body read to the close unfinished.
        `lost`: with `gap`, how many bytes the hole held (0 when unknown).
        """
        if self.held is not None:
            ready = self._await_status_line(from_client, data, gap, end, frame, ts, syn_seen, reset)
            if ready is not True:
                return ready is None
        self.last_frame, self.last_ts = frame, ts
        if self.preamble is not None:
            data = self._past_preamble(from_client, data, gap)
            if self.preamble.failed:
                self.released = True  # refused, or no HTTP in the tunnel: nothing to record
                return False
        parser = self.requests if from_client else self.responses
        between = gap and not parser.stopped  # a hole between two messages (or in a start line)
        if data and from_client not in self.started:
            self.started.add(from_client)
            gap = gap or not syn_seen
        if gap and (parser.resumable or not parser.stopped):
            self._gap(parser, data, frame, ts, between, lost)
        if data:
            if not from_client and parser.idle and self._answers_simple_request(data):
                parser.raw_body(frame, ts)
            parser.feed(data, frame, ts)
            if self.tentative and (self.depth or parser.msg is not None):
                self.tentative = False  # a start line: HTTP after all
        if end:
            parser.end(frame, ts, closed=not reset)
            self.closed.add(not from_client)
        if self.tunnel or len(self.closed) == 2 or self._not_http():
            self.close(frame, ts)
            return False
        return True

    def hold(self) -> None:
        """The client's first line is no request line but names HTTP (`GET/ HTTP/1.1`): keep
        its bytes until the server's first bytes say whether it was a bad request (a status
        line) or no HTTP at all."""
        self.held = []

    def _await_status_line(
        self,
        from_client: bool,
        data: bytes,
        gap: bool,
        end: bool,
        frame: int,
        ts: float,
        syn_seen: bool,
        reset: bool,
    ) -> bool | None:
        """None: the chunk is held; False: no HTTP here (released, nothing recorded); True: the
        server answered with a status line, the held chunks were read as a bad request, and
        this chunk is read next."""
        held = self.held
        assert held is not None
        if from_client:
            size = len(data) + sum(len(piece[0]) for piece in held)
            if not gap and size <= MAX_HEAD_BYTES and len(held) < MAX_HELD_CHUNKS:
                held.append((data, end, frame, ts, syn_seen, reset))
                return None
        elif data and not gap and start_kind(data) == "response":
            self.held = None
            self.requests.lenient = True
            return all(self.chunk(True, piece, False, *rest) for piece, *rest in held)
        elif not data and not gap and not end:
            return None  # nothing yet
        self.held = None
        self.released = True
        return False

    def buffered(self) -> int:
        """Bytes held: unfinished lines of both directions and chunks held (`hold`)."""
        held = sum(len(piece[0]) for piece in self.held) if self.held else 0
        return len(self.requests.buf) + len(self.responses.buf) + held

    def close(self, frame: int | None = None, ts: float | None = None) -> None:
        """The connection ended (or, without `frame`, the capture did): what waits is recorded."""
        if self.released:
            return
        self.released = True
        closed = frame is not None
        frame = self.last_frame if frame is None else frame
        ts = self.last_ts if ts is None else ts
        for parser in (self.requests, self.responses):
            if parser.msg is not None:
                parser.end(frame, ts, closed)
            parser.stop("closed")
        if self.open_request is not None:  # a request whose body never finished
            self._request_done(self.open_request)
        while self.pending:
            exchange = self._pop()
            if exchange is not None:
                exchange.response_done = True
                exchange.tag("missing_response")
                self._maybe_emit(exchange)

    def _past_preamble(self, from_client: bool, data: bytes, gap: bool) -> bytes:
        """The direction's bytes after its SOCKS messages; the tunnel is read only when it
        starts like HTTP (TLS in it is the TLS module's)."""
        preamble = self.preamble
        assert preamble is not None
        if gap and not preamble.done[from_client]:
            preamble.failed = True  # a hole in the SOCKS exchange: where HTTP starts is lost
            return b""
        rest = preamble.strip(from_client, data) if data else data
        if rest and from_client not in self.started and start_kind(rest) is None:
            preamble.failed = True
        return rest

    def _not_http(self) -> bool:
        """Both directions stopped for good (garbage, bounds): nothing more to read."""
        return (
            self.requests.stopped
            and not self.requests.resumable
            and self.responses.stopped
            and not self.responses.resumable
        ) or (self.depth == 0 and (self.requests.stopped or self.responses.stopped))

    def _answers_simple_request(self, data: bytes) -> bool:
        front = self.pending[0] if self.pending else None
        return (
            front is not None
            and front.request is not None
            and front.request.version == "0.9"
            and start_kind(data) != "response"
        )

    def _gap(
        self, parser: MessageParser, data: bytes, frame: int, ts: float, between: bool, lost: int
    ) -> None:
        outcome = parser.gap(frame, ts, lost)
        if outcome == GAP_IDLE:
            if start_kind(data) is not None and not between:
                return
        elif outcome != GAP_PAST_END:
            return
        # the lost bytes held the start of a message whose rest (or a later one) follows
        if parser.is_response:
            if self.pending:
                exchange = self._pop()
                if exchange is not None:
                    exchange.tag("gap")
                    exchange.tag("missing_response")
                    exchange.response_done = True
                    self._maybe_emit(exchange)
        else:
            self.depth += 1
            lost = Exchange(None, self.depth)
            lost.tag("gap")
            self._push(lost)

    # ------------------------------------------------------------------ parser callbacks
    def head(self, parser: MessageParser, msg: Message) -> int:
        if parser.is_response:
            return self._response_head(msg)
        self._register_request(msg)
        if msg.method == b"CONNECT" or msg.version == "0.9":
            return NO_BODY
        return body_mode(msg, is_response=False)

    def done(self, parser: MessageParser, msg: Message) -> None:
        if not parser.is_response:
            if self.open_request is None or self.open_request.request is not msg:
                self._register_request(msg)  # its header block never completed
            exchange = self.open_request
            assert exchange is not None
            self.open_request = None
            if msg.method == b"CONNECT" and not parser.stopped:
                # the client may send into the tunnel before the proxy answers (a 2xx then
                # ends HTTP here; a refusal lets a new request resume the parsing)
                parser.wait("tunnel")
            self._request_done(exchange)
            return
        if msg.status is not None and 100 <= msg.status < 200 and msg.status != 101:
            return  # interim: the request still waits for its final response
        exchange = self.open_response
        if exchange is None or exchange.response is not msg:
            exchange = self._pair_response(msg)  # its header block never completed
        self.open_response = None
        exchange.response_done = True
        self._maybe_emit(exchange)

    def stopped(self, parser: MessageParser, reason: str) -> None:
        """A direction stopped on bytes that are no message: noted for `http.malformed`
        (a malformed message is noted with its record instead)."""
        if reason == NOT_HTTP and not self.tentative:
            self.notes.append((parser.is_response, reason, self.last_frame, self.last_ts))

    # ------------------------------------------------------------------ pairing
    def _register_request(self, msg: Message) -> None:
        self.depth += 1
        exchange = Exchange(msg, self.depth)
        if self.pending:
            exchange.tag("pipelined")
        self.open_request = exchange
        if len(self.pending) < MAX_PENDING and self.budget.held < self.budget.limit:
            self._push(exchange)
        else:
            exchange.tag("too_many_pending")
            exchange.response_done = True  # recorded unanswered; its place stays in the order
            if len(self.pending) < MAX_PENDING + MAX_PLACEHOLDERS:
                self.pending.append(None)

    def _push(self, exchange: Exchange) -> None:
        self.pending.append(exchange)
        self.budget.held += 1

    def _pop(self) -> Exchange | None:
        exchange = self.pending.popleft()
        if exchange is not None:
            self.budget.held -= 1
        return exchange

    def _request_done(self, exchange: Exchange) -> None:
        exchange.request_done = True
        self._maybe_emit(exchange)

    def _pair_response(self, msg: Message) -> Exchange:
        interim = msg.status is not None and 100 <= msg.status < 200 and msg.status != 101
        front = self.pending[0] if self.pending else None
        if front is None and self.pending:  # the place of an overflowed request
            if not interim:
                self._pop()
            exchange = Exchange(None, 0)
            exchange.tag("placeholder")
        elif front is None:
            exchange = Exchange(None, self.depth + 1)
            exchange.tag("missing_request")
            if interim:
                return exchange
            self.depth += 1
        else:
            exchange = front
            if interim:
                request = exchange.request
                if (
                    exchange.interim_ts is None
                    and request is not None
                    and request.end_ts is not None
                ):
                    exchange.interim_ts = msg.start_ts  # a 100 to an unsent body does not count
                return exchange
            self._pop()
        exchange.response = msg
        self.open_response = exchange
        return exchange

    def _response_head(self, msg: Message) -> int:
        exchange = self._pair_response(msg)
        status = msg.status or 0
        if 100 <= status < 200 and status != 101:
            return NO_BODY
        request = exchange.request
        # a method guessed from a line without its spaces is not what the server read
        method = request.method if request is not None and not request.loose else None
        if status == 101:
            exchange.tag("upgrade")
            self.tunnel = True
            return TUNNEL
        if method == b"CONNECT" and 200 <= status < 300:
            exchange.tag("tunnel")
            self.tunnel = True
            return TUNNEL
        if method == b"HEAD" or status in (204, 304):
            return NO_BODY
        return body_mode(msg, is_response=True)

    def _maybe_emit(self, exchange: Exchange) -> None:
        if exchange.request_done and exchange.response_done and "placeholder" not in exchange.tags:
            self.emit(self, exchange)


# ---------------------------------------------------------------------- framing
def body_mode(msg: Message, is_response: bool) -> int:
    """How the body ends (RFC 9112, 6.3): a length, CHUNKED, TO_CLOSE or BAD (with a reason)."""
    if not is_response and len(msg.headers.get(b"host", ())) > 1:
        msg.tag("smuggling_shape")  # RFC 9112, 3.2: a 400, whatever the body
        msg.fail("multiple_host")
    codings = msg.headers.get(b"transfer-encoding")
    lengths = msg.headers.get(b"content-length")
    if codings:
        if lengths:
            msg.tag("smuggling_shape")
            msg.fail("te_with_content_length")
        names = [c.strip().lower() for value in codings for c in value.split(b",") if c.strip()]
        _faulty_codings(msg, names)
        if names and names[-1] == b"chunked":
            return CHUNKED
        if is_response:
            return TO_CLOSE
        msg.tag("bad_request")
        msg.fail("te_not_chunked")
        return BAD
    if lengths:
        return _content_length(msg, lengths, is_response)
    return TO_CLOSE if is_response else NO_BODY


def _faulty_codings(msg: Message, names: list[bytes]) -> None:
    """Transfer codings that RFC 9112 (6.1) calls faulty framing, read as they say the body ends
    but tagged: chunked applied twice, or any coding in an HTTP/1.0 message."""
    if names.count(b"chunked") > 1:
        msg.tag("smuggling_shape")
        msg.fail("chunked_twice")
    elif msg.version == "1.0":
        msg.tag("smuggling_shape")
        msg.fail("te_in_http_1_0")


def _content_length(msg: Message, lengths: list[bytes], is_response: bool) -> int:
    values = {v.strip() for value in lengths for v in value.split(b",")}
    if not all(v.isdigit() and v.isascii() for v in values):
        reason = "negative_content_length" if any(v[:1] == b"-" for v in values) else None
        msg.fail(reason or "bad_content_length")
    elif len(values) > 1:
        msg.tag("smuggling_shape")
        msg.fail("conflicting_content_length")
    else:
        return int(values.pop())
    msg.tag("bad_response" if is_response else "bad_request")
    return BAD
