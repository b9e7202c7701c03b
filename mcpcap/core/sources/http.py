"""One httpx client for a registry: timeouts, no automatic redirects, redirects kept in base."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from mcpcap import __version__
from mcpcap.core.errors import DownloadError
from mcpcap.core.sources.urls import RemoteBase

if TYPE_CHECKING:
    from collections.abc import Iterator

    import httpx

    from mcpcap.core.config import Settings

REDIRECTS = (301, 302, 303, 307, 308)


class HttpSession:
    """Lazily creates its httpx client, so a registry without remote sources never imports it."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        """The settings the session was made with (downloads read their limits there)."""
        return self._settings

    def client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                import httpx

                s = self._settings
                self._client = httpx.Client(
                    timeout=httpx.Timeout(s.read_timeout, connect=s.connect_timeout),
                    follow_redirects=False,
                    headers={"User-Agent": f"mcpcap/{__version__}"},
                )
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    @contextmanager
    def open(
        self, method: str, base: RemoteBase, url: str, what: str, headers: dict | None = None
    ) -> Iterator[httpx.Response]:
        """A streamed response, following at most `max_redirects` redirects inside the base.

        `what` names the thing in error messages (a face name, never a URL with credentials).
        """
        import httpx

        client = self.client()
        auth = httpx.BasicAuth(*base.auth) if base.auth else None
        for _ in range(self._settings.max_redirects + 1):
            request = client.build_request(method, url, headers=headers)
            try:
                response = client.send(request, auth=auth, stream=True)
            except httpx.TimeoutException:
                raise DownloadError(f"{what}: the server did not answer in time") from None
            except httpx.HTTPError as exc:
                raise DownloadError(f"{what}: cannot reach the server ({_reason(exc)})") from None
            if response.status_code not in REDIRECTS:
                try:
                    yield response
                finally:
                    response.close()
                return
            location = response.headers.get("location", "")
            response.close()
            url = urljoin(url, location)
            if not base.within_base(url):
                raise DownloadError(f"{what}: the server redirected outside the source; refused")
        raise DownloadError(
            f"{what}: too many redirects (more than {self._settings.max_redirects})"
        )


def status_error(what: str, status: int) -> DownloadError:
    if status in (401, 403):
        hint = " (set credentials in the URL, MCPCAP_PCAP_URL_AUTH or ~/.netrc)"
        return DownloadError(f"{what}: access denied by the server (HTTP {status}){hint}")
    if status == 404:
        return DownloadError(f"{what}: not found on the server (HTTP 404)")
    return DownloadError(f"{what}: the server answered HTTP {status}")


def _reason(exc: Exception) -> str:
    """httpx messages rarely hold URLs, but never risk echoing one: keep the class name."""
    return type(exc).__name__
