"""What faces ask of a finished DHCP analysis: records and rankings from the tables, and the
summary (exchanges, servers, who got which address, clashes, vendor classes, timeline)."""

from __future__ import annotations

import sqlite3
from typing import Any

from mcpcap.core.filtering import Filter
from mcpcap.core.models import NameCount, Ranking
from mcpcap.core.modules.kinds import RecordKind
from mcpcap.core.modules.malformed_kind import malformed_table
from mcpcap.core.modules.tables import TableResults
from mcpcap.core.timefmt import iso_time
from mcpcap.core.timeline import bucket_columns
from mcpcap.modules.dhcp.kinds import MESSAGE_TABLE, TABLE
from mcpcap.modules.dhcp.models import (
    AddressList,
    Assignment,
    DhcpSummary,
    DhcpTimeline,
    ServerOffers,
)

MAX_LISTED = 20  # addresses or MACs listed under one key


class DhcpResults(TableResults):
    def __init__(self, db: sqlite3.Connection, counts: Any, capture: dict[str, Any], settings):
        super().__init__(db, [TABLE, malformed_table("dhcp")], settings.max_reply_chars)
        self._counts = counts
        self._settings = settings
        self._messages = TableResults(db, [MESSAGE_TABLE], settings.max_reply_chars)

    def top(
        self,
        kind: RecordKind,
        flt: Filter,
        *,
        by: str | None = None,
        weight: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Ranking:
        if by != "msg_type":
            return super().top(kind, flt, by=by, weight=weight, limit=limit, cursor=cursor)
        ranking = self._messages.top(kind, flt, by=by, weight=weight, limit=limit, cursor=cursor)
        ranking.counts = "messages of the matching dhcp.transactions"
        return ranking

    def summary(self, top_n: int | None = None) -> DhcpSummary:
        top_n = self._settings.top_n if top_n is None else top_n
        db = self.db
        exchanges, completed, naks, unanswered = db.execute(
            "SELECT count(*), coalesce(sum(outcome = 'ack'), 0), "
            "coalesce(sum(outcome = 'nak'), 0), coalesce(sum(outcome = 'unanswered'), 0) "
            "FROM dhcp_transactions"
        ).fetchone()
        detail = getattr(self._counts, "detail", None) or {}
        families = dict(
            db.execute(
                "SELECT family, count(*) FROM dhcp_transactions GROUP BY family ORDER BY family"
            ).fetchall()
        )
        servers = self._servers()
        return DhcpSummary(
            exchanges=exchanges,
            messages=getattr(self._counts, "messages", 0) or 0,
            completed=completed,
            naks=naks,
            unanswered=unanswered,
            malformed=dict(detail.get("malformed", {})),
            families=families,
            servers=servers,
            rogue_server_hint=self._several_servers(),
            assignments=self._assignments(top_n),
            assignments_total=db.execute(
                "SELECT count(*) FROM (SELECT 1 FROM dhcp_transactions WHERE assigned_addr "
                "IS NOT NULL GROUP BY assigned_addr, mac)"
            ).fetchone()[0],
            clients_with_several_addresses=self._lists("mac", "assigned_addr", top_n),
            addresses_given_to_several_clients=self._lists("assigned_addr", "mac", top_n),
            vendor_classes=[
                NameCount(name=name, count=n)
                for name, n in db.execute(
                    "SELECT vendor_class, count(*) FROM dhcp_transactions WHERE vendor_class "
                    "IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?",
                    (top_n,),
                )
            ],
            timeline=self._timeline(),
        )

    def _servers(self) -> list[ServerOffers]:
        """Every server that answered, with what it sent and offered (a second one hints at
        a rogue)."""
        # one entry per server as `m_ident` tells them apart (a DHCPv6 server by its DUID),
        # named by the address of its first message (SQLite: the bare column of min())
        rows = self.db.execute(
            "SELECT f.m_server, g.n, g.offers, g.acks, g.naks, g.m_ident FROM (SELECT m_ident, "
            "count(DISTINCT trans) AS n, sum(m_type IN ('OFFER', 'ADVERTISE')) AS offers, "
            "sum(m_type IN ('ACK', 'REPLY')) AS acks, sum(m_type = 'NAK') AS naks "
            "FROM dhcp_messages WHERE m_ident IS NOT NULL GROUP BY m_ident) AS g "
            "JOIN (SELECT m_ident, m_server, min(m_frame) FROM dhcp_messages "
            "WHERE m_ident IS NOT NULL GROUP BY m_ident) AS f USING (m_ident) "
            "ORDER BY 2 DESC, 1, 6"
        ).fetchall()
        offered = self._offered()
        servers = []
        for server, n, offers, acks, naks, ident in rows:
            listed, total = offered.get(ident, ([], 0))
            servers.append(
                ServerOffers(server=server, transactions=n, offers=offers, acks=acks, naks=naks,
                             offered_addrs=listed, offered_addrs_total=total)
            )  # fmt: skip
        return servers

    def _offered(self) -> dict[str, tuple[list[str], int]]:
        """Per server (its `m_ident`), the addresses it offered in the order it first offered
        them (the first `MAX_LISTED`), and how many different ones."""
        rows = self.db.execute(
            "SELECT m_ident, m_addr, n FROM (SELECT m_ident, m_addr, "
            "row_number() OVER (PARTITION BY m_ident ORDER BY min(m_frame)) AS r, "
            "count(*) OVER (PARTITION BY m_ident) AS n FROM dhcp_messages "
            "WHERE m_type IN ('OFFER', 'ADVERTISE') AND m_ident IS NOT NULL "
            "AND m_addr IS NOT NULL GROUP BY m_ident, m_addr) WHERE r <= ? ORDER BY m_ident, r",
            (MAX_LISTED,),
        ).fetchall()
        found: dict[str, tuple[list[str], int]] = {}
        for server, addr, total in rows:
            found.setdefault(server, ([], total))[0].append(addr)
        return found

    def _several_servers(self) -> bool:
        """Whether more than one server offered or acknowledged in one family (v4 or v6)."""
        return (
            self.db.execute(
                "SELECT 1 FROM dhcp_messages m JOIN dhcp_transactions t ON t.id = m.trans "
                "WHERE m.m_type IN ('OFFER', 'ACK', 'ADVERTISE', 'REPLY') GROUP BY t.family "
                "HAVING count(DISTINCT m.m_ident) > 1"
            ).fetchone()
            is not None
        )

    def _assignments(self, top_n: int) -> list[Assignment]:
        rows = self.db.execute(
            "SELECT assigned_addr, mac, max(host_name), min(ts), max(ts), count(*) "
            "FROM dhcp_transactions WHERE assigned_addr IS NOT NULL "
            "GROUP BY assigned_addr, mac ORDER BY min(ts), assigned_addr LIMIT ?",
            (top_n,),
        ).fetchall()
        return [
            Assignment(address=a, mac=m, host_name=h, first_time=iso_time(f),
                       last_time=iso_time(last), count=n)
            for a, m, h, f, last, n in rows
        ]  # fmt: skip

    def _lists(self, key: str, value: str, top_n: int) -> list[AddressList]:
        """Keys (MACs or addresses) that go with more than one value in assigned exchanges."""
        rows = self.db.execute(
            f"SELECT {key}, group_concat(DISTINCT {value}) FROM dhcp_transactions "
            f"WHERE assigned_addr IS NOT NULL AND mac IS NOT NULL GROUP BY {key} "
            f"HAVING count(DISTINCT {value}) > 1 ORDER BY count(DISTINCT {value}) DESC, 1 "
            "LIMIT ?",
            (top_n,),
        ).fetchall()
        return [
            AddressList(key=k, values=sorted(values.split(","))[:MAX_LISTED]) for k, values in rows
        ]

    def _timeline(self) -> DhcpTimeline:
        counts = "count(*), sum(outcome = 'ack'), sum(outcome = 'nak')"
        found = bucket_columns(self.db, "dhcp_transactions", counts, 3)
        if found is None:
            return DhcpTimeline(
                start=None, start_time=None, interval=1.0, exchanges=[], acks=[], naks=[]
            )
        base, interval, columns = found
        return DhcpTimeline(
            start=base, start_time=iso_time(base), interval=interval,
            exchanges=columns[0], acks=columns[1], naks=columns[2],
        )  # fmt: skip
