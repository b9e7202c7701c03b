"""The rankings of every module's overview: tables as tall as the overview has room for.

A ranking shows as many rows as fit in the overview's height (one ranking never needs more than
one screen; it scrolls inside when it holds more), so it shrinks on a small terminal and fills a
tall one. A summary holds the configured top N; when a ranking holds that many (more may exist)
and the overview is tall, the overview asks its module once, in a worker, for a longer summary
(`LONGER` rows a ranking). Names longer than the room left by the figures are cut in the middle,
so the counts always show; the full name is the row's tooltip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.coordinate import Coordinate
from textual.widget import Widget
from textual.widgets import DataTable

from mcpcap.tui.kind_rows import middle_ellipsis

LONGER = 100  # rows a ranking holds once the overview asked for more
FEWEST = 3  # rows a ranking shows however small the terminal
CHROME = 4  # the overview's lines around a ranking's rows: its title, header, margins


@dataclass(frozen=True)
class Ranking:
    """One ranking: rows of (name, figure cells …) and the filter a row applies (None: none)."""

    id: str
    title: str
    columns: tuple[str, ...]  # the names' column, then the figures'
    rows: list[tuple[str, ...]]
    filter_key: str | None = None
    about: str = ""


class RankTable(DataTable):
    """A ranking's rows, where one click (not two) on a row selects it."""

    DEFAULT_CSS = "RankTable { height: auto; }"

    def __init__(self, ranking: Ranking) -> None:
        super().__init__(id=ranking.id, cursor_type="row", zebra_stripes=True)
        self.ranking = ranking
        self.name_width = 0

    def on_mount(self) -> None:
        self._fill(self._room())

    def show(self, rows: list[tuple[str, ...]]) -> None:
        """Show `rows` instead (a longer ranking arrived), the cursor kept on its row."""
        self.ranking = replace(self.ranking, rows=rows)
        row = self.cursor_row
        self._fill(self._room())
        self.move_cursor(row=min(row, max(len(rows) - 1, 0)))

    def fit_height(self, overview_height: int) -> None:
        """As many rows as the overview's height has room for (a header line, then rows)."""
        rows = max(overview_height - CHROME, FEWEST)
        self.styles.max_height = rows + 1

    def _figure_widths(self) -> list[int]:
        columns = self.ranking.columns[1:]
        widths = [cell_len(name) for name in columns]
        for row in self.ranking.rows:
            widths = [max(w, cell_len(cell)) for w, cell in zip(widths, row[1:], strict=False)]
        return widths

    def _room(self) -> int:
        """Cells the names may take: the table's width less the figure columns and padding."""
        figures = sum(width + 2 for width in self._figure_widths())
        width = self.size.width or 200
        return max(width - figures - 3, 8)  # 3: the names' padding and a scroll bar

    def _fill(self, room: int) -> None:
        self.name_width = room
        self.clear(columns=True)  # columns too: an auto width keeps the widest cell it saw
        first, *rest = self.ranking.columns
        widths = self._figure_widths()
        names = [middle_ellipsis(row[0], room) for row in self.ranking.rows]
        # widths given, not left to the table: an auto width measured in the middle of a
        # relayout could keep a column as narrow as its heading (seen as "exampl")
        self.add_column(first, key="key", width=max(map(cell_len, [first, *names])))
        for name, width in zip(rest, widths, strict=False):
            self.add_column(Text(name, justify="right"), key=name, width=width)
        for name, row in zip(names, self.ranking.rows, strict=True):
            # Text, not str: a DataTable reads a str as markup, and names come from the capture
            cells = (f"{cell:>{width}}" for cell, width in zip(row[1:], widths, strict=False))
            self.add_row(Text(name), *cells, key=row[0])
        if not self.ranking.rows:
            self.add_row(Text("none", style="dim"), *("" for _ in rest))

    def on_resize(self) -> None:
        room = self._room()
        longest = max((cell_len(row[0]) for row in self.ranking.rows), default=0)
        if room != self.name_width and (longest > min(room, self.name_width) or not self.rows):
            self._fill(room)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.tooltip = event.row_key.value

    def on_click(self, event: events.Click) -> None:
        """Runs before DataTable's own handler: make every click on a row a 'second' click."""
        meta = event.style.meta
        row, column = meta.get("row"), meta.get("column")
        if isinstance(row, int) and row >= 0 and isinstance(column, int) and column >= 0:
            self.cursor_coordinate = Coordinate(row, column)


if TYPE_CHECKING:
    _Mixin = Widget
else:
    _Mixin = object  # a mixin: a Widget base would reset the overview's `can_focus`


class RankingsFit(_Mixin):
    """What an overview with rankings does (mixed into a container widget): size them to its
    height and, where a ranking may be cut, ask once (in a worker) for longer ones. `longer`
    (run in a thread) returns them; None: the overview has no more to ask for."""

    def __init__(
        self,
        *,
        longer: Callable[[], list[Ranking]] | None = None,
        top_n: int = 0,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._longer = longer
        self._top_n = top_n

    def on_mount(self) -> None:
        tables = list(self.query(RankTable))
        cut = any(len(table.ranking.rows) >= self._top_n for table in tables)
        if self._longer is not None and tables and cut and self._top_n < LONGER:
            self.call_after_refresh(self.run_worker, self._load_longer, thread=True,
                                    group="rankings", exit_on_error=False)  # fmt: skip

    def _load_longer(self) -> None:
        assert self._longer is not None
        found = self._longer()
        self.app.call_from_thread(self._show_longer, found)

    def _show_longer(self, rankings: list[Ranking]) -> None:
        tables = {table.id: table for table in self.query(RankTable)}
        for ranking in rankings:
            table = tables.get(ranking.id)
            if table is not None and len(ranking.rows) > len(table.ranking.rows):
                table.show(ranking.rows)

    def on_resize(self, event: events.Resize) -> None:
        for table in self.query(RankTable):
            table.fit_height(event.size.height)
