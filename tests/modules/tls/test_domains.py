"""Registered domains: one Public Suffix List per process (the core's), shared by DNS and TLS."""

from __future__ import annotations

import subprocess
import sys

from mcpcap.core import domains
from mcpcap.modules.tls.domains import registered_domain

ONE_PARSE = """
from mcpcap.core import domains
from mcpcap.modules.dns import domains as dns_domains
from mcpcap.modules.dns.hunting import zones
from mcpcap.modules.tls import domains as tls_domains
from mcpcap.modules.tls import scan

assert domains.suffix_list.cache_info().currsize == 0, "parsed before a name asked for it"
assert dns_domains.registered_domain("www.example.co.uk") == "example.co.uk"
assert tls_domains.registered_domain("api.example.co.uk.") == "example.co.uk"
assert zones.known_suffix("example.com")
assert not zones.known_suffix("printer.lan")
print(domains.suffix_list.cache_info().misses)
"""


def test_dns_and_tls_share_one_lazily_parsed_list():
    out = subprocess.run(
        [sys.executable, "-c", ONE_PARSE], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["1"]


def test_server_names_by_the_shared_rules():
    assert registered_domain("www.Example.CO.UK") == "example.co.uk"
    assert registered_domain("www.example.co.uk.") == "example.co.uk"  # an FQDN's dot
    assert registered_domain("user.github.io") == "user.github.io"  # private section
    assert registered_domain("co.uk") == "co.uk"  # a suffix itself stays as it is
    assert registered_domain(".") == registered_domain("") == "."
    assert registered_domain("a..b") == "a..b"  # an empty label the list rejects


def test_the_cache_is_the_cores():
    domains.registered_domain.cache_clear()
    registered_domain("cache.example.org")
    assert domains.registered_domain.cache_info().currsize == 1


def test_an_address_literal_has_no_registered_domain():
    for name in ("192.168.1.1", "192.168.1.1.", "2001:db8::1", "[2001:db8::1]", "::ffff:10.0.0.1"):
        assert registered_domain(name) is None, name
    assert registered_domain("10.0.0.1.example.com") == "example.com"
    assert registered_domain("host1.example.com") == "example.com"
