"""The `dns.findings` record kind: its declaration and the table it is read from."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from mcpcap.core.filtering import FilterSpec, name_and_below
from mcpcap.core.modules.kinds import FieldSpec, RankSpec, RecordKind
from mcpcap.core.modules.tables import ADDRESS_FUNCTION, KindTable, number_filter, text_filter
from mcpcap.core.timefmt import iso_time
from mcpcap.modules.dns.hunting.finding import CATEGORIES

NAME = "dns.findings"
TABLE = "dns_findings"
COLUMNS = (
    "id", "category", "subject", "score", "evidence", "metrics", "first_ts", "last_ts",
    "clients", "client_count", "transactions", "examples", "filter",
)  # fmt: skip


def _network(text: str) -> str:
    return str(ipaddress.ip_network(str(text).strip(), strict=False))


def _domain_params(value: str) -> tuple[str, str]:
    value = value.strip().strip(".").lower()
    return name_and_below(value)


FILTERS = (
    text_filter("category", "category", "the kind of finding", choices=CATEGORIES,
                example="category:tunnel,dga"),
    FilterSpec("subject", "the zone, client, name or server, exactly", sql="subject = ?",
               parse=lambda v: str(v).strip(), example="subject:example.com"),
    FilterSpec("domain", "a subject that is this name or below it",
               sql="(subject = ? OR subject LIKE ? ESCAPE '\\')", parse=str,
               params=_domain_params, example="domain:example.com"),
    FilterSpec("client", "a client involved (an address or a network such as 10.0.0.0/8)",
               sql=f"EXISTS (SELECT 1 FROM dns_finding_clients c WHERE c.finding_id = "
               f"{TABLE}.id AND {ADDRESS_FUNCTION}(c.client, ?))",
               parse=_network, example="client:10.0.0.0/8"),
    FilterSpec("min_score", "a score at least this (0 to 1)", sql="score >= ?", parse=float,
               type="number", example="min_score:0.8"),
    number_filter("score", "score", "the score, 0 to 1", example="score>=0.8"),
)  # fmt: skip

FIELDS = (
    FieldSpec("score", "score", 6, "text"),
    FieldSpec("category", "category", 12),
    FieldSpec("subject", "subject", 40),
    FieldSpec("evidence", "evidence", 80, drop=1),
    FieldSpec("client_count", "clients", 7, "int", drop=3),
    FieldSpec("transactions", "transactions", 8, "int", drop=2),
    FieldSpec("first_time", "first", 24, "time", drop=4),
)


def findings_kind() -> RecordKind:
    from mcpcap.modules.dns.models import DnsFinding

    return RecordKind(
        name=NAME,
        title="Findings",
        description="Suspects the DNS hunt ranks: tunnels and exfiltration, DGA bursts, fast "
        "flux, odd resolvers and rebinding, each with a score (0-1), the evidence behind it, "
        "and the dns.transactions filter that lists its transactions.",
        model=DnsFinding,
        fields=FIELDS,
        filters=FILTERS,
        # id is the rank (1: the highest score), so the default order is best first
        sorts=("id", "score", "-score", "first_ts", "-first_ts", "category", "subject"),
        default_sort="id",
        rank_by=(RankSpec("category", "findings per category"),),
        exports=("jsonl", "json", "csv"),
        shorthand="findings",
    )


def _record(row: tuple) -> dict[str, Any]:
    record = dict(zip(COLUMNS, row, strict=True))
    for key in ("metrics", "clients", "examples"):
        record[key] = json.loads(record[key])
    record["first_time"] = iso_time(record["first_ts"])
    record["last_time"] = iso_time(record["last_ts"])
    order = ("id", "category", "subject", "score", "evidence", "metrics", "first_ts",
             "first_time", "last_ts", "last_time", "clients", "client_count", "transactions",
             "examples", "filter")  # fmt: skip
    return {key: record[key] for key in order}


KIND_TABLE = KindTable(
    kind=NAME,
    source=TABLE,
    id_column="id",
    columns=COLUMNS,
    to_record=_record,
    sorts={
        "id": "id",
        "score": "score",
        "first_ts": "first_ts",
        "category": "category",
        "subject": "subject",
    },
    rank={"category": "category"},
)
