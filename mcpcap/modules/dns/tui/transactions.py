"""The DNS tab's transactions table: filter bar, virtual table, detail pane, MCP call, export.

The DNS module gives the TUI this panel (its `tui_table` face hook) for `dns.transactions`:
it orders ids in the module's own store (`rows`), so End on a million rows, go to frame and
find are instant, and its detail pane shows both messages decoded. Slow work (building a view
of a million rows, find, export) runs in thread workers on a connection of its own.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from mcpcap.core.errors import McpcapError
from mcpcap.core.modules.kinds import find_kind
from mcpcap.modules.dns import queries
from mcpcap.modules.dns.filters import TransactionFilter, parse_filter_text
from mcpcap.modules.dns.kinds import dns_kinds
from mcpcap.modules.dns.models import DnsMessage, DnsTransaction
from mcpcap.modules.dns.tui import rows
from mcpcap.modules.dns.tui.calls import message_call, transactions_call
from mcpcap.modules.dns.tui.detail import TransactionDetail
from mcpcap.modules.dns.tui.table import TransactionTable
from mcpcap.tui.export import ExportError, TargetExistsError, export_records, kind_formats
from mcpcap.tui.goto import Target
from mcpcap.tui.screens.export import ExportRequest, ExportScreen, confirm_then_export
from mcpcap.tui.widgets.cell_actions import CellActions
from mcpcap.tui.widgets.filter_bar import FilterBar, pick_examples
from mcpcap.tui.widgets.mcp_call import McpCall, show_calls
from mcpcap.tui.widgets.table_keys import PROMPT, STATUS, TableKeys, table_bindings

SORT_CYCLE = tuple(queries.SORTS)
FREQUENT = 20  # values the filter bar offers to complete
COLUMN_FILTERS = {"query": "qname"}  # a column whose values another filter takes


class TransactionsPanel(TableKeys, CellActions, Widget):
    """Every DNS transaction of a capture: filter, sort, find, go to, detail, copy, export."""

    DEFAULT_CSS = (Path(__file__).with_name("transactions.tcss")).read_text(encoding="utf-8")
    BINDINGS: ClassVar[list[BindingType]] = table_bindings(
        sort="Change the order (time, rtt, name)",
        find="Find a question name",
        detail="Show the transaction and its messages",
        noun="transactions",
    )
    noun = "transactions"
    find_prompt = "Find in question names (Enter searches forward; n next, N previous)"

    class Selected(Message):
        """The user chose a transaction (Enter): its record, as the core's model."""

        def __init__(self, transaction: DnsTransaction) -> None:
            super().__init__()
            self.transaction = transaction

    def __init__(
        self,
        results: Any = None,
        capture_name: str = "",
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """`results`: a `DnsResults` to show once mounted (or later, with `load`)."""
        super().__init__(id=id, classes=classes)
        self.kind = find_kind(dns_kinds(), "dns.transactions")
        self.results: Any = None
        self._pending = results
        self._examples_shown = False
        self.capture_name = capture_name
        self.filter = TransactionFilter()
        self.sort = queries.DEFAULT_SORT
        self._cancel = threading.Event()

    def compose(self) -> ComposeResult:
        yield FilterBar(parse=parse_filter_text, id="tx-filter", filters=self.kind.filters,
                        values=self._frequent)  # fmt: skip
        yield Static("", id="tx-status", classes=STATUS)
        yield TransactionTable(id="tx-table")
        yield Input(classes=PROMPT)
        yield TransactionDetail(id="tx-detail")

    def on_mount(self) -> None:
        self.restore_columns()
        if self._pending is not None:
            # after the first frame: the view is built in a thread that would compete with
            # the overview's first frame for the interpreter
            self.call_after_refresh(self.load, self._pending, self.capture_name)
            self._pending = None

    # ------------------------------------------------------------------ public API
    @property
    def table(self) -> TransactionTable:
        return self.query_one(TransactionTable)

    @property
    def detail(self) -> TransactionDetail:
        return self.query_one(TransactionDetail)

    @property
    def first_ts(self) -> float | None:
        return None if self.results is None else self.results.first_ts

    def load(self, results: Any, capture_name: str, filter_text: str = "") -> None:
        """Show the transactions of `results` (a `DnsResults`), filtered by `filter_text`."""
        self.results = results
        self.capture_name = capture_name
        self.set_class(False, "-detail")
        flt = self.filter_bar.set_text(filter_text)
        self.filter_bar.applied_text = filter_text
        if flt is None:
            self.notify(f"The filter was not applied: {self.filter_bar.error}.", severity="error")
            flt, self.filter_bar.applied_text = TransactionFilter(), ""
        self._show(flt, self.sort, keep=False)

    def apply_filter(self, text: str) -> bool:
        """Filter the table by `text`; False (and the bar turns red) when it is invalid."""
        flt = self.filter_bar.set_text(text)
        if flt is None:
            return False
        self.filter_bar.applied_text = text
        self._show(flt, self.sort)
        return True

    # ------------------------------------------------------------------ building views
    def _show(self, flt: TransactionFilter, sort: str, keep: bool = True) -> None:
        if self.results is None:
            return
        self._cancel.set()
        self._cancel = threading.Event()
        keep_id = self._current_id() if keep else None
        self._set_status("working…")
        self._build(flt, sort, keep_id, self._cancel)

    def _current_id(self) -> int | None:
        order = self.table.order
        return None if order is None else order.row_id(self.table.cursor)

    @work(thread=True, exclusive=True, group="tx-build", exit_on_error=False)
    def _build(
        self, flt: TransactionFilter, sort: str, keep_id: int | None, cancel: threading.Event
    ) -> None:
        db = self.results.db
        try:
            with rows.read_connection(db) as conn:
                order = rows.RowOrder.build(db, flt, sort, conn=conn, cancel=cancel)
        except rows.Cancelled:
            return
        except (McpcapError, sqlite3.Error, OSError) as exc:
            self.app.call_from_thread(self._fail, f"The view could not be built: {exc}")
            return
        position = order.position_of(keep_id) if keep_id is not None else None
        if not cancel.is_set() and not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._install, order, position or 0)
        if not self._examples_shown:
            self._examples_shown = True
            self._show_examples(db)

    def _show_examples(self, db: Any) -> None:
        """The placeholder shows example tokens that match this capture (in the worker)."""
        examples = [spec.example for spec in self.kind.filters if spec.example]
        with rows.read_connection(db) as conn:

            def matches(text: str) -> bool:
                try:
                    return queries.count_transactions(conn, parse_filter_text(text)) > 0
                except (McpcapError, sqlite3.Error):
                    return False

            tokens = pick_examples(examples, matches)
        self.app.call_from_thread(self.filter_bar.show_examples, tokens)

    def _install(self, order: rows.RowOrder, position: int) -> None:
        self.filter, self.sort = order.filter, order.sort
        self.table.empty_text = "No transactions match this filter."
        self.table.set_order(order, position)
        self._set_status()
        if self.has_class("-detail"):
            self._refresh_detail()

    def status_filter(self) -> str:
        return self.filter_bar.applied_text

    # ------------------------------------------------------------------ events
    def on_filter_bar_applied(self, event: FilterBar.Applied) -> None:
        self._show(event.filter, self.sort)
        if event.submitted:
            self.table.focus()

    def on_transaction_table_cursor_moved(self, event: TransactionTable.CursorMoved) -> None:
        self.follow_cursor()

    def on_transaction_table_chosen(self, event: TransactionTable.Chosen) -> None:
        event.stop()
        self.action_detail()

    def on_transaction_table_sort_clicked(self, event: TransactionTable.SortClicked) -> None:
        """Sort by the clicked column; clicking it again reverses the order where it can."""
        event.stop()
        reverse = f"-{event.key}"
        sort = reverse if self.sort == event.key and reverse in queries.SORTS else event.key
        self._show(self.filter, sort)

    # ------------------------------------------------------------------ actions
    def action_cycle_sort(self) -> None:
        index = SORT_CYCLE.index(self.sort) if self.sort in SORT_CYCLE else -1
        self._show(self.filter, SORT_CYCLE[(index + 1) % len(SORT_CYCLE)])

    def action_detail(self) -> None:
        if not self.total:
            return
        self.set_class(True, "-detail")
        record = self._refresh_detail()
        if record is not None:
            self.post_message(self.Selected(DnsTransaction(**record)))

    def action_mcp_call(self) -> None:
        if self.results is None:
            return
        calls = self._detail_calls() if self.has_class("-detail") else []
        if not calls:
            text = self.filter_bar.applied_text
            calls = [transactions_call(self.capture_name, self.filter, self.sort, self.total,
                                       text)]  # fmt: skip
        show_calls(self.app, calls)

    def action_export(self) -> None:
        if self.results is None:
            return
        formats = kind_formats(self.kind, only=("jsonl", "csv", "zeek"))
        screen = ExportScreen(self.capture_name, self.total, formats=formats, part="dns",
                              noun="transactions")  # fmt: skip
        self.app.push_screen(screen, self._export_chosen)

    # ------------------------------------------------------------------ detail
    def _refresh_detail(self) -> dict[str, Any] | None:
        record = self.table.current()
        if record is None:
            return None
        self.detail.show(record, *self._messages(record))
        return record

    def _messages(self, record: dict[str, Any]) -> tuple[DnsMessage | None, DnsMessage | None]:
        found: list[DnsMessage | None] = []
        for key, is_response in (("query_frame", False), ("response_frame", True)):
            frame = record[key]
            message = None
            if frame is not None:
                index = rows.message_index(self.results.db, frame, record["trans_id"],
                                           is_response)  # fmt: skip
                try:
                    message = self.results.message(frame, index)
                except McpcapError as exc:
                    self.notify(str(exc), severity="warning")
            found.append(message)
        return found[0], found[1]

    def _detail_calls(self) -> list[McpCall]:
        return [message_call(self.capture_name, m.frame, m.index) for m in self.detail.messages]

    # ------------------------------------------------------------------ find and go to
    def find(self, text: str, backward: bool) -> None:
        self._find(text, self.table.cursor, backward)

    @work(thread=True, exclusive=True, group="tx-find", exit_on_error=False)
    def _find(self, text: str, start: int, backward: bool) -> None:
        order = self.table.order
        if order is None:
            return
        with rows.read_connection(self.results.db) as conn:
            position = order.find(text, start, conn=conn, backward=backward)
        if position is None:
            self.app.call_from_thread(
                self.notify, f"No question name in this view contains {text!r}.",
                severity="warning",
            )  # fmt: skip
        else:
            self.app.call_from_thread(self._move_to, order, position)

    def _frequent(self, name: str) -> list[str]:
        """The most frequent values of filter `name` under the filter in force (a thread)."""
        if self.results is None or name not in {spec.name for spec in self.kind.rank_by}:
            return []
        try:
            ranking = self.results.rank(self.filter, by=name, limit=FREQUENT)
        except (McpcapError, sqlite3.Error):
            return []
        return [item.key for item in ranking.items]

    def filter_for(self, spec: Any) -> str | None:
        return COLUMN_FILTERS.get(spec.name) or super().filter_for(spec)

    def go_to(self, target: Target, text: str) -> None:
        if self.results is None:
            return
        if target.frame is not None:
            self._goto_worker(target.frame)
        else:
            self._goto_time(target.ts or 0.0, text)

    @work(thread=True, exclusive=True, group="tx-find", exit_on_error=False)
    def _goto_time(self, ts: float, text: str) -> None:
        order = self.table.order
        if order is None:
            return
        with rows.read_connection(self.results.db) as conn:
            position = order.time_position(ts, conn=conn)
        if position is not None:
            self.app.call_from_thread(self._move_to, order, position)
        else:
            self.app.call_from_thread(
                self.notify, f"No transaction in this view is at {text} or later.",
                severity="warning",
            )  # fmt: skip

    @work(thread=True, exclusive=True, group="tx-find", exit_on_error=False)
    def _goto_worker(self, frame: int) -> None:
        order = self.table.order
        if order is None:
            return
        with rows.read_connection(self.results.db) as conn:
            position = order.frame_position(frame, conn=conn)
            exists = position is not None or rows.frame_exists(conn, frame)
        if position is not None:
            self.app.call_from_thread(self._move_to, order, position)
        elif exists:
            self.app.call_from_thread(
                self.notify, f"Frame {frame} is not in the current filter's view.",
                severity="warning",
            )  # fmt: skip
        else:
            self.app.call_from_thread(
                self.notify, f"No DNS transaction has a message in frame {frame}.",
                severity="warning",
            )  # fmt: skip

    def _move_to(self, order: rows.RowOrder, position: int) -> None:
        if self.table.order is order:
            self.table.cursor = position
            self.table.focus()

    # ------------------------------------------------------------------ export
    def _export_chosen(self, request: ExportRequest | None) -> None:
        confirm_then_export(self.app, request, self._export)

    @work(thread=True, group="tx-export", exit_on_error=False)
    def _export(self, request: ExportRequest, overwrite: bool) -> None:
        first_ts = self.results.first_ts
        try:
            with rows.read_connection(self.results.db) as conn:
                records = queries.iter_transactions(conn, self.filter, self.sort)
                count = export_records(records, request.path, request.fmt, first_ts,
                                       kind=self.kind, overwrite=overwrite)  # fmt: skip
        except TargetExistsError:
            self.app.call_from_thread(self._export_chosen, request)
            return
        except (ExportError, McpcapError) as exc:
            self.app.call_from_thread(self.notify, f"Export failed: {exc}.", severity="error")
            return
        self.app.call_from_thread(
            self.notify, f"Exported {count:,} transactions to {request.path}."
        )
