"""The DNS tab's "Malformed" view: every message that could not be decoded, with its reason.

The store keeps messages as their raw bytes, so the reasons come from decoding them again: a
worker walks the messages in frame order and stops once it has found as many as the scan
counted (the summary's `malformed.total`). Enter shows the message decoded, with its bytes.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from mcpcap.core.errors import McpcapError
from mcpcap.core.modules.kinds import FieldSpec
from mcpcap.modules.dns import queries
from mcpcap.modules.dns.tui import rows
from mcpcap.modules.dns.tui.calls import message_call
from mcpcap.modules.dns.tui.detail import message_text
from mcpcap.tui.widgets.mcp_call import show_calls
from mcpcap.tui.widgets.record_table import ListSource, RecordTable

FIELDS = (
    FieldSpec("frame", "frame", 8, "int"),
    FieldSpec("time", "time", 24, "time"),
    FieldSpec("malformed", "reason", 20),
    FieldSpec("src", "source", 39, "address", drop=2),
    FieldSpec("dst", "destination", 39, "address", drop=2),
    FieldSpec("protocol", "protocol", 5, drop=3),
    FieldSpec("question", "question", 40, drop=1),
)


def malformed_records(db: Any, expected: int, cancel: threading.Event) -> list[dict[str, Any]]:
    """The malformed messages' records in frame order (at most `expected`; the walk stops
    there, or when cancelled)."""
    found: list[dict[str, Any]] = []
    with rows.read_connection(db) as conn:
        for row in queries.iter_message_rows(conn):
            if len(found) >= expected or cancel.is_set():
                break
            record = queries.full_message(row)
            if record.get("malformed"):
                questions = record.get("questions") or []
                record["question"] = questions[0]["name"] if questions else None
                found.append(record)
    return found


class MalformedPanel(Widget):
    """A table of the malformed DNS messages and, on Enter, one of them decoded."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "detail", "Detail", tooltip="Show the message under the cursor"),
        Binding("m", "mcp_call", "MCP call", tooltip="Show the message as an MCP call"),
        Binding("escape", "back", "Back", show=False, tooltip="Close the detail"),
    ]
    DEFAULT_CSS = """
    MalformedPanel { layout: vertical; height: 1fr; }
    MalformedPanel .malformed-status {
        height: 1; padding: 0 1; background: $boost; color: $text-muted;
    }
    MalformedPanel .malformed-detail {
        display: none; height: 50%; border-top: solid $accent; padding: 0 1;
    }
    MalformedPanel.-detail .malformed-detail { display: block; }
    """

    def __init__(self, results: Any, capture_name: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.results = results
        self.capture_name = capture_name
        self.expected = results.summary().malformed.total
        self._cancel = threading.Event()

    def compose(self) -> ComposeResult:
        yield Static("", classes="malformed-status")
        yield RecordTable(FIELDS)
        with VerticalScroll(classes="malformed-detail", can_focus=True):
            yield Static("", classes="malformed-detail-body")

    @property
    def table(self) -> RecordTable:
        return self.query_one(RecordTable)

    def on_mount(self) -> None:
        self.table.empty_text = "No malformed messages." if not self.expected else "Looking…"
        self._status()
        self._walked = False

    def on_show(self) -> None:
        """The first time the view is shown: find the messages (not before: it takes a pass
        over every message)."""
        if self.expected and not self._walked:
            self._walked = True
            self._status("reading the messages…")
            self._walk()

    def on_unmount(self) -> None:
        self._cancel.set()

    def _status(self, note: str = "") -> None:
        parts = [f"{self.expected:,} malformed messages"]
        if self.table.total:
            parts.append(f"row {self.table.cursor + 1:,}")
        if note:
            parts.append(note)
        self.query_one(".malformed-status", Static).update(" · ".join(parts))

    @work(thread=True, exclusive=True, group="dns-malformed", exit_on_error=False)
    def _walk(self) -> None:
        try:
            found = malformed_records(self.results.db, self.expected, self._cancel)
        except McpcapError as exc:
            self.app.call_from_thread(self._status, f"cannot be read: {exc}")
            return
        if not self._cancel.is_set():
            self.app.call_from_thread(self._show, found)

    def _show(self, found: list[dict[str, Any]]) -> None:
        self.table.empty_text = "No malformed messages."
        self.table.set_source(ListSource(found))
        self._status()

    def on_record_table_cursor_moved(self, event: RecordTable.CursorMoved) -> None:
        event.stop()
        self._status()
        if self.has_class("-detail"):
            self._refresh_detail()

    def on_record_table_chosen(self, event: RecordTable.Chosen) -> None:
        event.stop()
        self.action_detail()

    def action_detail(self) -> None:
        if self.table.total:
            self.set_class(True, "-detail")
            self._refresh_detail()

    def action_back(self) -> None:
        self.set_class(False, "-detail")
        self.table.focus()

    def _refresh_detail(self) -> None:
        record = self.table.current()
        body = self.query_one(".malformed-detail-body", Static)
        if record is None:
            return
        try:
            message = self.results.message(record["frame"], record["index"])
        except McpcapError as exc:
            body.update(f"This message cannot be read: {exc}")
            return
        width = body.size.width or self.app.size.width
        body.update(message_text("Message", message, width))

    def action_mcp_call(self) -> None:
        record = self.table.current()
        if record is None:
            return
        calls = [message_call(self.capture_name, record["frame"], record["index"])]
        show_calls(self.app, calls)
