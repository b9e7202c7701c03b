"""The ICMP module: every ICMP and ICMPv6 message, with echo pairing, the flows errors name and
neighbour discovery.

It asks the scan for every IP packet (`wants_packets`); its worker decoder keeps the ICMP ones.
Faces show it from its kinds (`kinds.py`), as they show any module.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any, ClassVar

from mcpcap.core.modules.contract import ModuleScan, ProtocolModule

if TYPE_CHECKING:
    from mcpcap.core.modules.kinds import RecordKind


class IcmpModule(ProtocolModule):
    name: ClassVar[str] = "icmp"
    title: ClassVar[str] = "ICMP"
    # 2: <module>_malformed; 3: uids of split flows; 4: echo replies pair by their data too,
    # a quote cut short keeps the fields it holds; 5: extended echo (RFC 8335) paired, a
    # quoted reply's addresses as sent, a quote without its ports malformed and of no flow
    schema_version: ClassVar[str] = "5"
    results_imports: ClassVar[tuple[str, ...]] = ("mcpcap.modules.icmp.results",)
    # made on the store's first use for records (`mcpcap.core.indexes`)
    query_indexes: ClassVar[tuple[str, ...]] = (
        "CREATE INDEX IF NOT EXISTS icmp_messages_ts ON icmp_messages (ts)",
        "CREATE INDEX IF NOT EXISTS icmp_messages_src ON icmp_messages (src)",
        "CREATE INDEX IF NOT EXISTS icmp_messages_dst ON icmp_messages (dst)",
        "CREATE INDEX IF NOT EXISTS icmp_messages_type_name ON icmp_messages (type_name)",
        "CREATE INDEX IF NOT EXISTS icmp_messages_frame ON icmp_messages (frame)",
    )
    stored_uids: ClassVar[tuple[tuple[str, str, str, str], ...]] = (
        ("icmp_messages", "uid", "ts", "uid"),
        ("icmp_messages", "q_uid", "ts", "uid"),
    )
    wants_packets: ClassVar[bool] = True
    packet_transports: ClassVar[frozenset[str] | None] = frozenset(("icmp", "icmpv6"))
    worker_imports: ClassVar[tuple[str, ...]] = ("mcpcap.modules.icmp.scan",)

    def worker_decoder(self):
        from mcpcap.modules.icmp.scan import IcmpDecoder

        return IcmpDecoder()

    def create_tables(self, db: sqlite3.Connection) -> None:
        from mcpcap.core.modules.malformed import create_table
        from mcpcap.modules.icmp.scan import CREATE_TABLES

        db.executescript(CREATE_TABLES)
        create_table(db, self.name)

    def start_scan(self, db: sqlite3.Connection, options: dict[str, Any]) -> ModuleScan:
        from mcpcap.modules.icmp.scan import IcmpScan

        return IcmpScan(db)

    def open_results(self, db, counts, capture, settings):
        from mcpcap.modules.icmp.results import IcmpResults

        return IcmpResults(db, counts, capture, settings)

    def summary_model(self) -> type:
        from mcpcap.modules.icmp.models import IcmpSummary

        return IcmpSummary

    def kinds(self) -> list[RecordKind]:
        from mcpcap.modules.icmp.kinds import icmp_kinds

        return list(icmp_kinds())
