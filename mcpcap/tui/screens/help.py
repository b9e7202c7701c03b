"""The `?` screen: every key binding, how the panels work, and the filter tokens."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown, Static

USAGE = """
## Panels

- **Sources** (left, **F2** shows or hides it): local folders, remote servers and the bundled
  examples, with their captures. Arrows move, **Enter** or a click opens a capture. A source
  that cannot be listed says why on its line.
- **Overview**: the key figures, messages over time, the latency histogram and the rankings.
  Click (or Enter on) a domain, response code, query type, server or client to see its
  transactions.
- **Transactions** (DNS): every query with its response; the filter bar takes tokens such as
  `qname_suffix:example.com rcode:NXDOMAIN qtype:AAAA client:10.0.0.0/8 rtt>0.05`.
  Click the title of the time, query or rtt column to sort by it (again to reverse it).
- **Malformed** (every module): what could not be decoded, with the frame and the reason; in
  DNS, **Enter** also shows the message decoded as far as it goes, with its bytes.
- **Findings** (DNS): the hunt's suspects (tunnels, DGA bursts, fast flux …), best first, with
  their evidence; **Enter** (or **t**, or a double click) lists the transactions behind the
  finding under the cursor, **Space** shows the whole finding.
- **Module tabs**: each module that found traffic has a tab (DNS first); **[** and **]** switch
  them. In a tab, **1** is the module's overview and **2**, **3** … its tables, one per kind
  of record. Every table has the same filter bar (`field:value`, a comma for OR, `-field:value`
  to negate, `field>N` on numbers), **s** to change the order, **Enter** for the whole record,
  **e** to export the view and **m** for the same view as an MCP call. **Left** and **Right**
  move the cell cursor (the columns scroll at the edge); **c** copies the cell, **C** the row,
  **+** filters by the cell's value and **-** excludes it.
- **Filter bar**: the token being typed is completed in grey (**Right** accepts it): a field
  name, then a value (the most frequent first). **Up** and **Down** bring back earlier filters;
  a misspelt name or value is answered with the closest one.

Opening a capture scans it once; the result is kept, so opening it again is instant.
**Ctrl+P** opens the command palette, which lists every action.
"""


def keys_table(bindings: list[tuple[str, str]]) -> Table:
    """A compact two-column table of (key, what it does)."""
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for key, description in bindings:
        if key:
            table.add_row(key, description)
        else:  # a heading row
            table.add_row("", "")
            table.add_row("", Text(description, style="bold"))
    return table


class HelpScreen(ModalScreen[None]):
    """Key bindings and usage; Esc, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
        Binding("question_mark", "close", "Close", show=False),
    ]

    def __init__(self, bindings: list[tuple[str, str]]) -> None:
        super().__init__(id="help-screen")
        self.bindings = bindings

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog"):
            yield Markdown("# mcpcap help\n\n## Keys")
            yield Static(keys_table(self.bindings), id="help-keys")
            yield Markdown(USAGE)

    def action_close(self) -> None:
        self.dismiss()
