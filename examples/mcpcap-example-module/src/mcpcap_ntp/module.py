"""The NTP module: what it asks of the scan, the kinds it offers, and how they are stored.

Everything a face shows comes from the declarations below: `kinds()` (fields, filters, sorts,
ranking fields) and the `KindTable`s that say where each kind's records lie; mcpcap's
`TableResults` answers pages, single records and rankings from them.
"""

from __future__ import annotations

import math
import sqlite3
from functools import cache
from typing import Any, ClassVar

from mcpcap.core.export import flow_uid
from mcpcap.core.filtering import FilterSpec
from mcpcap.core.modules.contract import ModuleScan, ProtocolModule
from mcpcap.core.modules.kinds import FieldSpec, RankSpec, RecordKind
from mcpcap.core.modules.tables import (
    KindTable,
    TableResults,
    address_filter,
    flag_filter,
    number_filter,
    text_filter,
)
from mcpcap.core.timefmt import iso_time, round_ts
from mcpcap_ntp import models, wire
from mcpcap_ntp.scan import CREATE_TABLES, NtpScan


class NtpModule(ProtocolModule):
    name: ClassVar[str] = "ntp"
    title: ClassVar[str] = "NTP"
    schema_version: ClassVar[str] = "1"
    udp_ports: ClassVar[frozenset[int]] = frozenset({123})

    def udp_decoder(self):
        return wire.decode_datagram

    def create_tables(self, db: sqlite3.Connection) -> None:
        db.executescript(CREATE_TABLES)

    def start_scan(self, db: sqlite3.Connection, options: dict[str, Any]) -> ModuleScan:
        return NtpScan(db)

    def open_results(self, db, counts, capture, settings) -> NtpResults:
        return NtpResults(db, TABLES, settings.max_reply_chars)

    def summary_model(self) -> type[models.NtpSummary]:
        return models.NtpSummary

    def kinds(self) -> list[RecordKind]:
        return list(ntp_kinds())


# ---------------------------------------------------------------------- record kinds
@cache
def ntp_kinds() -> tuple[RecordKind, ...]:
    ranked = ("count", "packets")
    exchanges = RecordKind(
        name="ntp.exchanges",
        title="Exchanges",
        description="A client request with the server's response: stratum, reference, "
        "clock offset and round-trip delay (RFC 5905).",
        model=models.NtpExchange,
        fields=(
            FieldSpec("time", "time", 24, "time"),
            FieldSpec("client", "client", 39, "address"),
            FieldSpec("server", "server", 39, "address"),
            FieldSpec("stratum", "stratum", 7, "int"),
            FieldSpec("reference_id", "reference", 15, drop=2),
            FieldSpec("offset", "offset", 10, "seconds"),
            FieldSpec("delay", "delay", 10, "seconds", drop=1),
            FieldSpec("version", "ver", 3, "int", drop=3),
            FieldSpec("request_frame", "req. frame", 8, "int", drop=4),
            FieldSpec("response_frame", "resp. frame", 8, "int", drop=4),
        ),
        filters=(
            address_filter("client", "client", "client address"),
            address_filter("server", "server", "server address"),
            number_filter("stratum", "stratum", "the server's stratum", integer=True,
                          example="stratum>=3"),
            FilterSpec("version", "NTP version", sql="version = ?", parse=int,
                       choices=("1", "2", "3", "4"), type="integer", example="version:4"),
            text_filter("reference_id", "reference_id", "the server's reference (GPS, 192.0.2.1)"),
            flag_filter("answered", "answered", "whether the server answered"),
            number_filter("offset", "offset", "clock offset in seconds", example="offset>0.1"),
        ),
        sorts=("ts", "-ts", "offset", "-offset"),
        default_sort="ts",
        rank_by=tuple(
            RankSpec(name, weights=ranked)
            for name in ("server", "client", "stratum", "reference_id")
        ),
    )  # fmt: skip
    malformed = RecordKind(
        name="ntp.malformed",
        title="Malformed",
        description="Datagrams on UDP port 123 that are not NTP client/server messages "
        "mcpcap can read, with the reason and the frame.",
        model=models.NtpMalformed,
        fields=(
            FieldSpec("time", "time", 24, "time"),
            FieldSpec("frame", "frame", 8, "int"),
            FieldSpec("src", "source", 39, "address"),
            FieldSpec("dst", "destination", 39, "address", drop=1),
            FieldSpec("reason", "reason", 32),
        ),
        filters=(text_filter("reason", "reason", "why it could not be decoded"),),
        sorts=("ts", "-ts"),
        default_sort="ts",
        rank_by=(RankSpec("reason"), RankSpec("src")),
    )
    return (exchanges, malformed)


