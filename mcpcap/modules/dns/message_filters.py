"""Filters of the `dns.messages` kind, tested on the stored message rows.

Messages are stored packed a span at a time (see `store_schema`), not as rows SQL can filter, so
each filter is a Python test (`FilterSpec.test`). The row's own columns (frame, time, addresses,
ports, transport, protocol, QR bit, id) cost nothing to test; names and types come from the
question section decoded alone, rcodes and the malformed flag from the message's brief (a
message repeated in the capture is looked up, not decoded again: `decode_brief`), each made once
per row and only when a filter asks. Values are checked by the transaction filters' own
validators, so `qtype:AAAA` or `rcode:NXDOMAIN` mean the same on both kinds.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from mcpcap.core.addresses import in_network
from mcpcap.core.filtering import FilterSpec, sql_integer
from mcpcap.modules.dns import filters
from mcpcap.modules.dns.decoder import Question, decode_brief, decode_questions
from mcpcap.modules.dns.pairing import lowered
from mcpcap.modules.dns.registry import RCODES, RR_TYPES

UINT16_MAX = 0xFFFF  # ports and the header's id


class MessageRow:
    """One stored message row (`dns_messages` layout), with its brief decoded on demand."""

    __slots__ = ("_brief", "_questions", "row")

    def __init__(self, row: tuple) -> None:
        self.row = row
        self._brief: tuple | None = None
        self._questions: list[Question] | None = None

    @property
    def brief(self) -> tuple:
        if self._brief is None:
            self._brief = decode_brief(self.row[11], mdns=self.row[8] == "mdns")
        return self._brief

    @property
    def questions(self) -> list[Question]:
        """The question section (decoded alone: cheaper than the brief)."""
        if self._questions is None:
            self._questions = decode_questions(self.row[11], mdns=self.row[8] == "mdns")
        return self._questions

    def names(self) -> list[str]:
        """The question names, in lower case."""
        return [lowered(question[0]) for question in self.questions]


def _rcode(message: MessageRow, value: int) -> bool:
    """The header's four bits decide most messages; the brief (with EDNS's extended bits)
    only those whose header agrees."""
    raw = message.row[11]
    if len(raw) >= 4 and raw[3] & 0x0F != value & 0x0F:
        return False
    return message.brief[2] == value


def _suffix(message: MessageRow, value: str) -> bool:
    tail = "." + value
    return any(name == value or name.endswith(tail) for name in message.names())


def _address(column: int, message: MessageRow, network: str) -> bool:
    return bool(in_network(message.row[column], network))


def _uint16(value: Any) -> int:
    number = int(str(value).strip())
    if not 0 <= number <= UINT16_MAX:
        raise ValueError(value)
    return number


def _validated(name: str, value: Any) -> Any:
    return filters.validate(name, value)


def _spec(name: str, description: str, test, parse=None, **extra) -> FilterSpec:
    return FilterSpec(
        name=name,
        description=description,
        parse=parse or partial(_validated, name),
        test=test,
        **extra,
    )


# queries against responses, and the type, first: the filter bar offers these, and its
# examples are tried in this order against the capture (each try is a pass over its messages)
MESSAGE_FILTERS = (
    _spec("qr", "true for responses, false for queries (the QR bit)",
          lambda m, v: bool(m.row[9]) == v, parse=partial(filters.boolean_value, "qr"),
          choices=("true", "false"), type="boolean", example="qr:false"),
    _spec("qtype", "a question's type, name or number (A, AAAA, TXT, 28)",
          lambda m, v: any(question[1] == v for question in m.questions),
          choices=tuple(sorted(set(RR_TYPES.values()))), type="string|integer",
          example="qtype:AAAA"),
    _spec("rcode", "response code, name or number, EDNS extended codes included (NXDOMAIN, 3)",
          _rcode, choices=tuple(RCODES.values()), type="string|integer",
          example="rcode:NXDOMAIN,SERVFAIL"),
    _spec("qname", "a question name, exact and case-insensitive",
          lambda m, v: v in m.names(), example="qname:example.com"),
    _spec("qname_suffix", "a question name, or any name below it", _suffix,
          example="qname_suffix:example.com"),
    _spec("qname_contains", "part of a question name",
          lambda m, v: any(v in name for name in m.names()), example="qname_contains:login"),
    _spec("src", "source address or CIDR", partial(_address, 3),
          parse=partial(filters.network_value, "src"), example="src:10.0.0.0/8"),
    _spec("dst", "destination address or CIDR", partial(_address, 5),
          parse=partial(filters.network_value, "dst"), example="dst:192.0.2.53"),
    _spec("host", "source or destination address or CIDR",
          lambda m, v: _address(3, m, v) or _address(5, m, v),
          parse=partial(filters.network_value, "host"), example="host:192.0.2.53"),
    _spec("port", "source or destination port", lambda m, v: v in (m.row[4], m.row[6]),
          parse=_uint16, type="integer", example="port:5353"),
    _spec("transport", "udp or tcp", lambda m, v: m.row[7] == v, choices=filters.TRANSPORTS,
          example="transport:tcp"),
    _spec("protocol", "dns, mdns or llmnr", lambda m, v: m.row[8] == v,
          choices=filters.PROTOCOLS, example="protocol:mdns"),
    _spec("trans_id", "the header's transaction id", lambda m, v: m.row[10] == v,
          parse=_uint16, type="integer", example="trans_id:4660"),
    _spec("malformed", "true for messages that did not decode cleanly",
          lambda m, v: bool(m.brief[4]) == v, parse=partial(filters.boolean_value, "malformed"),
          choices=("true", "false"), type="boolean", example="malformed:true"),
    _spec("since", "at or after this time (ISO 8601 or epoch seconds)",
          lambda m, v: m.row[2] >= v, type="string|number", example="since:2024-01-01T00:00:00Z"),
    _spec("until", "at or before this time (ISO 8601 or epoch seconds)",
          lambda m, v: m.row[2] <= v, type="string|number", example="until:1700000000"),
    FilterSpec("frame", "the frame number", parse=sql_integer, test=lambda m, v: m.row[0] == v,
               key=lambda m: m.row[0], ordered=True, type="integer", example="frame>=100"),
)  # fmt: skip
