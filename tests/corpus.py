"""The shared corpus of real captures, found beside the repository: `<repo>/../shared/corpus`.

In a linked git worktree the repository is the main checkout the worktree belongs to. Tests that
read it use the `corpus` fixture (`@pytest.mark.usefixtures("corpus")`): without the corpus they
skip, unless MCPCAP_REQUIRE_CORPUS=1 (CI sets it), where a missing corpus fails them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REQUIRE_ENV = "MCPCAP_REQUIRE_CORPUS"


def checkouts(repo: Path = REPO) -> list[Path]:
    """`repo`, and the main checkout when `repo` is a linked worktree (`.git` is a file)."""
    found = [repo]
    dotgit = repo / ".git"
    if dotgit.is_file():
        gitdir = (repo / dotgit.read_text().partition("gitdir:")[2].strip()).resolve()
        commondir = gitdir / "commondir"
        if commondir.is_file():
            found.append((gitdir / commondir.read_text().strip()).resolve().parent)
    return found


def find_corpus(repo: Path = REPO) -> Path:
    """The first `../shared/corpus` beside a checkout of `repo` (the first candidate if none)."""
    candidates = [checkout.parent / "shared" / "corpus" for checkout in checkouts(repo)]
    return next((path for path in candidates if path.is_dir()), candidates[0])


CORPUS = find_corpus()


def require_corpus(corpus: Path = CORPUS) -> Path:
    """`corpus`, or skip the test (fail it when MCPCAP_REQUIRE_CORPUS=1) when it is absent."""
    if not corpus.is_dir():
        why = f"the shared corpus is not at {corpus} (<repo>/../shared/corpus)"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{why}, and {REQUIRE_ENV}=1 requires it", pytrace=False)
        pytest.skip(why)
    return corpus
