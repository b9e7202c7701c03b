"""`mcpcap tui example.pcap` in a real terminal (tmux): the top domain shows on screen."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")
REPO = Path(__file__).resolve().parents[2]


def capture_pane(session: str) -> str:
    result = subprocess.run(
        [TMUX, "capture-pane", "-p", "-t", session], capture_output=True, text=True, check=False
    )
    return result.stdout


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed, so no real terminal to drive")
def test_tui_in_tmux_shows_the_top_domain(tmp_path: Path) -> None:
    session = f"mcpcap-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "MCPCAP_CACHE_DIR": str(tmp_path / "cache"), "TERM": "xterm-256color"}
    env.pop("MCPCAP_PCAP_PATH", None)
    env.pop("MCPCAP_PCAP_URL", None)
    command = f"{sys.executable} -m mcpcap tui example.pcap"
    subprocess.run(
        [TMUX, "new-session", "-d", "-s", session, "-x", "160", "-y", "50", "-c", str(REPO),
         command],
        env=env, check=True,
    )  # fmt: skip
    try:
        screen = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            screen = capture_pane(session)
            if "www.example.com" in screen:
                break
            time.sleep(0.25)
        assert "www.example.com" in screen, screen
        assert "Top domains" in screen
        # the first key after start-up is "1" (harmless): under tmux a "?" sent as the very
        # first key was not seen by the app, while any second key is
        subprocess.run([TMUX, "send-keys", "-t", session, "1"], check=True)
        time.sleep(0.3)
        subprocess.run([TMUX, "send-keys", "-t", session, "-l", "?"], check=True)
        time.sleep(1)
        assert "mcpcap help" in capture_pane(session)
        subprocess.run([TMUX, "send-keys", "-t", session, "Escape"], check=True)
        time.sleep(0.5)  # Esc then q at once would read as alt+q
        subprocess.run([TMUX, "send-keys", "-t", session, "q"], check=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            alive = subprocess.run([TMUX, "has-session", "-t", session], capture_output=True)
            if alive.returncode != 0:
                break
            time.sleep(0.2)
        else:
            pytest.fail("mcpcap tui did not quit on q")
    finally:
        subprocess.run([TMUX, "kill-session", "-t", session], capture_output=True, check=False)


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed, so no real terminal to drive")
def test_transactions_at_120x40_show_rcode_rtt_and_a_whole_ipv6_after_scrolling(
    tmp_path: Path,
) -> None:
    """Issue 18's real-terminal check: `2` shows rcode and rtt; Right reaches the server column
    of an IPv6 transaction, whose address shows whole."""
    session = f"mcpcap-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "MCPCAP_CACHE_DIR": str(tmp_path / "cache"), "TERM": "xterm-256color"}
    env.pop("MCPCAP_PCAP_PATH", None)
    env.pop("MCPCAP_PCAP_URL", None)
    command = f"{sys.executable} -m mcpcap tui example.pcap"
    subprocess.run(
        [TMUX, "new-session", "-d", "-s", session, "-x", "120", "-y", "40", "-c", str(REPO),
         command],
        env=env, check=True,
    )  # fmt: skip

    def keys(*names: str) -> None:
        for name in names:
            subprocess.run([TMUX, "send-keys", "-t", session, name], check=True)
            time.sleep(0.15)

    def wait_for(text: str) -> str:
        screen, deadline = "", time.monotonic() + 30
        while time.monotonic() < deadline:
            screen = capture_pane(session)
            if text in screen:
                return screen
            time.sleep(0.25)
        raise AssertionError(f"{text!r} never showed:\n{screen}")

    try:
        wait_for("Top domains")
        keys("1", "2")
        screen = wait_for("rcode")
        header = next(line for line in screen.splitlines() if "time" in line and "rcode" in line)
        assert "rtt" in header and "query" in header
        assert "NOERROR" in screen and " ms" in screen
        keys(*["Down"] * 7, "Right", "Right")
        screen = wait_for("2001:db8::53")  # transaction 8's server, dropped at first
        header = next(line for line in screen.splitlines() if "server" in line)
        assert "◀" in header
    finally:
        subprocess.run([TMUX, "kill-session", "-t", session], capture_output=True, check=False)
