"""Installs examples/mcpcap-example-module into the test environment, as a user would.

Package-scoped: the module is registered for the tests in this folder only and uninstalled
after them (unless it was installed before the run), so the rest of the suite sees the modules
it always saw.
"""

from __future__ import annotations

import importlib
import site
import subprocess
import sys
import sysconfig
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest

from mcpcap.core.modules.registry import registered

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mcpcap-example-module"
DISTRIBUTION = "mcpcap-example-module"


def _installed() -> bool:
    try:
        distribution(DISTRIBUTION)
    except PackageNotFoundError:
        return False
    return True


def _pip(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def _refresh() -> None:
    """What a new process would see: the .pth an editable install wrote, the entry points."""
    site.addsitedir(sysconfig.get_paths()["purelib"])
    importlib.invalidate_caches()
    registered.cache_clear()


@pytest.fixture(scope="package", autouse=True)
def example_module_installed():
    before = _installed()
    if not before:
        _pip("install", "--no-deps", "--no-build-isolation", "-e", str(EXAMPLE))
    _refresh()
    yield
    if not before:
        _pip("uninstall", "-y", DISTRIBUTION)
    _refresh()
