"""Settings: command-line flags, then environment, then config.toml, then defaults.

One `Settings` object travels from the command line to every face, so the TUI, the MCP server and
`mcpcap analyze` read captures from the same sources with the same limits.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MAX_REPLY_CHARS = 20_000
MIN_MAX_REPLY_CHARS = 4_000  # the DNS summary, a page of one record and any error fit in this
DEFAULT_MAX_DOWNLOAD_BYTES = 2 * 1024**3
DEFAULT_CACHE_MAX_BYTES = 2 * 1024**3
DEFAULT_TOP_N = 10
DEFAULT_LOCAL_DEPTH = 8  # folder levels listed below a --pcap-path root
DEFAULT_REMOTE_DEPTH = 2  # sub-folder levels followed below a --pcap-url index
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 30.0
DEFAULT_MAX_REDIRECTS = 3
DEFAULT_MAX_STREAM_BYTES = 64 * 1024**2  # as mcpcap.core.tcpstream's (not imported: start-up)
DEFAULT_DOWNLOAD_TIMEOUT = 3600.0  # seconds for a whole download (0: no deadline)
DEFAULT_DOWNLOAD_MIN_RATE = 4096  # bytes/s a download must keep up (0: any rate)


@dataclass
class Settings:
    pcap_paths: list[str] = field(default_factory=list)
    pcap_urls: list[str] = field(default_factory=list)
    modules: list[str] | None = None  # None: every registered module
    examples: bool = False  # add the bundled examples to other sources
    max_reply_chars: int = DEFAULT_MAX_REPLY_CHARS
    max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES
    max_packets: int | None = None
    top_n: int = DEFAULT_TOP_N
    cache_dir: Path = field(default_factory=lambda: default_cache_dir())
    cache_max_bytes: int = DEFAULT_CACHE_MAX_BYTES
    use_cache: bool = True
    workers: int | None = None  # None: decide from the capture's size
    local_depth: int = DEFAULT_LOCAL_DEPTH
    remote_depth: int = DEFAULT_REMOTE_DEPTH
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    # "user:password" for every --pcap-url without its own user-info; never printed (repr=False)
    pcap_url_auth: str | None = field(default=None, repr=False)
    # bytes all unfinished TCP streams of a scan may hold (out of order, or a partial message)
    max_stream_bytes: int = DEFAULT_MAX_STREAM_BYTES
    rescan: bool = False  # build the store again even when a valid one exists
    download_timeout: float = DEFAULT_DOWNLOAD_TIMEOUT
    download_min_rate: int = DEFAULT_DOWNLOAD_MIN_RATE
    # names and suffixes DNS hunting never reports, on top of its shipped allowlist
    hunt_allow: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        """The dataclass repr with URLs redacted and credentials left out (logs, tracebacks)."""
        from dataclasses import fields

        from mcpcap.core.sources.urls import redact

        shown = []
        for f in fields(self):
            if not f.repr:
                continue
            value = getattr(self, f.name)
            if f.name == "pcap_urls":
                value = [redact(url) for url in value]
            shown.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(shown)})"

    @property
    def uses_examples(self) -> bool:
        """The bundled example is a source when nothing else is configured, or when asked."""
        return self.examples or not (self.pcap_paths or self.pcap_urls)


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = (os.environ if environ is None else environ).get("MCPCAP_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("mcpcap", appauthor=False))


def config_file_path(environ: Mapping[str, str] | None = None) -> Path:
    env = (os.environ if environ is None else environ).get("MCPCAP_CONFIG")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("mcpcap", appauthor=False)) / "config.toml"


def load_config_file(path: Path | None = None, environ: Mapping[str, str] | None = None) -> dict:
    """The config file's table, or {} when there is none. A broken file is a clear error."""
    path = path or config_file_path(environ)
    if not path.is_file():
        return {}
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    from mcpcap.core.errors import ConfigError

    try:
        with path.open("rb") as fh:
            table = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path.name}: {exc}") from None
    unknown = sorted(set(table) - CONFIG_KEYS)
    if unknown:  # a misspelt setting would otherwise be silently ignored
        import difflib

        close = difflib.get_close_matches(unknown[0], CONFIG_KEYS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"config file {path.name}: unknown setting {unknown[0]!r}{hint} "
            f"(settings: {', '.join(sorted(CONFIG_KEYS))})"
        )
    return table


# the settings a config file may hold (build_settings reads each)
CONFIG_KEYS = frozenset((
    "cache_dir", "cache_max_bytes", "connect_timeout", "download_min_rate", "download_timeout",
    "examples", "hunt_allow", "local_depth", "max_download_bytes", "max_redirects",
    "max_reply_chars", "max_stream_bytes", "modules", "pcap_path", "pcap_url", "pcap_url_auth",
    "read_timeout", "remote_depth", "rescan", "top",
))  # fmt: skip


def _env_int(env: Mapping[str, str], name: str) -> int | None:
    value = env.get(name)
    if value is None or not value.strip():
        return None
    from mcpcap.core.errors import ConfigError

    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None


def _env_float(env: Mapping[str, str], name: str) -> float | None:
    value = env.get(name)
    if value is None or not value.strip():
        return None
    from mcpcap.core.errors import ConfigError

    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {value!r}") from None


def _first(*values):
    for value in values:
        if value is not None:
            return value
    return None


