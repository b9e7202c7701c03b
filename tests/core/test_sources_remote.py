"""Remote sources against a real HTTP server on 127.0.0.1 (no mocks)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from mcpcap.core.config import Settings
from mcpcap.core.errors import (
    CancelledError,
    DownloadError,
    NotACaptureError,
    OutsideSourcesError,
    UnknownCaptureError,
)
from mcpcap.core.sources import SourceRegistry
from mcpcap.core.sources.index import parse_index
from tests.core.http_fixtures import CAP, HTML_PAGE, PASSWORD, USER, pcap_bytes, running_site


@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    with running_site(tmp_path) as s:
        yield s


def settings_for(tmp_path: Path, *urls: str, **extra) -> Settings:
    return Settings(
        pcap_urls=list(urls), cache_dir=tmp_path / "cache", max_download_bytes=CAP, **extra
    )


def cached_files(tmp_path: Path) -> list[str]:
    """Every file the cache holds, apart from its lock files."""
    folder = tmp_path / "cache"
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.rglob("*") if p.is_file() and p.parent.name != "locks")


@pytest.fixture
def registry(site, tmp_path):
    with SourceRegistry(settings_for(tmp_path, site.url + "/caps/")) as reg:
        yield reg


# --- listing ---------------------------------------------------------------------------------


def test_listing_follows_links_inside_the_base_only(registry):
    entries = {e.name: e for e in registry.list_captures()}
    assert sorted(entries) == [
        "a.pcap",
        "away.pcap",
        "big.pcap",
        "drop.pcap",
        "etag.pcap",
        "fake.pcap",
        "loop.pcap",
        "missing.pcap",
        "redir.pcap",
        "short.pcap",
        "slow.pcap",
        "stream.pcap",
        "sub/b.pcap",
        "sub/c.pcap.gz",
    ]  # not: other/x.pcap (outside), evil.pcap (other host), notes.txt, .hidden, deeper/
    assert all(e.source == "127.0.0.1" for e in entries.values())
    assert entries["a.pcap"].size == len(pcap_bytes(3))  # from the nginx-style index
    assert entries["a.pcap"].modified == "2024-05-01T10:01:00Z"
    assert entries["sub/b.pcap"].size == len(pcap_bytes(2))  # http.server index: from HEAD
    assert entries["sub/b.pcap"].modified.endswith("Z")
    assert entries["missing.pcap"].error == "not found on the server (HTTP 404)"
    assert entries["away.pcap"].error == "the server redirected outside the source; refused"
    assert entries["a.pcap"].error is None


def test_listing_depth_limit(site, tmp_path):
    with SourceRegistry(settings_for(tmp_path, site.url + "/caps/", remote_depth=3)) as reg:
        names = [e.name for e in reg.list_captures()]
    assert "sub/deeper/d.pcap" in names


def test_single_file_url_is_a_source(site, tmp_path):
    with SourceRegistry(settings_for(tmp_path, site.url + "/caps/sub/b.pcap")) as reg:
        (entry,) = reg.list_captures()
        assert (entry.name, entry.size) == ("b.pcap", len(pcap_bytes(2)))
        served = (site.root / "caps" / "sub" / "b.pcap").read_bytes()
        assert reg.open_local(reg.resolve("b.pcap")).read_bytes() == served


def test_unreachable_server_is_a_source_error(tmp_path):
    with SourceRegistry(settings_for(tmp_path, "http://127.0.0.1:9/caps/")) as reg:
        assert reg.list_captures() == []
        (info,) = reg.sources()
        assert info.error and "cannot reach the server" in info.error


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/caps/", "data:,x.pcap"])
def test_only_http_and_https_sources(tmp_path, url):
    with SourceRegistry(settings_for(tmp_path, url)) as reg:
        (info,) = reg.sources()
        assert "http or https" in info.error
        assert reg.list_captures() == []
    assert cached_files(tmp_path) == []


# --- downloading -----------------------------------------------------------------------------


def test_download_reports_progress_and_matches_the_file(registry, site):
    seen = []
    path = registry.open_local(registry.resolve("a.pcap"), lambda d, t: seen.append((d, t)))
    assert path.read_bytes() == (site.root / "caps" / "a.pcap").read_bytes()
    assert seen[-1] == (path.stat().st_size, path.stat().st_size)


def test_redirect_inside_the_base_is_followed(registry, site):
    path = registry.open_local(registry.resolve("redir.pcap"))
    assert path.read_bytes() == (site.root / "caps" / "a.pcap").read_bytes()


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("away.pcap", DownloadError, "redirected outside the source; refused"),
        ("loop.pcap", DownloadError, "too many redirects"),
        ("fake.pcap", NotACaptureError, "the server sent an HTML page, not a capture"),
        ("big.pcap", DownloadError, "is more than the download limit of 4.0 KiB; refused"),
        ("stream.pcap", DownloadError, "more than the download limit of 4.0 KiB; stopped"),
        ("short.pcap", DownloadError, "the transfer broke after 252 of 752 bytes"),
        ("drop.pcap", DownloadError, "the transfer broke after"),
    ],
)
def test_refused_downloads_leave_nothing(registry, site, tmp_path, name, error, message):
    resolved = registry.resolve(site.url + "/caps/" + name)  # a URL inside the base works too
    with pytest.raises(error) as caught:
        registry.open_local(resolved)
    assert message in str(caught.value)
    assert str(caught.value).startswith(name + ": ")
    assert site.url not in str(caught.value)
    assert cached_files(tmp_path) == []


def test_missing_file(registry, site, tmp_path):
    with pytest.raises(UnknownCaptureError):  # listed with its error, so not a valid name
        registry.resolve("missing.pcap")
    with pytest.raises(DownloadError, match=r"not found on the server \(HTTP 404\)"):
        registry.open_local(registry.resolve(site.url + "/caps/missing.pcap"))
    assert cached_files(tmp_path) == []


def test_cancel_discards_the_partial_file(registry, tmp_path):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(CancelledError):
        registry.open_local(registry.resolve("slow.pcap"), cancel=cancel)
    assert cached_files(tmp_path) == []


def test_etag_revalidation_and_a_bad_update_keeps_the_good_copy(registry, site, tmp_path):
    resolved = registry.resolve("etag.pcap")
    first = registry.open_local(resolved)
    good = first.read_bytes()
    assert registry.open_local(resolved) == first
    assert [code for m, p, code in site.hits if p == "/caps/etag.pcap" and m == "GET"] == [
        200,
        304,
    ]
    site.state.update(etag='"v2"', etag_body=pcap_bytes(7))
    assert registry.open_local(resolved).read_bytes() == pcap_bytes(7)
    good = pcap_bytes(7)
    for mode, error in (("short", DownloadError), ("html", NotACaptureError)):
        site.state.update(etag=f'"{mode}"', etag_mode=mode, etag_body=pcap_bytes(9))
        with pytest.raises(error):
            registry.open_local(resolved)
        assert first.read_bytes() == good
        assert not [n for n in cached_files(tmp_path) if n.endswith(".part")]


def test_last_modified_revalidation(registry, site):
    resolved = registry.resolve("sub/b.pcap")  # http.server answers If-Modified-Since
    registry.open_local(resolved)
    registry.open_local(resolved)
    codes = [code for m, p, code in site.hits if p == "/caps/sub/b.pcap" and m == "GET"]
    assert codes == [200, 304]


def test_concurrent_requests_share_one_download(registry, site):
    resolved = registry.resolve("slow.pcap")
    results: list[Path] = []
    threads = [
        threading.Thread(target=lambda: results.append(registry.open_local(resolved)))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 3 and len(set(results)) == 1
    assert site.gets("/caps/slow.pcap") == 1


# --- confinement of URLs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "tail",
    [
        "/other/x.pcap",
        "/caps/../other/x.pcap",
        "/caps/%2e%2e/other/x.pcap",
        "/caps/..%2fother/x.pcap",
        "/caps/..%5cother/x.pcap",
        "/cap/x.pcap",
    ],
)
def test_urls_outside_the_base_are_refused(registry, site, tmp_path, tail):
    with pytest.raises(OutsideSourcesError, match="lies outside the capture sources; refused"):
        registry.resolve(site.url + tail)
    assert not [h for h in site.hits if "x.pcap" in h[1]]
    assert cached_files(tmp_path) == []


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://127.0.0.1/caps/a.pcap", "data:,hello", "FILE:/etc/x"]
)
def test_other_schemes_are_refused(registry, url):
    with pytest.raises(OutsideSourcesError, match="only http and https"):
        registry.resolve(url)


def test_other_port_or_host_is_outside(registry, site):
    other = site.url.replace("127.0.0.1", "localhost")
    with pytest.raises(OutsideSourcesError):
        registry.resolve(other + "/caps/a.pcap")
    with pytest.raises(OutsideSourcesError):
        registry.resolve("http://127.0.0.1:1/caps/a.pcap")


# --- authentication --------------------------------------------------------------------------


def _assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert PASSWORD not in text


def test_basic_auth_from_the_url_is_never_shown(site, tmp_path):
    url = site.url.replace("http://", f"http://{USER}:{PASSWORD}@") + "/private/"
    with SourceRegistry(settings_for(tmp_path, url)) as reg:
        entries = reg.list_captures()
        assert [e.name for e in entries] == ["p.pcap"]
        resolved = reg.resolve("p.pcap")
        path = reg.open_local(resolved)
        assert path.read_bytes() == pcap_bytes(5)
        infos = reg.sources()
        assert infos[0].location == site.url.replace("http://", "http://***@") + "/private/"
        _assert_no_secret(
            repr(reg.settings),
            repr(resolved),
            *(i.model_dump_json() for i in infos),
            *(e.model_dump_json() for e in entries),
            *cached_files(tmp_path),
            *(p.read_text() for p in (tmp_path / "cache").rglob("*.json")),
        )


def test_basic_auth_from_settings_and_netrc(site, tmp_path, monkeypatch):
    url = site.url + "/private/p.pcap"
    with SourceRegistry(settings_for(tmp_path, url, pcap_url_auth=f"{USER}:{PASSWORD}")) as reg:
        assert reg.open_local(reg.resolve("p.pcap")).read_bytes() == pcap_bytes(5)
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login {USER} password {PASSWORD}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    with SourceRegistry(settings_for(tmp_path / "n", url)) as reg:
        assert reg.open_local(reg.resolve("p.pcap")).read_bytes() == pcap_bytes(5)


def test_missing_credentials_say_what_to_do(site, tmp_path):
    with SourceRegistry(settings_for(tmp_path, site.url + "/private/")) as reg:
        assert reg.list_captures() == []
        assert "access denied by the server (HTTP 401)" in reg.sources()[0].error
        with pytest.raises(DownloadError, match="MCPCAP_PCAP_URL_AUTH"):
            reg.open_local(reg.resolve(site.url + "/private/p.pcap"))
    assert cached_files(tmp_path) == []


# --- remote equals local ---------------------------------------------------------------------


def test_probe_of_a_remote_capture_equals_the_local_one(site, tmp_path):
    local = site.root / "caps" / "sub"
    with SourceRegistry(settings_for(tmp_path, site.url + "/caps/sub/")) as remote_reg:
        remote = remote_reg.probe("c.pcap.gz")
    with SourceRegistry(Settings(pcap_paths=[str(local)], cache_dir=tmp_path / "c2")) as reg:
        here = reg.probe("c.pcap.gz")
    assert remote.model_dump(exclude={"source"}) == here.model_dump(exclude={"source"})
    assert (remote.packets, remote.compressed, remote.format) == (4, True, "pcap")


def test_analysis_of_a_remote_capture_equals_the_local_one(site, tmp_path):
    service = pytest.importorskip("mcpcap.core.service")
    settings = settings_for(tmp_path, site.url + "/caps/", use_cache=False)
    with SourceRegistry(settings) as reg:
        resolved = reg.resolve("a.pcap")
        downloaded = reg.open_local(resolved)
    analyzer = service.Analyzer(settings)
    with analyzer.analyze(downloaded, resolved.name) as remote:
        remote_summary = remote.summary()
    with analyzer.analyze(site.root / "caps" / "a.pcap", "a.pcap") as local:
        assert local.summary() == remote_summary


# --- index formats ---------------------------------------------------------------------------


def test_index_formats():
    nginx = (
        '<pre><a href="../">../</a>\n<a href="a.pcap">a.pcap</a>     01-May-2024 10:01    1234\n'
        '<a href="sub/">sub/</a>       01-May-2024 10:00       -\n</pre>'
    )
    apache = (
        '<table><tr><td><a href="?C=N;O=D">Name</a></td></tr>'
        '<tr><td><a href="b.pcap">b.pcap</a></td><td align="right">2024-05-01 10:01  </td>'
        '<td align="right">1.2K</td></tr>'
        '<tr><td><a href="c.cap">c.cap</a></td><td>2024-05-01 10:02</td><td>120</td></tr></table>'
    )
    lighttpd = '<tr><td><a href="d.pcapng">d.pcapng</a></td><td>2024-May-01 10:03:04</td></tr>'
    plain = '<ul><li><a href="e.pcap">e.pcap</a></li><li><a href="f.pcap">f</a> 3</li></ul>'
    got = {
        link.href: (link.size, link.modified)
        for page in (nginx, apache, lighttpd, plain)
        for link in parse_index(page)
    }
    assert got["a.pcap"] == (1234, 1714557660.0)
    assert got["b.pcap"] == (None, 1714557660.0)  # "1.2K" is not exact: HEAD decides
    assert got["c.cap"] == (120, 1714557720.0)
    assert got["d.pcapng"] == (None, 1714557784.0)
    assert got["e.pcap"] == (None, None)
    assert got["f.pcap"] == (None, None)  # a number without a date is not a size
    assert HTML_PAGE  # the fixture's HTML page is what fake.pcap serves


@pytest.mark.parametrize(
    ("page", "hrefs"),
    [
        ("<a href='x.pcap'", []),  # a tag cut off before its '>' is not a link
        ("<a href='x.pcap'>", ["x.pcap"]),  # an anchor left open still is
        ('<a href="y.pcap">y</a', ["y.pcap"]),
        ("<a href=", []),
        ("<<<>>>", []),
        ("", []),
        ("<a href='&#0;.pcap'>x</a><a href='\udcff.pcap'>y</a>", None),
    ],
)
def test_broken_index_html_never_raises(page, hrefs):
    links = parse_index(page)
    assert hrefs is None or [link.href for link in links] == hrefs
    assert all(link.size is None and link.modified is None for link in links)
