"""TLS handshake messages as the module reads them (RFC 8446, 5246, 4346, 2246).

Pure functions over bytes: `parse_client_hello`, `parse_server_hello`, `parse_certificates`
and `parse_server_key_exchange` take a handshake message's body and return plain values, or
raise `Malformed` with a short reason. `HandshakeReader` turns a byte stream of handshake
messages (TLS records' fragments, or QUIC CRYPTO data) into whole messages, bounded.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from functools import lru_cache

from mcpcap.core import fastpath
from mcpcap.modules.tls.names import is_grease

# handshake types
CLIENT_HELLO, SERVER_HELLO, CERTIFICATE, SERVER_KEY_EXCHANGE, SERVER_HELLO_DONE = 1, 2, 11, 12, 14
CLIENT_KEY_EXCHANGE = 16
# record content types
CHANGE_CIPHER_SPEC, ALERT, HANDSHAKE, APPLICATION_DATA = 20, 21, 22, 23
# extensions
EXT_SNI, EXT_GROUPS, EXT_POINT_FORMATS, EXT_SIG_ALGS, EXT_ALPN = 0, 10, 11, 13, 16
EXT_SESSION_TICKET, EXT_PSK, EXT_VERSIONS, EXT_KEY_SHARE, EXT_ECH = 35, 41, 43, 51, 0xFE0D

MAX_HANDSHAKE = 256 * 1024  # a certificate chain or a post-quantum ClientHello fits easily
HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


class Malformed(ValueError):
    """What does not parse: a sentence (the record's `malformed`) and a one-word `code` (the
    `tls.malformed` item's reason and the summary's tally)."""

    def __init__(self, text: str, code: str = "malformed") -> None:
        super().__init__(text)
        self.code = code


@lru_cache(maxsize=256)
def _u16s(count: int) -> struct.Struct:
    """The layout of `count` big-endian 16-bit numbers (cipher and extension lists)."""
    return struct.Struct(f">{count}H")


class _Reader:
    """Bounds-checked reads from one message (every overrun is `Malformed`)."""

    __slots__ = ("data", "end", "pos", "what")

    def __init__(self, data: bytes, what: str, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end
        self.what = what

    def left(self) -> int:
        return self.end - self.pos

    def take(self, n: int) -> bytes:
        start = self.pos
        end = start + n
        if end > self.end:
            raise Malformed(f"{self.what} truncated", "truncated_message")
        self.pos = end
        return self.data[start:end]

    def uint(self, n: int) -> int:
        start = self.pos
        end = start + n
        if end > self.end:
            raise Malformed(f"{self.what} truncated", "truncated_message")
        self.pos = end
        return int.from_bytes(self.data[start:end], "big")

    def vector(self, length_bytes: int) -> _Reader:
        """The next length-prefixed vector, as a reader of its own."""
        n = self.uint(length_bytes)
        start = self.pos
        if n > self.end - start:
            raise Malformed(f"{self.what}: a length beyond its message", "length_overrun")
        self.pos = start + n
        return _Reader(self.data, self.what, start, start + n)

    def uints(self, size: int) -> list[int]:
        """The rest of this reader as big-endian numbers of `size` bytes."""
        start, end = self.pos, self.end
        if (end - start) % size:
            raise Malformed(f"{self.what}: a list of odd length", "odd_list_length")
        self.pos = end
        if size == 2:
            return list(_u16s((end - start) // 2).unpack_from(self.data, start))
        data = self.data
        return [int.from_bytes(data[i : i + size], "big") for i in range(start, end, size)]


@dataclass
class ClientHello:
    legacy_version: int
    session_id: bytes
    ciphers: list[int]
    extensions: list[int]  # types, in order (GREASE included)
    compression: list[int] = field(default_factory=list)
    server_name: str | None = None
    alpn_raw: list[bytes] = field(default_factory=list)
    versions: list[int] = field(default_factory=list)  # supported_versions (GREASE included)
    groups: list[int] = field(default_factory=list)
    point_formats: list[int] = field(default_factory=list)
    sig_algs: list[int] = field(default_factory=list)
    ech: bool = False
    psk: bool = False
    ticket: bool = False  # a session ticket offered (a session_ticket extension not empty)
    sslv2: bool = False
    error: Malformed | None = None  # why the extensions stopped being read, if they did

    @property
    def has_sni(self) -> bool:
        return EXT_SNI in self.extensions

    @property
    def alpn(self) -> list[str]:
        return [_text(name) for name in self.alpn_raw]


@dataclass
class ServerHello:
    legacy_version: int
    random: bytes
    session_id: bytes
    cipher: int | None  # None: an SSLv2 server resuming a session names no cipher
    extensions: list[int]
    selected_version: int | None = None
    group: int | None = None
    alpn: str | None = None
    psk: bool = False
    sslv2: bool = False
    session_hit: bool = False  # SSLv2: the server resumed the session the client named

    @property
    def version(self) -> int:
        return self.selected_version or self.legacy_version

    @property
    def hrr(self) -> bool:
        return self.random == HRR_RANDOM


def hello_fields(hello: ClientHello) -> tuple:
    """A ClientHello as plain values (what `marshal` carries from a worker process)."""
    error = hello.error
    return (
        *(getattr(hello, name) for name in _HELLO_FIELDS),
        None if error is None else (str(error), error.code),
    )


def hello_from_fields(values: tuple) -> ClientHello:
    """`hello_fields` undone."""
    *plain, error = values
    return ClientHello(*plain, error=None if error is None else Malformed(*error))


_HELLO_FIELDS = tuple(f.name for f in fields(ClientHello) if f.name != "error")


def _extensions(r: _Reader) -> Iterator[tuple[int, int, int]]:
    """(type, body start, body end) of each extension of the block that ends a hello (the
    block's reads inlined, with the same errors as `uint` and `vector`: a hello has dozens of
    extensions, and only the few read get a `_Reader` of their own)."""
    if not r.left():
        return
    block = r.vector(2)
    data, pos, end, what = block.data, block.pos, block.end, block.what
    while pos < end:
        if pos + 4 > end:  # the type or the body's length cut short
            raise Malformed(f"{what} truncated", "truncated_message")
        body_at = pos + 4
        body_end = body_at + int.from_bytes(data[pos + 2 : body_at], "big")
        if body_end > end:
            raise Malformed(f"{what}: a length beyond its message", "length_overrun")
        yield int.from_bytes(data[pos : pos + 2], "big"), body_at, body_end
        pos = body_end


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "backslashreplace")


def _server_name(body: _Reader) -> str | None:
    names = body.vector(2)
    while names.left():
        kind = names.uint(1)
        name = names.vector(2)
        if kind == 0:
            return _text(name.take(name.left()))
    return None


def _alpn(body: _Reader) -> list[bytes]:
    protocols = body.vector(2)
    out = []
    while protocols.left():
        out.append(_rest(protocols.vector(1)))
    return out


def parse_client_hello(data: bytes) -> ClientHello:
    r = _Reader(data, "ClientHello")
    legacy_version = r.uint(2)
    r.take(32)  # random
    session_id = r.vector(1)
    hello = ClientHello(
        legacy_version=legacy_version,
        session_id=session_id.take(session_id.left()),
        ciphers=r.vector(2).uints(2),
        extensions=[],
    )
    hello.compression = list(_rest(r.vector(1)))
    kinds = hello.extensions
    try:  # what precedes a bad extension is kept: the hello is still worth a record
        for kind, start, end in _extensions(r):
            kinds.append(kind)
            read = _CLIENT_EXTENSIONS.get(kind)
            if read is not None:
                read(hello, _Reader(data, "ClientHello", start, end))
    except Malformed as exc:
        hello.error = exc
    return hello


def python_client_hello_fields(data: bytes) -> tuple:
    """`hello_fields(parse_client_hello(data))`: a ClientHello as plain values, or `Malformed`.
    `client_hello_fields` is this, or its compiled twin (`_hello.c`) for a hello that parses
    cleanly: QUIC's workers and the TCP streams' decoder read every hello through it."""
    return hello_fields(parse_client_hello(data))


def _compiled_client_hello_fields() -> Callable[[bytes], tuple]:
    """`python_client_hello_fields`, in C where `_hello.c` was built; the fields it makes must be
    `ClientHello`'s, in order."""
    compiled = fastpath.compiled("mcpcap.modules.tls._hello")
    if compiled is None:
        return python_client_hello_fields
    if compiled.FIELDS != _HELLO_FIELDS:
        raise RuntimeError(f"_hello.c makes {compiled.FIELDS}, wire.py has {_HELLO_FIELDS}")
    return compiled.bind(python_client_hello_fields)


