"""The filter bar's validation: the analysis layer's tokens, and why a bad one is bad."""

from __future__ import annotations

import pytest

from mcpcap.modules.dns.filters import TransactionFilter, parse_filter_text
from mcpcap.tui.widgets.filter_bar import validate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", TransactionFilter()),
        ("qname_suffix:example.com rcode:NXDOMAIN",
         TransactionFilter(qname_suffix="example.com", rcode=3)),
        ("qtype:AAAA answered:false", TransactionFilter(qtype=28, answered=False)),
        ("client:10.0.0.0/8 min_rtt:0.1", TransactionFilter(client="10.0.0.0/8", min_rtt=0.1)),
    ],
)  # fmt: skip
def test_valid_text_gives_its_filter(text: str, expected: TransactionFilter) -> None:
    assert validate(text, parse_filter_text) == (expected, None)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("rcode:BOGUS", "BOGUS"),
        ("example.com", "field:value"),
        ("colour:red", "unknown filter"),
        ("client:300.1.1.1", "CIDR"),
        ('qname:"open', "unclosed double quote"),
        ("min_rtt:-1", "seconds"),
        ("qname_sufix:example.com", "unknown filter 'qname_sufix'; did you mean 'qname_suffix'?"),
        ("qname-sufix:example.com", "did you mean 'qname_suffix'?"),
        ("rcode:NXDOMAN", "rcode: 'NXDOMAN' is unknown; did you mean 'NXDOMAIN'?"),
        ("qtype:AAA", "did you mean 'AAAA'?"),
        ("transport:tcpp", "did you mean 'tcp'?"),
        ("domain:example.com", "unknown filter 'domain'; filters are: qname, qname_suffix"),
        ("client:" + "1" * 100_000, "(100,000 characters) is too long"),
    ],
)
def test_invalid_text_says_why_in_one_sentence(text: str, says: str) -> None:
    flt, error = validate(text, parse_filter_text)
    assert flt is None and error is not None
    assert says in error and "\n" not in error
    assert len(error) < 1000
