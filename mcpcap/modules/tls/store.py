"""The module's table in the result store."""

from __future__ import annotations

import sqlite3

from mcpcap.core.modules import malformed

COLUMNS = (
    "uid", "ts", "client", "client_port", "server", "server_port", "transport", "version",
    "client_version", "client_versions", "cipher", "cipher_id", "curve", "server_name",
    "registered_domain", "alpn", "alpn_selected", "resumed", "established", "failed", "hrr", "ech",
    "ja4", "ja4_r", "ja3", "ja3s", "client_hello_frame", "server_hello_frame", "cert_subject",
    "cert_issuer", "cert_not_before", "cert_not_after", "cert_san_dns", "cert_sha256",
    "cert_problems", "malformed",
)  # fmt: skip

CREATE_TABLES = """
CREATE TABLE tls_handshakes (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL, ts REAL NOT NULL,
    client TEXT NOT NULL, client_port INTEGER NOT NULL,
    server TEXT NOT NULL, server_port INTEGER NOT NULL, transport TEXT NOT NULL,
    version TEXT, client_version TEXT, client_versions TEXT NOT NULL,
    cipher TEXT, cipher_id INTEGER, curve TEXT,
    server_name TEXT, registered_domain TEXT, alpn TEXT NOT NULL, alpn_selected TEXT,
    resumed INTEGER NOT NULL, established INTEGER NOT NULL, failed INTEGER NOT NULL,
    hrr INTEGER NOT NULL,
    ech INTEGER NOT NULL, ja4 TEXT, ja4_r TEXT, ja3 TEXT, ja3s TEXT,
    client_hello_frame INTEGER, server_hello_frame INTEGER,
    cert_subject TEXT, cert_issuer TEXT, cert_not_before REAL, cert_not_after REAL,
    cert_san_dns TEXT, cert_sha256 TEXT, cert_problems TEXT NOT NULL, malformed TEXT
);
"""
# a scan's rows wait here (TCP's come from the stream decoder, QUIC's from the scan itself)
CREATE_STAGING = "CREATE TEMP TABLE tls_staging AS SELECT * FROM tls_handshakes WHERE 0"
INSERT_STAGING = (
    f"INSERT INTO tls_staging ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
)


def store_in_time_order(db: sqlite3.Connection) -> None:
    """The staged rows into `tls_handshakes`, ids in the order of their first packets."""
    columns = ", ".join(COLUMNS)
    db.execute(
        f"INSERT INTO tls_handshakes ({columns}) SELECT {columns} FROM tls_staging "
        "ORDER BY ts, coalesce(client_hello_frame, server_hello_frame), transport, client, "
        "client_port, server, server_port"
    )
    db.execute("DROP TABLE tls_staging")


def create_tables(db: sqlite3.Connection) -> None:
    db.executescript(CREATE_TABLES)
    malformed.create_table(db, "tls")
