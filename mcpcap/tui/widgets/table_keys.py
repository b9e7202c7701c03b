"""The keys every table panel shares around its table (the generic `KindPanel` and the panels a
module gives, as DNS's transactions): one key map, `/` the filter bar, `g` and `f` a prompt (go
to a frame or a time, find), `n`/`N` find again, Esc back, the detail pane following the cursor,
and the status line. A panel says how it finds and goes to a row (`find`, `go_to`)."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.timer import Timer
from textual.widgets import Input, Static

from mcpcap.core.errors import BadArgumentError
from mcpcap.tui.goto import Target, parse_target
from mcpcap.tui.widgets.cell_actions import CELL_BINDINGS
from mcpcap.tui.widgets.filter_bar import FilterBar

PROMPT = "table-prompt"  # the class of a panel's prompt (an `Input`, hidden until `g` or `f`)
STATUS = "table-status"  # the class of a panel's status line (a `Static`)
GOTO = "Go to a frame number (42), a time of day (09:01:10) or an ISO 8601 time"
DETAIL_DELAY = 0.08  # the detail pane follows the cursor once it rests this long


def table_bindings(*, sort: str, find: str, detail: str, noun: str) -> list[Binding]:
    """The key map of a table panel; `sort`, `find` and `detail` say what those keys do there,
    `noun` what it exports ("records")."""
    return [
        Binding("slash", "focus_filter", "Filter", tooltip="Type filter tokens for this table"),
        Binding("s", "cycle_sort", "Sort", tooltip=sort),
        Binding("g", "prompt('goto')", "Go to", tooltip="Go to a frame number or a time"),
        Binding("f", "prompt('find')", "Find", tooltip=find),
        Binding("n", "find_again(False)", "Find next", show=False, tooltip="Find the next match"),
        Binding("N", "find_again(True)", "Find previous", show=False, key_display="N",
                tooltip="Find the previous match"),
        Binding("enter", "detail", "Detail", tooltip=detail),
        *CELL_BINDINGS,
        Binding("m", "mcp_call", "MCP call", tooltip="Show this view as an MCP call"),
        Binding("e", "export", "Export", tooltip=f"Write this view's {noun} to a file"),
        Binding("escape", "back", "Back", show=False, tooltip="Close the detail or the prompt"),
    ]  # fmt: skip


def status_line(total: int, noun: str, sort: str | None, row: int, filter_text: str,
                note: str = "") -> str:  # fmt: skip
    """'1,234 transactions · sort ts · row 5 · filter rcode:NXDOMAIN · working…'."""
    parts = [f"{total:,} {noun}"]
    if sort:
        parts.append(f"sort {sort}")
    if total:
        parts.append(f"row {row + 1:,}")
    if filter_text:
        parts.append(f"filter {filter_text}")
    if note:
        parts.append(note)
    return " · ".join(parts)


class TableKeys:
    """Mixed into a table panel (a `Widget` with `table`, a `FilterBar`, `first_ts` and `sort`,
    whose prompt is an `Input` of class `PROMPT` and status line a `Static` of class `STATUS`);
    the panel implements `find`, `go_to`, `status_filter` and `_refresh_detail`."""

    find_prompt = "Find (Enter searches forward; n next, N previous)"  # the prompt's placeholder
    noun = "records"  # what the status line counts
    table: Any
    first_ts: float | None
    sort: str | None
    find_text = ""
    _prompt_mode = ""
    _detail_timer: Timer | None = None

    def find(self, text: str, backward: bool) -> None:
        """Move the cursor to the next (previous) row matching `text`, or say there is none."""
        raise NotImplementedError

    def go_to(self, target: Target, text: str) -> None:
        """Move the cursor to `target` (a frame or a time the user typed as `text`)."""
        raise NotImplementedError

    def _refresh_detail(self) -> Any:
        raise NotImplementedError

    def status_filter(self) -> str:
        """The filter the rows in view were chosen by, for the status line."""
        raise NotImplementedError

    def _set_status(self, note: str = "") -> None:
        text = status_line(self.total, self.noun, self.sort, self.table.cursor,
                           self.status_filter(), note)  # fmt: skip
        self.query_one(f".{STATUS}", Static).update(text)  # type: ignore[attr-defined]

    def _fail(self, message: str) -> None:
        self._set_status()
        self.notify(message, severity="error")  # type: ignore[attr-defined]

    @property
    def filter_bar(self) -> FilterBar:
        return self.query_one(FilterBar)  # type: ignore[attr-defined]

    @property
    def total(self) -> int:
        return self.table.total

    @property
    def prompt(self) -> Input:
        return self.query_one(f".{PROMPT}", Input)  # type: ignore[attr-defined]

    def action_focus_filter(self) -> None:
        self.filter_bar.input.focus()

    def action_prompt(self, mode: str) -> None:
        prompt = self.prompt
        self._prompt_mode = mode
        prompt.placeholder = self.find_prompt if mode == "find" else GOTO
        prompt.value = self.find_text if mode == "find" else ""
        prompt.add_class("-active")
        prompt.focus()

    def _close_prompt(self) -> None:
        self._prompt_mode = ""
        self.prompt.remove_class("-active")
        self.table.focus()

    def action_find_again(self, backward: bool) -> None:
        if not self.find_text:
            self.action_prompt("find")
            return
        self.find(self.find_text, backward)

    def action_back(self) -> None:
        """Esc: close the prompt, else the detail pane; the keyboard goes back to the table."""
        if self._prompt_mode:
            self._close_prompt()
            return
        self.set_class(False, "-detail")  # type: ignore[attr-defined]
        self.table.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if not event.input.has_class(PROMPT):
            return
        event.stop()
        mode, text = self._prompt_mode, event.value.strip()
        self._close_prompt()
        if not text:
            return
        if mode == "find":
            self.find_text = text
            self.find(text, backward=False)
            return
        try:
            target = parse_target(text, self.first_ts)
        except BadArgumentError as exc:
            self.notify(f"{exc}.", severity="warning")  # type: ignore[attr-defined]
            return
        self.go_to(target, text)

    def follow_cursor(self) -> None:
        """The cursor moved: the status line says where, and the detail pane, when open, shows
        its row once it rests."""
        self._set_status()
        if self.has_class("-detail"):  # type: ignore[attr-defined]
            if self._detail_timer is not None:
                self._detail_timer.stop()
            self._detail_timer = self.set_timer(DETAIL_DELAY, self._refresh_detail)  # type: ignore[attr-defined]
