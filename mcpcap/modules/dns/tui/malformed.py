"""The DNS tab's `dns.malformed` table: the generic kind table, whose detail (Enter) shows the
malformed message decoded as far as it goes, with its bytes, when the frame holds a stored DNS
message; else the record itself."""

from __future__ import annotations

from typing import Any

from rich.json import JSON
from textual.widgets import Static

from mcpcap.core.errors import McpcapError
from mcpcap.modules.dns.tui.detail import message_text
from mcpcap.tui.widgets.kind_table import KindPanel

MAX_INDEX = 64  # messages of one frame looked at for the malformed one


def malformed_message(results: Any, frame: int) -> Any | None:
    """The first malformed DNS message stored for `frame` (its first message when none says
    it is malformed; None when the frame holds none)."""
    first = None
    for index in range(MAX_INDEX):
        try:
            message = results.message(frame, index)
        except McpcapError:
            break
        if message.malformed:
            return message
        first = first or message
    return first


class MalformedPanel(KindPanel):
    """`dns.malformed`, whose detail decodes the message the reason is about."""

    def __init__(self, results: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.results = results

    def _refresh_detail(self) -> None:
        super()._refresh_detail()
        if self.record is None:
            return
        message = malformed_message(self.results, self.record["frame"])
        if message is None:
            return
        body = self.query_one(".kind-detail-body", Static)
        width = body.size.width or self.app.size.width
        text = message_text("Message", message, width)
        text.append("Record\n", "bold")
        text.append_text(JSON(self.detail_text, indent=2).text)
        body.update(text)
