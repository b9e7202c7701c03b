"""An incremental HTTP/1.x message parser for one direction of a TCP connection.

Fed the direction's stream chunks as they come (`feed`, `gap`, `end`), it finds each message's
start line and header block (bounded: `MAX_LINE`, `MAX_HEAD_BYTES`, `MAX_HEADER_LINES`), then
skips its body by the rules of RFC 9112 section 6.3 (Content-Length, chunked with trailers, or
to the close) without keeping it: only its length and, for responses, a running SHA-256 of the
transfer-decoded bytes. What a message means for the connection (pairing, records) is the
`Sink`'s business; a response's body rules depend on its request, which the sink knows.
"""

from __future__ import annotations

import binascii
import hashlib
import re
from typing import Protocol

MAX_LINE = 16 * 1024  # a start, header, chunk-size or trailer line
MAX_HEAD_BYTES = 64 * 1024  # a start line and header block together
MAX_HEADER_LINES = 256
MAX_CHUNK_SIZE_DIGITS = 15  # 16**15 bytes is far beyond any real chunk; 2**64 is refused
MAX_METHOD_PREFIX = 16  # the longest known method and some spaces

TCHAR = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]"  # RFC 9110 token characters (a method)
# words split on any run of spaces and tabs, whitespace after the version ignored: RFC 9112 3
# lets a recipient parse a request line on whitespace-delimited word boundaries
REQUEST_LINE = re.compile(rb"(" + TCHAR + rb"{1,32})[ \t]+(\S+)[ \t]+HTTP/([0-9])\.([0-9])[ \t]*\Z")
SIMPLE_REQUEST = re.compile(rb"GET +(/\S*)\Z")  # HTTP/0.9 (RFC 1945, 4.1): no version, no headers
# a request line that is not one (no or a broken version): recorded as a bad request
LOOSE_REQUEST = re.compile(rb"([A-Z][A-Z0-9_-]{0,31})(?: +(.*?))?(?: +HTTP/\S*)?\Z", re.S)
# any first line, once the server's status line says the connection is HTTP: what stands in
# the method's place (or nothing) run into the target, the version cut or missing
# (`GET/HTTP/1.1`, `PUT/ HTTP/1.1`, `\xc3\x83 / HTTP/1.`)
LENIENT_REQUEST = re.compile(rb"([^ \t/]{1,32})?[ \t]*(.*?)(?:[ \t]*HTTP/\S*)?\Z", re.S)
# a whole first line of text naming HTTP that no rule above reads as a request line
LOOSE_LINE = re.compile(rb"[^\x00-\x08\x0a-\x1f\x7f]*HTTP/[^\x00-\x08\x0a-\x1f\x7f]*\r?\n")
HEADER_LIKE = re.compile(TCHAR + rb"+:")
METHOD_PREFIX = re.compile(TCHAR + rb"{0,32}(?: |\Z)")  # what a request line may begin with
STATUS_LINE = re.compile(rb"HTTP/([0-9])\.([0-9]) +([0-9]{3})(?:[ \t](.*))?\Z", re.S)
# how a direction may start: claimed on these first bytes (a whole first line when there is one)
REQUEST_START = re.compile(TCHAR + rb"{1,32}[ \t]+\S+[ \t]+HTTP/[0-9]\.[0-9][ \t]*\r?\n")
METHOD_NAMES = (
    b"GET", b"POST", b"HEAD", b"PUT", b"DELETE", b"OPTIONS", b"TRACE", b"CONNECT", b"PATCH",
    b"PROPFIND", b"PROPPATCH", b"MKCOL", b"COPY", b"MOVE", b"LOCK", b"UNLOCK", b"SEARCH",
    b"REPORT", b"CCM_POST",
)  # fmt: skip
KNOWN_METHODS = rb"(?:" + b"|".join(METHOD_NAMES) + rb")"
BROKEN_START = re.compile(
    rb"(?:" + KNOWN_METHODS + rb"(?: [^\r\n]*)?|[A-Z][A-Z0-9_-]{2,31} +\S+ +HTTP/\S*)\r?\n"
)
REQUEST_PREFIX = re.compile(KNOWN_METHODS + rb" +\S")
# a request line of HTTP's shape ending in another protocol's version: RTSP (RFC 7826), SIP
# (RFC 3261), ICAP (RFC 3507) ... are not HTTP, whatever their method
OTHER_PROTOCOL = re.compile(rb" (?!HTTP/)[A-Z][A-Z0-9-]{1,15}/[0-9]\.[0-9][ \t]*\r?\n\Z")
# HTTP/2 with prior knowledge (RFC 9113 3.4; gRPC without TLS): its connection preface is made
# to look like no HTTP/1.x request, and this module reads no HTTP/2
H2_PREFACE = b"PRI * HTTP/2.0"
STATUS_START = re.compile(rb"HTTP/[0-9]\.[0-9] +[0-9]{3}[ \t\r\n]")

