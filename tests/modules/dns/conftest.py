"""Fixtures the DNS tests share."""

from __future__ import annotations

import pytest

from mcpcap.core.config import build_settings
from mcpcap.core.examples import example_path
from mcpcap.core.service import Analyzer


@pytest.fixture(scope="module")
def analysis():
    """The bundled example, analysed once per test module (no cache)."""
    settings = build_settings({"no_cache": True})
    with Analyzer(settings).analyze(example_path(), "example.pcap") as result:
        yield result
