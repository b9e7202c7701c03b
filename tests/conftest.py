"""Shared fixtures: every test gets its own cache folder, so no test reads a user's store."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpcap.core.config import build_settings
from mcpcap.core.examples import example_path
from tests.corpus import require_corpus

FIXTURES = Path(__file__).parent / "fixtures" / "captures"


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch) -> Path:
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("MCPCAP_CACHE_DIR", str(folder))
    for name in (
        "MCPCAP_PCAP_PATH",
        "MCPCAP_PCAP_URL",
        "MCPCAP_MAX_REPLY_CHARS",
        "MCPCAP_CONFIG",
        "MCPCAP_MODULES",
        "MCPCAP_HUNT_ALLOW",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MCPCAP_CONFIG", str(folder / "no-config.toml"))
    return folder


@pytest.fixture
def example() -> Path:
    return example_path()


@pytest.fixture
def corpus() -> Path:
    """The shared corpus (tests/corpus.py): skip without it, fail if MCPCAP_REQUIRE_CORPUS=1."""
    return require_corpus()


@pytest.fixture
def captures() -> Path:
    return FIXTURES


@pytest.fixture
def make_settings():
    def make(**flags):
        return build_settings(flags)

    return make
