"""Typed errors every face shows as one clear sentence.

Each error carries a stable `code` so faces and scripts can tell them apart without parsing
messages. Messages never contain tracebacks, absolute paths outside a source, or credentials.
"""

from __future__ import annotations


class McpcapError(Exception):
    """Base class: a problem the user (or the model) can act on."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotACaptureError(McpcapError):
    """The bytes are not a pcap, pcapng or gzip of one."""

    code = "not_a_capture"


class CaptureReadError(McpcapError):
    """A capture could not be read at all (I/O error, unsupported version)."""

    code = "capture_read_error"


class UnknownCaptureError(McpcapError):
    """No capture of that name in the configured sources."""

    code = "unknown_capture"


class OutsideSourcesError(McpcapError):
    """A path or URL that lies outside every configured source."""

    code = "outside_sources"


class DownloadError(McpcapError):
    """A remote capture could not be fetched (refused, too large, interrupted, lying)."""

    code = "download_error"


class UnknownModuleError(McpcapError):
    """A protocol module name that is not registered."""

    code = "unknown_module"


class BadArgumentError(McpcapError):
    """A filter, sort, cursor or other argument with a bad value."""

    code = "bad_argument"


class ConfigError(McpcapError):
    """A config file or environment variable with a bad value (not the command line's)."""

    code = "bad_config"


class NotFoundError(McpcapError):
    """A frame, message or record that does not exist in the capture."""

    code = "not_found"


class CancelledError(McpcapError):
    """The analysis was cancelled by its caller."""

    code = "cancelled"
