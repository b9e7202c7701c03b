"""The one command-line argument every conformance generator takes: where to write."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path


def output_folder(module: str, description: str) -> Path:
    """The folder named on the command line (default: a new temporary one), made if missing."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("folder", nargs="?", help="where to write (default: a new temp dir)")
    chosen = parser.parse_args().folder
    folder = Path(chosen or tempfile.mkdtemp(prefix=f"conformance-{module}-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
