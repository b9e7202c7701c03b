"""The README's DHCP and ICMP sections name every field of the summaries, every ranking field
and filter of the kinds, and every malformed reason the decoders can give."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from mcpcap.modules.dhcp.kinds import dhcp_kinds
from mcpcap.modules.dhcp.models import DhcpSummary
from mcpcap.modules.icmp.kinds import icmp_kinds
from mcpcap.modules.icmp.models import IcmpSummary

ROOT = Path(__file__).resolve().parents[3]
README = (ROOT / "README.md").read_text(encoding="utf-8")
MODULES = {
    # module: (section heading, summary model, record kinds)
    "dhcp": ("### DHCP (`--records dhcp.transactions`)", DhcpSummary, dhcp_kinds),
    "icmp": ("### ICMP (`--records icmp.messages`)", IcmpSummary, icmp_kinds),
}
CUT_SHORT = " is cut short"  # what icmp's `_need(data, size, what, ...)` says after `what`


def section(module: str) -> str:
    heading = MODULES[module][0]
    assert heading in README, heading
    text = README.split(heading)[1].split("\n### ")[0].split("\n## ")[0]
    return " ".join(text.split())  # a reason may wrap over two lines


def documented(name: str, text: str) -> bool:
    """Whether `name` is written as code (`name`, `timeline {start, ...}`, `name>1`)."""
    word = re.compile(rf"\b{re.escape(name)}\b")
    return any(word.search(span) for span in re.findall(r"`([^`]*)`", text))


def model_fields(model: type[BaseModel]) -> set[str]:
    """The model's field names and those of the models inside it, schema_version aside."""
    names: set[str] = set()
    for name, info in model.model_fields.items():
        names.add(name)
        for inner in re.findall(r"[A-Za-z]+", str(info.annotation)):
            found = getattr(__import__(model.__module__, fromlist=[inner]), inner, None)
            if isinstance(found, type) and issubclass(found, BaseModel) and found is not model:
                names |= model_fields(found)
    return names - {"schema_version"}


@pytest.mark.parametrize("module", MODULES)
def test_every_summary_field_is_documented(module):
    text = section(module)
    for name in model_fields(MODULES[module][1]):
        assert documented(name, text), name


@pytest.mark.parametrize("module", MODULES)
def test_every_ranking_field_and_filter_is_documented(module):
    text = section(module)
    records = MODULES[module][2]()[0]
    for name in [spec.name for spec in records.rank_by] + [spec.name for spec in records.filters]:
        assert documented(name, text), name


def _render(node: ast.AST, constants: dict[str, object]) -> str | None:
    """A reason's text: f-string fields as `N` (a number) or a module constant's value."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if not isinstance(node, ast.JoinedStr):
        return None
    parts = []
    for value in node.values:
        if isinstance(value, ast.FormattedValue):
            name = value.value.id if isinstance(value.value, ast.Name) else ""
            parts.append(str(constants.get(name, "N")) if name != "name" else "NAME")
        else:
            parts.append(str(value.value))
    return "".join(parts)


def _is_malformed(target: ast.AST) -> bool:
    key = target.slice if isinstance(target, ast.Subscript) else None
    return (isinstance(target, ast.Name) and target.id == "malformed") or (
        isinstance(key, ast.Constant) and key.value == "malformed"
    )


def _texts(node: ast.AST, constants: dict[str, object]) -> list[str]:
    """The strings a value can be: both sides of `a if c else b` and of `x or y`."""
    if isinstance(node, ast.IfExp):
        return _texts(node.body, constants) + _texts(node.orelse, constants)
    if isinstance(node, ast.BoolOp):
        return [text for value in node.values for text in _texts(value, constants)]
    text = _render(node, constants)
    return [text] if text is not None else []


def _inside_readers(tree: ast.Module) -> set[int]:
    """The nodes of DHCPv4's option value readers (`V4_READERS`) that only those options use:
    what they raise is caught and reported as `option N (NAME) is malformed`. `_need`'s body
    too: its callers say what was cut short."""
    readers: set[str] = set()
    outside: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "V4_READERS":
            readers |= {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.FunctionDef):
            calls = (n.func for n in ast.walk(node) if isinstance(n, ast.Call))
            outside |= {f.id for f in calls if isinstance(f, ast.Name) and f.id != node.name}
    skipped = (readers - outside) | {"_need"}
    return {
        id(inner)
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name in skipped
        for inner in ast.walk(node)
    }


def reasons_in(path: Path) -> set[str]:
    """Every reason the decoder in `path` can give: what `Malformed(...)` is raised with, what
    `_need` says is cut short, what is assigned to a `malformed` field, and the reason a 7-tuple
    decoding (icmp's) returns last."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants = {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant) and isinstance(node.value.value, int)
    }  # fmt: skip
    skipped = _inside_readers(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
            if node.func.id in ("Malformed", "_Malformed"):
                found += _texts(node.args[0], constants)
            elif node.func.id == "_need":
                found += [text + CUT_SHORT for text in _texts(node.args[2], constants)]
        elif isinstance(node, ast.Assign) and any(_is_malformed(t) for t in node.targets):
            found += _texts(node.value, constants)
        elif isinstance(node, ast.Return) and len(getattr(node.value, "elts", ())) == 7:
            found += _texts(node.value.elts[-1], constants)
    return set(found)


def test_what_a_dhcpv4_option_reader_raises_is_reported_as_the_option():
    """What the readers left out above raise never reaches a record as it is."""
    from mcpcap.modules.dhcp import wire

    sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
    import make_dhcp_icmp_captures as gen

    short_lease = gen.opt(51, b"\x00\x01")  # `number length` inside
    msg = wire.decode_v4(gen.client(gen.REQUEST, 7, gen.MAC["A"], short_lease))
    assert msg["malformed"] == "option 51 (lease_time) is malformed"


@pytest.mark.parametrize(
    ("module", "some"),
    [
        ("dhcp", {"wrong magic cookie", "relay messages nested deeper than 8",
                  "option N (NAME) is malformed", "option N runs past the end of its field"}),
        ("icmp", {"quoted IPv4 header is cut short", "an ICMP error about an ICMP error",
                  "neighbour discovery option N is cut short", "shorter than the ICMP header"}),
    ],
)  # fmt: skip
def test_every_malformed_reason_is_documented(module, some):
    reasons = reasons_in(ROOT / "mcpcap" / "modules" / module / "wire.py")
    assert some <= reasons
    text = section(module)
    for reason in reasons:
        assert f"`{reason}`" in text, reason
