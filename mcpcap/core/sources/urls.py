"""Remote bases: parsing, credentials, redaction and the "inside the base" rule."""

from __future__ import annotations

import netrc
import os
import posixpath
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from mcpcap.core.errors import BadArgumentError
from mcpcap.core.sources.naming import is_capture_like

ALLOWED_SCHEMES = ("http", "https")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class RemoteBase:
    """A configured `--pcap-url`: a folder (path prefix ending in '/') or a single file."""

    url: str  # without user-info
    scheme: str
    host: str
    port: int
    prefix: str  # decoded path: the folder ('/caps/') or the file's parent folder
    single: str | None  # the file's decoded name for a single-file URL
    auth: tuple[str, str] | None = field(default=None, repr=False, compare=False)

    @property
    def redacted(self) -> str:
        """The URL fit to show; `***@` marks that credentials are sent, never what they are."""
        shown = redact(self.url)
        return shown.replace("://", "://***@", 1) if self.auth else shown

    def url_for(self, relname: str) -> str:
        """The URL of a relative (decoded) name inside this base."""
        scheme, netloc, _, _, _ = urlsplit(self.url)
        if self.single is not None:
            return self.url
        return urlunsplit((scheme, netloc, quote(self.prefix + relname, safe="/"), "", ""))

    def relname(self, url: str) -> str | None:
        """The decoded name of `url` relative to this base, or None when it lies outside.

        Same scheme, host and port, and a path that, once percent-decoded and normalised
        (`..`, `.`, backslashes, encoded slashes), still starts with the base's prefix.
        """
        path = self._path_if_same_origin(url)
        if path is None or not path.startswith(self.prefix):
            return None
        rel = path[len(self.prefix) :]
        if self.single is not None:
            return rel if rel == self.single else None
        return rel or None

    def within_base(self, url: str) -> bool:
        """A redirect may go to anything under the base, or to the base folder itself."""
        if self.relname(url) is not None:
            return True
        return self.single is None and self._path_if_same_origin(url) == self.prefix

    def _path_if_same_origin(self, url: str) -> str | None:
        try:
            parts = urlsplit(url)
            port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 0)
        except ValueError:
            return None
        origin = (parts.scheme.lower(), (parts.hostname or "").lower(), port)
        if origin != (self.scheme, self.host, self.port):
            return None
        return _normal_path(parts.path)


def _normal_path(path: str) -> str | None:
    decoded = unquote(path or "/").replace("\\", "/")
    if "\x00" in decoded:
        return None
    trailing = decoded.endswith("/")
    normal = posixpath.normpath("/" + decoded.lstrip("/"))
    if normal.startswith("//"):
        normal = "/" + normal.lstrip("/")
    if trailing and not normal.endswith("/"):
        normal += "/"
    return normal


def parse_base(url: str, default_auth: str | None = None) -> RemoteBase:
    """A `--pcap-url` value checked and split; only http and https are accepted."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise BadArgumentError("the capture URL is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise BadArgumentError(
            f"capture URLs must use http or https, not {scheme or 'no scheme'!r}; refused"
        )
    host = (parts.hostname or "").lower()
    if not host:
        raise BadArgumentError("the capture URL has no host")
    netloc = host if ":" not in host else f"[{host}]"
    if port:
        netloc += f":{port}"
    path = _normal_path(parts.path) or "/"
    name = posixpath.basename(path)
    single = name if name and is_capture_like(name) else None
    if single is None and not path.endswith("/"):
        path += "/"
    prefix = path if single is None else path[: -len(name)]
    clean = urlunsplit((scheme, netloc, quote(path, safe="/"), parts.query, ""))
    return RemoteBase(
        url=clean,
        scheme=scheme,
        host=host,
        port=port or _DEFAULT_PORTS[scheme],
        prefix=prefix,
        single=single,
        auth=_credentials(parts, host, default_auth),
    )


def _credentials(parts, host: str, default_auth: str | None) -> tuple[str, str] | None:
    """User-info in the URL, then MCPCAP_PCAP_URL_AUTH ("user:password"), then ~/.netrc."""
    if parts.username is not None:
        return unquote(parts.username), unquote(parts.password or "")
    if default_auth:
        user, _, password = default_auth.partition(":")
        return user, password
    try:
        found = netrc.netrc(os.environ.get("NETRC")).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return None
    if found and found[0]:
        return found[0], found[2] or ""
    return None


def redact(url: str) -> str:
    """A URL fit to show: no user-info, query values hidden."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<invalid URL>"
    netloc = ("***@" if parts.username is not None else "") + (
        host if ":" not in host else f"[{host}]"
    )
    if port:
        netloc += f":{port}"
    query = "***" if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