# ---------------------------------------------------------------------- where they lie
def _exchange(row: tuple) -> dict[str, Any]:
    (id_, ts, client, client_port, server, server_port, version, stratum, reference_id,
     offset, delay, request_frame, response_frame, answered) = row  # fmt: skip
    return {
        "id": id_, "ts": round_ts(ts), "time": iso_time(ts),
        "uid": flow_uid(client, client_port, server, server_port, "udp"),
        "client": client, "client_port": client_port,
        "server": server, "server_port": server_port, "transport": "udp",
        "version": version, "stratum": stratum, "reference_id": reference_id,
        "offset": offset, "delay": delay,
        "request_frame": request_frame, "response_frame": response_frame,
        "answered": bool(answered),
    }  # fmt: skip


def _malformed(row: tuple) -> dict[str, Any]:
    id_, frame, ts, src, src_port, dst, dst_port, reason = row
    return {"id": id_, "ts": round_ts(ts), "time": iso_time(ts), "frame": frame,
            "uid": flow_uid(src, src_port, dst, dst_port, "udp"), "src": src,
            "src_port": src_port, "dst": dst, "dst_port": dst_port, "transport": "udp",
            "reason": reason}  # fmt: skip


TABLES = (
    KindTable(
        kind="ntp.exchanges",
        source="ntp_exchanges",
        id_column="id",
        columns=("id", "ts", "client", "client_port", "server", "server_port", "version",
                 "stratum", "reference_id", "offset", "delay", "request_frame",
                 "response_frame", "answered"),
        to_record=_exchange,
        sorts={"ts": "ts", "offset": "offset"},
        rank={name: name for name in ("server", "client", "stratum", "reference_id")},
        weights={"packets": "packets"},
    ),
    KindTable(
        kind="ntp.malformed",
        source="ntp_malformed",
        id_column="id",
        columns=("id", "frame", "ts", "src", "src_port", "dst", "dst_port", "reason"),
        to_record=_malformed,
        sorts={"ts": "ts"},
        rank={"reason": "reason", "src": "src"},
    ),
)  # fmt: skip


class NtpResults(TableResults):
    """Records and rankings come from `TableResults`; the summary is NTP's own."""

    def summary(self, top_n: int | None = None) -> models.NtpSummary:
        db = self.db
        exchanges, answered, clients, servers = db.execute(
            "SELECT count(*), coalesce(sum(answered), 0), count(DISTINCT client), "
            "count(DISTINCT server) FROM ntp_exchanges"
        ).fetchone()
        strata = db.execute(
            "SELECT stratum, count(*) FROM ntp_exchanges WHERE answered GROUP BY stratum "
            "ORDER BY stratum"
        ).fetchall()
        reasons = db.execute(
            "SELECT reason, count(*) FROM ntp_malformed GROUP BY reason ORDER BY 2 DESC, 1"
        ).fetchall()
        return models.NtpSummary(
            exchanges=exchanges,
            answered=answered,
            clients=clients,
            servers=servers,
            strata={str(stratum): n for stratum, n in strata},
            offset=self._offsets(answered),
            malformed=dict(reasons),
        )

    def _offsets(self, answered: int) -> models.OffsetPercentiles | None:
        """Nearest-rank percentiles, each read by its rank (memory stays flat)."""
        if not answered:
            return None

        def at(fraction: float) -> float:
            rank = max(0, math.ceil(fraction * answered) - 1)
            return self.db.execute(
                "SELECT offset FROM ntp_exchanges WHERE answered ORDER BY offset LIMIT 1 OFFSET ?",
                (rank,),
            ).fetchone()[0]

        return models.OffsetPercentiles(
            min=at(0.0), p50=at(0.5), p90=at(0.9), p99=at(0.99), max=at(1.0)
        )
