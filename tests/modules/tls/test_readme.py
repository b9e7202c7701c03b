"""The README's TLS section names every field of the summary and every malformed reason."""

from __future__ import annotations

import re
from pathlib import Path

from mcpcap.modules.tls.models import CertProblems, TlsSummary

README = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
SECTION = README.split("### TLS (`--records tls.handshakes`)")[1].split("\n## ")[0]
SOURCES = Path(__file__).resolve().parents[3] / "mcpcap" / "modules" / "tls"


def test_every_summary_field_is_documented():
    for model in (TlsSummary, CertProblems):
        for name in model.model_fields:
            if name != "schema_version":
                assert re.search(rf"\b{name}\b", SECTION), name


def reasons_in(code: str) -> set[str]:
    """The last string literal of every `Malformed(...)` call: its reason."""
    found = set()
    for start in (m.end() for m in re.finditer(r"\bMalformed\(", code)):
        depth, end = 1, start
        while depth:
            depth += {"(": 1, ")": -1}.get(code[end], 0)
            end += 1
        literals = re.findall(r'"([a-z0-9_]+)"', code[start:end])
        if literals:
            found.add(literals[-1])
    return found


def test_every_malformed_reason_is_documented():
    reasons = reasons_in("".join(path.read_text(encoding="utf-8") for path in SOURCES.glob("*.py")))
    assert {"record_too_long", "handshake_cut_short", "quic_crypto_overflow"} <= reasons
    for reason in reasons:
        assert f"`{reason}`" in SECTION, reason
