"""The module contract and registry moved to `mcpcap.core.modules`; this name re-exports them.

One definition lives in the core (`contract`, `registry`); importers move there and this file
goes away.
"""

from mcpcap.core.modules.contract import ModuleResults, ModuleScan, ProtocolModule
from mcpcap.core.modules.registry import (
    BUILTIN_MODULES,
    ENTRY_POINT_GROUP,
    DuplicateModuleError,
    available_modules,
    load_module,
    load_modules,
    registered,
)

__all__ = [
    "BUILTIN_MODULES",
    "ENTRY_POINT_GROUP",
    "DuplicateModuleError",
    "ModuleResults",
    "ModuleScan",
    "ProtocolModule",
    "available_modules",
    "load_module",
    "load_modules",
    "registered",
]
