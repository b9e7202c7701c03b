"""The conn module: every connection of a capture and its overview, on the module contract.

It asks for every IP packet (`wants_packets`): a worker decoder per span keeps partial flow
tables (`flows`), merged in order in the scanning process (`tracker`) into Zeek-style
connections, written to `conn_connections` (`scan`). Faces render its kind and its summary
generically; conn has no code in any face.
"""

from __future__ import annotations

import sqlite3
from typing import Any, ClassVar

from mcpcap.core.modules.contract import ModuleScan, ProtocolModule


class ConnModule(ProtocolModule):
    name: ClassVar[str] = "conn"
    title: ClassVar[str] = "Connections"
    # 3: flow_splits; 4: conn_malformed; 5: conn_layers; 6: layers' bytes as sent; 7: as
    # Zeek, DHCP clients' ports are no likely server ports and no answer to the broadcast
    # address is flipped; 8: a TCP connection's duration ends at the FIN that closed its
    # second side, as Zeek's; 9: a RST closes its side too (Zeek's did_close), a FIN then RST
    # answered by the peer's FIN is a normal close (SF); 10: a SYN on a closed connection is a
    # new one whatever its sequence number, a SYN-ACK and an ACK without the SYN are S1; 11:
    # a RST's payload and acknowledgement count for nothing
    schema_version: ClassVar[str] = "11"
    results_imports: ClassVar[tuple[str, ...]] = ("mcpcap.modules.conn.results",)
    # made on the store's first use for records (`mcpcap.core.indexes`)
    query_indexes: ClassVar[tuple[str, ...]] = (
        "CREATE INDEX IF NOT EXISTS conn_ts ON conn_connections (ts)",
        "CREATE INDEX IF NOT EXISTS conn_client ON conn_connections (client)",
        "CREATE INDEX IF NOT EXISTS conn_server ON conn_connections (server, server_port)",
        "CREATE INDEX IF NOT EXISTS conn_by_state ON conn_connections (conn_state)",
        "CREATE INDEX IF NOT EXISTS conn_uid ON conn_connections (uid)",
    )
    wants_packets: ClassVar[bool] = True
    worker_imports: ClassVar[tuple[str, ...]] = ("mcpcap.modules.conn.flows",)
    # no udp_ports and the contract's wants_udp: datagrams reach conn as packets only, and a
    # scan with it may run in worker processes

    def worker_decoder(self):
        from mcpcap.modules.conn.flows import FlowDecoder

        return FlowDecoder()

    def create_tables(self, db: sqlite3.Connection) -> None:
        from mcpcap.core.modules.malformed import create_table
        from mcpcap.modules.conn.scan import CREATE_TABLES

        db.executescript(CREATE_TABLES)
        create_table(db, self.name)

    def start_scan(self, db: sqlite3.Connection, options: dict[str, Any]) -> ModuleScan:
        from mcpcap.modules.conn.scan import ConnScan

        return ConnScan(db)

    def open_results(self, db, counts, capture, settings):
        from mcpcap.modules.conn.results import ConnResults

        return ConnResults(db, counts, capture, settings)

    def summary_model(self) -> type:
        from mcpcap.modules.conn.models import ConnSummary

        return ConnSummary

    def kinds(self):
        from mcpcap.modules.conn.kinds import conn_kinds

        return list(conn_kinds())
