"""`mcpcap sources` as a user runs it: a subprocess, JSON when piped, a table when asked."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.http_fixtures import pcap_bytes, running_site

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    return mcpcap("sources", *args, tmp_path=tmp_path)


def mcpcap(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """`mcpcap ARGS` in `tmp_path`, with no configuration, cache or sources of the caller's."""
    env = {
        **os.environ,
        "MCPCAP_CONFIG": str(tmp_path / "none.toml"),
        "MCPCAP_CACHE_DIR": str(tmp_path / "cache"),
        "NETRC": str(tmp_path / "none.netrc"),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("MCPCAP_PCAP_PATH", None)
    env.pop("MCPCAP_PCAP_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "mcpcap", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )


def test_json_lists_local_and_remote_sources(tmp_path):
    lab = tmp_path / "lab"
    lab.mkdir()
    (lab / "a.pcap").write_bytes(pcap_bytes(1))
    (lab / "bad.pcap").write_text("<html>")
    with running_site(tmp_path) as site:
        url = site.url + "/caps/sub/"
        done = run("--pcap-path", str(lab), "--pcap-url", url, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["schema_version"]
    local, remote = report["sources"]
    assert (local["label"], local["kind"], local["error"]) == ("lab", "local", None)
    assert [(c["name"], c["format"]) for c in local["captures"]] == [
        ("a.pcap", "pcap"),
        ("bad.pcap", None),
    ]
    assert local["captures"][1]["error"].startswith("not a capture")
    assert (remote["label"], remote["kind"]) == ("127.0.0.1", "remote")
    assert [c["name"] for c in remote["captures"]] == ["b.pcap", "c.pcap.gz", "deeper/d.pcap"]


def test_table_on_request(tmp_path):
    lab = tmp_path / "lab"
    lab.mkdir()
    (lab / "a.pcap").write_bytes(pcap_bytes(1))
    done = run("--pcap-path", str(lab), "--examples", "--format", "table", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "a.pcap" in done.stdout and "examples" in done.stdout
    assert not done.stdout.lstrip().startswith("{")


def test_refused_url_scheme_is_a_source_error(tmp_path):
    done = run("--pcap-url", "file:///etc/passwd", "--format", "json", tmp_path=tmp_path)
    assert done.returncode == 0
    (source,) = json.loads(done.stdout)["sources"]
    assert "http or https" in source["error"] and source["captures"] == []
    assert not (tmp_path / "cache").exists()


def test_a_capture_of_a_source_that_cannot_be_reached_says_why(tmp_path):
    """Not only "no capture named": the server the capture may be on did not answer."""
    with socket.socket() as sock:  # a port where nothing listens (bound, then released)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = mcpcap("analyze", "--pcap-url", f"http://127.0.0.1:{port}/", "x.pcap", tmp_path=tmp_path)
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.startswith("mcpcap: no capture named 'x.pcap' in the configured sources; ")
    assert "sources that could not be read: 127.0.0.1 (cannot reach the server" in line


@pytest.mark.parametrize("command", ["analyze", "tui"])
@pytest.mark.parametrize("sources", [[], ["--pcap-path", "."]])
def test_a_missing_file_is_no_such_file(tmp_path, command, sources):
    done = mcpcap(command, *sources, "/no/such/file.pcap", tmp_path=tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines() == ["mcpcap: no such file: '/no/such/file.pcap'"]
    assert done.stdout == ""


def test_a_missing_relative_file_is_no_such_file(tmp_path):
    (tmp_path / "real.pcap").write_bytes(pcap_bytes(1))
    for typed in ("sub/nope.pcap", "nope.pcap"):
        done = mcpcap("analyze", typed, tmp_path=tmp_path)
        assert done.returncode == 1
        assert done.stderr.startswith(f"mcpcap: no such file: '{typed}'"), done.stderr
        assert len(done.stderr.splitlines()) == 1
    assert mcpcap("analyze", "real.pcap", tmp_path=tmp_path).returncode == 0


def test_a_path_outside_the_sources_is_still_refused_when_it_exists(tmp_path):
    (tmp_path / "lab").mkdir()
    (tmp_path / "other.pcap").write_bytes(pcap_bytes(1))
    done = mcpcap("analyze", "--pcap-path", "lab", str(tmp_path / "other.pcap"), tmp_path=tmp_path)
    assert done.returncode == 1
    assert "lies outside the capture sources" in done.stderr
