"""Two installed packages registering one module name: an error that names both packages."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpcap.core.modules.registry import DuplicateModuleError, load_modules, registered


def install_fake_distribution(folder: Path, name: str, entry_point: str) -> None:
    """A distribution as pip leaves it: a dist-info folder with metadata and entry points."""
    info = folder / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[mcpcap.modules]\n{entry_point}\n")


@pytest.fixture
def fresh_registry():
    registered.cache_clear()
    yield
    registered.cache_clear()


@pytest.mark.parametrize(
    ("claimed", "owner", "target"),
    [
        ("ntp", "mcpcap-example-module", "mcpcap_ntp.module:NtpModule"),
        ("dns", "mcpcap", "mcpcap.modules.dns.module:DnsModule"),
    ],
)
def test_a_second_package_claiming_a_module_name_is_refused_naming_both(
    tmp_path, monkeypatch, fresh_registry, claimed, owner, target
):
    install_fake_distribution(tmp_path, "other-modules", f"{claimed} = other_modules:Mine")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(DuplicateModuleError) as caught:
        load_modules([claimed])
    message = str(caught.value)
    assert f"two packages register the module {claimed!r}" in message
    assert f"{owner} ({target})" in message
    assert "other-modules (other_modules:Mine)" in message
    assert caught.value.code == "duplicate_module"


def test_without_the_clash_the_module_loads(fresh_registry):
    assert [module.name for module in load_modules(["dns", "ntp"])] == ["dns", "ntp"]
