"""The DNS protocol module: DNS (53), mDNS (5353) and LLMNR (5355) over UDP and TCP."""

from __future__ import annotations

import sqlite3
from typing import Any, ClassVar

from mcpcap.core.modules.contract import (
    ModulePrompt,
    ModuleScan,
    PayloadSignature,
    ProtocolModule,
)
from mcpcap.modules.dns import store_schema

UDP_PORTS = frozenset((53, 5353, 5355))


# DNS on another port, cheaply told: one question (QDCOUNT 1), a standard query opcode, and
# bytes enough for a header and the shortest question
ONE_QUESTION = PayloadSignature(17, ((4, 0xFF, 0), (5, 0xFF, 1), (2, 0x78, 0)))


class DnsModule(ProtocolModule):
    name: ClassVar[str] = "dns"
    title: ClassVar[str] = "DNS"
    # 2: dns_malformed; 3: findings in the summary; 4: the hunt's tallies; 5: the latency in
    # the counts, query indexes made on first use; 6: a question name ending in a pointer to
    # offset 256 (`C1 00`) is never taken from the cache of questions seen; 7: a message
    # shorter than its header is never paired; 8: a response more than the timeout after its
    # query answers nothing, between sweeps too; 9: OPT records RFC 6891 refuses (bad_opt),
    # Chaosnet's A, an empty TXT, SVCB keys out of order, alpn escaped twice (RFC 9460); 10:
    # Zeek's `rejected` (no record for a question, or a failure without one), the query's Z;
    # 11: dns_server_counts, the summary's query messages per server, which `server` ranks
    schema_version: ClassVar[str] = "11"
    query_indexes: ClassVar[tuple[str, ...]] = store_schema.QUERY_INDEXES
    results_imports: ClassVar[tuple[str, ...]] = (
        "mcpcap.modules.dns.results",
        "mcpcap.modules.dns.kinds",
        "mcpcap.modules.dns.export",
        "mcpcap.modules.dns.summary",
        "mcpcap.modules.dns.hunting.cache",
        "mcpcap.modules.dns.hunting.results",
        "mcpcap.modules.dns.hunting.answers",
        "mcpcap.modules.dns.hunting.dga",
        "mcpcap.modules.dns.hunting.resolvers",
        "mcpcap.modules.dns.hunting.tunnel",
        "mcpcap.modules.dns.hunting.zones",
    )
    udp_ports: ClassVar[frozenset[int]] = UDP_PORTS
    udp_signatures: ClassVar[tuple[PayloadSignature, ...]] = (ONE_QUESTION,)
    tcp_ports: ClassVar[frozenset[int]] = frozenset((53, 5353, 5355))
    worker_imports: ClassVar[tuple[str, ...]] = (
        "mcpcap.modules.dns.scan",
        "mcpcap.modules.dns.streams",
    )

    def udp_decoder(self):
        from mcpcap.modules.dns.scan import decode_udp

        return decode_udp

    def worker_decoder(self):
        from mcpcap.modules.dns.scan import WorkerDecoder

        return WorkerDecoder()

    def stream_decoder(self):
        """DNS over TCP is framed, decoded and paired there (a stream worker's, in parallel)."""
        from mcpcap.modules.dns.streams import DnsStreams

        return DnsStreams()

    def create_tables(self, db: sqlite3.Connection) -> None:
        store_schema.create_tables(db)

    def start_scan(self, db: sqlite3.Connection, options: dict[str, Any]) -> ModuleScan:
        from mcpcap.modules.dns.scan import DnsScan

        return DnsScan(db, options)

    def open_results(self, db, counts, capture, settings):
        from mcpcap.modules.dns.results import DnsResults

        return DnsResults(db, counts, capture, settings)

    def summary_is_current(self, db: sqlite3.Connection, settings: Any) -> bool:
        """The stored summary holds the best findings: current while `hunt_allow` (and the
        hunting version and thresholds) are those the store's findings were made with."""
        from mcpcap.modules.dns.hunting.key import is_current

        return is_current(db, settings)

    def summary_model(self) -> type:
        from mcpcap.modules.dns.models import DnsSummary

        return DnsSummary

    def kinds(self):
        from mcpcap.modules.dns.kinds import dns_kinds

        return list(dns_kinds())

    def prompts(self) -> list[ModulePrompt]:
        from mcpcap.modules.dns.prompts import PROMPTS

        return list(PROMPTS)

    def face_hooks(self):
        """DNS's own MCP tools and resource (the server imports them only when it starts) and
        its TUI overview, transactions table and malformed view (`mcpcap.tui.hooks`)."""
        from mcpcap.modules.dns.tui import HOOKS

        def tools(kit):
            from mcpcap.modules.dns.mcp_tools import dns_tools

            return dns_tools(kit)

        def resources(server, kit):
            from mcpcap.modules.dns.mcp_tools import register_resources

            register_resources(server, kit)

        return {"mcp_tools": tools, "mcp_resources": resources, **HOOKS}

    def result_models(self) -> list[type]:
        from mcpcap.modules.dns import models

        return [
            models.DnsSummary,
            models.TransactionPage,
            models.DnsTransaction,
            models.DnsMessage,
            models.DnsFinding,
        ]
