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
MAX_BUFFER = 256 * 1024  # two maximal messages and change


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
    __slots__ = ("_buf", "_synced")

    def __init__(self, synced: bool) -> None:
        self._buf = bytearray()
        self._synced = synced

    def feed(self, data: bytes, gap: bool = False) -> list[bytes]:
        """The messages completed by `data` (a hole before it drops what was buffered)."""
        if gap:
            self._buf.clear()
            self._synced = False
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
        if len(buf) > MAX_BUFFER:  # a length we will never see completed: start again
            buf.clear()
            self._synced = False
        return messages

    @staticmethod
    def _resync_ok(buf: bytearray, pos: int, length: int) -> bool:
        """Out of step: only a length whose message header looks like DNS is believed."""
        if len(buf) - pos - 2 < MIN_MESSAGE:
            return length >= MIN_MESSAGE  # wait for more bytes before judging
        return plausible_header(buf, pos + 2, length)
