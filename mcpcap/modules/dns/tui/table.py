"""The virtual transactions table: the TUI's `RecordTable` over a `RowOrder`.

Columns are the `dns.transactions` kind's fields (widths from the rows in view, low-value
columns dropped first, Left/Right to scroll them); only the rows in view are fetched (by page,
from the result store), so a million rows cost what thirty do. The response code is coloured
(an error, no reply), and a transaction without a reply says so in the rcode column.
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from textual.geometry import Size
from textual.message import Message

from mcpcap.core.modules.kinds import FieldSpec, find_kind
from mcpcap.modules.dns.kinds import dns_kinds
from mcpcap.modules.dns.tui.rows import RowOrder
from mcpcap.tui.kind_rows import Record
from mcpcap.tui.widgets.record_table import RecordTable

SORTABLE = {"time": "ts", "query": "qname", "rtt": "rtt"}  # column -> the sort it shows


class TransactionTable(RecordTable):
    """Rows of a `RowOrder`, a cursor, and a fixed header line."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *RecordTable.COMPONENT_CLASSES,
        "transaction-table--error",
        "transaction-table--unanswered",
    }
    DEFAULT_CSS = """
    TransactionTable > .transaction-table--error { color: $text-error; }
    TransactionTable > .transaction-table--unanswered { color: $text-warning; }
    """
    sort_fields: ClassVar[dict[str, str]] = {sort: field for field, sort in SORTABLE.items()}

    class CursorMoved(RecordTable.CursorMoved):
        pass

    class Chosen(RecordTable.Chosen):
        pass

    class SortClicked(Message):
        """A click on the title of a column rows can be sorted by (`key`: "ts", "rtt" ...)."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, *, id: str | None = None) -> None:
        fields: tuple[FieldSpec, ...] = find_kind(dns_kinds(), "dns.transactions").fields
        super().__init__(fields, id=id)
        self.source: RowOrder | None = None

    @property
    def order(self) -> RowOrder | None:
        return self.source

    def set_order(self, order: RowOrder | None, cursor: int = 0) -> None:
        """Show another view (a new filter or sort), with the cursor on `cursor`."""
        self.set_source(order, cursor)

    def on_record_table_header_clicked(self, event: RecordTable.HeaderClicked) -> None:
        event.stop()
        if event.field in SORTABLE:
            self.post_message(self.SortClicked(SORTABLE[event.field]))

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, self.total + 1)

    def cell_text(self, spec: FieldSpec, record: Record, width: int) -> str:
        if spec.name == "rcode_name" and not record["rcode_name"]:
            return "no reply" if not record["answered"] else "—"
        return super().cell_text(spec, record, width)

    def cell_style(self, spec: FieldSpec, record: Record) -> Style | None:
        if spec.name != "rcode_name":
            return None
        if not record["answered"]:
            return self.get_component_rich_style("transaction-table--unanswered", partial=True)
        if record["rcode"]:
            return self.get_component_rich_style("transaction-table--error", partial=True)
        return None
