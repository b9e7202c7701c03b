"""What the conformance generators share: the one argument they take (where to write), and
writing one capture per case family."""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


def output_folder(module: str, description: str) -> Path:
    """The folder named on the command line (default: a new temporary one), made if missing."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("folder", nargs="?", help="where to write (default: a new temp dir)")
    chosen = parser.parse_args().folder
    folder = Path(chosen or tempfile.mkdtemp(prefix=f"conformance-{module}-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_families(
    folder: Path, module: str, families: Mapping[str, Callable[[Any], None]], new_capture: Callable
) -> None:
    """Each family's capture (`build(capture)` fills a `new_capture()`, whose `packets` are
    written) as `<module>-<family>.pcap` in `folder`."""
    from scapy.utils import wrpcap

    for name, build in families.items():
        capture = new_capture()
        build(capture)
        wrpcap(str(folder / f"{module}-{name}.pcap"), capture.packets)
        print(f"{name}: {len(capture.packets)} frames")
