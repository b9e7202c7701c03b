"""The HTTP protocol module: HTTP/1.0, 1.1 and 0.9 over TCP, on any port.

It asks for no port: the core offers it the first bytes of every TCP connection direction that
carries data (`claims_tcp`), and it takes those that start with a request or status line. HTTP/2
and HTTP/3 are not this module's (the TLS module's ALPN tells where they were negotiated).
"""

from __future__ import annotations

import sqlite3
from typing import Any, ClassVar

from mcpcap.core.modules.contract import ModuleScan, ProtocolModule
from mcpcap.modules.http.parser import loose_request, start_kind, start_prefix
from mcpcap.modules.http.socks import starts_socks


class HttpModule(ProtocolModule):
    name: ClassVar[str] = "http"
    title: ClassVar[str] = "HTTP"
    # 2: uids of split flows; 3: holes of known size inside bodies skipped, folded headers,
    # Proxy-Authorization, framing faults tagged whatever the body
    schema_version: ClassVar[str] = "3"
    results_imports: ClassVar[tuple[str, ...]] = ("mcpcap.modules.http.results",)
    # made on the store's first use for records (`mcpcap.core.indexes`)
    query_indexes: ClassVar[tuple[str, ...]] = (
        "CREATE INDEX IF NOT EXISTS http_requests_ts ON http_requests (ts)",
        "CREATE INDEX IF NOT EXISTS http_requests_host ON http_requests (host)",
    )
    stored_uids: ClassVar[tuple[tuple[str, str, str, str], ...]] = (
        ("http_requests", "uid", "ts", "uid"),
    )
    worker_imports: ClassVar[tuple[str, ...]] = ()

    def claims_tcp(self, sport: int, dport: int, data: bytes) -> bool:
        """A request or status line, or a SOCKS request (HTTP may follow through the proxy), or
        a line that may be a malformed request line (HTTP if the server answers it), or first
        bytes too few to tell that may begin one of these (released when they do not)."""
        return (
            start_kind(data) is not None
            or starts_socks(data)
            or loose_request(data)
            or start_prefix(data, sport, dport) is not None
        )

    def create_tables(self, db: sqlite3.Connection) -> None:
        from mcpcap.core.modules.malformed import create_table
        from mcpcap.modules.http.scan import CREATE_TABLES

        db.executescript(CREATE_TABLES)
        create_table(db, self.name)

    def start_scan(self, db: sqlite3.Connection, options: dict[str, Any]) -> ModuleScan:
        from mcpcap.modules.http.scan import HttpScan

        return HttpScan(db)

    def stream_decoder(self):
        from mcpcap.modules.http.scan import HttpStreams

        return HttpStreams()

    def open_results(self, db, counts, capture, settings):
        from mcpcap.modules.http.results import HttpResults

        return HttpResults(db, counts, capture, settings)

    def summary_model(self) -> type:
        from mcpcap.modules.http.models import HttpSummary

        return HttpSummary

    def kinds(self):
        from mcpcap.modules.http.kinds import http_kinds

        return list(http_kinds())
