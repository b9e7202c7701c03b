"""Where the bundled example capture lives (inside the wheel, or at the repository root)."""

from __future__ import annotations

from pathlib import Path

EXAMPLE_NAME = "example.pcap"


def example_path() -> Path:
    packaged = Path(__file__).resolve().parent.parent / "data" / EXAMPLE_NAME
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parent.parent.parent / EXAMPLE_NAME
