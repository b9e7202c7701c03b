"""Every filter of every kind takes its own `describe` example plain, negated and with two
values (the README promises `-field:value`, commas and repeated tokens for every filter): the
query runs and the negation keeps exactly the records the plain filter leaves out."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpcap.core.config import build_settings
from mcpcap.core.modules.registry import available_modules, load_modules
from mcpcap.core.records import KindQuery, all_kinds
from mcpcap.core.service import Analyzer

KINDS = [kind for kind in all_kinds(load_modules(available_modules())) if kind.filters]
EXAMPLES = [
    pytest.param(kind.name, spec.example, id=f"{kind.name}-{spec.name}")
    for kind in KINDS
    for spec in kind.filters
    if spec.example and ":" in spec.example
]


EXAMPLE = Path(__file__).resolve().parents[1] / "example.pcap"


@pytest.fixture(scope="module")
def analysis():
    settings = build_settings({"no_cache": True})
    with Analyzer(settings).analyze(EXAMPLE, EXAMPLE.name) as found:
        yield found


def _ids(query: KindQuery, text: str) -> set:
    key = query.kind.id_field or "id"
    return {str(record.get(key, record.get("id"))) for record in query.iterate(text)}


@pytest.mark.parametrize(("kind", "example"), EXAMPLES)
def test_a_filter_example_runs_plain_negated_doubled_and_repeated(analysis, kind, example):
    query = KindQuery(analysis, kind)
    every, plain = _ids(query, ""), _ids(query, example)
    assert _ids(query, "-" + example) == every - plain
    name, _, value = example.partition(":")
    if " " in value and not value.startswith('"'):  # a value with a space is quoted
        example = f'{name}:"{value}"'
        value = f'"{value}"'
    assert _ids(query, f"{example},{value}") == plain
    assert _ids(query, f"{example} {example}") == plain