def _rest(r: _Reader) -> bytes:
    return r.take(r.left())


def _sni(hello: ClientHello, body: _Reader) -> None:
    if body.left():
        hello.server_name = _server_name(body)


def _alpn_offered(hello: ClientHello, body: _Reader) -> None:
    hello.alpn_raw = _alpn(body)


def _versions(hello: ClientHello, body: _Reader) -> None:
    hello.versions = body.vector(1).uints(2)


def _groups(hello: ClientHello, body: _Reader) -> None:
    hello.groups = body.vector(2).uints(2)


def _point_formats(hello: ClientHello, body: _Reader) -> None:
    hello.point_formats = list(_rest(body.vector(1)))


def _sig_algs(hello: ClientHello, body: _Reader) -> None:
    hello.sig_algs = body.vector(2).uints(2)


def _ech(hello: ClientHello, body: _Reader) -> None:
    hello.ech = True


def _psk(hello: ClientHello, body: _Reader) -> None:
    hello.psk = True


def _ticket(hello: ClientHello, body: _Reader) -> None:
    hello.ticket = body.left() > 0  # empty: the client only says it takes tickets


# the ClientHello extensions read (the others are only listed, in `extensions`)
_CLIENT_EXTENSIONS: dict[int, Callable[[ClientHello, _Reader], None]] = {
    EXT_SNI: _sni, EXT_ALPN: _alpn_offered, EXT_VERSIONS: _versions, EXT_GROUPS: _groups,
    EXT_POINT_FORMATS: _point_formats, EXT_SIG_ALGS: _sig_algs, EXT_ECH: _ech, EXT_PSK: _psk,
    EXT_SESSION_TICKET: _ticket,
}  # fmt: skip


