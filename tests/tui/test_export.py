"""Export of the current view: three formats, atomic, never replacing a file without asking."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mcpcap.core.export import zeek_lines
from mcpcap.core.modules.kinds import find_kind
from mcpcap.modules.dns.export import DNS_LOG
from mcpcap.modules.dns.filters import parse_filter_text
from mcpcap.modules.dns.kinds import dns_kinds
from mcpcap.modules.dns.models import DnsTransaction
from mcpcap.modules.dns.tui.transactions import TransactionsPanel
from mcpcap.tui.export import ExportError, TargetExistsError, default_filename, export_records
from mcpcap.tui.screens.export import ConfirmScreen, ExportScreen
from tests.tui.test_transactions_support import PanelApp, open_dns, run_app, settle

FILTER = "rcode:NOERROR qtype:AAAA"


@pytest.fixture(scope="module")
def dns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    workspace, results = open_dns(tmp_path_factory.mktemp("cache"))
    yield results
    workspace.close()


KIND = find_kind(dns_kinds(), "dns.transactions")


def records(dns: Any, text: str = FILTER, sort: str = "ts") -> list[dict]:
    return list(dns.iter_transactions(parse_filter_text(text), sort=sort))


def test_default_file_names() -> None:
    assert default_filename("example.pcap", "jsonl", "dns") == "example-dns.jsonl"
    assert default_filename("dir/trace.pcapng.gz", "zeek", "dns") == "trace-dns.log"
    assert default_filename("x.cap", "csv", "dns") == "x-dns.csv"


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "zeek"])
def test_each_format_holds_every_record(dns: Any, tmp_path: Path, fmt: str) -> None:
    rows = records(dns)
    target = tmp_path / f"out.{fmt}"
    assert export_records(iter(rows), target, fmt, 1714554000.0, kind=KIND) == len(rows) > 0
    text = target.read_text()
    if fmt == "jsonl":
        assert [json.loads(line) for line in text.splitlines()] == rows
    elif fmt == "csv":
        table = list(csv.reader(io.StringIO(text)))
        assert table[0] == list(DnsTransaction.model_fields)
        assert len(table) == len(rows) + 1
    else:
        assert text.splitlines() == list(zeek_lines(DNS_LOG, rows, 1714554000.0))
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_refuses_to_replace_unless_told(dns: Any, tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("keep me\n")
    with pytest.raises(TargetExistsError):
        export_records(iter(records(dns)), target, "jsonl", kind=KIND)
    assert target.read_text() == "keep me\n"
    assert export_records(iter(records(dns)), target, "jsonl", kind=KIND, overwrite=True) > 0
    assert target.read_text() != "keep me\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_a_failed_export_leaves_nothing_behind(dns: Any, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n")

    def broken() -> Iterator[dict]:
        yield records(dns)[0]
        raise OSError(28, "No space left on device")

    with pytest.raises(ExportError, match="No space left"):
        export_records(broken(), target, "csv", kind=KIND, overwrite=True)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    with pytest.raises(ExportError, match="folder"):
        export_records(iter([]), tmp_path, "csv", kind=KIND)
    with pytest.raises(ExportError):
        export_records(iter([]), tmp_path / "missing" / "x.csv", "csv", kind=KIND)


async def _export(pilot: Any, path: Path, fmt_key: str | None = None) -> None:
    await pilot.press("e")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ExportScreen)
    if fmt_key is not None:
        radio = next(b for b in screen.query("RadioButton") if b.name == fmt_key)
        radio.value = True
        await settle(pilot)
    screen.query_one("#export-path").value = str(path)
    await pilot.click("#export-ok")
    await settle(pilot)


def test_export_from_the_panel_asks_before_replacing(dns: Any, tmp_path: Path) -> None:
    target = tmp_path / "view.csv"

    async def body(pilot) -> None:
        panel = pilot.app.query_one(TransactionsPanel)
        await pilot.press("s")
        await settle(pilot)
        await _export(pilot, target, "csv")
        table = list(csv.reader(io.StringIO(target.read_text())))
        expected = records(dns, FILTER, "-ts")
        assert len(table) == panel.total + 1 == len(expected) + 1
        assert table[1][:2] == [str(expected[0]["id"]), str(expected[0]["ts"])]
        first = target.read_text()
        target.write_text("precious\n")
        await _export(pilot, target, "csv")
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert target.read_text() == "precious\n"
        await _export(pilot, target, "csv")
        await pilot.press("y")
        await settle(pilot)
        assert target.read_text() == first
        messages = [n.message for n in pilot.app._notifications]
        assert any(f"Exported {len(expected)} transactions" in m for m in messages)

    run_app(PanelApp(dns, filter_text=FILTER), body)


@pytest.mark.parametrize("fmt", ["jsonl", "zeek"])
def test_export_formats_from_the_panel(dns: Any, tmp_path: Path, fmt: str) -> None:
    target = tmp_path / f"view.{fmt}"

    async def body(pilot) -> None:
        await _export(pilot, target, fmt)
        lines = target.read_text().splitlines()
        rows = records(dns)
        if fmt == "jsonl":
            assert [json.loads(line) for line in lines] == rows
        else:
            assert lines[0].startswith("#separator") and len(lines) == len(rows) + 9

    run_app(PanelApp(dns, filter_text=FILTER), body)


def test_export_error_is_one_sentence(dns: Any, tmp_path: Path) -> None:
    async def body(pilot) -> None:
        await _export(pilot, tmp_path / "no" / "such" / "dir.jsonl")
        errors = [n for n in pilot.app._notifications if n.severity == "error"]
        assert errors and errors[-1].message.startswith("Export failed: cannot write in")
        assert "Traceback" not in errors[-1].message

    run_app(PanelApp(dns, filter_text=FILTER), body)


def test_a_folder_is_never_offered_for_replacing(dns: Any, tmp_path: Path) -> None:
    async def body(pilot) -> None:
        await _export(pilot, tmp_path)
        assert not isinstance(pilot.app.screen, ConfirmScreen)
        errors = [n for n in pilot.app._notifications if n.severity == "error"]
        assert (
            errors
            and errors[-1].message == f"Export failed: {tmp_path} is a folder; give a file name."
        )

    run_app(PanelApp(dns, filter_text=FILTER), body)
