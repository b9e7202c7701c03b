"""The columns each kind's table shows, remembered next to the user's config file.

`tui.json` beside `config.toml` (`MCPCAP_CONFIG`) holds, per kind, the fields the user hid with
the column chooser (`o`). A file that cannot be read or written is no error: the table shows
every column and the choice lasts the session. No Textual here.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from mcpcap.core.config import config_file_path

STATE_NAME = "tui.json"


def state_path() -> Path:
    return config_file_path().parent / STATE_NAME


def _read() -> dict:
    try:
        data = json.loads(state_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def hidden_columns(kind: str) -> set[str]:
    """The fields of `kind` the user hid."""
    columns = _read().get("hidden_columns", {})
    found = columns.get(kind, []) if isinstance(columns, dict) else []
    return {name for name in found if isinstance(name, str)}


def remember_hidden(kind: str, hidden: set[str]) -> bool:
    """Keep the choice for the next sessions (atomically); False when it could not be kept."""
    data = _read()
    columns = data.get("hidden_columns")
    columns = columns if isinstance(columns, dict) else {}
    columns[kind] = sorted(hidden)
    data["hidden_columns"] = columns
    path = state_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{STATE_NAME}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2, sort_keys=True)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(tmp)
        return False
    return True
