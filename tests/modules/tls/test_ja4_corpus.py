"""JA4 against FoxIO's own published values for their captures (../shared/corpus-modules,
`ja4-expected.json`): a conformance check that runs where the shared corpus is present."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from mcpcap.core.config import build_settings
from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer


@pytest.fixture
def expected(corpus: Path) -> tuple[Path, dict]:
    folder = corpus.parent / "corpus-modules"
    table = folder / "ja4-expected.json"
    if not table.is_file():
        pytest.skip(f"{table} is not there")
    return folder, json.loads(table.read_text())


def test_every_published_ja4(expected):
    folder, table = expected
    settings = build_settings({"modules": "tls", "use_cache": False})
    compared = 0
    for name, entries in sorted(table.items()):
        capture = folder / name
        with Analyzer(settings).analyze(capture, name) as analysis:
            got = Counter(
                (r["client"], r["client_port"], r["server"], r["server_port"], r["ja4"])
                for r in KindQuery(analysis, "tls.handshakes").iterate()
            )
        want = Counter(
            (e["src"], e["src_port"], e["dst"], e["dst_port"], e["ja4"])
            for e in entries
            if e.get("ja4")
        )
        assert want - got == Counter(), name
        compared += sum(want.values())
    assert compared >= 190
