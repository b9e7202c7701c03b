"""The DNS tab's `dns.findings` table: the generic kind table, where Enter (or `t`, or a double
click) lists the transactions behind the finding under the cursor (its `filter`, in the
transactions table) and Space shows the whole finding."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType

from mcpcap.tui.hooks import ShowRecords
from mcpcap.tui.widgets.kind_table import KindPanel, KindTable

TRANSACTIONS = "dns.transactions"
TIP = "List the transactions behind the finding under the cursor"


class FindingsPanel(KindPanel):
    """`dns.findings`, with Enter from a finding to its transactions."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "transactions", "Transactions", tooltip=TIP),
        Binding("t", "transactions", "Transactions", show=False, tooltip=TIP),
        Binding("space", "detail", "Detail", show=False,
                tooltip="Show the whole finding (metrics, examples)"),
    ]  # fmt: skip

    def on_kind_table_chosen(self, event: KindTable.Chosen) -> None:
        """A double click, as Enter: the finding's transactions (not the detail)."""
        event.stop()
        event.prevent_default()
        self.action_transactions()

    def action_transactions(self) -> None:
        row = self.table.current()
        if row is None:
            return
        text = row.get("filter")
        if text is None:  # a page row may leave it out: read the whole record
            text = self.query.one(row["id"]).get("filter")
        if text:
            self.post_message(ShowRecords(TRANSACTIONS, text))
