"""Local folders: listing by magic bytes, errors per entry, and confinement of every name."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from mcpcap.core.config import Settings
from mcpcap.core.errors import OutsideSourcesError, UnknownCaptureError
from mcpcap.core.sources import SourceRegistry
from mcpcap.core.sources.naming import shown
from tests.core.http_fixtures import pcap_bytes

PCAPNG = (
    # Section Header Block, Interface Description Block (Ethernet), one Enhanced Packet Block
    bytes.fromhex("0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000")
    + bytes.fromhex("0100000014000000010000000000040014000000")
    + bytes.fromhex("06000000300000000000000000000000000000000e0000000e000000")
    + b"\x00" * 14
    + b"\x00\x00"
    + bytes.fromhex("30000000")
)


def pcap_ns() -> bytes:
    plain = pcap_bytes(1)
    return bytes.fromhex("4d3cb2a1") + plain[4:]


@pytest.fixture
def lab(tmp_path) -> Path:
    root = tmp_path / "lab"
    (root / "2024" / "05").mkdir(parents=True)
    (root / "a.pcap").write_bytes(pcap_bytes(2))
    (root / "b.pcapng").write_bytes(PCAPNG)
    (root / "ns.pcap").write_bytes(pcap_ns())
    (root / "2024" / "05" / "c.pcap.gz").write_bytes(gzip.compress(pcap_bytes(3)))
    (root / "no-extension").write_bytes(pcap_bytes(1))  # recognised by magic, not by name
    (root / "html.pcap").write_bytes(b"<html><body>login</body></html>")
    (root / "notes.txt").write_text("left out")
    (root / ".hidden.pcap").write_bytes(pcap_bytes(1))
    (root / ".git").mkdir()
    (root / ".git" / "x.pcap").write_bytes(pcap_bytes(1))
    return root


def registry(*paths: Path, **extra) -> SourceRegistry:
    return SourceRegistry(Settings(pcap_paths=[str(p) for p in paths], **extra))


def test_listing_by_magic_bytes(lab):
    with registry(lab) as reg:
        entries = {e.name: e for e in reg.list_captures()}
    assert list(entries) == [
        "2024/05/c.pcap.gz",
        "a.pcap",
        "b.pcapng",
        "html.pcap",
        "no-extension",
        "ns.pcap",
    ]
    facts = {n: (e.format, e.compressed, e.error) for n, e in entries.items()}
    assert facts["a.pcap"] == ("pcap", False, None)
    assert facts["b.pcapng"] == ("pcapng", False, None)
    assert facts["ns.pcap"] == ("pcap-ns", False, None)
    assert facts["2024/05/c.pcap.gz"] == ("pcap", True, None)
    assert facts["no-extension"] == ("pcap", False, None)
    assert facts["html.pcap"][0] is None
    assert facts["html.pcap"][2].startswith("not a capture")
    assert entries["a.pcap"].size == len(pcap_bytes(2))
    assert entries["a.pcap"].modified.endswith("Z") and entries["a.pcap"].source == "lab"


def test_depth_limit(lab):
    with registry(lab, local_depth=2) as reg:
        assert "2024/05/c.pcap.gz" not in [e.name for e in reg.list_captures()]
        # a deeper name can still be opened by name: it is inside the root
        assert reg.resolve("2024/05/c.pcap.gz").source == "lab"


def test_probe(lab):
    with registry(lab) as reg:
        probe = reg.probe("a.pcap")
    assert (probe.packets, probe.format, probe.compressed) == (2, "pcap", False)
    assert [(lt.linktype, lt.name) for lt in probe.link_types] == [(1, "ETHERNET")]
    assert probe.first_ts == 1714557600.0 and probe.duration == 1.001
    assert probe.first_time == "2024-05-01T10:00:00.000000Z"


def test_unreadable_entries_are_listed_with_their_error(lab):
    """Tests run as root, so chmod 000 blocks nothing: use entries no one can read instead."""
    os.symlink(lab / "gone.pcap", lab / "dangling.pcap")
    os.mkfifo(lab / "fifo.pcap")  # opening a FIFO would block: it must never be opened
    os.symlink(lab / "loop.pcap", lab / "loop.pcap")
    os.symlink(lab / "nowhere", lab / "other-link")  # not capture-like: left out
    with registry(lab) as reg:
        errors = {e.name: e.error for e in reg.list_captures() if e.error}
        assert errors["dangling.pcap"] == "broken link"
        assert errors["fifo.pcap"] == "not a regular file"
        assert errors["loop.pcap"].startswith("cannot be read")
        assert "other-link" not in errors
        with pytest.raises(UnknownCaptureError):
            reg.resolve("fifo.pcap")


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="needs root to drop")
def test_permission_errors_as_an_unprivileged_user():
    """The honest permission test: list as uid 65534 (nobody) in a child process."""
    top = Path(tempfile.mkdtemp(prefix="mcpcap-perm-"))
    try:
        top.chmod(0o755)
        (top / "ok.pcap").write_bytes(pcap_bytes(1))
        (top / "secret.pcap").write_bytes(pcap_bytes(1))
        (top / "secret.pcap").chmod(0o000)
        (top / "closed").mkdir(mode=0o700)
        (top / "closed" / "x.pcap").write_bytes(pcap_bytes(1))
        code = (
            "import json,sys; from mcpcap.core.config import Settings;"
            "from mcpcap.core.sources import SourceRegistry as R;"
            "r=R(Settings(pcap_paths=[sys.argv[1]], cache_dir='/nonexistent'));"
            "print(json.dumps({e.name: e.error for e in r.list_captures()}))"
        )
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        try:
            done = subprocess.run(
                [sys.executable, "-c", code, str(top)],
                user=65534,
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
            )
        except (PermissionError, OSError) as exc:
            pytest.skip(f"cannot switch user here: {exc}")
        if done.returncode and "Permission denied" in done.stderr and "import" in done.stderr:
            pytest.skip("the code tree is not readable by an unprivileged user")
        assert done.returncode == 0, done.stderr
        listed = json.loads(done.stdout)
        assert listed == {
            "closed/": "permission denied",
            "ok.pcap": None,
            "secret.pcap": ("permission denied"),
        }
    finally:
        subprocess.run(["rm", "-rf", str(top)], check=False)


# --- confinement -----------------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path) -> Path:
    secret = tmp_path / "secret.pcap"
    secret.write_bytes(pcap_bytes(1))
    return secret


@pytest.mark.parametrize(
    "name",
    [
        "../secret.pcap",
        "2024/../../secret.pcap",
        "..\\secret.pcap",
        "%2e%2e/secret.pcap",
        "..%2fsecret.pcap",
        "%252e%252e%252fsecret.pcap",
        "lab:../secret.pcap",
        "a.pcap\x00../../secret.pcap",
        "a.pcap%00",
        "~/../../secret.pcap",
    ],
)
def test_traversal_is_refused(lab, outside, name):
    before = sorted(p.name for p in lab.parent.rglob("*"))
    with registry(lab) as reg, pytest.raises(OutsideSourcesError) as caught:
        reg.resolve(name)
    message = str(caught.value)
    assert "refused" in message or "outside" in message
    assert str(outside.parent) not in message  # names no other file
    assert sorted(p.name for p in lab.parent.rglob("*")) == before


def test_absolute_paths(lab, outside):
    with registry(lab) as reg:
        assert reg.resolve(str(lab / "a.pcap")).name == "a.pcap"
        assert reg.resolve(str(lab / "2024" / ".." / "a.pcap")).name == "a.pcap"
        with pytest.raises(OutsideSourcesError, match="lies outside the capture sources"):
            reg.resolve(str(outside))
        with pytest.raises(OutsideSourcesError):
            reg.resolve(str(lab / ".." / "secret.pcap"))
        with pytest.raises(OutsideSourcesError):
            reg.resolve("/etc/passwd")


def test_home_relative_path(lab, monkeypatch):
    monkeypatch.setenv("HOME", str(lab.parent))
    with registry(lab) as reg:
        assert reg.resolve("~/lab/a.pcap").name == "a.pcap"
        with pytest.raises(OutsideSourcesError):
            reg.resolve("~/secret.pcap")


def test_symlink_escapes(lab, outside):
    os.symlink(outside, lab / "escape.pcap")
    os.symlink(outside.parent, lab / "escape-dir")
    os.symlink(lab / "a.pcap", lab / "inside.pcap")
    with registry(lab) as reg:
        listed = {e.name: e.error for e in reg.list_captures()}
        assert listed["escape.pcap"] == "refused: it links outside its source"
        assert not any(n.startswith("escape-dir") for n in listed)
        assert listed["inside.pcap"] is None
        for name in ("escape.pcap", "escape-dir/secret.pcap", str(lab / "escape.pcap")):
            with pytest.raises(OutsideSourcesError) as caught:
                reg.resolve(name)
            assert "secret" not in str(caught.value) or "secret" in name
        assert reg.resolve("inside.pcap").name == "inside.pcap"


def test_unknown_names_get_close_matches(lab):
    with registry(lab) as reg, pytest.raises(UnknownCaptureError) as caught:
        reg.resolve("a.pcapp")
    assert "did you mean a.pcap" in str(caught.value)


def test_suggestions_are_only_captures_that_open(lab, outside):
    """Never suggest a link out of the source, a non-capture, a broken link, or the typed name."""
    os.symlink(outside, lab / "escape.pcap")
    os.symlink(lab / "gone.pcap", lab / "broken.pcap")
    with registry(lab) as reg:
        for typed in ("escape.pcapp", "html.pcapp", "broken.pcapp", "ns.pcapp"):
            with pytest.raises(UnknownCaptureError) as caught:
                reg.resolve(typed)
            message = str(caught.value)
            suggested = message.partition("did you mean ")[2].rstrip("?").split(", ")
            assert not {"escape.pcap", "html.pcap", "broken.pcap"} & set(suggested), message
        assert suggested[0] == "ns.pcap"  # a usable capture is still suggested
        for typed in ("broken.pcap", "lab:broken.pcap", str(lab / "broken.pcap")):
            with pytest.raises(UnknownCaptureError) as caught:
                reg.resolve(typed)
            # the typed text as error messages quote it (a long absolute path is cut, and a
            # pytest temporary folder's length depends on how many runs came before)
            assert str(caught.value) == f"{shown(typed)} cannot be used: broken link"
        assert "a.pcap" not in reg.suggestions("a.pcap")  # a name is not its own suggestion
        assert "escape.pcap" not in reg.suggestions("escape.pcap")


def test_hidden_names_are_not_captures(lab):
    with registry(lab) as reg:
        for name in (".hidden.pcap", ".git/x.pcap"):
            with pytest.raises(UnknownCaptureError):
                reg.resolve(name)


def test_missing_or_unusable_roots(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    with registry(tmp_path / "nope") as reg:
        assert reg.sources()[0].error == "not found"
        assert reg.list_captures() == []


def test_a_capture_file_as_a_source(lab):
    with registry(lab / "a.pcap") as reg:
        (entry,) = reg.list_captures()
        assert (entry.name, entry.source) == ("a.pcap", "lab")
        with pytest.raises(UnknownCaptureError):
            reg.resolve("b.pcapng")  # a sibling, but not part of the source


def test_permission_errors_while_reading(lab, monkeypatch):
    """Where no unprivileged user can run us (the skip above), inject the OS's PermissionError."""
    from mcpcap.core.sources import local

    real_read, real_scandir = local.read_head, os.scandir

    def read_head(path):
        if path.endswith("a.pcap"):
            raise PermissionError(13, "Permission denied")
        return real_read(path)

    def scandir(path):
        if str(path).endswith("05"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(local, "read_head", read_head)
    monkeypatch.setattr(local.os, "scandir", scandir)
    with registry(lab) as reg:
        errors = {e.name: e.error for e in reg.list_captures() if e.error}
    assert errors["a.pcap"] == "permission denied"
    assert errors["2024/05/"] == "permission denied"
