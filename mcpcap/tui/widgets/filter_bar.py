"""The filter bar: the analysis layer's filter tokens, validated as you type.

A valid filter is applied after a short pause in typing (at once on Enter); an invalid one turns
the bar red and says why (with the closest name for a typo), and is never applied, so the table
keeps its last good result. The token being typed is completed inline (Right accepts): a field
name, then one of its values (the accepted ones, or the most frequent in the store under the
filter in force). Up and Down walk the filters entered before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.suggester import Suggester
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from mcpcap.core.errors import BadArgumentError

HOW = "(Enter applies, Esc returns to the table)"
PLACEHOLDER = f"field:value tokens  {HOW}"
SHOWN_EXAMPLES = 2  # example tokens the placeholder shows
LIVE_DELAY = 0.3

Parser = Callable[[str], Any]  # filter text -> a filter; raises BadArgumentError with a sentence
Values = Callable[[str], Sequence[str]]  # filter name -> frequent values (may read the store)
HISTORY = 50  # filters the bar remembers


class TokenSuggester(Suggester):
    """Completes the last token: a filter name, then a value of it."""

    def __init__(self, filters: Sequence[Any], values: Values | None = None) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.filters = {spec.name: spec for spec in filters}
        self.values = values
        self._known: dict[str, Sequence[str]] = {}

    def forget_values(self) -> None:
        """The filter in force changed: the frequent values are read again."""
        self._known.clear()

    async def get_suggestion(self, value: str) -> str | None:
        token = value.rpartition(" ")[2]
        name, colon, typed = token.removeprefix("-").partition(":")
        if not name:
            return None
        if not colon:
            found = [n for n in self.filters if n.startswith(name) and n != name]
            return None if not found else f"{value}{found[0][len(name) :]}:"
        spec = self.filters.get(name)
        if spec is None or "," in typed:
            return None
        candidates = list(spec.choices) or list(await self._frequent(name))
        for candidate in candidates:
            if candidate.lower().startswith(typed.lower()) and candidate != typed:
                return f"{value}{candidate[len(typed) :]}"
        return None

    async def _frequent(self, name: str) -> Sequence[str]:
        if self.values is None:
            return ()
        if name not in self._known:
            self._known[name] = await asyncio.to_thread(self.values, name)
        return self._known[name]


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

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "history(-1)", "Earlier filter", show=False,
                tooltip="In the filter bar: the filter entered before"),
        Binding("down", "history(1)", "Later filter", show=False,
                tooltip="In the filter bar: the filter entered after"),
    ]  # fmt: skip

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
        filters: Sequence[Any] = (),
        values: Values | None = None,
    ) -> None:
        """`parse`: the filter language of the table below; `filters` its `FilterSpec`s and
        `values` the frequent values of one, for completion."""
        super().__init__(id=id)
        self.parse = parse
        self.placeholder = placeholder
        self.suggester = TokenSuggester(filters, values) if filters else None
        self.history: list[str] = []
        self._browsing: int | None = None
        self.applied_text = ""
        self.error: str | None = None
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="filter-row"):
            yield Label("Filter", id="filter-label")
            yield Input(placeholder=self.placeholder, id="filter-input", select_on_focus=False,
                        suggester=self.suggester)  # fmt: skip
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
        if self.suggester is not None:
            self.suggester.forget_values()
        if submitted:
            self.remember(text)
        self.post_message(self.Applied(flt, text, submitted))

    def remember(self, text: str) -> None:
        """Keep `text` in the history (once, latest last)."""
        self._browsing = None
        if text.strip():
            self.history = [*[h for h in self.history if h != text][-(HISTORY - 1) :], text]

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        at = len(self.history) if self._browsing is None else self._browsing
        at = max(0, min(at + step, len(self.history)))
        self._browsing = at
        self.input.value = self.history[at] if at < len(self.history) else ""
        self.input.cursor_position = len(self.input.value)
