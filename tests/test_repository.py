"""The repository tells the truth about itself: README commands, CI, lint pins, the corpus."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from tests.corpus import REQUIRE_ENV, checkouts, find_corpus, require_corpus

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def shell_lines(markdown: str) -> list[str]:
    """The command lines of every ```sh block."""
    blocks = re.findall(r"```sh\n(.*?)```", markdown, flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def readme_test_command() -> str:
    (command,) = {line for line in shell_lines(README) if line.endswith("python -m pytest")}
    return command


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    command = readme_test_command()
    assert command.startswith("python3 -m venv .venv && . .venv/bin/activate && ")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert command in ci  # a line of its own, exactly as written
    assert "export MCPCAP_REQUIRE_CORPUS=1" in ci


def test_quick_start_makes_its_own_virtual_environment() -> None:
    (start,) = [line for line in shell_lines(README) if line.endswith("mcpcap tui")]
    venv = "python3 -m venv .venv && . .venv/bin/activate && "
    assert start == venv + "python -m pip install . && mcpcap tui"
    assert not [line for line in shell_lines(README) if line.startswith(("pip ", "python -m pip"))]


def test_no_snippet_installs_the_index_mcpcap() -> None:
    """The package index's `mcpcap` is another project: every snippet runs this clone."""
    assert "mcpcap is not on the package index yet" in README
    assert not [
        line for line in shell_lines(README) if re.search(r"uvx mcpcap|install mcpcap", line)
    ]
    configs = re.findall(r"```json\n(.*?)```", README, flags=re.S)
    commands = [json.loads(config) for config in configs if '"command"' in config]
    servers = [entry["mcpcap"] for config in commands for entry in config.values()]
    assert len(servers) == 2
    for server in servers:
        assert server["command"] == "uvx"
        assert server["args"][:3] == ["--from", "/path/to/mcpcap", "mcpcap"]
    assert '`"command": "/path/to/mcpcap/.venv/bin/mcpcap"`' in README


def test_readme_points_only_inside_the_repository() -> None:
    assert "../" not in README
    for target in re.findall(r"\]\(([^)#]+)\)", README):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), target


def test_pre_commit_pins_the_ruff_of_the_test_extra() -> None:
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    (pin,) = [req for req in extra["test"] if req.startswith("ruff")]
    assert re.fullmatch(r"ruff==\d+\.\d+\.\d+", pin)
    hooks = (ROOT / ".pre-commit-config.yaml").read_text()
    rev = re.search(r"astral-sh/ruff-pre-commit\n\s+rev: v(\S+)", hooks)
    assert rev is not None and rev.group(1) == pin.removeprefix("ruff==")


def test_corpus_is_found_beside_the_main_checkout_of_a_worktree(tmp_path) -> None:
    main, linked = tmp_path / "src" / "main", tmp_path / "wt" / "h"
    gitdir = main / ".git" / "worktrees" / "h"
    gitdir.mkdir(parents=True)
    linked.mkdir(parents=True)
    (gitdir / "commondir").write_text("../..\n")
    (linked / ".git").write_text(f"gitdir: {gitdir}\n")
    assert checkouts(linked) == [linked, main.resolve()]
    assert find_corpus(linked) == linked.parent / "shared" / "corpus"  # none yet: the first
    (tmp_path / "src" / "shared" / "corpus").mkdir(parents=True)
    assert find_corpus(linked) == (tmp_path / "src" / "shared" / "corpus").resolve()
    assert checkouts(main) == [main]


def test_missing_corpus_skips_or_fails_when_required(tmp_path, monkeypatch) -> None:
    assert require_corpus(tmp_path) == tmp_path
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception):
        require_corpus(tmp_path / "absent")
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=REQUIRE_ENV):
        require_corpus(tmp_path / "absent")


def test_every_builtin_module_is_registered_by_an_entry_point_as_a_third_party_would():
    """mcpcap's own modules are found the way another package's are (the `mcpcap.modules`
    entry points); the registry's table is only the fallback of a never-installed source tree."""
    from mcpcap.core.modules.registry import BUILTIN_MODULES, ENTRY_POINT_GROUP

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["entry-points"][ENTRY_POINT_GROUP] == BUILTIN_MODULES
