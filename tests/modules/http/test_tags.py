"""The tags a record may carry are declared once: the model says them, the filter offers them."""

from __future__ import annotations

import re
from pathlib import Path

from mcpcap.modules.http import kinds, models
from mcpcap.modules.http.tags import TAGS

SOURCES = Path(kinds.__file__).parent
INTERNAL = {"placeholder"}  # an overflowed request's place in the order: never recorded


def tags_written_by_the_code() -> set[str]:
    found: set[str] = set()
    for path in SOURCES.glob("*.py"):
        code = path.read_text()
        found |= set(re.findall(r'(?:\.tag|tags\.append)\("([a-z0-9_]+)"\)', code))
        for pair in re.findall(r'\.tag\(\s*"([a-z0-9_]+)" if [^)]* else "([a-z0-9_]+)"\)', code):
            found |= set(pair)
    return found - INTERNAL


def test_every_tag_the_code_writes_is_declared():
    written = tags_written_by_the_code()
    assert {"unusual_version", "bad_response", "socks", "tunnel"} <= written  # the scan works
    assert written <= set(TAGS)


def test_the_model_describes_every_tag_and_the_filter_offers_them():
    description = models.HttpRequest.model_fields["tags"].description or ""
    assert [tag for tag in TAGS if not re.search(rf"\b{tag}\b", description)] == []
    (tag_filter,) = [spec for spec in kinds.FILTERS if spec.name == "tag"]
    assert tuple(tag_filter.choices) == TAGS
