"""The host filters on the Host header as sent: a name on any port, names below it on a label
boundary only (a look-alike domain is never "below" the one asked for)."""

from __future__ import annotations

import pytest

from mcpcap.modules.http.kinds import FILTERS
from tests.filter_rows import matching as rows_matching

HOSTS = [
    "example.com", "WWW.Example.com", "www.example.com:8080", "[2001:db8::1]:80",
    "[2001:db8::1]", "login.example.com.evil.net", "www.example.community", "notexample.com",
    "a_b.example.com", "axb.example.com",
]  # fmt: skip


def matching(text: str) -> set[str]:
    return rows_matching(FILTERS, "host", HOSTS, text)


@pytest.mark.parametrize(
    ("text", "hosts"),
    [
        ("host_suffix:example.com", {"example.com", "WWW.Example.com", "www.example.com:8080",
                                     "a_b.example.com", "axb.example.com"}),
        ("host:www.example.com", {"WWW.Example.com", "www.example.com:8080"}),
        ("host:[2001:db8::1]", {"[2001:db8::1]:80", "[2001:db8::1]"}),
        ("host_suffix:a_b.example.com", {"a_b.example.com"}),  # `_` is no wildcard
    ],
)  # fmt: skip
def test_host_filters(text, hosts):
    assert matching(text) == hosts
