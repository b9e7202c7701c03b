"""Fixtures the core's tests share."""

import pytest

from mcpcap.core import service


@pytest.fixture
def scans(monkeypatch):
    """Counts the real scans the analyzer runs."""
    calls = []
    real = service.scan_capture

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "scan_capture", counting)
    return calls
