"""A connection fed by hand: each call is one stream chunk in one frame, one second apart."""

from __future__ import annotations

from typing import Any

from mcpcap.modules.http.connection import Exchange, HttpConnection
from mcpcap.modules.http.scan import COLUMNS, make_row


class Wire:
    def __init__(self, server_port: int = 80) -> None:
        self.exchanges: list[Exchange] = []
        self.conn = HttpConnection("10.0.0.1", 40000, "10.0.0.2", server_port, self._emit)
        self.frame = 0
        self.kept = True

    def _emit(self, conn: HttpConnection, exchange: Exchange) -> None:
        self.exchanges.append(exchange)

    def send(self, from_client: bool, data: bytes, gap: bool, end: bool, lost: int = 0) -> bool:
        """A chunk; with `gap`, `lost` is how many bytes the hole before it held (0: unknown)."""
        self.frame += 1
        frame, ts = self.frame, float(self.frame)
        self.kept = self.conn.chunk(from_client, data, gap, end, frame, ts, lost=lost)
        return self.kept

    def client(self, data: bytes = b"", *, gap: bool = False, end: bool = False, lost: int = 0):
        return self.send(True, data, gap, end, lost)

    def server(self, data: bytes = b"", *, gap: bool = False, end: bool = False, lost: int = 0):
        return self.send(False, data, gap, end, lost)

    def close(self) -> list[dict[str, Any]]:
        """Both sides end (FIN); the records made."""
        if self.kept:
            self.client(end=True)
        if self.kept:
            self.server(end=True)
        return self.records()

    def records(self) -> list[dict[str, Any]]:
        rows = [make_row(i + 1, self.conn, ex) for i, ex in enumerate(self.exchanges)]
        records = [dict(zip(COLUMNS, row, strict=True)) for row in rows if row is not None]
        for record in records:
            record["tags"] = record["tags"].split(",") if record["tags"] else []
        return records


def response(status: str, body: bytes = b"", headers: str = "") -> bytes:
    head = f"HTTP/1.1 {status}\r\n{headers}Content-Length: {len(body)}\r\n\r\n"
    return head.encode() + body
