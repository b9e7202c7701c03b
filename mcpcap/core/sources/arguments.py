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
    from mcpcap.core.config import Settings
    from mcpcap.core.sources.registry import Progress


def resolve_cli_capture(
    settings: Settings, arg: str | None, progress: Progress | None = None
) -> tuple[Path, str]:
    """(local file, display name) for `mcpcap analyze [CAPTURE]`.

    No argument: the bundled example. With sources configured: a name in them. Without: a
    plain file path (the user's own shell, so no confinement) or an http(s) URL. A path that
    does not exist is "no such file" either way.
    """
    if arg is None:
        path = example_path()
        if not path.is_file():
            raise UnknownCaptureError("the bundled example capture is missing from this install")
        return path, path.name
    check_cli_path(settings, arg)
    configured = bool(settings.pcap_paths or settings.pcap_urls)
    if not configured:
        if naming.looks_like_url(arg):
            settings = replace(settings, pcap_urls=[arg], examples=False)
        elif os.path.isfile(path := os.path.expanduser(arg)):
            return Path(path), os.path.basename(path)
        elif os.path.isdir(path):
            raise BadArgumentError(f"{naming.shown(arg)} is a folder; use --pcap-path to list it")
    from mcpcap.core.sources.registry import SourceRegistry

    with SourceRegistry(settings) as registry:
        try:
            resolved = registry.resolve(arg)
        except UnknownCaptureError:
            if configured:
                raise
            # a bare name that is neither a file here nor a bundled example
            message = naming.no_such_file_message(arg, registry.suggestions(arg))
            raise UnknownCaptureError(message) from None
        return registry.open_local(resolved, progress), resolved.name


def check_cli_path(settings: Settings, arg: str) -> None:
    """Refuse a command-line path that does not exist with "no such file".

    On the command line the file system is the user's own, so a missing path is reported as
    missing, not as lying outside the sources. With sources configured only a path that cannot
    be a source's name (absolute or `~`) counts; without, anything with a separator.
    """
    if naming.looks_like_url(arg) or os.path.exists(os.path.expanduser(arg)):
        return
    configured = settings.pcap_paths or settings.pcap_urls
    pathlike = naming.looks_like_path(arg) or (not configured and ("/" in arg or os.sep in arg))
    if pathlike:
        raise UnknownCaptureError(naming.no_such_file_message(arg))
