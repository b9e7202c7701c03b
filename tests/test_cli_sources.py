"""`mcpcap sources` as a user runs it: a subprocess, JSON when piped, a table when asked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.core.http_fixtures import pcap_bytes, running_site

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
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
        [sys.executable, "-m", "mcpcap", "sources", *args],
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
