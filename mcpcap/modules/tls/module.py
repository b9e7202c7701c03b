"""The TLS module: handshakes over TCP on any port (claimed by their first bytes) and QUIC."""

from __future__ import annotations

import sqlite3
from typing import Any, ClassVar

from mcpcap.core.modules.contract import ModuleScan, PayloadSignature, ProtocolModule
from mcpcap.modules.tls.quic import INITIAL_SIGNATURES
from mcpcap.modules.tls.tcp import starts_handshake, starts_preamble


class TlsModule(ProtocolModule):
    name: ClassVar[str] = "tls"
    title: ClassVar[str] = "TLS"
    # 2: in time order; 3: cut-short handshakes, quic; 4: uids of split flows; 5: SSL 2.0
    # hellos established, QUIC closes with a TLS alert failed, no curve from a DHE exchange;
    # 6: resumed by a session ticket with no session id, not by 32 zero bytes echoed (Zeek)
    schema_version: ClassVar[str] = "6"
    results_imports: ClassVar[tuple[str, ...]] = ("mcpcap.modules.tls.results",)
    # made on the store's first use for records (`mcpcap.core.indexes`)
    query_indexes: ClassVar[tuple[str, ...]] = (
        "CREATE INDEX IF NOT EXISTS tls_handshakes_ts ON tls_handshakes (ts)",
        "CREATE INDEX IF NOT EXISTS tls_handshakes_sni ON tls_handshakes (server_name)",
    )
    stored_uids: ClassVar[tuple[tuple[str, str, str, str], ...]] = (
        ("tls_handshakes", "uid", "ts", "uid"),
    )
    worker_imports: ClassVar[tuple[str, ...]] = ("mcpcap.modules.tls.scan",)
    # QUIC Initial packets, on any port
    udp_signatures: ClassVar[tuple[PayloadSignature, ...]] = INITIAL_SIGNATURES

    def udp_decoder(self):
        from mcpcap.modules.tls.scan import decode_udp

        return decode_udp

    def worker_decoder(self):
        """`decode_udp`, and server Initials opened where their client's was (`QuicDecoder`)."""
        from mcpcap.modules.tls.scan import QuicDecoder

        return QuicDecoder()

    def claims_tcp(self, sport: int, dport: int, data: bytes) -> bool:
        """A handshake record with a ClientHello or ServerHello, or a CONNECT/SOCKS preamble."""
        return starts_handshake(data) or starts_preamble(data)

    def stream_decoder(self):
        from mcpcap.modules.tls.streams import TlsStreams

        return TlsStreams()

    def create_tables(self, db: sqlite3.Connection) -> None:
        from mcpcap.modules.tls.store import create_tables

        create_tables(db)

    def start_scan(self, db: sqlite3.Connection, options: dict[str, Any]) -> ModuleScan:
        from mcpcap.modules.tls.scan import TlsScan

        return TlsScan(db, options.get("stream_budget"))

    def open_results(self, db, counts, capture, settings):
        from mcpcap.modules.tls.results import TlsResults

        return TlsResults(db, counts, capture, settings)

    def summary_model(self) -> type:
        from mcpcap.modules.tls.models import TlsSummary

        return TlsSummary

    def kinds(self):
        from mcpcap.modules.tls.kinds import tls_kinds

        return list(tls_kinds())
