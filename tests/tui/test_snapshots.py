"""SVG snapshots at fixed sizes, on captures with fixed dates and a store in a temporary folder.

Update with `python -m pytest tests/tui/test_snapshots.py --snapshot-update`, then look at
every changed SVG (the report pytest-textual-snapshot writes shows old and new side by side).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.tui.tui_support import app_for, capture_folder, settle

UNREACHABLE = "http://127.0.0.1:9/caps/"  # the discard port: nothing listens there


@pytest.fixture
def captures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A capture folder shown by a relative name, so no temporary path reaches the screen."""
    capture_folder(tmp_path)
    monkeypatch.chdir(tmp_path)
    return Path("captures")


def test_sources_browser(snap_compare, tmp_path: Path, captures: Path) -> None:
    app = app_for(tmp_path, pcap_paths=[str(captures)], pcap_urls=[UNREACHABLE])
    assert snap_compare(app, terminal_size=(100, 24), run_before=settle)


SIZES = [(80, 24), (120, 40), (200, 60)]


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_dns_overview(snap_compare, tmp_path: Path, captures: Path, size) -> None:
    app = app_for(tmp_path, capture="example.pcap", pcap_paths=[str(captures)])
    assert snap_compare(app, terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_dns_transactions_table(snap_compare, tmp_path: Path, captures: Path, size) -> None:
    """`2` on the bundled example: rcode and rtt show at every size, the cell cursor is on."""

    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)

    app = app_for(tmp_path, capture="example.pcap", pcap_paths=[str(captures)])
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_dns_transactions_scrolled_right(snap_compare, tmp_path: Path, captures: Path) -> None:
    """At 120x40, the cursor on an IPv6 client and the columns scrolled right: the address is
    whole, the columns dropped at first come back."""

    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press(*["down"] * 7, "right", "right")
        await settle(pilot)

    app = app_for(tmp_path, capture="example.pcap", pcap_paths=[str(captures)])
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_dns_overview_light_theme(snap_compare, tmp_path: Path, captures: Path) -> None:
    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)

    app = app_for(tmp_path, capture="example.pcap", pcap_paths=[str(captures)])
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_help_screen(snap_compare, tmp_path: Path, captures: Path) -> None:
    async def open_help(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    app = app_for(tmp_path, pcap_paths=[str(captures)])
    assert snap_compare(app, terminal_size=(100, 40), run_before=open_help)


def test_error_modal_for_a_bad_capture(snap_compare, tmp_path: Path, captures: Path) -> None:
    app = app_for(tmp_path, capture="notes.pcap", pcap_paths=[str(captures)])
    assert snap_compare(app, terminal_size=(100, 24), run_before=settle)
