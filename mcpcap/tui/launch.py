"""`mcpcap tui [CAPTURE]`: the entry point, light on purpose (no Textual, no app at the top).

Importing Textual and the app's widgets and drawing the first frame take about a second, and
the capture named on the command line needs a scan that long or longer. So `start_app` starts
opening the capture first, in a thread (`EarlyOpen`), then imports the app; the app's screen
follows that open instead of starting its own.

The scanning thread competes with the start-up for the interpreter, so its first scan progress
report waits until the app has drawn its first frame: by then the scan has started its worker
processes and taken in the first span of the file, and the workers go on decoding the next
spans on the other core while the app starts (the scan keeps a few spans in flight; see
`mcpcap.core.parallel`). A download is not held back: it mostly waits for the network.

Import `run_tui` from here: `mcpcap.tui.app` re-exports it, but importing that module imports
Textual first, and the open then starts half a second later.
"""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcpcap.core.config import Settings
from mcpcap.core.examples import EXAMPLE_NAME, example_path
from mcpcap.core.sources.arguments import check_cli_path
from mcpcap.core.sources.naming import looks_like_url

if TYPE_CHECKING:
    from mcpcap.core.workspace import StageProgress, Workspace
    from mcpcap.tui.app import McpcapApp

GATE_POLL = 0.05  # seconds between two looks at the cancel event while the scan waits
STOP_TIMEOUT = 5.0  # seconds to wait for a cancelled open to end


class EarlyOpen:
    """One capture's open (and its summaries) in a thread of its own, started before the app.

    The first scan progress report waits for `release()` (the app's first frame) or a cancel.
    Reports made before anyone follows are kept (the latest of each stage) and handed to the
    follower, who then gets every report until the open ends.
    """

    def __init__(self, workspace: Workspace, name: str) -> None:
        self.name = name
        self.cancel = threading.Event()
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._follower: StageProgress | None = None
        self._kept: dict[str, tuple] = {}
        self._analysis: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(workspace,), name=f"open {name}", daemon=True
        )

    def start(self) -> EarlyOpen:
        self._thread.start()
        return self

    def release(self) -> None:
        """Let the scan go on at full speed (the app is up)."""
        self._released.set()

    def _run(self, workspace: Workspace) -> None:
        try:
            analysis = workspace.open(self.name, progress=self._progress, cancel=self.cancel)
            for module in analysis.module_names:  # the overview shows the summaries
                analysis.module(module).summary()
            self._analysis = analysis
        except BaseException as exc:  # raised again in the follower's thread
            self._error = exc

    def _progress(self, stage: str, done: int, total: int | None, packets: int | None) -> None:
        if stage == "scan":  # see the module's docstring
            while not (self._released.wait(GATE_POLL) or self.cancel.is_set()):
                pass
        with self._lock:
            follower = self._follower
            if follower is None:
                self._kept[stage] = (stage, done, total, packets)
        if follower is not None:
            follower(stage, done, total, packets)

    def follow(self, progress: StageProgress) -> Any:
        """Report to `progress` from now on; wait for the open and return (or raise) its end."""
        with self._lock:
            self._follower = progress
            kept, self._kept = list(self._kept.values()), {}
        for report in kept:
            progress(*report)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._analysis

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Cancel the open if it still runs and give it a moment to end (workers and all)."""
        self.cancel.set()
        self._released.set()
        if self._thread.is_alive():
            self._thread.join(timeout)


def initial_capture(settings: Settings, capture: str | None) -> tuple[Settings, str | None]:
    """The settings to run with and the capture to open first.

    No argument: the bundled example when it is a source. With only the bundled example as a
    source, a file or URL of the user's own becomes the source, as `mcpcap analyze` reads it.
    """
    if capture is None:
        return settings, (EXAMPLE_NAME if settings.uses_examples else None)
    check_cli_path(settings, capture)  # a missing path stops here, before the app starts
    if settings.pcap_paths or settings.pcap_urls:
        return settings, capture
    if looks_like_url(capture):
        return replace(settings, pcap_urls=[capture]), capture
    path = Path(capture).expanduser()
    bundled = example_path()
    if path.is_file() and not (bundled.is_file() and os.path.samefile(path, bundled)):
        return replace(settings, pcap_paths=[str(path)]), path.name
    return settings, capture


def start_app(settings: Settings, capture: str | None = None) -> McpcapApp:
    """The app for `mcpcap tui [CAPTURE]`, its first capture already opening."""
    from mcpcap.core.workspace import Workspace

    settings, name = initial_capture(settings, capture)
    workspace = Workspace(settings)
    early = EarlyOpen(workspace, name).start() if name is not None else None
    try:
        from mcpcap.tui.app import McpcapApp  # Textual is imported while the capture opens

        return McpcapApp(settings, name, workspace=workspace, early=early)
    except BaseException:
        if early is not None:
            early.stop()
        workspace.close()
        raise


def run_tui(settings: Settings, capture: str | None = None) -> int:
    """Run the terminal UI until the user quits; the exit code for `mcpcap tui`."""
    app = start_app(settings, capture)
    try:
        return int(app.run() or 0)
    finally:
        if app.early is not None:
            app.early.stop()
