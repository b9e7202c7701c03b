"""Capture sources: local folders, remote HTTP servers and the bundled example.

Every face goes through `SourceRegistry`: it lists captures, resolves the names users and models
type, and hands back a local file to read. Nothing outside the configured sources is ever read.
"""

from mcpcap.core.sources.models import CaptureEntry, CaptureProbe, SourceInfo
from mcpcap.core.sources.registry import ResolvedCapture, SourceRegistry, resolve_cli_capture

__all__ = [
    "CaptureEntry",
    "CaptureProbe",
    "ResolvedCapture",
    "SourceInfo",
    "SourceRegistry",
    "resolve_cli_capture",
]
