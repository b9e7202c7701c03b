"""The DNS tab's `dns.findings` table: the generic kind table, and `t` lists the transactions
behind the finding under the cursor (its `filter`, in the transactions table)."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType

from mcpcap.tui.hooks import ShowRecords
from mcpcap.tui.widgets.kind_table import KindPanel

TRANSACTIONS = "dns.transactions"


class FindingsPanel(KindPanel):
    """`dns.findings`, with a key from a finding to its transactions."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "transactions", "Transactions",
                tooltip="List the transactions behind the finding under the cursor"),
    ]  # fmt: skip

    def action_transactions(self) -> None:
        row = self.table.current()
        if row is None:
            return
        text = row.get("filter")
        if text is None:  # a page row may leave it out: read the whole record
            text = self.query.one(row["id"]).get("filter")
        if text:
            self.post_message(ShowRecords(TRANSACTIONS, text))
