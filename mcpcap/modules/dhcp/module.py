"""The DHCP module: DHCPv4 on UDP 67/68 and DHCPv6 on 546/547, as client exchanges.

Faces show it from its kinds (`kinds.py`: `dhcp_kinds` and the `KindTable`s that say where
the records lie); `TableResults` answers pages, single records and rankings.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any, ClassVar

from mcpcap.core.modules.contract import ModuleScan, ProtocolModule
from mcpcap.modules.dhcp import wire

if TYPE_CHECKING:
    from mcpcap.core.modules.kinds import RecordKind


class DhcpModule(ProtocolModule):
    name: ClassVar[str] = "dhcp"
    title: ClassVar[str] = "DHCP"
    # 2: <module>_malformed; 3: uids of split flows; 4: malformed options beside typed ones;
    # 5: the address each server message gave (dhcp_messages.m_addr), the chosen server;
    # 6: host names servers give, the chosen server's ACK, fields of a message cut short, PXE
    # on 4011, the lower port names the service; 7: the last requested address, as Zeek keeps
    # it, and the uids of split flows taken at the exchange's end; 8: DHCPv6 servers told
    # apart by their DUID (dhcp_messages.m_ident), option 79 from a relay, options read before
    # a defect kept, option 119's compression pointers followed
    schema_version: ClassVar[str] = "8"
    results_imports: ClassVar[tuple[str, ...]] = ("mcpcap.modules.dhcp.results",)
    # made on the store's first use for records (`mcpcap.core.indexes`)
    query_indexes: ClassVar[tuple[str, ...]] = (
        "CREATE INDEX IF NOT EXISTS dhcp_transactions_ts ON dhcp_transactions (ts)",
        "CREATE INDEX IF NOT EXISTS dhcp_messages_trans ON dhcp_messages (trans)",
    )
    # moved at the exchange's last message: a server's reply flow may open its connection
    # after the client's first message (the exchange's `ts`), and one of a past exchange on
    # the same ports began before it (the end is rounded to microseconds, within the slack)
    stored_uids: ClassVar[tuple[tuple[str, str, str, str], ...]] = (
        ("dhcp_transactions", "uids", "ts + duration", "json"),
    )
    udp_ports: ClassVar[frozenset[int]] = wire.V4_PORTS | wire.V6_PORTS
    worker_imports: ClassVar[tuple[str, ...]] = ("mcpcap.modules.dhcp.wire",)

    def udp_decoder(self):
        return wire.decode_datagram

    def create_tables(self, db: sqlite3.Connection) -> None:
        from mcpcap.core.modules.malformed import create_table
        from mcpcap.modules.dhcp.scan import CREATE_TABLES

        db.executescript(CREATE_TABLES)
        create_table(db, self.name)

    def start_scan(self, db: sqlite3.Connection, options: dict[str, Any]) -> ModuleScan:
        from mcpcap.modules.dhcp.scan import DhcpScan

        return DhcpScan(db)

    def open_results(self, db, counts, capture, settings):
        from mcpcap.modules.dhcp.results import DhcpResults

        return DhcpResults(db, counts, capture, settings)

    def summary_model(self) -> type:
        from mcpcap.modules.dhcp.models import DhcpSummary

        return DhcpSummary

    def kinds(self) -> list[RecordKind]:
        from mcpcap.modules.dhcp.kinds import dhcp_kinds

        return list(dhcp_kinds())
