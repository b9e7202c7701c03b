"""Smaller tool schemas with the same meaning, so tools/list stays cheap for a model's context.

Pydantic's JSON Schema gives every property a `title`, spells an optional value as
`anyOf: [{type: X}, {type: null}]`, and writes `default: null` and `additionalProperties: true`
(what a schema means anyway). `compact_schema` drops those and writes a nullable type as
`type: [X, "null"]` (a nullable enum lists null among its values); what validates stays the
same and descriptions are kept. Input schemas write an optional argument whose default is null
without null (`compact_input_schema`): leaving it out means the same, and is what a model does;
the server still takes an explicit null. Output schemas also inline definitions used once and
leave out `required` (every field of a result is always present, which only loosens what a
client checks), defaults (a reply has every field, so a default says nothing about it), field
descriptions (the tool description says what the counts count; the README documents every
field) and the `type: object` of a nested object whose properties show it is one (like
`required`, that only loosens what a client checks).
"""

from __future__ import annotations

from typing import Any

DEFAULTS = {"default": None, "additionalProperties": True}  # what a schema means anyway


def compact_input_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """`compact_schema`, with optional arguments that default to null written without null."""
    required = set(schema.get("required", []))
    optional = {
        name
        for name, sub in schema.get("properties", {}).items()
        if name not in required and isinstance(sub, dict) and sub.get("default", 0) is None
    }
    out = compact_schema(schema)
    for name in optional:
        out["properties"][name] = _without_null(out["properties"][name])
    return out


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    types = schema.get("type")
    if not isinstance(types, list) or "null" not in types:
        return schema
    kept = [kind for kind in types if kind != "null"]
    out = {**schema, "type": kept[0] if len(kept) == 1 else kept}
    if "enum" in out:
        out["enum"] = [value for value in out["enum"] if value is not None]
    return out


def compact_output_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """`compact_schema` without `required` lists, defaults, field descriptions and the
    `type: object` of nested objects whose properties say what they are."""
    out = compact_schema(inline_single_refs(schema), drop=("required", "description", "default"))
    return {**_implied_objects(out), "type": out.get("type", "object")}


def _implied_objects(node: Any) -> Any:
    """`{type: object, properties | additionalProperties: ...}` without its `type`."""
    if isinstance(node, list):
        return [_implied_objects(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in ("properties", "$defs"):
            out[key] = {name: _implied_objects(sub) for name, sub in value.items()}
        else:
            out[key] = _implied_objects(value)
    if out.get("type") == "object" and ("properties" in out or "additionalProperties" in out):
        del out["type"]
    return out


def inline_single_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Write each definition used once in place of its `$ref` (the schema means the same)."""
    defs = dict(schema.get("$defs", {}))
    uses: dict[str, int] = {}
    _count_refs(schema, uses)
    once = {name for name, n in uses.items() if n == 1 and name in defs}
    if not once:
        return schema

    def replace(node: Any) -> Any:
        if isinstance(node, list):
            return [replace(item) for item in node]
        if not isinstance(node, dict):
            return node
        name = _ref_name(node)
        if name in once and len(node) == 1:
            return replace(defs[name])
        return {key: replace(value) for key, value in node.items() if key != "$defs"}

    out = replace(schema)
    kept = {name: replace(body) for name, body in defs.items() if name not in once}
    return {"$defs": kept, **out} if kept else out


def _count_refs(node: Any, uses: dict[str, int]) -> None:
    if isinstance(node, list):
        for item in node:
            _count_refs(item, uses)
    elif isinstance(node, dict):
        name = _ref_name(node)
        if name is not None:
            uses[name] = uses.get(name, 0) + 1
        for value in node.values():
            _count_refs(value, uses)


def _ref_name(node: dict[str, Any]) -> str | None:
    ref = node.get("$ref")
    prefix = "#/$defs/"
    return ref[len(prefix) :] if isinstance(ref, str) and ref.startswith(prefix) else None


def compact_schema(schema: Any, drop: tuple[str, ...] = ()) -> Any:
    if isinstance(schema, list):
        return [compact_schema(item, drop) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("properties", "$defs"):  # maps of names: keep every key
            out[key] = {name: compact_schema(sub, drop) for name, sub in value.items()}
        elif key in drop or key == "title" or (key in DEFAULTS and value is DEFAULTS[key]):
            continue
        else:
            out[key] = compact_schema(value, drop)
    return _nullable(out)


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """`anyOf: [{type: X, ...}, {type: null}]` -> `{type: [X, "null"], ...}` when X is plain;
    `anyOf: [{type: X}, {type: Y}]` -> `{type: [X, Y]}`."""
    branches = schema.get("anyOf")
    if not isinstance(branches, list):
        return schema
    others = [branch for branch in branches if branch != {"type": "null"}]
    nulls = ["null"] if len(others) < len(branches) else []
    if not all(isinstance(b.get("type"), str) for b in others):
        return schema  # a $ref or nested union: leave as it is
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    if len(others) == 1 and nulls:
        return _allow_null({**others[0], **rest, "type": [others[0]["type"], "null"]})
    if len(others) > 1 and all(set(branch) == {"type"} for branch in others):
        return {**rest, "type": [*(branch["type"] for branch in others), *nulls]}
    return schema


def _allow_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A nullable `enum` or `const` lists null among its values, or null would still fail it."""
    if "const" in schema:
        schema = {**schema, "enum": [schema["const"]]}
        del schema["const"]
    if "enum" in schema and None not in schema["enum"]:
        schema = {**schema, "enum": [*schema["enum"], None]}
    return schema
