"""A SOCKS 4/4a/5 exchange before HTTP: skipped byte-exactly, so the tunnel's HTTP is read.

A client asks a SOCKS proxy for a connection (RFC 1928, with RFC 1929's username/password
subnegotiation; SOCKS4 and 4a), then speaks its own protocol through it. Each direction's
SOCKS messages are taken off the front of its bytes; what follows is the tunnel's. Nothing is
kept but the few bytes of a message still incomplete (a message is at most 513 bytes).
"""

from __future__ import annotations

SOCKS4_GRANTED = 0x5A
MAX_MESSAGE = 520  # the longest SOCKS message (a username/password request) and some slack


def starts_socks(data: bytes) -> bool:
    """A SOCKS5 greeting (alone or with what follows it) or a SOCKS4/4a CONNECT request."""
    if len(data) >= 3 and data[0] == 5 and 1 <= data[1] <= 9 and len(data) >= 2 + data[1]:
        return True
    return len(data) >= 9 and data[:2] == b"\x04\x01" and b"\0" in data[8:]


def _socks5_address(data: bytes, at: int) -> int | None:
    """The length of a SOCKS5 address and port starting at `at` (None: not all there yet)."""
    if len(data) <= at:
        return None
    kind = data[at]
    if kind == 1:
        return 1 + 4 + 2
    if kind == 4:
        return 1 + 16 + 2
    if kind == 3:
        return 1 + 1 + data[at + 1] + 2 if len(data) > at + 1 else None
    raise ValueError("SOCKS5 address type")


def _client_message(data: bytes, socks4: bool, step: int) -> int | None:
    """The length of the client's next SOCKS message at the front of `data`."""
    if socks4:
        end = data.find(b"\0", 8)
        if end < 0:
            return None
        if data[4:7] == b"\0\0\0" and data[7]:  # SOCKS4a: the host name follows the user id
            host_end = data.find(b"\0", end + 1)
            return None if host_end < 0 else host_end + 1
        return end + 1
    if step == 0:  # the greeting: version, method count, methods
        return 2 + data[1] if len(data) >= 2 else None
    if data[0] == 1:  # RFC 1929: version, user, password
        if len(data) < 2 or len(data) < 3 + data[1]:
            return None
        at = 2 + data[1]
        return at + 1 + data[at] if len(data) > at else None
    if data[0] == 5:  # the request: version, command, reserved, address, port
        size = _socks5_address(data, 3)
        return None if size is None else 3 + size
    raise ValueError("SOCKS5 client message")


def _server_message(data: bytes, socks4: bool, step: int) -> tuple[int | None, bool]:
    """The length of the server's next SOCKS message, and whether it is the final reply."""
    if socks4:
        if len(data) < 8:
            return None, True
        if data[1] != SOCKS4_GRANTED:
            raise ValueError("SOCKS4 request refused")
        return 8, True
    if step == 0 or data[0] == 1:  # the method choice, or the subnegotiation's status
        if step == 0 and data[0] != 5:
            raise ValueError("SOCKS5 method choice")
        if len(data) >= 2 and data[0] == 5 and data[1] == 0xFF:
            raise ValueError("no acceptable SOCKS5 method")
        return (2 if len(data) >= 2 else None), False
    if data[0] != 5:
        raise ValueError("SOCKS5 reply")
    if len(data) < 2:
        return None, True
    if data[1] != 0:
        raise ValueError("SOCKS5 request refused")
    size = _socks5_address(data, 3)
    return (None if size is None else 3 + size), True


class SocksPreamble:
    """Both directions' SOCKS messages, taken off the front of their bytes (`strip`)."""

    __slots__ = ("buffers", "done", "failed", "socks4", "steps")

    def __init__(self, first: bytes) -> None:
        self.socks4 = first[:1] == b"\x04"
        self.buffers = {True: b"", False: b""}  # by from_client
        self.steps = {True: 0, False: 0}
        self.done = {True: False, False: False}  # the direction is past its SOCKS messages
        self.failed = False  # not SOCKS, or refused: nothing of HTTP follows

    def strip(self, from_client: bool, data: bytes) -> bytes:
        """`data` without the SOCKS messages it carries (b"" while they go on)."""
        if self.done[from_client] or self.failed:
            return data if not self.failed else b""
        buf = self.buffers[from_client] + data
        try:
            while buf and not self.done[from_client]:
                size = self._next(from_client, buf)
                if size is None:
                    break
                buf = buf[size:]
        except (ValueError, IndexError):
            self.failed = True
            return b""
        if self.done[from_client]:
            self.buffers[from_client] = b""
            return buf
        if len(buf) > MAX_MESSAGE:
            self.failed = True
            return b""
        self.buffers[from_client] = buf
        return b""

    def _next(self, from_client: bool, buf: bytes) -> int | None:
        step = self.steps[from_client]
        if from_client:
            size = _client_message(buf, self.socks4, step)
            last = size is not None and (self.socks4 or (buf[0] == 5 and step > 0))
        else:
            size, last = _server_message(buf, self.socks4, step)
        if size is not None and size > len(buf):
            return None  # the rest of the message is still to come
        if size is not None:
            self.steps[from_client] = step + 1
            self.done[from_client] = last
        return size
