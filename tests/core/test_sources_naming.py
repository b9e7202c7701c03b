"""Labels, unique face names, `label:name` and the checks on names as typed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcpcap.core.config import Settings
from mcpcap.core.errors import OutsideSourcesError, UnknownCaptureError
from mcpcap.core.sources import SourceRegistry, naming
from tests.core.http_fixtures import pcap_bytes


def test_unique_labels():
    assert naming.unique_labels(["lab", "lab", "x", "lab"]) == ["lab", "lab-2", "x", "lab-3"]
    assert naming.unique_labels(["examples"], reserved=["examples"]) == ["examples-2"]
    assert naming.label_for("a:b/c d", "local") == "a_b_c_d"
    assert naming.label_for("", "local") == "local"


def test_face_names_prefix_only_clashes():
    names = naming.face_names({"a": ["x.pcap", "y.pcap"], "b": ["x.pcap"]})
    assert names == {
        ("a", "x.pcap"): "a:x.pcap",
        ("a", "y.pcap"): "y.pcap",
        ("b", "x.pcap"): "b:x.pcap",
    }


def test_capture_like_names():
    for name in ("a.pcap", "A.PCAPNG", "x.cap", "x.pcap.gz", "x.pcapng.GZ"):
        assert naming.is_capture_like(name)
    for name in ("a.txt", "a.gz", "pcap", "a.pcap.zip"):
        assert not naming.is_capture_like(name)


@given(st.text(max_size=40))
def test_clean_relname_never_escapes(text):
    try:
        name = naming.clean_relname(text)
    except OutsideSourcesError as exc:
        assert "\x00" not in str(exc) or "\\x00" in str(exc)
        return
    assert not name.startswith(("/", "../")) and name != ".."
    assert "\x00" not in name


@pytest.fixture
def two_labs(tmp_path):
    roots = []
    for parent in ("one", "two"):
        root = tmp_path / parent / "lab"
        root.mkdir(parents=True)
        (root / "same.pcap").write_bytes(pcap_bytes(1))
        roots.append(root)
    (roots[0] / "only-one.pcap").write_bytes(pcap_bytes(1))
    return roots


def test_same_folder_names_get_unique_labels_and_prefixed_names(two_labs):
    settings = Settings(pcap_paths=[str(r) for r in two_labs], examples=True)
    with SourceRegistry(settings) as reg:
        assert [(s.label, s.kind) for s in reg.sources()] == [
            ("lab", "local"),
            ("lab-2", "local"),
            ("examples", "examples"),
        ]
        names = [(e.source, e.name) for e in reg.list_captures() if e.source != "examples"]
        assert names == [
            ("lab", "only-one.pcap"),
            ("lab", "lab:same.pcap"),
            ("lab-2", "lab-2:same.pcap"),
        ]
        with pytest.raises(UnknownCaptureError, match=r"lab:same\.pcap, lab-2:same\.pcap"):
            reg.resolve("same.pcap")
        resolved = reg.resolve("lab-2:same.pcap")
        assert (resolved.name, resolved.source, resolved.kind) == (
            "lab-2:same.pcap",
            "lab-2",
            "local",
        )
        assert reg.resolve("lab:only-one.pcap").name == "only-one.pcap"
        assert reg.resolve(str(two_labs[1] / "same.pcap")).name == "lab-2:same.pcap"
        assert str(two_labs[0]) not in repr(resolved)


def test_examples_only_when_nothing_else(two_labs):
    with SourceRegistry(Settings()) as reg:
        assert [s.label for s in reg.sources()] == ["examples"]
        assert reg.sources()[0].location == "bundled with mcpcap"
    with SourceRegistry(Settings(pcap_paths=[str(two_labs[0])])) as reg:
        assert [s.label for s in reg.sources()] == ["lab"]


def test_unknown_source_label(two_labs):
    from mcpcap.core.errors import BadArgumentError

    with SourceRegistry(Settings(pcap_paths=[str(two_labs[0])])) as reg:
        with pytest.raises(BadArgumentError, match="no source labelled 'nope'"):
            reg.list_captures("nope")
        assert [e.name for e in reg.list_captures("lab")] == ["only-one.pcap", "same.pcap"]


def test_messages_escape_control_characters():
    assert naming.shown("a\x00b") == "'a\\x00b'"
    assert len(naming.shown("x" * 500)) <= 80


def test_resolve_cli_capture(two_labs, tmp_path):
    from mcpcap.core.sources import resolve_cli_capture

    plain = Settings(cache_dir=tmp_path / "cache")
    file = two_labs[0] / "only-one.pcap"
    assert resolve_cli_capture(plain, str(file)) == (file, "only-one.pcap")
    with_sources = Settings(pcap_paths=[str(two_labs[0])])
    path, name = resolve_cli_capture(with_sources, "only-one.pcap")
    assert (path, name) == (file.resolve(), "only-one.pcap")
    with pytest.raises(OutsideSourcesError):
        resolve_cli_capture(Settings(pcap_paths=[str(two_labs[1])]), str(file))
