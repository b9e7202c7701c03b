"""TLS over one TCP connection: records out of the two byte streams, handshake messages out of
the records, until the handshake is over (then the connection is released).

Records are read header by header; only handshake records (and alerts) before a side starts
encrypting keep their bodies, everything else is skipped without being held. A preamble (an
HTTP CONNECT exchange, a SOCKS greeting, or a plain-text dialogue that upgrades to TLS: SMTP,
FTP, NNTP, IMAP and POP3 STARTTLS, PostgreSQL's SSLRequest, XMPP, LDAP StartTLS, MySQL) is
skipped by looking for the first handshake record.
"""

from __future__ import annotations

import re

from mcpcap.modules.tls import wire
from mcpcap.modules.tls.handshake import Handshake

MAX_RECORD = 16384 + 2048  # TLSCiphertext bound (RFC 5246 6.2.3)
MAX_PREAMBLE = 16 * 1024  # bytes of CONNECT/SOCKS exchange looked through for the handshake
RECORDS_AFTER_HELLO = 12  # records per side read after the hellos to see the handshake end
HANDSHAKE_START = re.compile(rb"\x16\x03[\x00-\x04][\x00-\x48].[\x01\x02]", re.DOTALL)
SOCKS4_CONNECT = (4, 1)
# a server's greeting before a STARTTLS: an SMTP/FTP/NNTP reply code (RFC 3207, 4217, 4642), an
# IMAP or POP3 OK (RFC 2595)
SERVER_BANNER = re.compile(rb"(?:[1-5][0-9]{2}[ -]|\* OK|\+OK)[^\r\n]{0,512}\r?\n")
POSTGRES_SSL_REQUEST = bytes.fromhex("0000000804d2162f")  # length 8, code 80877103
LDAP_STARTTLS = b"1.3.6.1.4.1.1466.20037"  # the StartTLS extended request (RFC 4511 4.14)
XMPP_START = re.compile(rb"\s*<(?:\?xml|stream:stream)\b")


def starts_handshake(data: bytes) -> bool:
    """A TLS handshake record header, carrying a ClientHello or a ServerHello, or SSLv2's; or
    a first segment too short to tell that begins one (`\\x16`, `\\x16\\x03`: the record is
    then found once its header is whole, and the connection released when none comes)."""
    if 0 < len(data) < 3:
        return b"\x16\x03".startswith(data)
    if len(data) >= 3 and data[0] == 0x16 and data[1] == 3 and data[2] <= 4:
        return len(data) < 6 or data[5] in (wire.CLIENT_HELLO, wire.SERVER_HELLO)
    return sslv2_client_hello(data)


def starts_record(data: bytes) -> bool:
    """A TLS record header of any content type (what a side sends when no preamble precedes)."""
    return len(data) >= 3 and 20 <= data[0] <= 24 and data[1] == 3 and data[2] <= 4


def sslv2_client_hello(data: bytes) -> bool:
    """An SSL 2.0-format ClientHello header (2-byte length, type 1, version 2.0 or 3.x)."""
    return len(data) >= 5 and data[0] & 0x80 and data[2] == 1 and data[3] in (0, 3)


def sslv2_server_hello(data: bytes) -> bool:
    """An SSL 2.0 ServerHello header (2-byte length, type 4)."""
    return len(data) >= 3 and bool(data[0] & 0x80) and data[2] == 4


def starts_preamble(data: bytes) -> bool:
    """An HTTP CONNECT request or a SOCKS 4/5 greeting: TLS may follow. A client that does not
    wait for the proxy's answer sends more in the same segment (the request, the ClientHello)."""
    if data.startswith(b"CONNECT ") or starts_upgrade(data) or starts_banner(data):
        return True
    if len(data) >= 3 and data[0] == 5 and 1 <= data[1] <= 9 and len(data) >= 2 + data[1]:
        return True
    return len(data) >= 9 and tuple(data[:2]) == SOCKS4_CONNECT and b"\0" in data[8:]


def starts_upgrade(data: bytes) -> bool:
    """A client's first bytes that ask for TLS in a protocol of its own: PostgreSQL's
    SSLRequest, an XMPP stream (RFC 6120: STARTTLS follows), an LDAP StartTLS request."""
    if data.startswith(POSTGRES_SSL_REQUEST):
        return True
    if data[:1] == b"\x30" and LDAP_STARTTLS in data[:96]:
        return True
    return XMPP_START.match(data) is not None and b"jabber:" in data[:1024]


def starts_banner(data: bytes) -> bool:
    """A server's greeting that may be followed by a STARTTLS (the server speaks first): a
    reply-code or OK line, or a MySQL protocol-10 handshake (its SSL request leads to TLS)."""
    if SERVER_BANNER.match(data):
        return True
    return (
        len(data) >= 5
        and data[3] == 0
        and data[4] == 0x0A
        and int.from_bytes(data[:3], "little") == len(data) - 4
    )