def parse_sslv2_client_hello(data: bytes) -> ClientHello:
    """An SSL 2.0-format ClientHello (RFC 6101 appendix E.2), from its message type on."""
    r = _Reader(data, "SSLv2 ClientHello")
    if r.uint(1) != CLIENT_HELLO:
        raise Malformed("SSLv2 record is not a ClientHello", "not_a_record")
    version = r.uint(2)
    spec_len, session_len, challenge_len = r.uint(2), r.uint(2), r.uint(2)
    specs = _Reader(r.take(spec_len), "SSLv2 ClientHello").uints(3)
    session_id = r.take(session_len)
    r.take(challenge_len)
    ciphers = [spec for spec in specs if spec < 0x10000]  # 3-byte SSLv2 kinds are not TLS suites
    return ClientHello(version, session_id, ciphers, [], sslv2=True)


SSL2_SERVER_HELLO, SSL2_X509 = 4, 1


def parse_sslv2_server_hello(data: bytes) -> tuple[ServerHello, bytes | None]:
    """An SSL 2.0 ServerHello, from its message type on: the hello (its cipher the first of
    the server's specs, as Zeek logs it) and the server's X.509 certificate (DER), if any."""
    r = _Reader(data, "SSLv2 ServerHello")
    if r.uint(1) != SSL2_SERVER_HELLO:
        raise Malformed("SSLv2 record is not a ServerHello", "not_a_record")
    hit, cert_type, version = r.uint(1), r.uint(1), r.uint(2)
    cert_len, spec_len, connection_len = r.uint(2), r.uint(2), r.uint(2)
    cert = r.take(cert_len)
    specs = _Reader(r.take(spec_len), "SSLv2 ServerHello").uints(3)
    connection_id = r.take(connection_len)
    hello = ServerHello(version, connection_id, b"", specs[0] if specs else None, [],
                        sslv2=True, session_hit=bool(hit))  # fmt: skip
    return hello, cert if cert and cert_type == SSL2_X509 else None


