"""The sources panel: a tree of sources and their captures, and a line about the highlighted one."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from mcpcap.core.sources.models import CaptureEntry, SourceInfo
from mcpcap.tui.widgets import human_bytes

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
KIND_NAMES = {"local": "folder", "remote": "server", "examples": "examples"}


@dataclass(frozen=True)
class SourceNode:
    source: SourceInfo


@dataclass(frozen=True)
class CaptureNode:
    entry: CaptureEntry


NodeData = SourceNode | CaptureNode


def capture_label(entry: CaptureEntry) -> Text:
    """`name  size format date`, or the name and a short reason it cannot be read."""
    label = Text(entry.name)
    if entry.error:
        label.append(f"  ✗ {entry.error.split(':')[0]}", style="bold red")
        return label
    kind = entry.format or "?"
    if entry.compressed:
        kind += ".gz"
    date = entry.modified[:10] if entry.modified else ""
    label.append(f"  {human_bytes(entry.size)} {kind} {date}", style="dim")
    return label


def source_label(source: SourceInfo, status: str = "") -> Text:
    """`label  kind`, then a status: a spinner frame while listing, or the error."""
    label = Text(source.label, style="bold")
    kind = KIND_NAMES.get(source.kind, source.kind)
    if kind != source.label:  # "examples", not "examples  examples"
        label.append(f"  {kind}", style="dim")
    if source.error:
        label.append(f"  ✗ {source.error}", style="bold red")
    elif status:
        label.append(f"  {status}", style="italic")
    return label


def describe(data: NodeData | None) -> str:
    """The line under the tree: everything known about the highlighted node."""
    if isinstance(data, SourceNode):
        s = data.source
        text = f"{s.label} ({KIND_NAMES.get(s.kind, s.kind)}): {s.location}"
        return text + (f"\n✗ {s.error}" if s.error else "")
    if isinstance(data, CaptureNode):
        e = data.entry
        if e.error:
            return f"{e.name}\n✗ {e.error}"
        kind = (e.format or "unknown format") + (", gzip" if e.compressed else "")
        when = e.modified or "date unknown"
        return f"{e.name}\n{human_bytes(e.size)}, {kind}, {when}\nEnter opens it"
    return ""


class SourcesTree(Tree[NodeData]):
    """Sources as branches, captures as leaves. Enter or a click on a capture opens it."""

    def __init__(self) -> None:
        super().__init__("Sources", id="sources-tree")
        self.show_root = False
        self.guide_depth = 2
        self._loading: dict[str, TreeNode[NodeData]] = {}
        self._frame = 0

    def on_mount(self) -> None:
        self._spin = self.set_interval(0.1, self._tick, pause=True)

    def show_loading(self, sources: list[SourceInfo]) -> None:
        """One branch per source, each with a spinner until `show_listing`."""
        self.clear()
        self._loading = {}
        for source in sources:
            node = self.root.add(source_label(source, SPINNER[0] + " listing…"), SourceNode(source))
            self._loading[source.label] = node
        self._spin.resume()

    def show_listing(self, sources: list[SourceInfo], entries: list[CaptureEntry]) -> None:
        """Fill every branch with its captures; a source's error shows on its branch."""
        self._spin.pause()
        self._loading = {}
        self.clear()
        for source in sources:
            node = self.root.add(source_label(source), SourceNode(source), expand=True)
            mine = [e for e in entries if e.source == source.label]
            for entry in mine:
                node.add_leaf(capture_label(entry), CaptureNode(entry))
            if not mine and not source.error:
                node.add_leaf(Text("no captures", style="dim italic"))
        self.move_cursor_to_first_capture()

    def move_cursor_to_first_capture(self) -> None:
        for line in range(self.last_line + 1):
            node = self.get_node_at_line(line)
            if node is not None and isinstance(node.data, CaptureNode):
                self.move_cursor(node)
                return

    def select_capture(self, name: str) -> None:
        """Put the cursor on the capture called `name`, if it is in the tree."""
        for line in range(self.last_line + 1):
            node = self.get_node_at_line(line)
            data = node.data if node is not None else None
            if isinstance(data, CaptureNode) and data.entry.name == name:
                self.move_cursor(node)
                return

    def _tick(self) -> None:
        self._frame = (self._frame + 1) % len(SPINNER)
        for node in self._loading.values():
            assert isinstance(node.data, SourceNode)
            node.set_label(source_label(node.data.source, SPINNER[self._frame] + " listing…"))


class SourcesPanel(Vertical):
    """The tree plus a description of the highlighted node."""

    class CaptureChosen(Message):
        """The user chose a capture to open."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def compose(self) -> ComposeResult:
        yield SourcesTree()
        yield Static("", id="sources-info")

    @property
    def tree(self) -> SourcesTree:
        return self.query_one(SourcesTree)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[NodeData]) -> None:
        self.query_one("#sources-info", Static).update(describe(event.node.data))

    def on_tree_node_selected(self, event: Tree.NodeSelected[NodeData]) -> None:
        event.stop()
        data = event.node.data
        if isinstance(data, CaptureNode):
            if data.entry.error:
                message = f"{data.entry.name}: {data.entry.error}"
                self.notify(message, severity="error", markup=False)
            else:
                self.post_message(self.CaptureChosen(data.entry.name))
