"""The table of any record kind: filter bar, a virtual table paged from the core, detail, export.

Everything comes from the kind's declaration (`RecordKind`: fields, filters, sorts, exports)
and the core's `KindQuery`; nothing here knows a protocol. Rows are fetched a page at a time as
the user scrolls (`PagedRecords`), in thread workers, so a kind of a million records costs what
a screenful does.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any, ClassVar

from rich.json import JSON
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Input, Static

from mcpcap.core.errors import McpcapError
from mcpcap.core.filtering import parse_and_bind
from mcpcap.core.modules.kinds import FieldSpec
from mcpcap.core.records import KindQuery
from mcpcap.tui.export import ExportError, TargetExistsError, export_records, kind_formats
from mcpcap.tui.goto import Target
from mcpcap.tui.kind_rows import (
    KEPT_PAGES,
    PAGE_SIZE,
    PagedRecords,
    Record,
    frame_match,
    text_match,
    time_match,
)
from mcpcap.tui.screens.export import ExportRequest, ExportScreen, confirm_then_export
from mcpcap.tui.widgets.cell_actions import CellActions
from mcpcap.tui.widgets.filter_bar import HOW, FilterBar, pick_examples
from mcpcap.tui.widgets.mcp_call import record_call, records_call, show_calls
from mcpcap.tui.widgets.record_table import RecordTable
from mcpcap.tui.widgets.table_keys import PROMPT, STATUS, TableKeys, table_bindings

FREQUENT = 20  # values the filter bar offers to complete
LOADING = "…"


class KindTable(RecordTable):
    """The rows of a `PagedRecords`; pages missing from memory load in a worker as needed."""

    class CursorMoved(RecordTable.CursorMoved):
        pass

    class Chosen(RecordTable.Chosen):
        pass

    def __init__(self, fields: tuple[FieldSpec, ...], *, id: str | None = None) -> None:
        super().__init__(fields, id=id)
        self.source: PagedRecords | None = None
        self._loading = False
        self._broken: PagedRecords | None = None

    def cursor_moved(self, position: int) -> None:
        self.request_view()

    def set_source(self, source: PagedRecords, cursor: int = 0) -> None:
        super().set_source(source, cursor)
        self.request_view()

    # ------------------------------------------------------------------ loading pages
    def request_view(self) -> None:
        """Fetch the page of the first row in view (or under the cursor) not in memory."""
        source = self.source
        if source is None:
            return
        top = round(self.scroll_y)
        for position in (self.cursor, *range(top, min(top + self.page_rows, source.total))):
            # (a position past the rows, the cursor of an empty table, has no page to load:
            # asking for it would ask again when it came back empty, without end)
            if 0 <= position < source.total and source.record(position) is None:
                self.missing(position)
                return

    def missing(self, position: int) -> None:
        """Row `position` is on screen but not in memory: fetch its page in a worker."""
        if self._loading or self.source is None or self.source is self._broken:
            return
        # the rows in view fit in the pages kept (or drawing them would evict them in turn)
        self.source.keep_at_least(self.page_rows // self.source.page_size + 2)
        self._loading = True
        work = partial(self._load, self.source, position)
        # started after this frame is drawn (this is called while drawing a line)
        self.call_later(self.run_worker, work, thread=True, group="kind-load",
                        exit_on_error=False)  # fmt: skip

    def _load(self, source: PagedRecords, position: int) -> None:
        try:
            source.load(position)
        except (McpcapError, OSError) as exc:
            self._broken = source  # asked again, it would fail again: say so once
            self.app.call_from_thread(self.notify, f"Rows could not be read: {exc}",
                                      severity="error")  # fmt: skip
        self.app.call_from_thread(self._loaded, source)

    def _loaded(self, source: PagedRecords) -> None:
        """Draw again: rows still missing (the view moved on meanwhile) ask for their page."""
        self._loading = False
        if source is self.source:
            self.rows_changed()
            self.post_message(self.CursorMoved(self.cursor))
            self.request_view()

    # ------------------------------------------------------------------ scrolling
    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            self.request_view()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, self.total + 1)
        self.request_view()  # shown at last, or taller: more rows in view


class KindPanel(TableKeys, CellActions, Widget):
    """Every record of one kind: filter, sort, find, go to, detail (the record as JSON), copy,
    filter by a cell, export, MCP call."""

    BINDINGS: ClassVar[list[BindingType]] = table_bindings(
        sort="Change the order (each of the kind's sorts in turn)",
        find="Find a row containing some text",
        detail="Show the record under the cursor",
        noun="records",
    )
    find_prompt = "Find text in any field (Enter searches forward; n next, N previous)"
    DEFAULT_CSS = """
    KindPanel { layout: vertical; height: 1fr; }
    KindPanel .table-status { height: 1; padding: 0 1; background: $boost; color: $text-muted; }
    KindPanel .kind-detail {
        display: none; height: 50%; border-top: solid $accent; padding: 0 1;
    }
    KindPanel.-detail .kind-detail { display: block; }
    KindPanel .table-prompt { display: none; }
    KindPanel .table-prompt.-active { display: block; }
    KindPanel .kind-detail:focus { border-top: thick $accent; }
    """

    page_size = PAGE_SIZE  # records a fetch asks for
    kept_pages = KEPT_PAGES  # pages held in memory at once

    def __init__(
        self,
        query: KindQuery,
        capture_name: str,
        first_ts: float | None = None,
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.query = query
        self.kind = query.kind
        self.capture_name = capture_name
        self.first_ts = first_ts
        self.filter_text = ""
        self.sort = self.kind.default_sort
        self.record: Record | None = None
        self.detail_text = ""  # the record in the detail pane, as JSON
        self._started = False
        self._examples_shown = False

    def compose(self) -> ComposeResult:
        tokens = " ".join(f"{n}:" for n in self.kind.filter_names()[:3]) or "no filters"
        yield FilterBar(parse=self._parse, placeholder=f"{tokens}  {HOW}",
                        filters=self.kind.filters, values=self._frequent)  # fmt: skip
        yield Static("", classes=STATUS)
        yield KindTable(self.kind.fields)
        yield Input(classes=PROMPT)
        with VerticalScroll(classes="kind-detail", can_focus=True):
            yield Static("", classes="kind-detail-body")

    def on_mount(self) -> None:
        self.restore_columns()

    def on_show(self) -> None:
        """Build the first view when the table is first shown (a tab holds several tables; a
        kind the user never looks at costs nothing)."""
        if self.table.source is None and not self._started:
            self._started = True
            self._show(self.filter_text, self.sort)

    # ------------------------------------------------------------------ parts
    @property
    def table(self) -> KindTable:
        return self.query_one(KindTable)

    def _parse(self, text: str) -> Any:
        return parse_and_bind(text, self.kind.filters)

    def apply_filter(self, text: str) -> bool:
        """Filter the table by `text`; False (and the bar says why) when it is invalid."""
        if self.filter_bar.set_text(text) is None:
            return False
        self.filter_bar.applied_text = text
        self._started = True
        self._show(text, self.sort)
        return True

    # ------------------------------------------------------------------ views
    def _show(self, text: str, sort: str | None) -> None:
        self._set_status("working…")
        self._build(text, sort)

    @work(thread=True, exclusive=True, group="kind-build", exit_on_error=False)
    def _build(self, text: str, sort: str | None) -> None:
        try:
            source = PagedRecords(
                self.query, text, sort, page_size=self.page_size, kept=self.kept_pages
            )
        except (McpcapError, OSError) as exc:
            self.app.call_from_thread(self._fail, f"The view could not be built: {exc}")
            return
        self.app.call_from_thread(self._install, source)
        if not self._examples_shown:
            self._examples_shown = True
            examples = [spec.example for spec in self.kind.filters if spec.example]
            tokens = pick_examples(examples, self._matches)
            self.app.call_from_thread(self.filter_bar.show_examples, tokens)

    def _frequent(self, name: str) -> list[str]:
        """The most frequent values of filter `name` under the filter in force (a thread)."""
        if name not in {spec.name for spec in self.kind.rank_by}:
            return []
        try:
            ranking = self.query.top(self.filter_text, by=name, limit=FREQUENT)
        except (McpcapError, OSError):
            return []
        return [item.key for item in ranking.items]

    def _matches(self, text: str) -> bool:
        """Whether `text` filters any record in (run in a worker)."""
        try:
            return self.query.page(text, limit=1).total > 0
        except (McpcapError, OSError):
            return False

    def _install(self, source: PagedRecords) -> None:
        self.filter_text, self.sort = source.text, source.sort
        self.table.empty_text = f"No {self.kind.title.lower()} match this filter."
        self.table.set_source(source)
        self._set_status()
        if self.has_class("-detail"):
            self._refresh_detail()

    @property
    def noun(self) -> str:  # type: ignore[override]
        return self.kind.title.lower()

    def status_filter(self) -> str:
        return self.filter_text

    # ------------------------------------------------------------------ events
    def on_filter_bar_applied(self, event: FilterBar.Applied) -> None:
        event.stop()
        self._show(event.text, self.sort)
        if event.submitted:
            self.table.focus()

    def on_kind_table_cursor_moved(self, event: KindTable.CursorMoved) -> None:
        event.stop()
        self.follow_cursor()

    def on_kind_table_chosen(self, event: KindTable.Chosen) -> None:
        event.stop()
        self.action_detail()

    # ------------------------------------------------------------------ actions
    def action_cycle_sort(self) -> None:
        sorts = self.kind.sorts
        if not sorts:
            self.notify(f"{self.kind.name} has no other order.", severity="warning")
            return
        index = sorts.index(self.sort) if self.sort in sorts else -1
        self._show(self.filter_text, sorts[(index + 1) % len(sorts)])

    # ------------------------------------------------------------------ find and go to
    def find(self, text: str, backward: bool) -> None:
        self._walk(text_match(text), f"No row in this view contains {text!r}.",
                   backward=backward)  # fmt: skip

    def go_to(self, target: Target, text: str) -> None:
        if target.frame is not None:
            match, missing = frame_match(target.frame), f"No row in this view is in frame {text}."
        else:
            match = time_match(target.ts or 0.0)
            missing = f"No row in this view is at {text} or later."
        self._walk(match, missing, start=-1)

    def _walk(self, match: Any, missing: str, *, start: int | None = None,
              backward: bool = False) -> None:  # fmt: skip
        source = self.table.source
        if source is None or not source.total:
            return
        origin = self.table.cursor if start is None else start
        self._set_status("looking…")
        self._walk_worker(source, origin, match, missing, backward)

    @work(thread=True, exclusive=True, group="kind-find", exit_on_error=False)
    def _walk_worker(self, source: PagedRecords, start: int, match: Any, missing: str,
                     backward: bool) -> None:  # fmt: skip
        try:
            position = source.find(start, match, backward)
        except (McpcapError, OSError) as exc:
            self.app.call_from_thread(self._fail, f"The rows could not be read: {exc}")
            return
        self.app.call_from_thread(self._found, source, position, missing)

    def _found(self, source: PagedRecords, position: int | None, missing: str) -> None:
        self._set_status()
        if position is None:
            self.notify(missing, severity="warning", markup=False)
        elif self.table.source is source:
            self.table.cursor = position
            self.table.focus()

    def action_detail(self) -> None:
        if not self.total:
            return
        self.set_class(True, "-detail")
        self._refresh_detail()

    def _refresh_detail(self) -> None:
        row = self.table.current()
        body = self.query_one(".kind-detail-body", Static)
        if row is None:
            self.detail_text = ""
            body.update(LOADING)
            return
        try:
            self.record = self.query.one(row[self.kind.id_field])
        except McpcapError as exc:
            self.record, self.detail_text = None, ""
            body.update(f"This record cannot be read: {exc}")
            return
        self.detail_text = json.dumps(self.record, ensure_ascii=False, default=str, indent=2)
        body.update(JSON(self.detail_text, indent=2))
        self.query_one(".kind-detail", VerticalScroll).scroll_home(animate=False)

    def action_mcp_call(self) -> None:
        calls = [records_call(self.capture_name, self.kind.name, self.filter_text, self.sort,
                              self.total)]  # fmt: skip
        if self.has_class("-detail") and self.record is not None:
            calls.append(
                record_call(self.capture_name, self.kind.name, self.record[self.kind.id_field])
            )
        show_calls(self.app, calls)

    # ------------------------------------------------------------------ export
    def action_export(self) -> None:
        screen = ExportScreen(
            self.capture_name,
            self.total,
            formats=kind_formats(self.kind),
            part=self.kind.name.replace(".", "-"),
            noun=self.kind.title.lower(),
        )
        self.app.push_screen(screen, self._export_chosen)

    def _export_chosen(self, request: ExportRequest | None) -> None:
        confirm_then_export(self.app, request, self._export)

    @work(thread=True, group="kind-export", exit_on_error=False)
    def _export(self, request: ExportRequest, overwrite: bool) -> None:
        try:
            records = self.query.iterate(self.filter_text, sort=self.sort)
            count = export_records(records, request.path, request.fmt, self.first_ts,
                                   overwrite=overwrite, kind=self.kind)  # fmt: skip
        except TargetExistsError:
            self.app.call_from_thread(self._export_chosen, request)
            return
        except (ExportError, McpcapError) as exc:
            self.app.call_from_thread(self.notify, f"Export failed: {exc}.", severity="error")
            return
        noun = self.kind.title.lower()
        self.app.call_from_thread(self.notify, f"Exported {count:,} {noun} to {request.path}.")
