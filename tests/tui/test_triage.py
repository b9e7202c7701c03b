"""Issue 18's triage, driven with Pilot on the bundled example (and the malformed fixture):
columns that fit, the keys help lists, cell actions, go to a time, the placeholder, rankings,
the light theme's contrast, the clipboard's wording and the DNS malformed view."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from mcpcap.modules.dns.filters import parse_filter_text
from mcpcap.modules.dns.tui.malformed import MalformedPanel
from mcpcap.modules.dns.tui.overview import DnsOverview, RankTable
from mcpcap.modules.dns.tui.transactions import TransactionsPanel
from mcpcap.tui import clipboard
from mcpcap.tui.kind_rows import middle_ellipsis
from mcpcap.tui.screens.help import HelpScreen
from mcpcap.tui.widgets.kind_table import KindPanel
from mcpcap.tui.widgets.sources import SourcesTree
from tests.tui.tui_support import FIXTURES, app_for, capture_folder, settle

Body = Callable[[Pilot], Awaitable[None]]


def run(root: Path, body: Body, size: tuple[int, int] = (120, 40), **kwargs: Any) -> None:
    app = app_for(root, capture=kwargs.pop("capture", "example.pcap"), **kwargs)

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await body(pilot)

    asyncio.run(main())


def header(panel: Any) -> str:
    return panel.table.render_line(0).text


def row_text(panel: Any, position: int) -> str:
    table = panel.table
    return table.render_line(position - round(table.scroll_y) + 1).text


def contrast(one: Any, other: Any) -> float:
    """The WCAG contrast ratio of two Textual colours."""

    def luminance(color: Any) -> float:
        def channel(value: int) -> float:
            c = value / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)

    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_rcode_and_rtt_fit_and_every_column_is_reached(tmp_path: Path, size) -> None:
    async def body(pilot: Pilot) -> None:
        await pilot.press("2")
        await settle(pilot)
        panel = pilot.app.screen.query_one(TransactionsPanel)
        assert panel.table.has_focus
        titles = header(panel).replace("▶", " ").split()
        assert {"rcode", "rtt", "client", "query"} <= set(titles)
        await pilot.press(*["down"] * 7)  # transaction 8: an IPv6 client and server
        record = panel.table.current()
        assert ":" in record["client"] and ":" in record["server"]
        assert record["client"] in row_text(panel, 7)  # the address is never cut
        reached = [panel.table.current_field().name]
        for _ in panel.table.fields:
            await pilot.press("right")
            reached.append(panel.table.current_field().name)
            spec = panel.table.current_field()
            if spec.name == "server":
                assert record["server"] in row_text(panel, 7)
        assert [s.name for s in panel.table.fields] == list(dict.fromkeys(reached))
        assert header(panel).startswith(" ◀") or header(panel).lstrip().startswith("◀")
        await pilot.press(*["left"] * len(panel.table.fields))
        assert panel.table.first_column == 0

    run(tmp_path, body, size=size)


def test_help_lists_every_key_and_each_works_in_the_table(tmp_path: Path) -> None:
    """Each key help lists for the tables is bound where it says, and pressing it runs."""

    async def body(pilot: Pilot) -> None:
        app = pilot.app
        await pilot.press("2")
        await settle(pilot)
        rows = app.key_help()
        keys = {key for key, _ in rows if key}
        for wanted in ("/", "s", "g", "f", "n", "N", "c", "C", "+", "-", "o", "m", "e", "f2"):
            assert wanted in keys, wanted
        descriptions = {text for _, text in rows}
        assert {"The first row", "The last row"} <= descriptions
        assert any(text.startswith("Move to the cell on the right") for text in descriptions)
        panel = app.screen.query_one(TransactionsPanel)
        bound = {b.key for b in panel.BINDINGS} | {b.key for b in panel.table.BINDINGS}
        for binding in app.screen.table_bindings():
            assert binding.key in bound
        commands = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Export", "Find", "Go to", "Copy cell", "Filter by value", "Sort"} <= commands
        # every table key, pressed in the table, does something and leaves the app usable
        for binding in app.screen.table_bindings():
            if binding.key in ("escape",):
                continue
            panel.table.focus()
            await pilot.press(binding.key)
            await settle(pilot)
            while app.screen is not app.screen_stack[0]:  # a modal (export, MCP call)
                await pilot.press("escape")
                await settle(pilot)
            await pilot.press("escape")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)

    run(tmp_path, body)


def test_f2_toggles_sources_everywhere_and_s_sorts(tmp_path: Path) -> None:
    folder = capture_folder(tmp_path)

    async def body(pilot: Pilot) -> None:
        screen = pilot.app.screen
        sources = screen.query_one("#sources")
        assert sources.display  # 160 columns: room for it
        await pilot.press("shift+tab", "shift+tab")
        assert isinstance(pilot.app.focused, SourcesTree)
        await pilot.press("2")
        await settle(pilot)
        panel = screen.query_one(TransactionsPanel)
        await pilot.press("f2")
        assert not sources.display and panel.table.has_focus
        await pilot.press("s")
        await settle(pilot)
        assert panel.sort == "-ts"
        await pilot.press("f2")
        assert sources.display

    run(tmp_path, body, size=(160, 45), pcap_paths=[str(folder)])


def test_cell_actions_copy_and_filter(tmp_path: Path) -> None:
    async def body(pilot: Pilot) -> None:
        app = pilot.app
        await pilot.press("2")
        await settle(pilot)
        panel = app.screen.query_one(TransactionsPanel)
        await pilot.press("right")  # the client cell
        client = panel.table.current()["client"]
        await pilot.press("c")
        assert app.clipboard == client
        await pilot.press("C")
        assert json.loads(app.clipboard)["id"] == panel.table.current()["id"]
        await pilot.press("plus")
        await settle(pilot)
        assert panel.filter_bar.applied_text == f"client:{client}"
        expected = panel.results.count(parse_filter_text(f"client:{client}"))
        assert panel.total == expected
        while panel.table.current_field().name != "rcode_name":
            await pilot.press("right")
        await pilot.press("minus")
        await settle(pilot)
        assert panel.filter_bar.applied_text.endswith("-rcode:NOERROR")
        assert all(r["rcode_name"] != "NOERROR" for r in panel.table.order.records(0, 50))

    run(tmp_path, body)


def test_go_to_a_time_and_find_in_a_generic_table(tmp_path: Path) -> None:
    async def body(pilot: Pilot) -> None:
        app = pilot.app
        await pilot.press("2")
        await settle(pilot)
        panel = app.screen.query_one(TransactionsPanel)
        await pilot.press("g", *"09:01:10", "enter")
        await settle(pilot)
        here = panel.table.current()
        before = panel.table.order.record(panel.table.cursor - 1)
        assert here["time"] >= "2024-05-01T09:01:10" > before["time"]
        await pilot.press("3")  # the messages: the generic table
        await settle(pilot)
        messages = app.screen.query_one("#dns-messages KindPanel", KindPanel)
        await pilot.press("g", *"40", "enter")
        await settle(pilot)
        assert messages.table.current()["frame"] == 40
        await pilot.press("f", *"github", "enter")
        await settle(pilot)
        found = messages.table.current()
        assert "github" in json.dumps(found) and found["frame"] > 40
        await pilot.press("g", *"no-such-time", "enter")
        await settle(pilot)
        assert any("go to takes" in n.message for n in app._notifications)

    run(tmp_path, body)


def test_placeholder_examples_match_the_bundled_example(tmp_path: Path) -> None:
    async def body(pilot: Pilot) -> None:
        await pilot.press("2")
        await settle(pilot)
        panel = pilot.app.screen.query_one(TransactionsPanel)
        shown = panel.filter_bar.input.placeholder.split("  (")[0]
        assert shown and ":" in shown
        assert panel.results.count(parse_filter_text(shown)) > 0
        await pilot.press("slash", *"rcode:NXDOMAN")
        await settle(pilot)
        assert "did you mean 'NXDOMAIN'?" in panel.filter_bar.error

    run(tmp_path, body)


def test_rankings_keep_counts_visible_with_long_names(tmp_path: Path) -> None:
    long = "ndpi-dns_exfiltration." + "a" * 60 + ".example.com"

    async def body(pilot: Pilot) -> None:
        overview = pilot.app.screen.query_one(DnsOverview)
        summary = overview.dns
        first = summary.top_qnames[0].model_copy(update={"name": long})
        changed = summary.model_copy(update={"top_qnames": [first, *summary.top_qnames[1:]]})
        pane = overview.parent
        await overview.remove()
        await pane.mount(DnsOverview(overview.capture, changed, id="dns-overview"))
        await settle(pilot)
        table = pilot.app.screen.query_one("#top-qnames", RankTable)
        line = table.render_line(1).text  # the first row under the header
        assert line.rstrip().endswith(f"{first.count:>7,}".strip())
        assert "…" in line and line.strip().startswith("ndpi-dns")
        assert table.region.right <= pilot.app.screen.size.width
        table.move_cursor(row=0)
        await settle(pilot)
        assert table.tooltip == long

    run(tmp_path, body)


def test_middle_ellipsis() -> None:
    assert middle_ellipsis("abcdefghij", 5) == "ab…ij"
    assert middle_ellipsis("short", 10) == "short"
    assert len(middle_ellipsis("x" * 100, 21)) == 21


def test_light_theme_headings_are_readable(tmp_path: Path) -> None:
    async def body(pilot: Pilot) -> None:
        await pilot.press("d")
        await settle(pilot)
        title = pilot.app.screen.query(".ranking-title").first()
        color, background = title.styles.color, title.background_colors[1]
        assert contrast(color, background) >= 4.5

    run(tmp_path, body)


def test_malformed_view_lists_messages_with_reasons(tmp_path: Path) -> None:
    folder = tmp_path / "captures"
    folder.mkdir()
    shutil.copy(FIXTURES / "malformed.pcap", folder / "malformed.pcap")

    async def body(pilot: Pilot) -> None:
        screen = pilot.app.screen
        expected = screen.analysis.module("dns").summary().malformed
        assert expected.total > 0
        assert [title for title, _ in screen.views()][3] == "Malformed"
        await pilot.press("4")
        await settle(pilot)
        panel = screen.query_one(MalformedPanel)
        assert panel.kind.name == "dns.malformed" and panel.table.has_focus
        source = panel.table.source
        rows = [source.record(i) for i in range(len(source))]
        assert len(rows) == expected.total
        reasons: dict[str, int] = {}
        for record in rows:
            reasons[record["reason"]] = reasons.get(record["reason"], 0) + 1
        assert reasons == dict(expected.by_reason)
        assert rows[0]["reason"] in row_text(panel, 0)
        await pilot.press("enter")
        await settle(pilot)
        body_text = str(panel.query_one(".kind-detail-body").render())
        assert f"frame {rows[0]['frame']}" in body_text
        assert f"Malformed: {rows[0]['reason']}" in body_text

    run(tmp_path, body, capture="malformed.pcap", pcap_paths=[str(folder)])


def test_clipboard_says_what_it_did(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Headless:
        is_headless = True
        _driver = None
        copied = ""

        def copy_to_clipboard(self, text: str) -> None:
            self.copied = text

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    app = Headless()
    assert "shown only" in clipboard.copy_text(app, "x") and app.copied == "x"
    tmux = shutil.which("tmux")
    if tmux is None:
        return
    socket = tmp_path / "tmux.sock"
    name = f"clip-{uuid.uuid4().hex[:6]}"
    subprocess.run([tmux, "-S", str(socket), "new-session", "-d", "-s", name], check=True)
    try:
        monkeypatch.setenv("TMUX", f"{socket},{os.getpid()},0")
        for value, expected in (("off", False), ("external", True)):
            subprocess.run([tmux, "-S", str(socket), "set-option", "-g", "set-clipboard", value],
                           check=True)  # fmt: skip
            assert clipboard.tmux_passes_osc52() is expected
    finally:
        subprocess.run([tmux, "-S", str(socket), "kill-server"], check=False)


def test_typed_filter_never_loses_the_table(tmp_path: Path) -> None:
    async def body(pilot: Pilot) -> None:
        await pilot.press("2", "slash", *"rcode:NXDOMAIN", "enter")
        await settle(pilot)
        panel = pilot.app.screen.query_one(TransactionsPanel)
        assert isinstance(pilot.app.focused, type(panel.table))
        assert panel.total == panel.results.count(parse_filter_text("rcode:NXDOMAIN"))
        assert not isinstance(pilot.app.focused, Input)

    run(tmp_path, body)


def test_mcp_call_of_a_negated_filter_is_a_records_call(tmp_path: Path) -> None:
    from mcpcap.tui.widgets.mcp_call import McpCallScreen

    async def body(pilot: Pilot) -> None:
        await pilot.press("2", "slash", *"-rcode:NOERROR", "enter")
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, McpCallScreen)
        (call,) = screen.calls
        assert call.tool == "records"
        assert call.arguments["filter"] == "-rcode:NOERROR"
        assert call.arguments["kind"] == "dns.transactions"
        note = str(screen.query_one("#mcp-note").render())
        assert "shown only" in note  # a headless run: nothing was sent anywhere

    run(tmp_path, body)


def test_filter_bar_completes_names_and_values_and_keeps_history(tmp_path: Path) -> None:
    async def body(pilot: Pilot) -> None:
        await pilot.press("2")
        await settle(pilot)
        panel = pilot.app.screen.query_one(TransactionsPanel)
        bar = panel.filter_bar
        await pilot.press("slash", *"rco")
        await pilot.pause(0.2)
        await pilot.press("right")  # accepts the completion
        assert bar.input.value == "rcode:"
        await pilot.press(*"NXD")
        await pilot.pause(0.2)
        await pilot.press("right")
        assert bar.input.value == "rcode:NXDOMAIN"
        await pilot.press(*" qname:git")  # a value from the store: the most frequent first
        await settle(pilot)
        await pilot.pause(0.2)
        await pilot.press("right")
        assert bar.input.value == "rcode:NXDOMAIN qname:github.com"
        bar.input.value = "rcode:NXDOMAIN"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("slash")
        bar.input.value = "qtype:AAAA"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("slash", "up")
        assert bar.input.value == "qtype:AAAA"
        await pilot.press("up")
        assert bar.input.value == "rcode:NXDOMAIN"
        await pilot.press("down", "down")
        assert bar.input.value == ""

    run(tmp_path, body)


def test_column_chooser_hides_columns_and_remembers_them(tmp_path: Path) -> None:
    from mcpcap.tui.columns import state_path
    from mcpcap.tui.screens.columns import ColumnsScreen

    async def body(pilot: Pilot) -> None:
        await pilot.press("2")
        await settle(pilot)
        panel = pilot.app.screen.query_one(TransactionsPanel)
        assert "client" in header(panel).split()
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ColumnsScreen)
        await pilot.press("down", "space")  # the second field, client, off
        await settle(pilot)
        assert "client" not in header(panel).split()  # at once, under the chooser
        await pilot.press("escape")
        await settle(pilot)
        assert panel.table.has_focus
        saved = json.loads(state_path().read_text())
        assert saved["hidden_columns"]["dns.transactions"] == ["client"]

    run(tmp_path, body)

    async def again(pilot: Pilot) -> None:  # a new session shows the choice
        await pilot.press("2")
        await settle(pilot)
        panel = pilot.app.screen.query_one(TransactionsPanel)
        titles = header(panel).split()
        assert "client" not in titles and "query" in titles

    run(tmp_path, again)


def test_an_empty_table_loads_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A table without rows (a kind with none, a filter matching none) asked for its cursor's
    page, which came back empty and asked again: a core at 100% for as long as the app ran."""
    from mcpcap.tui import kind_rows

    loads = []
    load = kind_rows.PagedRecords.load
    monkeypatch.setattr(
        kind_rows.PagedRecords,
        "load",
        lambda self, position: loads.append(position) or load(self, position),
    )

    async def body(pilot: Pilot) -> None:
        await pilot.press("4")  # DNS's malformed messages: none in the example
        await settle(pilot)
        panel = pilot.app.screen.query_one(MalformedPanel)
        assert panel.table.source is not None and len(panel.table.source) == 0
        before = len(loads)
        await pilot.pause(0.5)
        assert len(loads) - before <= 1

    run(tmp_path, body)
