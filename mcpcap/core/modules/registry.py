"""Which protocol modules exist: the `mcpcap.modules` entry-point group.

A third party adds a protocol by shipping a package with an entry point in that group, exactly as
mcpcap's own modules are registered (see pyproject.toml, which declares every one of them). The
built-in table repeats those entry points (a test keeps the two equal): it is the fallback for
running from a source tree that was never installed, and the order of the default modules.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from functools import lru_cache
from importlib import import_module
from typing import TYPE_CHECKING, Any

from mcpcap.core.errors import UnknownModuleError

if TYPE_CHECKING:
    from mcpcap.core.modules.contract import ProtocolModule

ENTRY_POINT_GROUP = "mcpcap.modules"
BUILTIN_MODULES = {
    "dns": "mcpcap.modules.dns.module:DnsModule",
    "conn": "mcpcap.modules.conn.module:ConnModule",
    "http": "mcpcap.modules.http.module:HttpModule",
    "tls": "mcpcap.modules.tls.module:TlsModule",
    "dhcp": "mcpcap.modules.dhcp.module:DhcpModule",
    "icmp": "mcpcap.modules.icmp.module:IcmpModule",
}
BUILTIN_PACKAGE = "mcpcap"


class DuplicateModuleError(UnknownModuleError):
    """Two packages register a module under the same name."""

    code = "duplicate_module"


@lru_cache(maxsize=1)
def registered() -> dict[str, str]:
    """Module name -> `package.module:Class`, built-ins first; a clash names both packages."""
    from importlib.metadata import entry_points

    found = dict(BUILTIN_MODULES)
    owners = dict.fromkeys(BUILTIN_MODULES, BUILTIN_PACKAGE)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        owner = ep.dist.name if ep.dist is not None else ep.value.partition(".")[0]
        if ep.name in found and found[ep.name] != ep.value:
            raise DuplicateModuleError(
                f"two packages register the module {ep.name!r}: {owners[ep.name]} "
                f"({found[ep.name]}) and {owner} ({ep.value}); uninstall one of them"
            )
        found[ep.name] = ep.value
        owners[ep.name] = owner
    return found


def available_modules() -> list[str]:
    return sorted(registered())


def load_module(name: str) -> ProtocolModule:
    targets = registered()
    if name not in targets:
        raise UnknownModuleError(
            f"unknown module {name!r}; available modules: {', '.join(sorted(targets))}"
        )
    module_path, _, attr = targets[name].partition(":")
    module = getattr(import_module(module_path), attr)()
    if module.name != name:
        raise UnknownModuleError(
            f"the module registered as {name!r} calls itself {module.name!r}; "
            "its entry point and its name must agree"
        )
    return module


def load_modules(names: Iterable[str] | None) -> list[ProtocolModule]:
    """The chosen modules (all registered ones when `names` is None), built-ins first."""
    if names is None:
        others = sorted(set(registered()) - set(BUILTIN_MODULES))
        chosen = [*BUILTIN_MODULES, *others]
    else:
        chosen = list(dict.fromkeys(names))
    return [load_module(name) for name in chosen]


def open_other_results(db: sqlite3.Connection, kind_name: str, capture: dict, settings: Any):
    """(results, kind) of another module's record kind (`dns.transactions`), for a module whose
    records read it (TLS's `resolved_by` reads DNS), or None when that module was not chosen
    (its results are then not even imported) or cannot be loaded."""
    from mcpcap.core.modules.kinds import find_kind

    name = kind_name.partition(".")[0]
    chosen = getattr(settings, "modules", None)
    if chosen is not None and name not in chosen:
        return None
    try:
        module = load_module(name)
        kind = find_kind(module.kinds(), kind_name)
        return module.open_results(db, {}, capture, settings), kind
    except Exception:  # not installed, or of another shape: no look-ups
        return None
