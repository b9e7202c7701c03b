"""`ModuleCounts`, apart from the contract so that loading modules does not load pydantic.

A warm `mcpcap analyze` prints the stored summary without building a model: the contract (which
every module imports) must not pull pydantic in, about 0.1 s of start-up.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ModuleCounts(BaseModel):
    """What a scan tells about one module's traffic (stored; `capture_info` shows it)."""

    messages: int = Field(0, description="protocol messages the module decoded")
    malformed: int = Field(0, description="messages it could not decode (counted, skipped)")
    detail: dict[str, Any] = Field(default_factory=dict, description="the module's own tallies")