def parse_server_hello(data: bytes) -> ServerHello:
    r = _Reader(data, "ServerHello")
    legacy_version = r.uint(2)
    random = r.take(32)
    session_id = r.vector(1)
    hello = ServerHello(
        legacy_version=legacy_version,
        random=random,
        session_id=_rest(session_id),
        cipher=r.uint(2),
        extensions=[],
    )
    r.uint(1)  # compression method
    for kind, start, end in _extensions(r):
        hello.extensions.append(kind)
        if kind == EXT_VERSIONS:
            hello.selected_version = _Reader(data, "ServerHello", start, end).uint(2)
        elif kind == EXT_KEY_SHARE:
            hello.group = _Reader(data, "ServerHello", start, end).uint(2)
        elif kind == EXT_ALPN:
            names = _alpn(_Reader(data, "ServerHello", start, end))
            hello.alpn = _text(names[0]) if names else None
        elif kind == EXT_PSK:
            hello.psk = True
    return hello


def parse_certificates(data: bytes) -> list[bytes]:
    """A TLS 1.2 Certificate message: the DER certificates, leaf first."""
    chain = _Reader(data, "Certificate").vector(3)
    out = []
    while chain.left():
        out.append(_rest(chain.vector(3)))
    return out


def parse_server_key_exchange(data: bytes) -> int | None:
    """The named curve of an ECDHE ServerKeyExchange (RFC 8422 5.4), else None."""
    if len(data) >= 3 and data[0] == 3:  # ECCurveType named_curve
        return int.from_bytes(data[1:3], "big")
    return None


def supported_versions(hello: ClientHello) -> list[int]:
    return [v for v in hello.versions if not is_grease(v)]


class HandshakeReader:
    """Handshake messages out of the bytes that carry them (records' fragments or CRYPTO data).

    `feed` returns every message it completes as (type, body); a message longer than
    `MAX_HANDSHAKE` raises `Malformed` (the reader then holds nothing).
    """

    __slots__ = ("buf",)

    def __init__(self) -> None:
        self.buf = b""

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        buf = self.buf + data if self.buf else data
        out = []
        pos = 0
        while len(buf) - pos >= 4:
            length = int.from_bytes(buf[pos + 1 : pos + 4], "big")
            if length > MAX_HANDSHAKE:
                self.buf = b""
                raise Malformed(
                    f"handshake message of {length} bytes (bound {MAX_HANDSHAKE})",
                    "handshake_too_long",
                )
            if len(buf) - pos - 4 < length:
                break
            out.append((buf[pos], buf[pos + 4 : pos + 4 + length]))
            pos += 4 + length
        self.buf = buf[pos:]
        return out

    def incomplete(self) -> str | None:
        """The message in progress, in words ("handshake message of 2000 bytes, 196 present"),
        or None when the bytes fed so far end with a whole message."""
        buf = self.buf
        if not buf:
            return None
        if len(buf) < 4:
            return f"handshake message header ({len(buf)} of 4 bytes)"
        return (
            f"handshake message of {int.from_bytes(buf[1:4], 'big')} bytes, {len(buf) - 4} present"
        )


client_hello_fields = _compiled_client_hello_fields()
