"""The SNI filters find a name sent with a trailing dot (`www.example.com.` is the same host,
and its registered domain already ignores the dot)."""

from __future__ import annotations

import pytest

from mcpcap.modules.tls.kinds import FILTERS
from tests.filter_rows import matching as rows_matching

NAMES = ["WWW.Example.COM.", "www.example.com", "example.com.evil.net", "notexample.com"]


def matching(text: str) -> set[str]:
    return rows_matching(FILTERS, "server_name", NAMES, text)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("server_name:www.example.com", {"WWW.Example.COM.", "www.example.com"}),
        ("server_name:WWW.Example.COM.", {"WWW.Example.COM.", "www.example.com"}),
        ("server_name_suffix:example.com", {"WWW.Example.COM.", "www.example.com"}),
    ],
)
def test_sni_filters(text, names):
    assert matching(text) == names
