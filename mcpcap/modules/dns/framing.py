"""DNS over TCP framing (RFC 7766 section 8): a 2-byte length before every message.

One `TcpMessageFramer` per direction of a connection. It buffers reassembled stream bytes and
returns each message as soon as its last byte arrives, so the message belongs to the frame that
completed it (as Wireshark reports it).

A stream seen from its SYN is in step from the first byte. A capture that starts mid-stream, or a
stream with a hole that never filled, is not: then a length prefix is only trusted when the
message it frames starts with a plausible DNS header, and bytes are skipped until one does.
"""

from __future__ import annotations

MIN_MESSAGE = 12  # a DNS header


def plausible_header(buf: bytes | bytearray, start: int, length: int) -> bool:
    """A cheap check that `length` bytes at `start` could be one DNS message."""
    if length < MIN_MESSAGE:
        return False
    flags = buf[start + 2]
    opcode = (flags >> 3) & 0xF
    if opcode > 6:
        return False
    qdcount = (buf[start + 4] << 8) | buf[start + 5]
    ancount = (buf[start + 6] << 8) | buf[start + 7]
    nscount = (buf[start + 8] << 8) | buf[start + 9]
    arcount = (buf[start + 10] << 8) | buf[start + 11]
    minimum = qdcount * 5 + (ancount + nscount + arcount) * 11
    return qdcount <= 16 and minimum <= length - MIN_MESSAGE


class TcpMessageFramer:
    """Splits one direction's stream into messages.

    Bytes are parsed in a small buffer. A message still waiting for bytes once its header is in
    (a large response spans several segments) gets a buffer of its full size at once, filled as
    its bytes arrive: growing a buffer piece by piece, for thousands of streams at once,
    fragments the C heap until it holds many times the bytes waiting. `buffered` counts that
    whole buffer, since it is what the message holds.
    """

    __slots__ = ("_buf", "_held", "_synced", "_wait")

    def __init__(self, synced: bool) -> None:
        self._buf = bytearray()
        self._synced = synced
        self._wait: bytearray | None = None  # a waiting message, its length prefix first
        self._held = 0  # bytes of `_wait` filled so far

    @property
    def buffered(self) -> int:
        """Bytes held for a message not yet complete."""
        wait = self._wait
        return len(self._buf) + (len(wait) if wait is not None else 0)

    def feed(self, data: bytes, gap: bool = False) -> list[bytes]:
        """The messages completed by `data` (a hole before it drops what was buffered)."""
        if gap:
            self._buf.clear()
            self._wait = None
            self._synced = False
        if self._wait is not None:
            if not self._fill(data):
                return []
        else:
            self._buf += data
        messages: list[bytes] = []
        buf = self._buf
        pos = 0
        while len(buf) - pos >= 2:
            length = (buf[pos] << 8) | buf[pos + 1]
            if not self._synced and not self._resync_ok(buf, pos, length):
                pos += 1
                continue
            if len(buf) - pos - 2 < length:
                break
            messages.append(bytes(buf[pos + 2 : pos + 2 + length]))
            pos += 2 + length
            self._synced = True
        del buf[:pos]
        if len(buf) >= 2 + MIN_MESSAGE:  # a message, its header judged, waits for more bytes
            wait = self._wait = bytearray(2 + ((buf[0] << 8) | buf[1]))
            wait[: len(buf)] = buf
            self._held = len(buf)
            self._buf = bytearray()
        return messages

    def _fill(self, data: bytes) -> bool:
        """Add to the waiting message; once it is whole it becomes the parse buffer, followed
        by what `data` has beyond it, and this returns True."""
        wait, held = self._wait, self._held
        assert wait is not None
        take = min(len(data), len(wait) - held)
        wait[held : held + take] = memoryview(data)[:take]
        self._held = held + take
        if self._held < len(wait):
            return False
        wait += memoryview(data)[take:]
        self._buf, self._wait, self._held = wait, None, 0
        return True

    @staticmethod
    def _resync_ok(buf: bytearray, pos: int, length: int) -> bool:
        """Out of step: only a length whose message header looks like DNS is believed."""
        if len(buf) - pos - 2 < MIN_MESSAGE:
            return length >= MIN_MESSAGE  # wait for more bytes before judging
        return plausible_header(buf, pos + 2, length)
