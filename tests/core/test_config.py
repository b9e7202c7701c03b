"""Settings precedence: flags, then environment, then config.toml, then defaults."""

from __future__ import annotations

import os

import pytest

from mcpcap.core.config import DEFAULT_MAX_DOWNLOAD_BYTES, build_settings
from mcpcap.core.errors import ConfigError


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        'pcap_path = ["/cfg/a", "/cfg/b"]\n'
        'pcap_url = "https://cfg.example/caps/"\n'
        "max_download_bytes = 300\n"
        "examples = true\n"
        "remote_depth = 4\n"
    )
    return path


def env(config, **values) -> dict:
    return {"MCPCAP_CONFIG": str(config), "MCPCAP_CACHE_DIR": "/tmp/c", **values}


def test_defaults(tmp_path):
    s = build_settings({}, {"MCPCAP_CONFIG": str(tmp_path / "none.toml")})
    assert (s.pcap_paths, s.pcap_urls, s.examples) == ([], [], False)
    assert s.max_download_bytes == DEFAULT_MAX_DOWNLOAD_BYTES and s.uses_examples


def test_config_file_over_defaults(config):
    s = build_settings({}, env(config))
    assert s.pcap_paths == ["/cfg/a", "/cfg/b"]
    assert s.pcap_urls == ["https://cfg.example/caps/"]
    assert (s.max_download_bytes, s.examples, s.remote_depth) == (300, True, 4)
    assert str(s.cache_dir) == "/tmp/c"


def test_environment_over_config_file(config):
    s = build_settings(
        {},
        env(
            config,
            MCPCAP_PCAP_PATH=os.pathsep.join(["/env/a", "/env/b"]),
            MCPCAP_PCAP_URL="https://e1/x/  https://e2/y/",
            MCPCAP_MAX_DOWNLOAD_BYTES="200",
            MCPCAP_PCAP_URL_AUTH="u:p",
        ),
    )
    assert s.pcap_paths == ["/env/a", "/env/b"]
    assert s.pcap_urls == ["https://e1/x/", "https://e2/y/"]
    assert s.max_download_bytes == 200 and s.pcap_url_auth == "u:p"
    assert "u:p" not in repr(s)


def test_flags_over_everything(config):
    args = {"pcap_path": ["/flag"], "pcap_url": ["https://flag/"], "max_download_bytes": 100}
    s = build_settings(args, env(config, MCPCAP_PCAP_PATH="/env", MCPCAP_MAX_DOWNLOAD_BYTES="2"))
    assert (s.pcap_paths, s.pcap_urls, s.max_download_bytes) == (["/flag"], ["https://flag/"], 100)


def test_repr_redacts_urls(tmp_path):
    s = build_settings(
        {"pcap_url": ["https://bob:hunter2@h/caps/?token=abc"]},
        {"MCPCAP_CONFIG": str(tmp_path / "none.toml")},
    )
    assert "hunter2" not in repr(s) and "abc" not in repr(s)


def test_bad_values_are_clear(config, tmp_path):
    with pytest.raises(ConfigError, match="MCPCAP_MAX_DOWNLOAD_BYTES must be a whole"):
        build_settings({}, env(config, MCPCAP_MAX_DOWNLOAD_BYTES="lots"))
    broken = tmp_path / "broken.toml"
    broken.write_text("pcap_path = [")
    with pytest.raises(ConfigError, match=r"cannot read config file broken\.toml"):
        build_settings({}, {"MCPCAP_CONFIG": str(broken)})


def test_hunt_allow_from_the_config_file_or_the_environment(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('hunt_allow = ["Corp.Example.", " vendor-telemetry.net"]\n')
    assert build_settings({}, env(path)).hunt_allow == ["corp.example", "vendor-telemetry.net"]
    path.write_text('hunt_allow = "corp.example"\n')
    assert build_settings({}, env(path)).hunt_allow == ["corp.example"]
    s = build_settings({}, env(path, MCPCAP_HUNT_ALLOW="a.example, b.example,,"))
    assert s.hunt_allow == ["a.example", "b.example"]
    assert build_settings({}, {"MCPCAP_CONFIG": str(tmp_path / "none.toml")}).hunt_allow == []


@pytest.mark.parametrize("value", ["5", "[1, 2]", "{ a = 1 }"])
def test_a_bad_hunt_allow_is_clear(tmp_path, value):
    path = tmp_path / "config.toml"
    path.write_text(f"hunt_allow = {value}\n")
    with pytest.raises(ConfigError, match="hunt_allow in the config file must be a list"):
        build_settings({}, env(path))


def test_a_misspelt_setting_is_named_not_ignored(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('pcap_paths = ["/cfg/a"]\n')
    with pytest.raises(ConfigError, match="unknown setting 'pcap_paths'; did you mean 'pcap_path'"):
        build_settings({}, {"MCPCAP_CONFIG": str(path)})


def test_every_setting_the_config_file_may_hold_is_read(tmp_path):
    """CONFIG_KEYS lists what build_settings reads from the file: each one changes a setting."""
    from mcpcap.core.config import CONFIG_KEYS

    values = {
        "cache_dir": '"/cfg/cache"', "cache_max_bytes": "12345", "connect_timeout": "7.5",
        "download_min_rate": "11", "download_timeout": "99", "examples": "true",
        "hunt_allow": '["example.org"]', "local_depth": "2", "max_download_bytes": "321",
        "max_redirects": "1", "max_reply_chars": "9000", "max_stream_bytes": "4096",
        "modules": '"dns"', "pcap_path": '"/cfg/p"', "pcap_url": '"https://x.example/"',
        "pcap_url_auth": '"Bearer t"', "read_timeout": "8.5", "remote_depth": "3",
        "rescan": "true", "top": "7",
    }  # fmt: skip
    assert set(values) == CONFIG_KEYS
    environ = {"MCPCAP_CONFIG": str(tmp_path / "config.toml")}
    default = vars(build_settings({}, environ))
    for key, value in values.items():
        (tmp_path / "config.toml").write_text(f"{key} = {value}\n")
        assert vars(build_settings({}, environ)) != default, key
