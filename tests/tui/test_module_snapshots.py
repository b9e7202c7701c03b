"""Every built-in module's overview and first table at 80x24, 120x40 and 200x60 (DNS's are in
test_snapshots.py), each on a capture of its own under tests/fixtures with only that module on.

Update with `python -m pytest tests/tui/test_module_snapshots.py --snapshot-update`, then look
at every changed SVG.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from textual.pilot import Pilot

from mcpcap.tui.app import McpcapApp
from tests.tui.tui_support import FIXED_MTIME, settings, settle

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CAPTURES = {  # module: a capture with its traffic
    "conn": FIXTURES / "conn" / "conn.pcap",
    "http": FIXTURES / "http" / "http_basic.pcap",
    "tls": FIXTURES / "tls" / "tls.pcap",
    "dhcp": FIXTURES / "dhcp_icmp" / "dhcp.pcap",
    "icmp": FIXTURES / "dhcp_icmp" / "icmp.pcap",
}
SIZES = [(80, 24), (120, 40), (200, 60)]


def module_app(root: Path, module: str, monkeypatch: pytest.MonkeyPatch) -> McpcapApp:
    """The module's capture alone in a folder shown by a relative name, only that module on."""
    capture = CAPTURES[module]
    folder = root / "captures"
    folder.mkdir()
    shutil.copy(capture, folder / capture.name)
    os.utime(folder / capture.name, (FIXED_MTIME, FIXED_MTIME))
    monkeypatch.chdir(root)
    chosen = settings(root, pcap_paths=["captures"], modules=[module])
    return McpcapApp(chosen, capture.name)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
@pytest.mark.parametrize("view", ["1", "2"], ids=["overview", "table"])
@pytest.mark.parametrize("module", list(CAPTURES))
def test_module_view(snap_compare, tmp_path: Path, monkeypatch, module: str, view: str,
                     size) -> None:  # fmt: skip
    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press(view)
        await settle(pilot)

    app = module_app(tmp_path, module, monkeypatch)
    assert snap_compare(app, terminal_size=size, run_before=run_before)
