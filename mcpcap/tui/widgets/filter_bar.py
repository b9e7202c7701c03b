"""The filter bar: the analysis layer's filter tokens, validated as you type.

A valid filter is applied after a short pause in typing (at once on Enter); an invalid one turns
the bar red and says why, and is never applied, so the table keeps its last good result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from mcpcap.core.errors import BadArgumentError

HOW = "(Enter applies, Esc returns to the table)"
PLACEHOLDER = f"field:value tokens  {HOW}"
SHOWN_EXAMPLES = 2  # example tokens the placeholder shows
LIVE_DELAY = 0.3

Parser = Callable[[str], Any]  # filter text -> a filter; raises BadArgumentError with a sentence


def pick_examples(examples: list[str], matches: Callable[[str], bool]) -> list[str]:
    """A few of a kind's example tokens that, together, match rows of the capture in view (so
    the placeholder shows a filter that works here); none when none match."""
    chosen: list[str] = []
    for example in examples:
        if matches(" ".join([*chosen, example])):
            chosen.append(example)
            if len(chosen) == SHOWN_EXAMPLES:
                break
    return chosen


def validate(text: str, parse: Parser) -> tuple[Any | None, str | None]:
    """(filter, None) for valid text, (None, why) for invalid text."""
    try:
        return parse(text), None
    except BadArgumentError as exc:
        return None, str(exc)


class FilterBar(Widget):
    """An input for filter tokens and a line that says what is wrong with them."""

    DEFAULT_CSS = """
    FilterBar {
        height: auto;
    }
    FilterBar #filter-row {
        height: 3;
    }
    FilterBar #filter-label {
        width: auto;
        padding: 1 1 0 1;
        text-style: bold;
    }
    FilterBar #filter-input {
        width: 1fr;
    }
    FilterBar.-invalid #filter-input {
        border: tall $error;
    }
    FilterBar #filter-error {
        display: none;
        height: auto;
        max-height: 3;
        padding: 0 1;
        color: $text-error;
    }
    FilterBar.-invalid #filter-error {
        display: block;
    }
    """

    class Applied(Message):
        """A valid filter to show (`submitted` is True for Enter)."""

        def __init__(self, flt: Any, text: str, submitted: bool) -> None:
            super().__init__()
            self.filter = flt
            self.text = text
            self.submitted = submitted

    def __init__(
        self,
        *,
        parse: Parser,
        id: str | None = None,
        placeholder: str = PLACEHOLDER,
    ) -> None:
        """`parse`: the filter language of the table below."""
        super().__init__(id=id)
        self.parse = parse
        self.placeholder = placeholder
        self.applied_text = ""
        self.error: str | None = None
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="filter-row"):
            yield Label("Filter", id="filter-label")
            yield Input(placeholder=self.placeholder, id="filter-input", select_on_focus=False)
        yield Static("", id="filter-error")

    @property
    def input(self) -> Input:
        return self.query_one("#filter-input", Input)

    def show_examples(self, tokens: list[str]) -> None:
        """Put example tokens (that match this capture) in the placeholder."""
        if tokens:
            self.placeholder = f"{' '.join(tokens)}  {HOW}"
            self.input.placeholder = self.placeholder

    def set_text(self, text: str) -> Any | None:
        """Put `text` in the bar and check it; returns its filter, or None if invalid."""
        with self.input.prevent(Input.Changed):
            self.input.value = text
        flt, _ = self._check(text)
        return flt

    def _check(self, text: str) -> tuple[Any | None, str | None]:
        flt, error = validate(text, self.parse)
        self.error = error
        self.set_class(error is not None, "-invalid")
        self.query_one("#filter-error", Static).update(
            ""
            if error is None
            else f"✗ not applied (the table keeps the last good filter): {error}"
        )
        return flt, error

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        flt, _ = self._check(event.value)
        if flt is not None:
            self._timer = self.set_timer(LIVE_DELAY, lambda: self._apply(event.value, False))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        flt, _ = self._check(event.value)
        if flt is not None:
            self._apply(event.value, True)

    def _apply(self, text: str, submitted: bool) -> None:
        flt, error = validate(text, self.parse)
        if flt is None or error is not None:
            return
        self.applied_text = text
        self.post_message(self.Applied(flt, text, submitted))
