"""The DNS module's face in the TUI: its overview, its transactions table and its malformed
messages, given to the TUI as face hooks (`DnsModule.face_hooks`); Textual is imported only
when the TUI asks for them."""

from __future__ import annotations

from typing import Any


def overview(analysis: Any) -> Any:
    """`tui_overview`: the DNS overview, with charts and rankings that filter the table."""
    from mcpcap.modules.dns.tui.overview import DnsOverview

    return DnsOverview(analysis.capture(), analysis.module("dns").summary(), id="dns-overview")


def table(analysis: Any, kind: Any) -> Any:
    """`tui_table`: the transactions panel for `dns.transactions` (generic for the others)."""
    if kind.name != "dns.transactions":
        return None
    from mcpcap.modules.dns.tui.transactions import TransactionsPanel

    return TransactionsPanel(analysis.module("dns"), analysis.name, id="transactions")


def views(analysis: Any) -> list[Any]:
    """`tui_views`: the malformed messages, with their reasons and frames."""
    from mcpcap.modules.dns.tui.malformed import MalformedPanel
    from mcpcap.tui.hooks import ExtraView

    results = analysis.module("dns")
    return [
        ExtraView("Malformed", "Show the DNS messages that could not be decoded",
                  lambda: MalformedPanel(results, analysis.name))
    ]  # fmt: skip


HOOKS = {"tui_overview": overview, "tui_table": table, "tui_views": views}