class _Side:
    """One direction's record layer."""

    __slots__ = (
        "buf", "dead", "ended", "protected", "reader", "records", "seeking", "skip", "sslv2",
    )  # fmt: skip

    def __init__(self) -> None:
        self.buf = b""
        self.skip = 0  # bytes of the current record's body still to pass over
        self.reader = wire.HandshakeReader()
        self.protected = False  # after ChangeCipherSpec: handshake records are encrypted
        self.seeking: bool | None = None  # None until the first bytes say
        self.dead = False
        self.ended = False
        self.records = 0  # records seen after the hellos
        self.sslv2 = False  # an SSL 2.0-format hello, read once whole


class TcpTls:
    """The handshake of one TCP connection, fed chunk by chunk in stream order."""

    __slots__ = ("client_side", "handshake", "server_side")

    def __init__(self, handshake: Handshake) -> None:
        self.handshake = handshake
        self.client_side = _Side()
        self.server_side = _Side()

    def feed(
        self, from_client: bool, data: bytes, gap: bool, end: bool, frame: int, ts: float
    ) -> bool:
        """Read a chunk; False when nothing more is to be learnt (release the connection)."""
        side = self.client_side if from_client else self.server_side
        if gap and not side.dead and side.seeking is not None:
            side.dead = True  # a hole in the records: no resynchronising
            if from_client not in self.handshake.encrypted:  # else lost after what counts
                missing = wire.Malformed("TCP bytes missing inside the handshake", "missing_bytes")
                self.handshake.note(missing, frame, ts, from_client)
        try:
            if data and not side.dead:
                self._read(side, from_client, data, frame, ts)
            if end and not side.ended and not side.dead and side.seeking is False:
                _check_end(side)
        except wire.Malformed as exc:
            side.dead = True
            side.buf = b""
            self.handshake.note(exc, frame, ts, from_client)
        if end:
            side.ended = True
        return self._wanted()

    def tls_seen(self) -> bool:
        """Whether either side got past its preamble to TLS records (or an SSL 2.0 hello)."""
        return any(
            side.seeking is False or side.sslv2 for side in (self.client_side, self.server_side)
        )

    def held(self) -> int:
        """Bytes this connection holds: unfinished records and handshake messages."""
        client, server = self.client_side, self.server_side
        return len(client.buf) + len(client.reader.buf) + len(server.buf) + len(server.reader.buf)

    def _wanted(self) -> bool:
        hs = self.handshake
        if hs.established or hs.failed:
            return False
        sides = (self.client_side, self.server_side)
        if all(s.dead or s.ended for s in sides):
            return False
        # after the hellos only the records' headers are read, to see both sides go encrypted
        # (established); a side that goes on without the other, or a side lost before it went
        # encrypted, ends it
        lost = (self.client_side.dead and True not in hs.encrypted) or (
            self.server_side.dead and False not in hs.encrypted
        )
        return not (hs.done and (lost or any(s.records > RECORDS_AFTER_HELLO for s in sides)))

    # ------------------------------------------------------------------ records
    def _read(self, side: _Side, from_client: bool, data: bytes, frame: int, ts: float) -> None:
        if side.seeking is None:
            if self._starts_sslv2(from_client, data):
                side.sslv2 = True
            else:
                side.seeking = not starts_record(data)
        if side.sslv2:
            self._sslv2(side, from_client, data, frame, ts)
            return
        buf = side.buf + data if side.buf else data
        if side.seeking:
            buf = self._seek(side, buf)
            if side.seeking:
                return
        pos = 0
        hs = self.handshake
        while True:
            if side.skip:
                step = min(side.skip, len(buf) - pos)
                pos += step
                side.skip -= step
                if side.skip:
                    break
            if len(buf) - pos < 5:
                break
            kind, major = buf[pos], buf[pos + 1]
            length = int.from_bytes(buf[pos + 3 : pos + 5], "big")
            if not 20 <= kind <= 24 or major != 3:
                raise wire.Malformed("bytes that are not a TLS record", "not_a_record")
            if length > MAX_RECORD:
                raise wire.Malformed(
                    f"TLS record of {length} bytes (bound {MAX_RECORD})", "record_too_long"
                )
            if kind != wire.HANDSHAKE and side.reader.buf:
                raise _interleaved(side.reader, kind)
            needs_body = not side.protected and kind in (wire.HANDSHAKE, wire.ALERT)
            if needs_body and len(buf) - pos - 5 < length:
                break
            body_at = pos + 5
            pos = body_at
            if hs.server_hello is not None:
                side.records += 1
            if needs_body:
                self._record(side, from_client, kind, buf[body_at : body_at + length], frame, ts)
                pos += length
            else:
                self._header_only(from_client, kind, side)
                side.skip = length
        side.buf = buf[pos:]

    def _record(
        self, side: _Side, from_client: bool, kind: int, body: bytes, frame: int, ts: float
    ) -> None:
        if kind == wire.ALERT:
            self.handshake.alert(len(body) >= 2 and body[0] == 2)
            return
        for msg_type, msg in side.reader.feed(body):
            self.handshake.message(from_client, msg_type, msg, frame, ts)

    def _header_only(self, from_client: bool, kind: int, side: _Side) -> None:
        hs = self.handshake
        if kind == wire.CHANGE_CIPHER_SPEC:
            # TLS 1.3's CCS is a compatibility no-op: only below 1.3 do the handshake records
            # after it come encrypted (a HelloRetryRequest's second ClientHello follows the
            # client's CCS in the clear). Without the ServerHello (a capture of one direction)
            # a CCS still means encrypted records after it
            side.protected = not (hs.tls13 or hs.hrr)
            hs.change_cipher_spec(from_client)
            hs.protected(from_client)
        elif kind == wire.APPLICATION_DATA or (kind == wire.HANDSHAKE and side.protected):
            hs.protected(from_client)

    def _seek(self, side: _Side, buf: bytes) -> bytes:
        """Past a preamble: the bytes from the first handshake record on (or what to keep)."""
        found = HANDSHAKE_START.search(buf)
        if found is not None:
            side.seeking = False
            return buf[found.start() :]
        if len(buf) > MAX_PREAMBLE:
            side.dead = True
            return b""
        side.buf = buf
        return buf

    def _starts_sslv2(self, from_client: bool, data: bytes) -> bool:
        """An SSL 2.0 ClientHello, or the ServerHello answering one."""
        if from_client:
            return sslv2_client_hello(data)
        hello = self.handshake.client_hello
        return hello is not None and hello.sslv2 and sslv2_server_hello(data)

    def _sslv2(self, side: _Side, from_client: bool, data: bytes, frame: int, ts: float) -> None:
        """An SSL 2.0-format hello, once its record is whole, then what the side sends after
        it: TLS records when the server answered a client's SSL 2.0-compatible hello in TLS
        (RFC 5246, appendix E.2); in SSL 2.0, bytes after the hellos (the client's master key,
        or encrypted ones) are the side going on past them, all `established` asks of it."""
        hs = self.handshake
        if side.seeking is False:  # past its hello
            if from_client and hs.server_hello is not None and not hs.server_hello.sslv2:
                side.sslv2 = False
                self._read(side, from_client, data, frame, ts)
            else:
                hs.protected(from_client)
                side.dead = True  # nothing more to read on this side
            return
        buf = side.buf + data
        length = ((buf[0] & 0x7F) << 8) | buf[1]
        if len(buf) < 2 + length:
            side.buf = buf
            return
        side.seeking = False
        side.buf = b""
        body = buf[2 : 2 + length]
        if from_client:
            hs.sslv2_client_hello(wire.parse_sslv2_client_hello(body), frame, ts)
        else:
            hs.sslv2_server_hello(*wire.parse_sslv2_server_hello(body), frame, ts)
        if len(buf) > 2 + length:
            self._sslv2(side, from_client, buf[2 + length :], frame, ts)


