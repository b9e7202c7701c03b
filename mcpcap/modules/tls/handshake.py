"""One connection's handshake as the scan learns it, and the store row it becomes.

TCP and QUIC both end in `Handshake.message(...)`: a whole handshake message from one side.
The facts kept are the record's (Zeek ssl.log meanings); `row()` makes the store row.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache

from mcpcap.core.export import connection_uid
from mcpcap.modules.tls import fingerprints, names, wire
from mcpcap.modules.tls.certs import Certificate, parse_leaf

Malformed = wire.Malformed
_encode = json.JSONEncoder(separators=(",", ":")).encode  # json.dumps(value, separators=...)


def _json(value: list[str]) -> str:
    """A list column's JSON, cached: the same few lists come again and again (versions, ALPN,
    problems). Strings only: a cache key could not tell True from 1."""
    return _json_of(tuple(value))


@lru_cache(maxsize=4096)
def _json_of(value: tuple[str, ...]) -> str:
    return _encode(list(value))


def _session_named(hello: wire.ClientHello | None) -> bytes:
    """The session id a ClientHello names: none when empty or 32 zero bytes (Zeek's rule)."""
    if hello is None or hello.session_id == _ZERO_SESSION:
        return b""
    return hello.session_id


_ZERO_SESSION = bytes(32)


class Handshake:
    """What one TCP connection's or QUIC connection's handshake showed."""

    __slots__ = (
        "cert",
        "cert_ts",
        "client",
        "client_hello",
        "client_hello_frame",
        "client_key_exchange",
        "curve",
        "done",
        "encrypted",
        "established",
        "failed",
        "hrr",
        "malformed",
        "server",
        "server_hello",
        "server_hello_frame",
        "ticket_resumed",
        "transport",
        "ts",
    )

    def __init__(self, transport: str, client: tuple[str, int], server: tuple[str, int], ts: float):
        self.transport = transport
        self.client = client
        self.server = server
        self.ts = ts
        self.client_hello: wire.ClientHello | None = None
        self.client_hello_frame: int | None = None
        self.server_hello: wire.ServerHello | None = None
        self.server_hello_frame: int | None = None
        self.hrr = False
        self.client_key_exchange = False
        self.ticket_resumed = False
        self.curve: int | None = None
        self.cert: Certificate | None = None
        self.cert_ts = 0.0
        self.established = False
        self.failed = False
        self.done = False  # nothing more to learn from the handshake messages
        self.encrypted: set[bool] = set()  # sides (True: client) that sent protected records
        # the first thing that did not parse: (text, code, frame, ts, from the client)
        self.malformed: tuple[str, str, int, float, bool] | None = None

    @property
    def tls13(self) -> bool:
        return self.server_hello is not None and self.server_hello.version >= 0x0304

    def message(
        self,
        from_client: bool,
        kind: int,
        body: bytes,
        frame: int,
        ts: float,
        parsed: wire.ClientHello | None = None,
    ) -> None:
        """A whole handshake message; bad ones raise `Malformed` (the caller counts them).
        `parsed`: the ClientHello `body` is, read already (by a worker)."""
        if from_client:
            if kind == wire.CLIENT_HELLO:
                if parsed is None:
                    parsed = wire.hello_from_fields(wire.client_hello_fields(body))
                self._client_hello(parsed, frame, ts)
            elif kind == wire.CLIENT_KEY_EXCHANGE:
                self.client_key_exchange = True
            return
        if kind == wire.SERVER_HELLO:
            self._server_hello(wire.parse_server_hello(body), frame)
        elif kind == wire.CERTIFICATE and self.cert is None and not self.tls13:
            chain = wire.parse_certificates(body)
            if chain:
                self.cert_ts = ts
                try:
                    self.cert = parse_leaf(chain[0])
                except Malformed as error:  # the message's framing holds: the handshake goes on
                    self.note(error, frame, ts, from_client)
        elif kind == wire.SERVER_KEY_EXCHANGE and self.curve is None and self._ec_parameters():
            self.curve = wire.parse_server_key_exchange(body)
        elif kind == wire.SERVER_HELLO_DONE:
            self.done = True

    def sslv2_client_hello(self, hello: wire.ClientHello, frame: int, ts: float) -> None:
        self._client_hello(hello, frame, ts)

    def sslv2_server_hello(self, hello: wire.ServerHello, cert: bytes | None, frame: int,
                           ts: float) -> None:  # fmt: skip
        """SSL 2.0's ServerHello and the certificate it carries (a bad one raises after the
        hello is kept)."""
        self._server_hello(hello, frame)
        if cert is not None and self.cert is None:
            self.cert_ts = ts
            self.cert = parse_leaf(cert)

    def _client_hello(self, hello: wire.ClientHello, frame: int, ts: float) -> None:
        if hello.error is not None:
            self.note(hello.error, frame, ts, True)
        if self.client_hello is None:  # after a HelloRetryRequest the first one is kept
            self.client_hello = hello
            self.client_hello_frame = frame
            self.ts = ts

    def _server_hello(self, hello: wire.ServerHello, frame: int) -> None:
        if hello.hrr:
            self.hrr = True
            return
        if self.server_hello is not None:
            return
        self.server_hello = hello
        self.server_hello_frame = frame
        if hello.group is not None:
            self.curve = hello.group
        if self.tls13 or self.resumed:
            self.done = True  # TLS 1.3: everything after the ServerHello is encrypted

    def _ec_parameters(self) -> bool:
        """Whether the chosen suite's ServerKeyExchange holds EC parameters (RFC 8422: ECDHE
        and ECDH_anon): a DHE one begins with its prime's length, whose first byte may be the
        3 of `named_curve` (a 6144-bit prime is 768 bytes, 0x0300)."""
        sh = self.server_hello
        name = names.cipher_name(sh.cipher) if sh is not None else None
        return name is not None and ("_ECDHE_" in name or "_ECDH_anon_" in name)

    @property
    def resumed(self) -> bool:
        """As Zeek's `ssl/main.zeek` tells it: TLS 1.3 by the PSK the server accepted; below,
        by the session id the server echoed (none, or 32 zero bytes, names no session), or by
        a session ticket taken with no session id (`change_cipher_spec`)."""
        sh, ch = self.server_hello, self.client_hello
        if sh is None:
            return False
        if sh.sslv2:
            return sh.session_hit
        if sh.version >= 0x0304:
            return sh.psk
        if self.ticket_resumed:
            return True
        offered = _session_named(ch)
        return bool(offered) and sh.session_id == offered

    def change_cipher_spec(self, from_client: bool) -> None:
        """A ChangeCipherSpec. A client that offered a session ticket with no session id and
        sends one before any ClientKeyExchange resumed the ticket's session (RFC 5077 3.1's
        abbreviated handshake: no key exchange of its own)."""
        ch = self.client_hello
        if (
            from_client
            and ch is not None
            and not self.client_key_exchange
            and ch.ticket
            and not _session_named(ch)
        ):
            self.ticket_resumed = True

    def protected(self, from_client: bool) -> None:
        """A side sent a ChangeCipherSpec or an encrypted record after the hellos."""
        if self.server_hello is None:
            return
        self.encrypted.add(from_client)
        if len(self.encrypted) == 2 and not self.failed:
            self.established = True

    def alert(self, fatal: bool) -> None:
        if fatal and not self.established:
            self.failed = True

    def note(self, error: Malformed, frame: int, ts: float, from_client: bool) -> None:
        if self.malformed is None:
            self.malformed = (str(error), error.code, frame, ts, from_client)

    # ------------------------------------------------------------------ the row
    def row(self, registered_domain: Callable[[str], str]) -> tuple:
        ch, sh = self.client_hello, self.server_hello
        (client, client_port), (server, server_port) = self.client, self.server
        uid = connection_uid(
            {
                "client": client,
                "client_port": client_port,
                "server": server,
                "server_port": server_port,
                "transport": "udp" if self.transport == "quic" else "tcp",
            }
        )
        sni = ch.server_name if ch is not None else None
        quic = self.transport == "quic"
        ja4 = fingerprints.ja4(ch, quic) if ch is not None and not ch.sslv2 else (None, None)
        cert = self.cert
        problems = cert.problems(self.cert_ts, sni) if cert is not None else []
        established = self.established or (quic and sh is not None and not self.failed)
        return (
            uid, self.ts, client, client_port, server, server_port, self.transport,
            names.version_name(sh.version) if sh is not None else None,
            names.version_name(ch.legacy_version) if ch is not None else None,
            _json([names.version_name(v) for v in wire.supported_versions(ch)] if ch else []),
            names.cipher_name(sh.cipher) if sh is not None else None,
            sh.cipher if sh is not None else None,
            names.group_name(self.curve),
            sni, registered_domain(sni) if sni else None,
            _json(ch.alpn if ch is not None else []),
            sh.alpn if sh is not None else None,
            int(self.resumed), int(established), int(self.failed), int(self.hrr),
            int(bool(ch is not None and ch.ech)),
            ja4[0], ja4[1],
            fingerprints.ja3(ch) if ch is not None else None,
            fingerprints.ja3s(sh) if sh is not None and not sh.sslv2 else None,
            self.client_hello_frame, self.server_hello_frame,
            cert.subject if cert else None, cert.issuer if cert else None,
            cert.not_before if cert else None, cert.not_after if cert else None,
            _json(cert.san_dns) if cert else None, cert.sha256 if cert else None,
            _json(problems), self.malformed[0] if self.malformed else None,
        )  # fmt: skip
