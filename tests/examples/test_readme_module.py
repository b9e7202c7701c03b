"""The README's "Adding a protocol module" runs as written, against the installed example."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from mcpcap.core.modules.registry import load_module

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "mcpcap-example-module"


def section_blocks() -> list[tuple[str, str]]:
    """(language, code) of each fenced block in the section, in order."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Adding a protocol module", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(\w+)\n(.*?)```", section, flags=re.S)


def blocks(language: str) -> list[str]:
    return [code for lang, code in section_blocks() if lang == language]


def test_the_section_has_its_blocks():
    assert [lang for lang, _ in section_blocks()] == ["toml", "python", "python", "sh", "python"]


def test_the_entry_point_is_the_examples():
    (toml,) = blocks("toml")
    pyproject = (EXAMPLE / "pyproject.toml").read_text()
    assert all(line in pyproject for line in toml.strip().splitlines())


def test_the_python_blocks_run_and_say_what_the_example_does(monkeypatch):
    monkeypatch.chdir(ROOT)
    kind_block, module_block, use_block = blocks("python")
    kind_names: dict = {}
    exec(kind_block, kind_names)
    installed = {kind.name: kind for kind in load_module("ntp").kinds()}
    declared = kind_names["exchanges"]
    assert declared.name in installed
    assert {f.name for f in declared.filters} <= {f.name for f in installed[declared.name].filters}
    module_names: dict = {}
    exec(module_block, module_names)
    module = module_names["NtpModule"]()
    assert [k.name for k in module.kinds()] == list(installed)
    assert module.udp_decoder() is load_module("ntp").udp_decoder()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(use_block, {})
    total, rest = printed.getvalue().split(" ", 1)
    everything = all_exchanges()
    chosen = [r for r in everything if r["stratum"] is not None and r["stratum"] <= 2]
    assert int(total) == len(chosen) > 0
    offsets = sorted((r["offset"] for r in chosen if r["offset"] is not None), reverse=True)
    assert rest.startswith(repr(offsets[:3]))


def all_exchanges() -> list[dict]:
    """Every exchange, read through the CLI (not through the code under test above)."""
    import json

    done = subprocess.run(
        [sys.executable, "-m", "mcpcap", "analyze", "tests/fixtures/ntp/ntp.pcap", "--modules",
         "dns,ntp", "--records", "ntp.exchanges", "--format", "jsonl"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.parametrize("line", blocks("sh")[0].strip().splitlines())
def test_the_commands_run(line):
    args = shlex.split(line)
    assert args[0] == "mcpcap"
    done = subprocess.run(
        [sys.executable, "-m", "mcpcap", *args[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MCPCAP_MODULES": "dns,ntp"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
