"""The DNS module's face in the TUI: its overview, its transactions table and its malformed and
findings tables, given to the TUI as face hooks (`DnsModule.face_hooks`); Textual is imported
only when the TUI asks for them."""

from __future__ import annotations

from typing import Any


def overview(analysis: Any) -> Any:
    """`tui_overview`: the DNS overview, with charts and rankings that filter the table."""
    from mcpcap.modules.dns.tui.overview import DnsOverview
    from mcpcap.tui.widgets.ranking import LONGER

    results = analysis.module("dns")
    return DnsOverview(analysis.capture(), results.summary(),
                       longer=lambda: results.summary(LONGER), id="dns-overview")  # fmt: skip


def table(analysis: Any, kind: Any) -> Any:
    """`tui_table`: DNS's own panels for transactions, malformed messages and findings (the
    generic table for the others)."""
    from mcpcap.core.records import KindQuery

    results = analysis.module("dns")
    if kind.name == "dns.transactions":
        from mcpcap.modules.dns.tui.transactions import TransactionsPanel

        return TransactionsPanel(results, analysis.name, id="transactions")
    query = KindQuery(analysis, kind.name)
    first_ts = analysis.capture().first_ts
    if kind.name == "dns.malformed":
        from mcpcap.modules.dns.tui.malformed import MalformedPanel

        return MalformedPanel(results, query, analysis.name, first_ts)
    if kind.name == "dns.findings":
        from mcpcap.modules.dns.tui.findings import FindingsPanel

        return FindingsPanel(query, analysis.name, first_ts)
    return None


HOOKS = {"tui_overview": overview, "tui_table": table}