NOT_HTTP = "not_http"  # the reason a direction stops on bytes that are no HTTP message
HEAD, BODY_LENGTH, CHUNK_SIZE, CHUNK_DATA, CHUNK_END, TRAILERS, BODY_CLOSE, STOPPED = range(8)
# what a hole did to the message in progress (`MessageParser.gap`)
GAP_IDLE, GAP_SKIPPED, GAP_CUT, GAP_PAST_END = range(4)
HEX_DIGITS = re.compile(rb"[0-9A-Fa-f]+\Z")  # a chunk size (RFC 9112, 7.1: 1*HEXDIG)

# headers that frame the message (every value kept, a few of them, shortly) and those a record
# shows (the first value, cut at INFO_VALUE): what a message holds stays a few kilobytes
FRAMING_HEADERS = frozenset((b"host", b"content-length", b"transfer-encoding"))
INFO_HEADERS = frozenset((b"referer", b"user-agent", b"origin", b"content-type"))
# Basic credentials: the user name kept, as Zeek keeps it from either (the first one counts)
CREDENTIAL_HEADERS = frozenset((b"authorization", b"proxy-authorization"))
MAX_FRAMING_VALUES = 8
FRAMING_VALUE = 256
INFO_VALUE = 512
MAX_USER = 1024  # a Basic user name longer than this is not kept (nor decoded further)
MAX_PROXIED = 8
# Zeek's http.log `proxied`: headers that say a proxy is in the path
PROXY_HEADERS = frozenset(
    (
        b"forwarded", b"x-forwarded-for", b"x-forwarded-from", b"client-ip", b"via",
        b"xroxy-connection", b"proxy-connection",
    )
)  # fmt: skip


def start_kind(data: bytes) -> str | None:
    """ "request", "response" or None: whether a direction's first bytes start like HTTP/1.x.

    A whole first line decides (a request line, or one from a known method that lacks a valid
    version: a bad request, or HTTP/0.9); without one, a known method and a space, or
    `HTTP/1.`, is enough (the parser releases the stream later if it is wrong).
    """
    data = data.lstrip(b"\r\n")[:MAX_LINE]
    if data.startswith(H2_PREFACE):
        return None
    if STATUS_START.match(data):
        return "response"
    end = data.find(b"\n")
    if end >= 0:
        line = data[: end + 1]
        if REQUEST_START.match(line):
            return "request"
        if BROKEN_START.match(line) and not OTHER_PROTOCOL.search(line) and _names_uri(line):
            return "request"
        return None
    if REQUEST_PREFIX.match(data) or data.startswith(b"HTTP/1."):
        return "response" if data.startswith(b"HTTP/") else "request"
    return None


def _names_uri(line: bytes) -> bool:
    """A line from a known method without a valid version names HTTP, or a target that may be
    a request-target (`/path`, `*`, `scheme://`), or none: a key-value store's inline command
    (`GET key`) is no HTTP request."""
    if b"HTTP/" in line:
        return True
    words = line.split(None, 2)
    return len(words) < 2 or words[1][:1] in (b"/", b"*") or b"://" in words[1]


def start_prefix(data: bytes, sport: int, dport: int) -> str | None:
    """What a direction's first bytes may still become when they are too few to tell (a
    request line cut after `GE` or `GET `, a status line after `HTTP`): "request", "response"
    or None. `H` may begin either, and so may bare line ends (ignored before a start line,
    RFC 9112 2.2): the lower port is then taken for the server's."""
    if not data or len(data) > 4 * MAX_METHOD_PREFIX:  # most streams: no copy
        return None
    data = data.lstrip(b"\r\n")
    if len(data) > MAX_METHOD_PREFIX or b"\n" in data:
        return None
    method = data.rstrip(b" ")
    request = any(name.startswith(method) for name in METHOD_NAMES) and (
        method == data or method in METHOD_NAMES
    )
    response = b"HTTP/1."[: len(data)] == data[:7] and len(data) <= 7
    if request and response:
        return "response" if sport < dport else "request"
    return "request" if request else "response" if response else None


