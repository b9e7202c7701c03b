"""CSV cells a reader can always split back: lists of plain values joined by commas, anything
else (nested records, text holding a comma) as JSON."""

from __future__ import annotations

import csv
import io
import json

from mcpcap.core.export import write_csv


def cells(record: dict) -> dict[str, str]:
    out = io.StringIO()
    write_csv([record], out, list(record))
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    return dict(zip(rows[0], rows[1], strict=True))


def test_plain_lists_are_comma_joined():
    got = cells({"answers": ["192.0.2.1", "2001:db8::1"], "ttls": [60, 30], "none": None})
    assert got == {"answers": "192.0.2.1,2001:db8::1", "ttls": "60,30", "none": ""}


def test_nested_records_and_text_with_commas_are_json():
    messages = [{"frame": 1, "type": "DISCOVER", "malformed": None}, {"frame": 2, "type": "OFFER"}]
    proxied = ["X-FORWARDED-FOR -> 1.1.1.1, 2.2.2.2", "VIA -> 1.1 p1"]
    got = cells({"messages": messages, "proxied": proxied, "flags": {"rd": True}, "x": [True]})
    assert json.loads(got["messages"]) == messages
    assert json.loads(got["proxied"]) == proxied
    assert json.loads(got["flags"]) == {"rd": True}
    assert json.loads(got["x"]) == [True]


def test_text_that_looks_like_json_stays_a_list_when_read_back():
    got = cells({"names": ["[odd]", "plain"]})
    assert json.loads(got["names"]) == ["[odd]", "plain"]
