"""Record kinds: what a module offers every face, declared once.

A kind (`dns.transactions`, `conn.connections` ...) names its records' model, the columns a table
shows, the filters, sorts and ranking fields it accepts, and the formats it exports. The CLI's
options, the MCP tools' arguments, the TUI's tables and filter bar, and `describe` are all read
from this declaration, so a module that declares a kind appears in every face without face code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from mcpcap.core import SCHEMA_VERSION
from mcpcap.core.errors import BadArgumentError
from mcpcap.core.export import ZeekLog
from mcpcap.core.filtering import FilterSpec
from mcpcap.core.wording import did_you_mean

ALWAYS_EXPORTED = ("jsonl", "json", "csv")
SHOWN_VALUES = 12  # accepted values `describe` lists per filter (errors still suggest any)
WEIGHTS = ("count", "packets", "bytes")


@dataclass(frozen=True)
class FieldSpec:
    """A record field as a table shows it.

    `width` is a hint in characters; `format` tells a face how to render the value (`text`,
    `int` (a count: 12,345), `number` (a frame, an id: 12345), `seconds`, `time`, `address`,
    `list`, `bytes`, `flag`); `drop` orders columns a narrow table leaves out first (higher goes
    first; 0 is never dropped).
    """

    name: str
    title: str
    width: int = 10
    format: str = "text"
    drop: int = 0
    description: str = ""


@dataclass(frozen=True)
class RankSpec:
    """A field records can be ranked by, and the weights that make sense for it."""

    name: str
    description: str = ""
    weights: tuple[str, ...] = ("count",)


@dataclass(frozen=True)
class RecordKind:
    """One kind of record a module offers (its name is `module.kind`)."""

    name: str
    title: str
    description: str
    model: type[BaseModel]
    fields: tuple[FieldSpec, ...]
    filters: tuple[FilterSpec, ...] = ()
    sorts: tuple[str, ...] = ()
    default_sort: str | None = None
    rank_by: tuple[RankSpec, ...] = ()
    exports: tuple[str, ...] = ALWAYS_EXPORTED
    shorthand: str | None = None  # an older name the CLI still accepts (`transactions`)
    zeek: ZeekLog | None = None  # the kind's Zeek log, for `--format zeek`
    # the field whose value `record(kind, id)` fetches a record by (`id` but where a kind's
    # `id` already means something else, as dns.messages' header id)
    id_field: str = "id"

    @property
    def module(self) -> str:
        return self.name.partition(".")[0]

    def filter_names(self) -> list[str]:
        return [spec.name for spec in self.filters]

    def check_sort(self, sort: str | None) -> str | None:
        """The sort to use (the default for None); an unknown one is one sentence."""
        if sort is None:
            return self.default_sort
        if sort not in self.sorts:
            raise BadArgumentError(
                f"{self.name} sorts by {', '.join(self.sorts) or 'nothing'}, not {sort!r}"
                + did_you_mean(sort, self.sorts)
            )
        return sort

    def rank_spec(self, by: str | None) -> RankSpec:
        if not self.rank_by:
            raise BadArgumentError(f"{self.name} has no ranking fields")
        if by is None:
            return self.rank_by[0]
        for spec in self.rank_by:
            if spec.name == by:
                return spec
        names = [spec.name for spec in self.rank_by]
        raise BadArgumentError(
            f"{self.name} ranks by {', '.join(names)}, not {by!r}" + did_you_mean(by, names)
        )

    def check_weight(self, by: RankSpec, weight: str | None) -> str:
        weight = weight or "count"
        if weight not in by.weights:
            raise BadArgumentError(
                f"a ranking of {self.name} by {by.name} is weighted by "
                f"{', '.join(by.weights)}, not {weight!r}"
            )
        return weight

    def check_format(self, fmt: str | None) -> str:
        fmt = fmt or self.exports[0]
        if fmt not in self.exports:
            raise BadArgumentError(
                f"{self.name} is written as {', '.join(self.exports)}, not {fmt!r}"
            )
        return fmt

    def describe(self, brief: bool = False, outline: str = "") -> KindDescription:
        """What `describe` says of the kind; `brief` names its filters only and leaves out its
        fields; `outline` says only what the kind is ("outline") or only its name and title
        ("names"), for a catalog of many kinds short of room. The id field `record()` takes,
        when it is not `id`, is said in every form but "names"."""
        id_field = None if self.id_field == "id" else self.id_field
        if outline:
            description = self.description if outline == "outline" else ""
            return KindDescription(
                kind=self.name,
                title=self.title,
                description=description,
                fields=None,
                id_field=id_field if outline == "outline" else None,
            )
        if brief:
            return KindDescription(
                kind=self.name,
                title=self.title,
                description=self.description,
                fields=None,
                filter_names=[s.name for s in self.filters],
                sorts=list(self.sorts),
                default_sort=self.default_sort,
                rank_by=[
                    RankDescription(name=r.name, weights=list(r.weights)) for r in self.rank_by
                ],
                exports=list(self.exports),
                id_field=id_field,
            )
        fields = [
            FieldDescription(name=f.name, title=f.title, format=f.format, description=f.description)
            for f in self.fields
        ]
        filters = [
            FilterDescription(
                name=s.name,
                type=s.type,
                description=s.description,
                values=[] if brief else list(s.choices[:SHOWN_VALUES]),
                ordered=s.ordered,
                example="" if brief else s.example,
            )
            for s in self.filters
        ]
        return KindDescription(
            kind=self.name,
            title=self.title,
            description=self.description,
            fields=None if brief else fields,
            filters=filters,
            sorts=list(self.sorts),
            default_sort=self.default_sort,
            rank_by=[RankDescription(name=r.name, weights=list(r.weights)) for r in self.rank_by],
            exports=list(self.exports),
            id_field=id_field,
        )


def find_kind(kinds: Sequence[RecordKind], name: str) -> RecordKind:
    """The kind called `name` (or by its shorthand); an unknown one is one sentence."""
    for kind in kinds:
        if name in (kind.name, kind.shorthand):
            return kind
    names = [kind.name for kind in kinds]
    raise BadArgumentError(
        f"unknown record kind {name!r}{did_you_mean(name, names)} (kinds: {', '.join(names)})"
    )


class FieldDescription(BaseModel):
    name: str
    title: str
    format: str
    description: str = ""


class FilterDescription(BaseModel):
    name: str
    type: str = Field(
        description="the value's JSON type: string, integer, number or boolean; a|b is either"
    )
    description: str
    values: list[str] = Field(
        default_factory=list, description="accepted values (the first few, when listed)"
    )
    ordered: bool = Field(False, description="accepts >, >=, <, <= as well as ':'")
    example: str = ""


class RankDescription(BaseModel):
    name: str
    weights: list[str]


class KindDescription(BaseModel):
    """One kind; describing every kind at once names the filters only (`filter_names`)."""

    kind: str
    title: str
    description: str
    fields: list[FieldDescription] | None = Field(
        description="the record's fields; describe one kind to see them (a kind too big "
        "for the reply budget leaves them out)"
    )
    filters: list[FilterDescription] | None = None
    filter_names: list[str] | None = None
    sorts: list[str] | None = None
    default_sort: str | None = None
    rank_by: list[RankDescription] | None = None
    id_field: str | None = Field(None, description="the field record() takes, when not `id`")
    exports: list[str] | None = None


class KindCatalog(BaseModel):
    """`describe`: the record kinds of the chosen modules, and how to filter them."""

    schema_version: str = SCHEMA_VERSION
    filter_syntax: str = Field(
        "field:value tokens, AND between tokens; a comma is OR within a field "
        "(rcode:NXDOMAIN,SERVFAIL); -field:value negates; field>N, >=, <, <= on ordered "
        'fields; double quotes wrap spaces (qname:"a b")'
    )
    kinds: list[KindDescription]
    detail: str = Field(
        "",
        description="how much each kind says ('one kind', 'brief', 'outline', 'names': as room "
        "allows); describe one kind for all of it",
    )


class RecordPage(BaseModel):
    """One page of any kind's records."""

    schema_version: str = SCHEMA_VERSION
    kind: str
    filter: str = Field("", description="the filter as field:value tokens")
    sort: str | None = None
    total: int = Field(description="records matching the filter")
    items: list[dict[str, Any]]
    next_cursor: str | None = Field(None, description="pass as cursor for the next page")
    truncated: bool = Field(False, description="the page was cut to fit the reply budget")