RECORD_NAMES = {
    wire.CHANGE_CIPHER_SPEC: "change_cipher_spec",
    wire.ALERT: "alert",
    wire.APPLICATION_DATA: "application_data",
}


def _interleaved(reader: wire.HandshakeReader, kind: int) -> wire.Malformed:
    """Another record inside a handshake message (RFC 8446 5.1, RFC 5246 6.2.1 forbid it)."""
    name = RECORD_NAMES.get(kind, f"type {kind}")
    return wire.Malformed(f"{reader.incomplete()}, interrupted by a record of type {name}",
                          "handshake_interleaved")  # fmt: skip


def _check_end(side: _Side) -> None:
    """A side's stream ended (FIN or RST): a record or a handshake message it leaves incomplete
    is malformed (the capture ending is not: its connections are closed without an end)."""
    held = side.buf
    if len(held) >= 5:
        what = f"TLS record of {int.from_bytes(held[3:5], 'big')} bytes, {len(held) - 5} present"
    elif held:
        what = f"TLS record header ({len(held)} of 5 bytes)"
    else:
        what = None
    if what is not None:
        raise wire.Malformed(f"{what}, cut short by the end of the stream", "record_cut_short")
    pending = side.reader.incomplete()
    if pending is not None:
        raise wire.Malformed(f"{pending}, cut short by the end of the stream",
                             "handshake_cut_short")  # fmt: skip
