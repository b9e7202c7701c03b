"""Copying text, and saying truthfully what was done with it.

A terminal app cannot know whether text reached the clipboard: OSC 52 (what Textual sends) is
ignored by some terminals and by tmux unless its `set-clipboard` option passes it on. So a copy
tries the system clipboard's own tool first (wl-copy, xclip, xsel, pbcopy), which says whether
it worked, and otherwise sends OSC 52 and says so, with what is known about tmux.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import Any

TOOL_TIMEOUT = 2.0  # seconds a clipboard tool may take


def system_tools() -> list[list[str]]:
    """The clipboard commands to try here, in order (those installed)."""
    candidates: list[list[str]] = []
    if sys.platform == "darwin":
        candidates.append(["pbcopy"])
    if os.environ.get("WAYLAND_DISPLAY"):
        candidates.append(["wl-copy"])
    if os.environ.get("DISPLAY"):
        candidates += [["xclip", "-selection", "clipboard"], ["xsel", "--clipboard", "--input"]]
    return [command for command in candidates if shutil.which(command[0])]


def _run_tool(command: list[str], text: str) -> bool:
    try:
        done = subprocess.run(command, input=text.encode(), capture_output=True,
                              timeout=TOOL_TIMEOUT, check=False)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def tmux_passes_osc52() -> bool | None:
    """Whether tmux passes OSC 52 on to the terminal (None: not under tmux, or unknown)."""
    if not os.environ.get("TMUX") or not shutil.which("tmux"):
        return None
    try:
        done = subprocess.run(["tmux", "show-options", "-gv", "set-clipboard"],
                              capture_output=True, text=True, timeout=TOOL_TIMEOUT,
                              check=False)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    value = done.stdout.strip()
    return None if done.returncode or not value else value != "off"


def copy_text(app: Any, text: str) -> str:
    """Copy `text` where it can go; returns one sentence saying what was done."""
    for command in system_tools():
        if _run_tool(command, text):
            return f"Copied to the system clipboard ({command[0]})."
    if getattr(app, "_driver", None) is None or getattr(app, "is_headless", False):
        app.copy_to_clipboard(text)  # kept in the app (paste inside it), nothing sent
        return "Not copied: no terminal to send it to; shown only."
    app.copy_to_clipboard(text)
    tmux = tmux_passes_osc52()
    if tmux is False:
        return ("Sent to the terminal as OSC 52, but tmux's set-clipboard is off, so it did "
                "not reach the clipboard; select the text to copy it.")  # fmt: skip
    reach = "it reaches the clipboard if the terminal accepts OSC 52"
    if tmux:
        return f"Sent to the terminal through tmux as OSC 52; {reach}."
    return f"Sent to the terminal as OSC 52; {reach}."
