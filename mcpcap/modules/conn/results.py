"""What faces ask of a finished conn analysis: records and rankings (`TableResults`) and the
capture overview, made with a few grouped queries of the connections' tallies (`conn_tallies`:
the connections grouped by hosts, transport, server port, service and state, see `scan`)."""

from __future__ import annotations

import math
import sqlite3
from dataclasses import replace
from typing import Any

from mcpcap.core.modules.resolution import Resolution
from mcpcap.core.modules.tables import TableResults
from mcpcap.core.timefmt import iso_time, round_ts
from mcpcap.modules.conn import models
from mcpcap.modules.conn.kinds import KIND, PAIR, TABLES, to_record

TIMELINE_BUCKETS = 60
PERCENTILES = (0.5, 0.9, 0.99, 1.0)  # the TCP handshake round trips told: p50, p90, p99, max
OUTSIDE = "outside"


class ConnResults(TableResults):
    def __init__(
        self, db: sqlite3.Connection, counts: Any, capture: dict[str, Any], settings: Any
    ) -> None:
        tables = [
            replace(table, to_record=self._record) if table.kind == KIND else table
            for table in TABLES
        ]
        super().__init__(db, tables, settings.max_reply_chars)
        self._counts = counts
        self._capture = capture or {}
        self._top_n = settings.top_n
        self._resolution = Resolution(db, self._capture, settings)  # now: see `Resolution`

    def _record(self, row: tuple) -> dict[str, Any]:
        record = to_record(row)
        record["resolved_by"] = self._resolution.resolved_by(
            record["client"], record["server"], record["ts"]
        )
        return record

    def summary(self, top_n: int | None = None) -> models.ConnSummary:
        top = self._top_n if top_n is None else top_n
        db = self.db
        connections, ip_packets = db.execute(
            "SELECT coalesce(sum(connections), 0), "
            f"coalesce(sum(packets) FILTER (WHERE {OUTSIDE}), 0) FROM conn_tallies"
        ).fetchone()
        hosts = db.execute(
            "SELECT count(*) FROM (SELECT client FROM conn_tallies UNION "
            "SELECT server FROM conn_tallies)"
        ).fetchone()[0]
        detail = getattr(self._counts, "detail", None) or {}
        return models.ConnSummary(
            connections=connections,
            hosts=hosts,
            frames=int(self._capture.get("packets") or 0),
            ip_packets=ip_packets,
            evicted=int(detail.get("evicted", 0)),
            protocols=self._protocols(),
            transports=self._counted(
                f"SELECT transport, sum(packets) FROM conn_tallies WHERE {OUTSIDE} "
                "GROUP BY 1 ORDER BY 2 DESC, 1"
            ),
            services=self._counted(
                "SELECT service, sum(connections) FROM conn_tallies WHERE service IS NOT NULL "
                "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?",
                top,
            ),
            conn_states=self._counted(
                "SELECT conn_state, sum(connections) FROM conn_tallies "
                "GROUP BY 1 ORDER BY 2 DESC, 1"
            ),
            top_hosts_by_bytes=self._hosts("ip_bytes", top),
            top_hosts_by_packets=self._hosts("packets", top),
            top_pairs_by_bytes=self._pairs("ip_bytes", top),
            top_pairs_by_packets=self._pairs("packets", top),
            top_server_ports=self._counted(
                "SELECT transport || '/' || server_port, sum(connections) FROM conn_tallies "
                "WHERE transport IN ('tcp', 'udp') GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?",
                top,
            ),
            failed_connections=self._counted(
                "SELECT server || ' ' || transport || '/' || server_port, sum(connections) "
                "FROM conn_tallies WHERE failed "
                "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?",
                top,
            ),
            tcp_health=self._tcp_health(),
            timeline=self._timeline(),
            malformed=dict(detail.get("malformed") or {}),
        )

    def _counted(self, sql: str, *params: Any) -> dict[str, int]:
        return {str(key): int(n or 0) for key, n in self.db.execute(sql, params)}

    def _hosts(self, weight: str, top: int) -> dict[str, int]:
        return self._counted(
            f"SELECT host, sum(n) FROM (SELECT client AS host, {weight} AS n FROM "
            f"conn_tallies WHERE {OUTSIDE} UNION ALL SELECT server, {weight} FROM "
            f"conn_tallies WHERE {OUTSIDE}) GROUP BY host ORDER BY 2 DESC, 1 LIMIT ?",
            top,
        )

    def _pairs(self, weight: str, top: int) -> dict[str, int]:
        return self._counted(
            f"SELECT {PAIR}, sum({weight}) FROM conn_tallies WHERE {OUTSIDE} "
            "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?",
            top,
        )

    def _protocols(self) -> list[models.ProtocolLayer]:
        """`frames`, then Wireshark's protocol hierarchy: every layer by its path from the link
        layer, depth first, the most frames first; `other` for the frames no layer named (IP
        fragments before the last, 802.3 frames without SNAP, what a link type hides); then per
        service, from the connections."""
        frames = int(self._capture.get("packets") or 0)
        size = int(self._capture.get("bytes") or 0)
        root = _Layer()
        for path, packets, length in self.db.execute("SELECT * FROM conn_layers"):
            root.add(path.split("/") if path else [], packets, length)
        layers = [models.ProtocolLayer(layer="frames", packets=frames, bytes=size)]
        layers += root.listed("")
        if frames > root.frames:
            layers.append(models.ProtocolLayer(
                layer="other", packets=frames - root.frames, bytes=max(size - root.bytes, 0)
            ))  # fmt: skip
        services = self.db.execute(
            "SELECT service, sum(packets), sum(ip_bytes) FROM conn_tallies "
            "WHERE service IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1"
        )
        layers += [
            models.ProtocolLayer(layer=f"service/{service}", packets=packets, bytes=length)
            for service, packets, length in services
        ]
        return layers

    def _tcp_health(self) -> models.TcpHealth:
        db = self.db
        handshakes, retrans, with_retrans, zero, missed = db.execute(
            "SELECT coalesce(sum(handshakes), 0), coalesce(sum(retransmissions), 0), "
            "coalesce(sum(retransmitted), 0), coalesce(sum(zero_windows), 0), "
            "coalesce(sum(missed_bytes), 0) FROM conn_tallies WHERE transport = 'tcp'"
        ).fetchone()

        ranks = [max(0, math.ceil(fraction * handshakes) - 1) for fraction in PERCENTILES]
        at: dict[int, float] = {}
        if handshakes:  # the round trips at those ranks, from one sort
            at = dict(
                db.execute(
                    "SELECT rank, syn_rtt FROM (SELECT row_number() OVER (ORDER BY syn_rtt) - 1 "
                    "AS rank, syn_rtt FROM conn_connections WHERE syn_rtt IS NOT NULL) "
                    f"WHERE rank IN ({', '.join('?' * len(ranks))})",
                    ranks,
                )
            )
        p50, p90, p99, top = (at.get(rank) for rank in ranks)
        return models.TcpHealth(
            handshakes=handshakes,
            syn_rtt_p50=p50,
            syn_rtt_p90=p90,
            syn_rtt_p99=p99,
            syn_rtt_max=top,
            retransmissions=retrans,
            connections_with_retransmissions=with_retrans,
            zero_windows=zero,
            missed_bytes=missed,
        )

    def _timeline(self) -> list[models.TimelineBucket]:
        """At most TIMELINE_BUCKETS buckets of whole seconds over the capture."""
        low, high = self.db.execute("SELECT min(second), max(second) FROM conn_timeline").fetchone()
        if low is None:
            return []
        width = max(1, math.ceil((high - low + 1) / TIMELINE_BUCKETS))
        rows = self.db.execute(
            "SELECT (second - ?) / ? AS b, sum(packets), sum(bytes) FROM conn_timeline "
            "GROUP BY b ORDER BY b",
            (low, width),
        )
        return [
            models.TimelineBucket(
                ts=round_ts(low + b * width),
                time=iso_time(low + b * width) or "",
                packets=p,
                bytes=size,
            )
            for b, p, size in rows
        ]


class _Layer:
    """A node of the protocol hierarchy: its frames and bytes, and the layers above it."""

    __slots__ = ("bytes", "children", "frames")

    def __init__(self) -> None:
        self.frames = self.bytes = 0
        self.children: dict[str, _Layer] = {}

    def add(self, names: list[str], frames: int, size: int) -> None:
        """Count frames of one stack of layers in this node and each layer of the stack."""
        node = self
        node.frames += frames
        node.bytes += size
        for name in names:
            child = node.children.get(name)
            if child is None:
                child = node.children[name] = _Layer()
            node = child
            node.frames += frames
            node.bytes += size

    def listed(self, path: str) -> list[models.ProtocolLayer]:
        """The layers above this one, depth first, the most frames first (ties by name)."""
        rows = []
        for name, child in sorted(self.children.items(), key=lambda kv: (-kv[1].frames, kv[0])):
            where = f"{path}/{name}" if path else name
            rows.append(models.ProtocolLayer(layer=where, packets=child.frames, bytes=child.bytes))
            rows += child.listed(where)
        return rows