def build_settings(args: dict | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Merge flags (a dict of parsed options; None means not given), env and config file."""
    args = args or {}
    env = os.environ if environ is None else environ
    cfg = load_config_file(environ=env)
    paths = args.get("pcap_path") or _split_env(env.get("MCPCAP_PCAP_PATH"), os.pathsep)
    urls = args.get("pcap_url") or _split_env(env.get("MCPCAP_PCAP_URL"), None)
    modules = args.get("modules") or env.get("MCPCAP_MODULES") or cfg.get("modules")
    if isinstance(modules, str):
        modules = [m.strip() for m in modules.split(",") if m.strip()]
    settings = Settings(
        pcap_paths=list(paths or _as_list(cfg.get("pcap_path"))),
        pcap_urls=list(urls or _as_list(cfg.get("pcap_url"))),
        modules=modules or None,
        examples=bool(
            _first(args.get("examples"), _env_bool(env, "MCPCAP_EXAMPLES"), cfg.get("examples"))
        ),
        max_reply_chars=_reply_budget(args, env, cfg),
        max_download_bytes=_first(
            args.get("max_download_bytes"),
            _env_int(env, "MCPCAP_MAX_DOWNLOAD_BYTES"),
            cfg.get("max_download_bytes"),
            DEFAULT_MAX_DOWNLOAD_BYTES,
        ),
        max_packets=args.get("max_packets"),
        top_n=_first(args.get("top"), cfg.get("top"), DEFAULT_TOP_N),
        cache_dir=default_cache_dir(env),
        cache_max_bytes=_first(
            _env_int(env, "MCPCAP_CACHE_MAX_BYTES"),
            cfg.get("cache_max_bytes"),
            DEFAULT_CACHE_MAX_BYTES,
        ),
        use_cache=not args.get("no_cache", False),
        workers=args.get("workers"),
        local_depth=_first(cfg.get("local_depth"), DEFAULT_LOCAL_DEPTH),
        remote_depth=_first(cfg.get("remote_depth"), DEFAULT_REMOTE_DEPTH),
        connect_timeout=_first(cfg.get("connect_timeout"), DEFAULT_CONNECT_TIMEOUT),
        read_timeout=_first(cfg.get("read_timeout"), DEFAULT_READ_TIMEOUT),
        max_redirects=_first(cfg.get("max_redirects"), DEFAULT_MAX_REDIRECTS),
        pcap_url_auth=env.get("MCPCAP_PCAP_URL_AUTH") or cfg.get("pcap_url_auth") or None,
        max_stream_bytes=_first(
            _env_int(env, "MCPCAP_MAX_STREAM_BYTES"),
            cfg.get("max_stream_bytes"),
            DEFAULT_MAX_STREAM_BYTES,
        ),
        rescan=bool(_first(args.get("rescan"), cfg.get("rescan"), False)),
        download_timeout=_first(
            _env_float(env, "MCPCAP_DOWNLOAD_TIMEOUT"),
            cfg.get("download_timeout"),
            DEFAULT_DOWNLOAD_TIMEOUT,
        ),
        download_min_rate=_first(
            _env_int(env, "MCPCAP_DOWNLOAD_MIN_RATE"),
            cfg.get("download_min_rate"),
            DEFAULT_DOWNLOAD_MIN_RATE,
        ),
        hunt_allow=_hunt_allow(env, cfg),
    )
    if cfg.get("cache_dir") and not env.get("MCPCAP_CACHE_DIR"):
        settings.cache_dir = Path(cfg["cache_dir"]).expanduser()
    return settings


def _hunt_allow(env: Mapping[str, str], cfg: dict) -> list[str]:
    """MCPCAP_HUNT_ALLOW (comma-separated) or the config's hunt_allow (a list of names or
    one string): names and suffixes such as "corp.example" that DNS hunting never reports."""
    value = env.get("MCPCAP_HUNT_ALLOW")
    names = value.split(",") if value and value.strip() else cfg.get("hunt_allow", [])
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        from mcpcap.core.errors import ConfigError

        raise ConfigError(
            f"hunt_allow in the config file must be a list of names, not {names!r:.60}"
        )
    return [n.strip().strip(".").lower() for n in names if n.strip().strip(".")]


def _reply_budget(args: dict, env: Mapping[str, str], cfg: dict) -> int:
    """--max-reply-chars, MCPCAP_MAX_REPLY_CHARS or the config's max_reply_chars: at least
    MIN_MAX_REPLY_CHARS (a smaller budget could not hold a summary, or even an error)."""
    given = [
        ("--max-reply-chars", args.get("max_reply_chars")),
        ("MCPCAP_MAX_REPLY_CHARS", _env_int(env, "MCPCAP_MAX_REPLY_CHARS")),
        ("max_reply_chars in the config file", cfg.get("max_reply_chars")),
    ]
    for name, value in given:
        if value is not None:
            check_reply_budget(name, value)
            return value
    return DEFAULT_MAX_REPLY_CHARS


def check_reply_budget(name: str, value: object) -> None:
    from mcpcap.core.errors import ConfigError

    if type(value) is not int or value < MIN_MAX_REPLY_CHARS:
        raise ConfigError(
            f"{name} must be a whole number of at least {MIN_MAX_REPLY_CHARS} "
            f"(the smallest reply budget), not {value!r}"
        )


def _as_list(value: object) -> list[str]:
    """A config value given as one string or a list of strings."""
    if not value:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]  # type: ignore[union-attr]


def _env_bool(env: Mapping[str, str], name: str) -> bool | None:
    value = env.get(name, "").strip().lower()
    if not value:
        return None
    return value in ("1", "true", "yes", "on")


def _split_env(value: str | None, sep: str | None) -> list[str]:
    if not value:
        return []
    return [part for part in value.split(sep) if part.strip()]
