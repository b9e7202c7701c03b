"""What `mcpcap analyze [CAPTURE]` reads: kept apart from the registry so that the common cases
(the bundled example, a plain file) start without importing the sources machinery."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from mcpcap.core.errors import BadArgumentError, UnknownCaptureError
from mcpcap.core.examples import example_path
from mcpcap.core.sources import naming

if TYPE_CHECKING:
    from mcpcap.config import Settings
    from mcpcap.core.sources.registry import Progress


def resolve_cli_capture(
    settings: Settings, arg: str | None, progress: Progress | None = None
) -> tuple[Path, str]:
    """(local file, display name) for `mcpcap analyze [CAPTURE]`.

    No argument: the bundled example. With sources configured: a name in them. Without: a
    plain file path (the user's own shell, so no confinement) or an http(s) URL.
    """
    if arg is None:
        path = example_path()
        if not path.is_file():
            raise UnknownCaptureError("the bundled example capture is missing from this install")
        return path, path.name
    if not (settings.pcap_paths or settings.pcap_urls):
        if naming.looks_like_url(arg):
            settings = replace(settings, pcap_urls=[arg], examples=False)
        elif os.path.isfile(arg):
            return Path(arg), os.path.basename(arg)
        elif os.path.isdir(arg):
            raise BadArgumentError(f"{naming.shown(arg)} is a folder; use --pcap-path to list it")
    from mcpcap.core.sources.registry import SourceRegistry

    with SourceRegistry(settings) as registry:
        resolved = registry.resolve(arg)
        return registry.open_local(resolved, progress), resolved.name
