"""Tool arguments are checked against the advertised input schema, and refused in one sentence.

The SDK validates arguments with a pydantic model that ignores names it does not know (a typo
such as `qname_sufix` would silently return every transaction), converts values of another
JSON type than the schema says (`"5"` for 5, and `true` for 1: `qtype: true` would ask for A
records) and reports a wrong value as a multi-line pydantic dump with a URL. `CheckedTool`
refuses an unknown name, with the closest accepted one, and a value of a JSON type its
property does not declare, and turns a validation failure into one sentence built from the
input schema (what the argument must be, and a short quote of what it was).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.tools import Tool
from pydantic import ValidationError

from mcpcap.core.wording import did_you_mean, quoted

ERROR_CHARS = 2000  # an error reply is one sentence; never more than this (the budget is >= 4000)
TYPE_WORDS = {
    "integer": "a whole number",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
}


class CheckedTool(Tool):
    """A tool that refuses unknown argument names and explains a bad value in one sentence."""

    async def run(self, arguments: dict[str, Any], context: Any, convert_result: bool = False):
        unknown = [name for name in arguments if name not in self.properties]
        if unknown:
            raise self.error(self.unknown_argument(unknown[0]))
        for name, value in arguments.items():
            if not fits(value, self.properties[name]):
                wanted = expected(self.properties[name])
                raise self.error(f"{name} must be {wanted}, not {quoted(value)}")
        try:
            return await super().run(arguments, context, convert_result)
        except UnexpectedToolError:
            raise
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                raise self.error(self.bad_value(exc.__cause__, arguments)) from None
            raise

    @property
    def properties(self) -> dict[str, Any]:
        return self.parameters.get("properties", {})

    def error(self, sentence: str) -> ToolError:
        """A ToolError worded as the SDK words the others."""
        return ToolError(bounded(f"Error executing tool {self.name}: {sentence}"))

    def unknown_argument(self, name: str) -> str:
        hint = did_you_mean(name, self.properties)
        listed = f"; {self.name} takes {', '.join(self.properties)}"
        return f"unknown argument {quoted(name)}" + (hint or listed)

    def bad_value(self, error: ValidationError, arguments: dict[str, Any]) -> str:
        problem = error.errors()[0]
        name = str(problem["loc"][0]) if problem["loc"] else "arguments"
        if problem["type"] == "missing":
            return f"{name} is required"
        wanted = expected(self.properties.get(name, {}))
        return f"{name} must be {wanted}, not {quoted(arguments.get(name))}"


# what each JSON Schema type takes of the values a JSON text decodes to (JSON Schema counts
# 5.0 an integer; a boolean is no number)
JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "integer": lambda v: type(v) is int or (type(v) is float and v.is_integer()),
    "number": lambda v: type(v) in (int, float),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


def fits(value: Any, schema: dict[str, Any]) -> bool:
    """Whether a value has a JSON type its property's schema declares (any, where it declares
    none). Null always does: the SDK takes it as the argument left out."""
    types = schema.get("type")
    if value is None or types is None:
        return True
    types = [types] if isinstance(types, str) else types
    return any(JSON_TYPES.get(kind, lambda _: True)(value) for kind in types)


def expected(schema: dict[str, Any]) -> str:
    """What a property's schema accepts, in words: "a whole number from 1 to 1000"."""
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    words = [TYPE_WORDS.get(kind, kind) for kind in types if kind != "null"]
    text = " or ".join(words) or "a valid value"
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        text += f" from {low} to {high}"
    elif low is not None:
        text += f" of at least {low}"
    elif high is not None:
        text += f" of at most {high}"
    return text


def bounded(text: str, limit: int = ERROR_CHARS) -> str:
    """`text`, cut to `limit` characters (a last resort: errors quote values short)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
