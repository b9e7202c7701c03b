"""Capture sources: local folders, remote HTTP servers and the bundled example.

Every face goes through `SourceRegistry`: it lists captures, resolves the names users and models
type, and hands back a local file to read. Nothing outside the configured sources is ever read.
"""

from importlib import import_module

_EXPORTS = {
    "CaptureEntry": "models",
    "CaptureProbe": "models",
    "SourceInfo": "models",
    "ResolvedCapture": "registry",
    "SourceRegistry": "registry",
    "resolve_cli_capture": "arguments",
}

__all__ = [
    "CaptureEntry",
    "CaptureProbe",
    "ResolvedCapture",
    "SourceInfo",
    "SourceRegistry",
    "resolve_cli_capture",
]


def __getattr__(name: str):
    """Import on first use: `mcpcap analyze` on a plain file never needs the registry."""
    if name in _EXPORTS:
        return getattr(import_module(f"mcpcap.core.sources.{_EXPORTS[name]}"), name)
    raise AttributeError(name)
