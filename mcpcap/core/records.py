"""Questions about any record kind, asked the same way by every face.

A face names a kind (`dns.transactions`, or a shorthand such as `transactions`), a filter (the
text language of `filtering`, plus named arguments such as `qname_suffix`), a sort, a page size
and a cursor; this module finds the kind's module, checks the arguments against the kind's
declaration and asks the module's results. Nothing here knows a protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mcpcap.core.filtering import (
    Filter,
    bind,
    conditions_from_arguments,
    parse_filter,
)
from mcpcap.core.modules.kinds import (
    FilterDescription,
    KindCatalog,
    KindDescription,
    RecordKind,
    RecordPage,
    find_kind,
)
from mcpcap.core.paging import json_size

if TYPE_CHECKING:
    from mcpcap.core.models import Ranking
    from mcpcap.core.modules.contract import ModuleResults, ProtocolModule
    from mcpcap.core.service import Analysis


def all_kinds(modules: Sequence[ProtocolModule]) -> list[RecordKind]:
    """Every kind of the chosen modules, in module then declaration order."""
    return [kind for module in modules for kind in module.kinds()]


def default_ranked_kind(modules: Sequence[ProtocolModule]) -> str:
    """The kind `top` ranks when none is named: the first that declares ranking fields."""
    for kind in all_kinds(modules):
        if kind.rank_by:
            return kind.name
    from mcpcap.core.errors import BadArgumentError

    raise BadArgumentError("none of the chosen modules has a kind that can be ranked")


def describe(
    modules: Sequence[ProtocolModule], kind: str | None = None, budget: int | None = None
) -> KindCatalog:
    """One kind with its fields, filters' values and examples; or every kind in brief (its
    filters, sorts and ranking fields by name), or, when that is more than `budget`
    characters, only what each kind is."""
    kinds = all_kinds(modules)
    if kind is not None:
        return _fit_one_kind(find_kind(kinds, kind).describe(), budget)
    catalog = KindCatalog(kinds=[k.describe(brief=True) for k in kinds], detail="brief")
    for detail in ("outline", "names"):
        if budget is None or json_size(catalog.model_dump(mode="json")) <= budget:
            break
        catalog = KindCatalog(kinds=[k.describe(outline=detail) for k in kinds], detail=detail)
    return catalog


def _fit_one_kind(kind: KindDescription, budget: int | None) -> KindCatalog:
    """One kind's description, with less in it until it fits `budget` characters: fewer
    accepted values, then no examples, no field descriptions, no values, no filter
    descriptions, and at last no fields (the filters' names and types always stay)."""
    catalog = KindCatalog(kinds=[kind], detail="one kind")
    for shorten in SHORTER:
        if budget is None or json_size(catalog.model_dump(mode="json")) <= budget:
            break
        kind = shorten(kind)
        catalog = KindCatalog(kinds=[kind], detail="one kind, shortened to fit the reply budget")
    return catalog


def _changed_filters(
    kind: KindDescription, change: Callable[[FilterDescription], dict[str, Any]]
) -> KindDescription:
    filters = [spec.model_copy(update=change(spec)) for spec in kind.filters or []]
    return kind.model_copy(update={"filters": filters})


def _without_field_descriptions(kind: KindDescription) -> KindDescription:
    fields = [field.model_copy(update={"description": ""}) for field in kind.fields or []]
    return kind.model_copy(update={"fields": fields})


SHORTER: tuple[Callable[[KindDescription], KindDescription], ...] = (
    lambda kind: _changed_filters(kind, lambda spec: {"values": spec.values[:3]}),
    lambda kind: _changed_filters(kind, lambda spec: {"example": ""}),
    _without_field_descriptions,
    lambda kind: _changed_filters(kind, lambda spec: {"values": []}),
    lambda kind: _changed_filters(kind, lambda spec: {"description": ""}),
    lambda kind: kind.model_copy(update={"fields": None}),  # a record shows its fields too
)


def make_filter(
    kind: RecordKind, text: str | None = None, arguments: Mapping[str, Any] | None = None
) -> Filter:
    """The filter text and named filter arguments, checked against the kind, as one filter."""
    conditions = [*parse_filter(text or ""), *conditions_from_arguments(arguments or {})]
    return bind(conditions, kind.filters)


class KindQuery:
    """One kind of one analysis: the place faces ask for records, one record and rankings."""

    def __init__(self, analysis: Analysis, kind: str) -> None:
        self.kind = find_kind(all_kinds(analysis.modules), kind)
        self.results: ModuleResults = analysis.module(self.kind.module)

    def filter(self, text: str | None = None, **arguments: Any) -> Filter:
        return make_filter(self.kind, text, arguments)

    def page(
        self,
        text: str | None = None,
        *,
        sort: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        **arguments: Any,
    ) -> RecordPage:
        flt = self.filter(text, **arguments)
        sort = self.kind.check_sort(sort)
        return self.results.records(self.kind, flt, sort=sort, limit=limit, cursor=cursor)

    def iterate(
        self, text: str | None = None, *, sort: str | None = None, **arguments: Any
    ) -> Iterator[dict[str, Any]]:
        flt = self.filter(text, **arguments)
        return self.results.iter_records(self.kind, flt, sort=self.kind.check_sort(sort))

    def one(self, record_id: int | str) -> dict[str, Any]:
        """The record whose `id` is `record_id`: a number or its text (records carry ints)."""
        return self.results.record(self.kind, str(record_id))

    def top(
        self,
        text: str | None = None,
        *,
        by: str | None = None,
        weight: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        **arguments: Any,
    ) -> Ranking:
        flt = self.filter(text, **arguments)
        spec = self.kind.rank_spec(by)
        weight = self.kind.check_weight(spec, weight)
        return self.results.top(
            self.kind, flt, by=spec.name, weight=weight, limit=limit, cursor=cursor
        )
