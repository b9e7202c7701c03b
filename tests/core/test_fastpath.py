"""The compiled hot path's plumbing: built where a compiler is, off on request, never stale."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import types
from pathlib import Path

import pytest

import hatch_build
from mcpcap.core import fastpath, sourcehash

REPO = Path(__file__).resolve().parents[2]
NAMES = [source.removesuffix(".c").replace(os.sep, ".") for source in hatch_build.SOURCES]


def _compiler_present() -> bool:
    linker = sysconfig.get_config_var("LDSHARED") or ""
    return bool(linker) and shutil.which(linker.split()[0]) is not None


def test_every_source_is_built_and_loaded_wherever_a_compiler_is():
    """An install on a machine with a C compiler builds each (hatch_build.py), and mcpcap uses
    them unless MCPCAP_PURE_PYTHON asks for the Python code."""
    assert NAMES == [
        "mcpcap.core._decap",
        "mcpcap.core._flowhash",
        "mcpcap.core._parallel",
        "mcpcap.core._reader",
        "mcpcap.modules.conn._flows",
        "mcpcap.modules.conn._merge",
        "mcpcap.modules.dhcp._wire",
        "mcpcap.modules.dns._brief",
        "mcpcap.modules.dns._pairing",
        "mcpcap.modules.dns._tallies",
        "mcpcap.modules.dns._worker",
        "mcpcap.modules.tls._hello",
    ]
    for source in hatch_build.SOURCES:
        assert (REPO / source).is_file()
    if fastpath.pure_python():
        assert all(fastpath.compiled(name) is None for name in NAMES)
        return
    assert _compiler_present(), "this machine has no C compiler to test the compiled code with"
    for name in NAMES:
        module = fastpath.compiled(name)
        assert module is not None, name
        assert len(module.SOURCE_SHA256) == 64


def test_the_environment_variable_turns_them_off():
    code = (
        "from mcpcap.core import decap, export, parallel, reader; "
        "from mcpcap.modules.conn import community, flows, tallies as conn_tallies; "
        "from mcpcap.modules.conn import scan as conn_scan; "
        "from mcpcap.modules.dhcp import wire as dhcp_wire; "
        "from mcpcap.modules.dns import decoder, pairing, scan; "
        "from mcpcap.modules.dns.hunting import tallies; "
        "from mcpcap.modules.tls import wire; "
        "print(decap._COMPILED_ETHERNET_PACKET is None, flows._COMPILED_PACKET is None, "
        "reader.walk_records is reader.python_walk_records, "
        "parallel.span_loop is parallel.python_span_loop, scan._COMPILED_BIND is None, "
        "decoder._decode_brief is decoder.python_decode_brief, tallies._COMPILED_ADD is None, "
        "pairing._COMPILED_BIND is None, export.flow_uid is export.python_flow_uid, "
        "community.community_id is community.python_community_id, "
        "conn_scan._COMPILED_BIND is None, conn_tallies._COMPILED is None, "
        "decoder.remember_brief is decoder.python_remember_brief, "
        "wire.client_hello_fields is wire.python_client_hello_fields, "
        "dhcp_wire.decode_v4 is dhcp_wire.python_decode_v4)"
    )
    env = {**os.environ, fastpath.PURE_PYTHON_VARIABLE: "1"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, check=True)  # fmt: skip
    assert result.stdout.split() == ["True"] * 15


def test_a_library_built_from_another_source_is_not_used(tmp_path):
    """An editable install whose C changed after it was built runs the Python code, and says
    how to build again, rather than run code that no longer matches its source."""
    library = tmp_path / ("_twin" + sysconfig.get_config_var("EXT_SUFFIX"))
    library.write_bytes(b"")
    (tmp_path / "_twin.c").write_text("int changed;\n")
    stale = types.ModuleType("_twin")
    stale.__file__ = str(library)
    stale.SOURCE_SHA256 = "0" * 64
    assert not fastpath._built_from_source_beside(stale)
    stale.SOURCE_SHA256 = hashlib.sha256(b"int changed;\n").hexdigest()
    assert fastpath._built_from_source_beside(stale)


def test_a_library_built_before_its_header_changed_is_not_used(tmp_path):
    """The stamp covers the headers a source includes (`_twin.h`): a library built before an
    edit of one of them no longer matches the code beside it."""
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "_twin.h").write_text("int shared;\n")
    source = tmp_path / "_one.c"
    source.write_text('#include "shared/_twin.h"\n  # include "missing.h"\nint one;\n')
    built = types.ModuleType("_one")
    built.__file__ = str(tmp_path / ("_one" + sysconfig.get_config_var("EXT_SUFFIX")))
    stamp = built.SOURCE_SHA256 = sourcehash.source_digest(source)
    # the source, then what it includes (a header not there adds nothing)
    assert stamp == hashlib.sha256(source.read_bytes() + b"int shared;\n").hexdigest()
    assert fastpath._built_from_source_beside(built)
    (tmp_path / "shared" / "_twin.h").write_text("int shared, changed;\n")
    assert not fastpath._built_from_source_beside(built)


def test_a_build_without_a_compiler_says_so_and_goes_on(tmp_path, monkeypatch, capsys):
    """The install does not fail where the C does not build: mcpcap then runs the Python."""
    compile_command = hatch_build.compile_command
    monkeypatch.setattr(hatch_build, "compile_command", lambda source, target: ["false"])
    assert not hatch_build.build(str(REPO), hatch_build.SOURCES[0], str(tmp_path / "x.so"))
    assert "did not build" in capsys.readouterr().out
    monkeypatch.setattr(
        hatch_build, "compile_command", lambda source, target: ["/nonexistent/cc", source]
    )
    assert not hatch_build.build(str(REPO), hatch_build.SOURCES[0], str(tmp_path / "x.so"))
    assert "did not build" in capsys.readouterr().out
    monkeypatch.setattr(sysconfig, "get_config_var", lambda name: None)
    assert compile_command("a.c", "a.so") is None  # (a Python that names no linker)


def test_a_build_compiles_each_source(tmp_path):
    """The hook's own command, run here: a library that imports and names its source."""
    assert _compiler_present(), "this machine has no C compiler to test the build with"
    source = hatch_build.SOURCES[2]  # (the smallest: _reader.c)
    target = tmp_path / hatch_build.library_name(source)
    assert hatch_build.build(str(REPO), source, str(target))
    digest = sourcehash.source_digest(REPO / source)
    assert digest != hashlib.sha256((REPO / source).read_bytes()).hexdigest()  # (_twin.h too)
    assert digest.encode() in target.read_bytes()


def test_a_twin_written_for_another_layout_is_refused(monkeypatch):
    """A twin reads the Python's list and tuple slots by the indices it was written with: one
    whose `LAYOUT` is not the Python module's stops mcpcap at import, loudly, rather than count
    or tally in the wrong places."""
    twin = types.ModuleType("twin")
    twin.LAYOUT, twin.bind = {"FIRST": 0, "SECOND": 1}, object()
    monkeypatch.setattr(fastpath, "compiled", lambda name: twin)
    assert fastpath.checked_bind("twin", {"FIRST": 0, "SECOND": 1, "OTHER": 9}, "row") is twin.bind
    with pytest.raises(RuntimeError, match=r"twin's row layout .* is not the Python's"):
        fastpath.checked_bind("twin", {"FIRST": 0, "SECOND": 2}, "row")
    with pytest.raises(RuntimeError):
        fastpath.checked_bind("twin", {"FIRST": 0}, "row")
    monkeypatch.setattr(fastpath, "compiled", lambda name: None)
    assert fastpath.checked_bind("twin", {}, "row") is None
