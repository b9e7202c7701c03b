"""The detail pane: one transaction, its query and response with every section, and raw bytes."""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from mcpcap.modules.dns.models import DnsMessage

HEX_WIDTH = 16
NARROW_HEX = 8  # bytes a hex dump line holds in a pane too narrow for 16 (it would wrap)
SECTIONS = ("questions", "answers", "authority", "additional")
# RFC 2136 2.3: an UPDATE message's sections hold the zone, prerequisites, updates, additional
UPDATE_OPCODE = 5
UPDATE_TITLES = {"questions": "Zone", "answers": "Prerequisites", "authority": "Updates"}


def hex_line_width(per_line: int) -> int:
    """The cells of one hex dump line (offset, hex bytes, ASCII) of `per_line` bytes."""
    return 4 + 2 + per_line * 3 - 1 + 2 + per_line


def hex_dump(raw_hex: str, per_line: int = HEX_WIDTH) -> list[str]:
    """Offset, hex bytes and printable ASCII, `per_line` bytes a line."""
    data = bytes.fromhex(raw_hex)
    lines = []
    for offset in range(0, len(data), per_line):
        chunk = data[offset : offset + per_line]
        hexes = " ".join(f"{b:02x}" for b in chunk).ljust(per_line * 3 - 1)
        text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        lines.append(f"{offset:04x}  {hexes}  {text}")
    return lines


def _record_line(section: str, rr: dict[str, Any]) -> str:
    if section == "questions":
        return f"{rr['name']}  {rr['class_name']}  {rr['type_name']}"
    return f"{rr['name']}  {rr['ttl']}  {rr['class_name']}  {rr['type_name']}  {rr['data']}"


def _value(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) or value is None else str(value)


def _edns_lines(edns: dict[str, Any]) -> list[str]:
    head = "  ".join(f"{k} {_value(v)}" for k, v in edns.items() if k != "options")
    lines = [head]
    for option in edns.get("options") or []:
        lines.append("option " + json.dumps(option, ensure_ascii=False))
    return lines


def message_text(title: str, msg: DnsMessage, width: int = 200) -> Text:
    """Every part of one message: header, flags, sections, EDNS, malformed, raw hex."""
    text = Text()
    text.append(f"{title} · frame {msg.frame} · message {msg.index} · {msg.time}\n", "bold")
    text.append(f"{msg.src}:{msg.sport} → {msg.dst}:{msg.dport}  {msg.transport}/{msg.protocol}\n")
    flags = " ".join(name for name, on in msg.flags.items() if on) or "(none)"
    text.append(
        f"id {msg.trans_id}  {'response' if msg.qr else 'query'}  opcode {msg.opcode_name}  "
        f"rcode {msg.rcode_name}  flags {flags}\n"
    )
    titles = UPDATE_TITLES if msg.opcode == UPDATE_OPCODE else {}
    for section in SECTIONS:
        records = getattr(msg, section)
        text.append(f"{titles.get(section, section.capitalize())} ({len(records)})\n", "bold")
        for rr in records:
            text.append(f"  {_record_line(section, rr)}\n")
    if msg.edns is not None:
        text.append("EDNS\n", "bold")
        for line in _edns_lines(msg.edns):
            text.append(f"  {line}\n")
    if msg.malformed:
        text.append(f"Malformed: {msg.malformed}\n", "bold red")
    if msg.raw_hex:
        text.append(f"Raw DNS bytes ({len(msg.raw_hex) // 2})\n", "bold")
        per_line = HEX_WIDTH if hex_line_width(HEX_WIDTH) + 2 <= width else NARROW_HEX
        for line in hex_dump(msg.raw_hex, per_line):
            text.append(f"  {line}\n")
    return text


def transaction_text(
    record: dict[str, Any],
    query: DnsMessage | None,
    response: DnsMessage | None,
    width: int = 200,
) -> Text:
    """The transaction's summary line, then its query and its response."""
    text = Text()
    rtt = "—" if record["rtt"] is None else f"{record['rtt'] * 1000:.3f} ms"
    rcode = record["rcode_name"] or "no response"
    text.append(f"{record['query'] or '(no question)'}  {record['qtype_name'] or ''}  ", "bold")
    text.append(f"{rcode}", "bold red" if record["rcode"] else "bold")
    text.append(f"  rtt {rtt}\n")
    text.append(
        f"client {record['client']}:{record['client_port']} → server {record['server']}:"
        f"{record['server_port']}  {record['transport']}/{record['protocol']}  id "
        f"{record['trans_id']}  retransmissions {record['retransmissions']}\n"
    )
    text.append(
        f"query frame {record['query_frame'] or '—'} · response frame "
        f"{record['response_frame'] or '—'} · {record['time']}\n\n"
    )
    for title, msg in (("Query", query), ("Response", response)):
        if msg is None:
            text.append(f"{title}: none in the capture\n\n", "dim")
        else:
            text.append_text(message_text(title, msg, width))
            text.append("\n")
    text.rstrip()
    return text


class TransactionDetail(VerticalScroll, can_focus=True):
    """A scrollable view of one transaction (`show` it; hidden by the panel when closed)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.record: dict[str, Any] | None = None
        self.messages: list[DnsMessage] = []

    def compose(self) -> ComposeResult:
        yield Static("", id="detail-body")

    def show(
        self, record: dict[str, Any], query: DnsMessage | None, response: DnsMessage | None
    ) -> None:
        self.record = record
        self.messages = [m for m in (query, response) if m is not None]
        width = self.scrollable_content_region.width or self.app.size.width
        text = transaction_text(record, query, response, width)
        self.query_one("#detail-body", Static).update(text)
        self.scroll_home(animate=False)