def loose_request(data: bytes) -> bool:
    """Whether a direction's first line may be a malformed request line (text that names
    `HTTP/` but is no request line): HTTP only if the other side answers with a status line."""
    if data.find(b"HTTP/", 0, MAX_LINE) < 0:  # most streams: no copy, one quick search
        return False
    first = data.lstrip(b"\r\n")[:MAX_LINE]
    return LOOSE_LINE.match(first) is not None and not first.startswith(H2_PREFACE)


def text(raw: bytes) -> str:
    """Bytes as sent, as text: UTF-8, other bytes as \\xNN escapes."""
    return raw.decode("utf-8", "backslashreplace")


# an absolute URI's user:password@ (RFC 3986, 3.2.1): the password runs to the authority's last @
USERINFO_PASSWORD = re.compile(rb"\A([A-Za-z][A-Za-z0-9+.-]*://[^/?#@:]*:)[^/?#]+@")


def hide_password(uri: bytes) -> bytes:
    """The URI with the password of its userinfo, if any, replaced by `****`."""
    return USERINFO_PASSWORD.sub(rb"\1****@", uri, count=1)


def basic_username(authorization: bytes | None) -> str | None:
    """The user of `Authorization: Basic ...` (RFC 7617), None when empty or absent.

    Only the credentials' first bytes, up to the first ':', are decoded (at most `MAX_USER`):
    a long password (a multi-KB token) costs nothing and is never kept.
    """
    if not authorization:
        return None
    scheme, _, credentials = authorization.partition(b" ")
    if scheme.lower() != b"basic":
        return None
    # whole base64 groups that hold MAX_USER bytes and the ':' after them
    prefix = credentials.strip()[: 4 * ((MAX_USER + 3) // 3)]
    try:
        decoded = binascii.a2b_base64(prefix)
    except (binascii.Error, ValueError):
        return None
    user, colon, _ = decoded.partition(b":")
    return text(user) if colon and 0 < len(user) <= MAX_USER else None


def _framing_value(msg: Message, name: bytes, value: bytes) -> bytes:
    """A framing header's value as kept: one too long to be valid fails the message, a host is
    kept cut, a length or coding becomes `?` (no valid one)."""
    if len(value) <= FRAMING_VALUE:
        return value
    msg.fail("header_too_long")
    return value[:FRAMING_VALUE] if name == b"host" else b"?"


class Message:
    """One request or response as far as it was seen: start line, kept headers, body tally."""

    __slots__ = (
        "authorized", "body_done", "body_len", "digest", "end_frame", "end_ts", "head_frame",
        "head_ts", "headers", "loose", "malformed", "method", "proxied", "reason", "start_frame",
        "start_ts", "status", "tags", "target", "username", "version",
    )  # fmt: skip

    def __init__(self, frame: int, ts: float) -> None:
        self.start_frame = frame
        self.start_ts = ts
        self.head_frame: int | None = None
        self.head_ts: float | None = None
        self.end_frame: int | None = None
        self.end_ts: float | None = None
        self.method: bytes | None = None
        self.target: bytes | None = None
        self.version: str | None = None
        self.status: int | None = None
        self.reason: bytes | None = None
        self.headers: dict[bytes, list[bytes]] = {}
        self.proxied: list[str] = []
        self.body_len = 0
        self.body_done = False
        self.digest = None  # a running sha256 (responses only)
        self.tags: list[str] = []
        self.malformed: str | None = None
        self.authorized = False  # a credentials header was seen (the first one counts)
        self.loose = False  # method and target read from a line without their spaces (a guess)
        self.username: str | None = None

    def header(self, name: bytes) -> bytes | None:
        values = self.headers.get(name)
        return values[0] if values else None

    def tag(self, name: str) -> None:
        if name not in self.tags:
            self.tags.append(name)

    def fail(self, reason: str) -> None:
        """Malformed: the first reason stays."""
        if self.malformed is None:
            self.malformed = reason


class Sink(Protocol):
    """What the parser tells its connection."""

    def head(self, parser: MessageParser, msg: Message) -> int:
        """The header block is complete: the body mode (`body_mode` values) to parse by."""

    def done(self, parser: MessageParser, msg: Message) -> None:
        """The message ended (complete or not: see `body_done`, `malformed`, `tags`)."""

    def stopped(self, parser: MessageParser, reason: str) -> None:
        """The direction stopped parsing (garbage, a tunnel, bounds)."""


# body modes a sink returns from `head`; a number >= 0 is a Content-Length
NO_BODY, CHUNKED, TO_CLOSE, TUNNEL, BAD = -1, -2, -3, -4, -5


class MessageParser:
    """One direction's parser: bytes in, `Sink` calls out. Never holds more than a header block."""

    __slots__ = (
        "buf", "fold", "head_bytes", "is_response", "lenient", "lines", "mark", "msg", "reason",
        "remaining", "resumable", "sink", "state",
    )  # fmt: skip

    def __init__(self, sink: Sink, is_response: bool) -> None:
        self.sink = sink
        self.is_response = is_response
        self.state = HEAD
        self.buf = bytearray()
        self.msg: Message | None = None
        self.remaining = 0
        self.lines = 0  # header (or trailer) lines of the current block
        self.head_bytes = 0
        self.reason = ""
        self.resumable = False  # stopped by a gap: a later chunk starting a message resumes
        self.mark = (0, 0.0)  # the frame and time of the current start line's first byte
        self.lenient = False  # the next start line is a request whatever it holds (a bad one)
        # the values list of the last header line kept, and its name: a folded line goes on
        # its last value
        self.fold: tuple[list, bytes] | None = None

    # ------------------------------------------------------------------ input
    def feed(self, data: bytes, frame: int, ts: float) -> None:
        if self.state == STOPPED:
            if not (self.resumable and self._starts_message(data)):
                return
            self.state = HEAD
            self.resumable = False
        view = memoryview(data)
        pos, size = 0, len(data)
        while pos < size and self.state != STOPPED:
            state = self.state
            if state in (BODY_LENGTH, CHUNK_DATA):
                take = min(self.remaining, size - pos)
                self._body(view[pos : pos + take])
                pos += take
                self._passed(take, frame, ts)
            elif state == BODY_CLOSE:
                self._body(view[pos:])
                pos = size
            else:
                pos = self._line(data, pos, frame, ts)

    def gap(self, frame: int, ts: float, lost: int = 0) -> int:
        """Bytes of this direction were never seen: `lost` of them (0 when unknown).

        A hole inside a body whose length is known (a Content-Length, or a chunk's data) and
        that ends within it is skipped, as Zeek skips it: the body's length counts the lost
        bytes, it has no SHA-256, the message is tagged `gap` and parsing goes on after the
        hole (GAP_SKIPPED). Any other hole ends the message in progress there, incomplete
        (GAP_CUT; GAP_PAST_END when the hole is known to run past the end of its body, so that
        the start of what followed was lost with it), or finds none in progress (GAP_IDLE);
        parsing then resumes at the next chunk that starts like a message (a start line).
        """
        msg = self.msg
        state = self.state
        if msg is not None and state in (BODY_LENGTH, CHUNK_DATA) and 0 < lost <= self.remaining:
            msg.tag("gap")
            msg.digest = None
            msg.body_len += lost
            self._passed(lost, frame, ts)
            return GAP_SKIPPED
        outcome = GAP_IDLE
        if msg is not None:
            past_end = state == BODY_LENGTH and lost > self.remaining
            outcome = GAP_PAST_END if past_end else GAP_CUT
            msg.tag("gap")
            self._finish(frame, ts)
        self.buf.clear()
        if self.state != STOPPED or self.resumable:
            self.state = STOPPED
            self.resumable = True
            self.reason = "gap"
        return outcome

    def _passed(self, count: int, frame: int, ts: float) -> None:
        """`count` bytes of a body of known length (or of a chunk's data) went by: at its end
        the message is complete (or the chunk's line end comes next)."""
        self.remaining -= count
        if not self.remaining:
            if self.state == BODY_LENGTH:
                self._complete(frame, ts)
            else:
                self.state = CHUNK_END

    def end(self, frame: int, ts: float, closed: bool = True) -> None:
        """The direction ended: a body read to the close is complete at a FIN (`closed`), not
        at an RST (a reset server or an aborted client) nor when the capture just ends."""
        msg = self.msg
        if msg is not None:
            if self.state == BODY_CLOSE and closed:
                msg.body_done = True
            else:
                msg.tag("truncated")
            self._finish(frame, ts)
        self.state = STOPPED
        self.resumable = False

    def raw_body(self, frame: int, ts: float) -> None:
        """An HTTP/0.9 response: no status line, no headers, the body runs to the close."""
        msg = self.msg = Message(frame, ts)
        msg.version = "0.9"
        msg.head_frame, msg.head_ts = frame, ts
        msg.digest = hashlib.sha256()
        self.state = BODY_CLOSE

    def wait(self, reason: str) -> None:
        """Parse nothing until a chunk starts a message (what comes between is not HTTP's:
        the bytes a client sends into a tunnel before its CONNECT is answered, say)."""
        self.stop(reason)
        self.resumable = True

    def stop(self, reason: str) -> None:
        """Parse nothing more in this direction (the connection became a tunnel, say)."""
        self.state = STOPPED
        self.resumable = False
        self.reason = reason
        self.msg = None
        self.buf.clear()

    @property
    def stopped(self) -> bool:
        return self.state == STOPPED

    @property
    def idle(self) -> bool:
        """Between messages, nothing of the next one seen."""
        return self.state == HEAD and self.msg is None and not self.buf

    # ------------------------------------------------------------------ lines
    def _starts_message(self, data: bytes) -> bool:
        kind = start_kind(data)
        return kind == ("response" if self.is_response else "request")

    def _line(self, data: bytes, pos: int, frame: int, ts: float) -> int:
        """Take one line (or all of `data` when the line goes on); returns the new position."""
        buf = self.buf
        if not buf and self.msg is None and self.state == HEAD:
            self.mark = (frame, ts)  # where a message's first byte may be
            done = self._whole_head(data, pos, frame, ts)
            if done:
                return done
        end = data.find(b"\n", pos)
        if end < 0:
            buf += data[pos:]
            if len(buf) > MAX_LINE:
                self._malformed("line_without_end", frame, ts)
            elif self._hopeless_start():
                self._stop_garbage(frame, ts)
            return len(data)
        if buf:
            buf += data[pos : end + 1]
            line = bytes(buf)
            buf.clear()
        else:
            line = data[pos : end + 1]
        if len(line) > MAX_LINE:
            self._malformed("line_too_long", frame, ts)
            return end + 1
        line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
        state = self.state
        if state == HEAD:
            self._head_line(line, data[end + 1 : end + 65], frame, ts)
        elif state == CHUNK_SIZE:
            self._chunk_size(line, frame, ts)
        elif state == CHUNK_END:
            if line:
                self._malformed("chunk_overrun", frame, ts)
            else:
                self.state = CHUNK_SIZE
        elif state == TRAILERS:
            self._trailer(line, frame, ts)
        return end + 1

    def _whole_head(self, data: bytes, pos: int, frame: int, ts: float) -> int:
        """The usual case in one step: a start line and header block, CRLF-ended, wholly in
        `data`. Returns the position after it, or 0 to go line by line."""
        end = data.find(b"\r\n\r\n", pos)
        if end < 0 or end - pos > MAX_HEAD_BYTES:
            return 0
        block = data[pos:end]
        lines = block.split(b"\r\n")
        if block.count(b"\n") != len(lines) - 1 or len(lines) > MAX_HEADER_LINES:
            return 0  # bare line feeds, or a flood: the line-by-line path judges them
        if not lines[0] or max(map(len, lines)) > MAX_LINE:
            return 0
        after = pos + len(lines[0]) + 2
        self._start_line(lines[0], data[after : after + 64], frame, ts)
        msg = self.msg
        if msg is None or msg.head_frame is not None or self.state != HEAD:
            return end + 4  # not a start line, or HTTP/0.9 (no header block)
        header = self._header
        for line in lines[1:]:
            header(msg, line)
        self._end_of_head(frame, ts)
        return end + 4

    def _hopeless_start(self) -> bool:
        """A partial first line that can no longer become a start line."""
        if self.state != HEAD or self.msg is not None:
            return False
        buf = bytes(self.buf).lstrip(b"\r\n")
        return bool(buf) and not self._could_start(buf)

    def _could_start(self, buf: bytes) -> bool:
        if self.is_response:
            return b"HTTP/"[: len(buf)] == buf[:5]
        return bool(METHOD_PREFIX.match(buf))

    def _head_line(self, line: bytes, following: bytes, frame: int, ts: float) -> None:
        msg = self.msg
        if msg is None:
            if not line:
                return  # empty lines before a start line are ignored (RFC 9112, 2.2)
            self._start_line(line, following, frame, ts)
            return
        self.head_bytes += len(line) + 2
        if not line:
            self._end_of_head(frame, ts)
            return
        self.lines += 1
        if self.lines > MAX_HEADER_LINES:
            self._malformed("too_many_header_lines", frame, ts)
        elif self.head_bytes > MAX_HEAD_BYTES:
            self._malformed("header_block_too_large", frame, ts)
        else:
            self._header(msg, line)

    def _start_line(self, line: bytes, following: bytes, frame: int, ts: float) -> None:
        msg = Message(*self.mark)
        self.fold = None
        lenient, self.lenient = self.lenient, False
        if self.is_response:
            match = STATUS_LINE.match(line)
            if match is None:
                self._stop_garbage(frame, ts)
                return
            major, minor, status, reason = match.groups()
            msg.status = int(status)
            msg.reason = (reason or b"").strip()
        else:
            match = REQUEST_LINE.match(line)
            if match is None:
                self._odd_request_line(msg, line, following, frame, ts, lenient)
                return
            msg.method, msg.target, major, minor = match.groups()
        msg.version = f"{int(major)}.{int(minor)}"
        if major != b"1":
            msg.tag("unusual_version")
        self.msg = msg
        self.lines = 0
        self.head_bytes = len(line) + 2

    def _odd_request_line(
        self, msg: Message, line: bytes, following: bytes, frame: int, ts: float, lenient: bool
    ) -> None:
        """HTTP/0.9 (`GET /path`, nothing after it), or a request line without a valid
        version (`lenient`: any line at all): a bad request whose header block is still read
        (RFC 9112, 3: a 400)."""
        loose = LOOSE_REQUEST.match(line)
        if loose is None and lenient:
            loose = LENIENT_REQUEST.match(line)
            msg.loose = True
        if loose is None:
            self._stop_garbage(frame, ts)
            return
        method, target = loose.groups()
        self.msg = msg
        if SIMPLE_REQUEST.match(line) and not HEADER_LIKE.match(following):
            msg.method, msg.target = b"GET", target
            msg.version = "0.9"
            msg.tag("http_0_9")
            msg.head_frame, msg.head_ts = frame, ts
            self._enter_body(self.sink.head(self, msg), frame, ts)
            return
        msg.method, msg.target = method, target or b""
        msg.tag("bad_request")
        msg.fail("bad_request_line")
        self.lines = 0
        self.head_bytes = len(line) + 2

    def _header(self, msg: Message, line: bytes) -> None:
        if line[:1] in (b" ", b"\t"):
            self._folded(msg, line)
            return
        self.fold = None
        name, colon, value = line.partition(b":")
        if not colon or not name.strip():
            msg.fail("bad_header_line")
            return
        if name != name.rstrip(b" \t"):  # RFC 9112, 5.1: rejected, a known smuggling vector
            msg.tag("smuggling_shape")
            msg.fail("space_before_colon")
            return
        name = name.lower()
        value = value.strip(b" \t")
        if name in FRAMING_HEADERS:
            values = msg.headers.setdefault(name, [])
            if len(values) >= MAX_FRAMING_VALUES:
                msg.fail("repeated_header")
            else:
                values.append(_framing_value(msg, name, value))
                self.fold = (values, name)
        elif name in INFO_HEADERS:
            if name not in msg.headers:
                msg.headers[name] = [value[:INFO_VALUE]]
                self.fold = (msg.headers[name], name)
        elif name in CREDENTIAL_HEADERS:
            if not msg.authorized:  # decoded whole here: the value itself (a password) is not kept
                msg.authorized = True
                msg.username = basic_username(value)
        elif name in PROXY_HEADERS and len(msg.proxied) < MAX_PROXIED:
            msg.proxied.append(f"{text(name).upper()} -> {text(value[:INFO_VALUE])}")

    def _folded(self, msg: Message, line: bytes) -> None:
        """An obsolete folded line (RFC 9112, 5.2): the value of the header line before it
        goes on after a space, as a recipient must read it. A fold of a header no record shows,
        or right after the start line (RFC 9112, 2.2: consumed unread), is dropped."""
        if self.fold is None:
            return
        values, name = self.fold
        value = (values[-1] + b" " + line.strip(b" \t")).strip(b" ")
        if name in FRAMING_HEADERS:
            values[-1] = _framing_value(msg, name, value)
        else:
            values[-1] = value[:INFO_VALUE]

    def _end_of_head(self, frame: int, ts: float) -> None:
        msg = self.msg
        assert msg is not None
        msg.head_frame, msg.head_ts = frame, ts
        self._enter_body(self.sink.head(self, msg), frame, ts)

    def _enter_body(self, mode: int, frame: int, ts: float) -> None:
        msg = self.msg
        assert msg is not None
        if self.is_response and mode != NO_BODY and mode != TUNNEL:
            msg.digest = hashlib.sha256()
        if mode >= 0:
            if mode == 0:
                self._complete(frame, ts)
            else:
                self.state, self.remaining = BODY_LENGTH, mode
        elif mode == NO_BODY:
            self._complete(frame, ts)
        elif mode == CHUNKED:
            self.state = CHUNK_SIZE
        elif mode == TO_CLOSE:
            self.state = BODY_CLOSE
        elif mode == TUNNEL:
            msg.body_done = True
            self._finish(frame, ts)
            self.stop("tunnel")
        else:  # BAD: the framing cannot be known, so nothing after this head can be read
            reason = msg.malformed or "bad_framing"
            self._finish(frame, ts)
            self._stop_resumable(reason)

    # ------------------------------------------------------------------ chunked bodies
    def _chunk_size(self, line: bytes, frame: int, ts: float) -> None:
        size_text = line.partition(b";")[0].strip(b" \t")
        if not size_text or len(size_text) > MAX_CHUNK_SIZE_DIGITS:
            reason = "chunk_size_too_large" if size_text else "empty_chunk_size"
            self._malformed(reason, frame, ts)
            return
        if not HEX_DIGITS.match(size_text):  # (int() would take a sign, `_` or `0x` too)
            self._malformed("bad_chunk_size", frame, ts)
            return
        size = int(size_text, 16)
        if size:
            self.state, self.remaining = CHUNK_DATA, size
        else:
            self.state, self.lines = TRAILERS, 0

    def _trailer(self, line: bytes, frame: int, ts: float) -> None:
        if not line:
            self._complete(frame, ts)
            return
        self.lines += 1
        if self.lines > MAX_HEADER_LINES:
            self._malformed("too_many_trailer_lines", frame, ts)

    # ------------------------------------------------------------------ endings
    def _body(self, piece: memoryview) -> None:
        msg = self.msg
        assert msg is not None
        msg.body_len += len(piece)
        if msg.digest is not None:
            msg.digest.update(piece)

    def _complete(self, frame: int, ts: float) -> None:
        msg = self.msg
        assert msg is not None
        msg.body_done = True
        self._finish(frame, ts)

    def _finish(self, frame: int, ts: float) -> None:
        msg = self.msg
        assert msg is not None
        msg.end_frame, msg.end_ts = frame, ts
        self.msg = None
        self.state = HEAD
        self.buf.clear()
        self.sink.done(self, msg)

    def _malformed(self, reason: str, frame: int, ts: float) -> None:
        """Bounds or framing broken: record the message with the reason, parse no further."""
        msg = self.msg
        if msg is None:
            self._stop_garbage(frame, ts, reason)
            return
        msg.fail(reason)
        if msg.head_frame is None:
            msg.head_frame, msg.head_ts = frame, ts
            msg.tag("bad_request" if not self.is_response else "bad_response")
        self._finish(frame, ts)
        self._stop_resumable(reason)

    def _stop_garbage(self, frame: int, ts: float, reason: str = NOT_HTTP) -> None:
        self._stop_resumable(reason)

    def _stop_resumable(self, reason: str) -> None:
        """Stop here; a later chunk that starts like a message resumes (bounded work)."""
        self.stop(reason)
        self.resumable = True
        self.sink.stopped(self, reason)
