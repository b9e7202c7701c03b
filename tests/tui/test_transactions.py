"""The transactions panel with Pilot: parity with the core, filter, sort, go to frame, find,
detail, MCP call, keyboard-only path."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from mcpcap.modules.dns.filters import parse_filter_text
from mcpcap.modules.dns.queries import SORTS
from mcpcap.modules.dns.tui.detail import TransactionDetail
from mcpcap.modules.dns.tui.rows import PAGE_ROWS, RowOrder
from mcpcap.modules.dns.tui.transactions import TransactionsPanel
from mcpcap.tui.widgets.mcp_call import McpCallScreen
from tests.tui.test_transactions_support import PanelApp, open_dns, run_app, settle


@pytest.fixture(scope="module")
def dns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    workspace, results = open_dns(tmp_path_factory.mktemp("cache"))
    yield results
    workspace.close()


def core_rows(dns: Any, text: str, sort: str) -> list[dict]:
    """Every row the core gives for a filter and sort, walking its pages."""
    flt = parse_filter_text(text)
    items, cursor = [], None
    while True:
        page = dns.transactions(flt, sort=sort, limit=1000, cursor=cursor)
        items.extend(item.model_dump() for item in page.items)
        cursor = page.next_cursor
        if cursor is None:
            return items


def panel_rows(panel: TransactionsPanel) -> list[dict]:
    return panel.table.order.records(0, panel.total)


@pytest.mark.parametrize("sort", list(SORTS))
@pytest.mark.parametrize("text", ["", "rcode:NXDOMAIN", "qname_suffix:example.com qtype:AAAA",
                                  "answered:false", "transport:udp min_rtt:0.02"])  # fmt: skip
def test_rows_equal_the_core_pages(dns: Any, text: str, sort: str) -> None:
    order = RowOrder.build(dns.db, parse_filter_text(text), sort)
    assert len(order) == dns.count(parse_filter_text(text))
    assert order.records(0, len(order)) == core_rows(dns, text, sort)


def test_pages_are_cached_and_random_access_works(dns: Any) -> None:
    order = RowOrder.build(dns.db, parse_filter_text(""), "-rtt")
    last = order.record(len(order) - 1)
    assert last == core_rows(dns, "", "-rtt")[-1]
    assert order.record(len(order)) is None and order.record(-1) is None
    assert order.record(0) is order.record(0)
    assert len(order._pages) <= 1 + len(order) // PAGE_ROWS


def test_panel_shows_every_transaction_in_core_order(dns: Any) -> None:
    async def body(pilot) -> None:
        panel = pilot.app.query_one(TransactionsPanel)
        assert panel.total == dns.count() == 173
        assert panel_rows(panel) == core_rows(dns, "", "ts")
        status = str(panel.query_one("#tx-status").render())
        assert "173 transactions" in status and "sort ts" in status

    run_app(PanelApp(dns), body)


def test_filter_typed_in_the_bar_is_applied_live_and_on_enter(dns: Any) -> None:
    async def body(pilot) -> None:
        panel = pilot.app.query_one(TransactionsPanel)
        await pilot.press("slash")
        assert pilot.app.focused is panel.filter_bar.input
        await pilot.press(*"rcode:NXDOMAIN")
        await pilot.pause(0.5)  # the live delay
        await settle(pilot)
        assert panel.total == dns.count(rcode="NXDOMAIN")
        assert panel_rows(panel) == core_rows(dns, "rcode:NXDOMAIN", "ts")
        await pilot.press(*" qtype:A", "enter")
        await settle(pilot)
        assert panel.total == dns.count(rcode="NXDOMAIN", qtype="A")
        assert pilot.app.focused is panel.table

    run_app(PanelApp(dns), body)


def test_invalid_filter_turns_red_says_why_and_keeps_the_last_good_rows(dns: Any) -> None:
    async def body(pilot) -> None:
        panel = pilot.app.query_one(TransactionsPanel)
        assert panel.apply_filter("qname_suffix:example.com")
        await settle(pilot)
        good = panel_rows(panel)
        await pilot.press("slash", *" rcode:BOGUS")
        await pilot.pause(0.5)
        await settle(pilot)
        bar = panel.filter_bar
        assert bar.has_class("-invalid")
        error = str(bar.query_one("#filter-error").render())
        assert "BOGUS" in error and "rcode" in error
        assert panel_rows(panel) == good
        await pilot.press("enter")
        await settle(pilot)
        assert panel_rows(panel) == good
        assert panel.apply_filter("nonsense") is False
        assert panel_rows(panel) == good
        assert panel.apply_filter("") is True
        await settle(pilot)
        assert not bar.has_class("-invalid") and panel.total == 173

    run_app(PanelApp(dns), body)


def test_load_with_an_invalid_filter_notifies_and_shows_everything(dns: Any) -> None:
    async def body(pilot) -> None:
        panel = pilot.app.query_one(TransactionsPanel)
        assert panel.total == 173
        assert any("not applied" in n.message for n in pilot.app._notifications)

    run_app(PanelApp(dns, filter_text="rcode:nope"), body)


def test_s_cycles_the_core_sorts_and_keeps_the_selected_transaction(dns: Any) -> None:
    async def body(pilot) -> None:
        panel = pilot.app.query_one(TransactionsPanel)
        await pilot.press("down", "down")
        chosen = panel.table.current()
        for sort in [*list(SORTS)[1:], "ts"]:
            await pilot.press("s")
            await settle(pilot)
            assert panel.sort == sort
            assert panel_rows(panel) == core_rows(dns, "", sort)
            assert panel.table.current() == chosen

    run_app(PanelApp(dns), body)


def test_clicking_a_column_title_sorts_by_it_and_again_reverses(dns: Any) -> None:
    async def click_title(pilot, title: str) -> None:
        table = pilot.app.query_one(TransactionsPanel).table
        x = next(
            x
            for x in range(table.size.width)
            if getattr(table.column_at(x), "title", None) == title
        )
        await pilot.click(table, offset=(x, 0))
        await settle(pilot)

    async def body(pilot) -> None:
        panel = pilot.app.query_one(TransactionsPanel)
        for title, sort in [("rtt", "rtt"), ("rtt", "-rtt"), ("rtt", "rtt"), ("query", "qname"),
                            ("query", "qname"), ("time", "ts"), ("time", "-ts")]:  # fmt: skip
            await click_title(pilot, title)
            assert panel.sort == sort, title
            assert panel_rows(panel) == core_rows(dns, "", sort)
        await click_title(pilot, "client")  # no sort by client: nothing changes
        assert panel.sort == "-ts"
        assert "rtt ▲" not in str(panel.table.render_line(0).text)
        assert "time ▼" in panel.table.render_line(0).text

    run_app(PanelApp(dns), body)


def test_go_to_frame(dns: Any) -> None:
    async def body(pilot) -> None:
        panel = pilot.app.query_one(TransactionsPanel)
        await pilot.press("g", *"26", "enter")
        await settle(pilot)
        assert panel.table.current()["response_frame"] == 26
        assert pilot.app.focused is panel.table
        await pilot.press("g", *"100000", "enter")
        await settle(pilot)
        await pilot.press("g", *"x", "enter")
        await settle(pilot)
        messages = [n.message for n in pilot.app._notifications]
        assert any("frame 100000" in m for m in messages)
        assert any("go to takes a frame number" in m for m in messages)
        panel.apply_filter("rcode:NXDOMAIN")
        await settle(pilot)
        await pilot.press("g", *"1", "enter")
        await settle(pilot)
        assert any("not in the current filter" in n.message for n in pilot.app._notifications)

    run_app(PanelApp(dns), body)


def test_find_searches_question_names_forward_and_back(dns: Any) -> None:
    async def body(pilot) -> None:
        panel = pilot.app.query_one(TransactionsPanel)
        await pilot.press("f", *"GitHub", "enter")
        await settle(pilot)
        first = panel.table.cursor
        assert "github" in panel.table.current()["query"]
        await pilot.press("n")
        await settle(pilot)
        assert panel.table.cursor > first and "github" in panel.table.current()["query"]
        await pilot.press("N")
        await settle(pilot)
        assert panel.table.cursor == first
        await pilot.press("f", "ctrl+a", *"no-such-name", "enter")
        await settle(pilot)
        assert any("no-such-name" in n.message for n in pilot.app._notifications)
        assert panel.table.cursor == first

    run_app(PanelApp(dns), body)


def test_keyboard_only_path_to_a_transactions_detail(dns: Any) -> None:
    selected: list[Any] = []

    class App(PanelApp):
        def on_transactions_panel_selected(self, event: TransactionsPanel.Selected) -> None:
            selected.append(event.transaction)

    async def body(pilot) -> None:
        panel = pilot.app.query_one(TransactionsPanel)
        await pilot.press("end", "home", "down", "down", "enter")
        await settle(pilot)
        detail = panel.query_one(TransactionDetail)
        assert detail.display and panel.has_class("-detail")
        record = panel.table.current()
        assert selected and selected[-1].model_dump() == record
        text = str(detail.query_one("#detail-body").render())
        query = dns.message(record["query_frame"])
        response = dns.message(record["response_frame"])
        for part in ("Query · frame 5", "Response · frame 7", "Questions (1)", "Answers (1)",
                     "Authority (0)", "Additional (1)", "EDNS", "flags rd ra", "rtt 5.446 ms",
                     "Raw DNS bytes"):  # fmt: skip
            assert part in text, part
        for message in (query, response):
            assert " ".join(message.raw_hex[i : i + 2] for i in range(0, 32, 2)) in text
        await pilot.press("down")
        await pilot.pause(0.2)
        assert f"frame {panel.table.current()['query_frame']}" in str(
            detail.query_one("#detail-body").render()
        )
        await pilot.press("escape")
        assert not panel.has_class("-detail")

    run_app(App(dns), body)


def test_show_as_mcp_call_for_the_view_and_for_a_detail(dns: Any) -> None:
    async def body(pilot) -> None:
        panel = pilot.app.query_one(TransactionsPanel)
        panel.apply_filter("qname_suffix:com rcode:NXDOMAIN")
        await settle(pilot)
        await pilot.press("s", "s")
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(pilot.app.screen, McpCallScreen)
        call = json.loads(pilot.app.clipboard)
        assert call == {
            "name": "dns_transactions",
            "arguments": {"capture": "example.pcap", "qname_suffix": "com",
                          "rcode": "NXDOMAIN", "sort": "rtt", "limit": panel.total},
        }  # fmt: skip
        args = {k: v for k, v in call["arguments"].items() if k != "capture"}
        page = dns.transactions(**args)
        assert [i.model_dump() for i in page.items] == panel_rows(panel)
        await pilot.press("escape", "enter")
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        calls = [json.loads(line) for line in pilot.app.clipboard.splitlines()]
        record = panel.table.current()
        assert [c["name"] for c in calls] == ["dns_message", "dns_message"]
        assert [c["arguments"]["frame"] for c in calls] == [
            record["query_frame"], record["response_frame"]]  # fmt: skip
        for c in calls:
            message = dns.message(c["arguments"]["frame"], c["arguments"]["index"])
            assert message.trans_id == record["trans_id"]

    run_app(PanelApp(dns), body)
