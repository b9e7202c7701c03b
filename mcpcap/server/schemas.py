"""Smaller tool schemas with the same meaning, so tools/list stays cheap for a model's context.

Pydantic's JSON Schema repeats a `title` for every property, spells an optional value as
`anyOf: [{type: X}, {type: null}]` and writes `default: null` for every optional argument.
`compact_schema` drops the generated titles and `default: null` (optional arguments are the ones
not in `required`) and writes a nullable type as `type: [X, "null"]`. What validates stays the
same; descriptions are kept. Output schemas also leave out `required` (every field of a result
is always present), which only loosens what a client checks.
"""

from __future__ import annotations

from typing import Any


def compact_output_schema(schema: Any) -> Any:
    """`compact_schema` without `required` lists: every field of a result is always present."""
    return compact_schema(schema, drop=("required",))


def compact_schema(schema: Any, drop: tuple[str, ...] = ()) -> Any:
    if isinstance(schema, list):
        return [compact_schema(item, drop) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("properties", "$defs"):  # maps of names: keep every key
            out[key] = {name: compact_schema(sub, drop) for name, sub in value.items()}
        elif key == "title" or key in drop or (key == "default" and value is None):
            continue
        else:
            out[key] = compact_schema(value, drop)
    return _nullable(out)


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """`anyOf: [{type: X, ...}, {type: null}]` -> `{type: [X, "null"], ...}` when X is plain."""
    branches = schema.get("anyOf")
    if not isinstance(branches, list) or {"type": "null"} not in branches:
        return schema
    others = [branch for branch in branches if branch != {"type": "null"}]
    if not all(isinstance(b.get("type"), str) for b in others):
        return schema  # a $ref or nested union: leave as it is
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    if len(others) == 1:
        return {**others[0], **rest, "type": [others[0]["type"], "null"]}
    if all(set(branch) == {"type"} for branch in others):
        return {**rest, "type": [*(branch["type"] for branch in others), "null"]}
    return schema
