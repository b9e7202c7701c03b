"""Shared pieces of the transactions-panel tests: a tiny app and stores (no tests here)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult

from mcpcap.core.config import build_settings
from mcpcap.core.workspace import Workspace
from mcpcap.modules.dns.store_schema import QUERY_INDEXES
from mcpcap.modules.dns.tui.transactions import TransactionsPanel

CAPTURE = "example.pcap"
SIZE = (120, 36)


class PanelApp(App[None]):
    """The transactions panel alone, on one capture."""

    def __init__(self, results: Any, capture: str = CAPTURE, filter_text: str = "") -> None:
        super().__init__()
        self.results = results
        self.capture = capture
        self.filter_text = filter_text

    def compose(self) -> ComposeResult:
        yield TransactionsPanel(id="transactions")

    def on_mount(self) -> None:
        panel = self.query_one(TransactionsPanel)
        panel.load(self.results, self.capture, self.filter_text)
        panel.table.focus()


def open_dns(cache: Path) -> tuple[Workspace, Any]:
    """The DNS results of example.pcap, with the store in `cache`."""
    workspace = Workspace(build_settings({}, environ={"MCPCAP_CACHE_DIR": str(cache)}))
    return workspace, workspace.open(CAPTURE).module("dns")


async def settle(pilot: Any) -> None:
    """Wait until workers are done and the screen is drawn."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def run_app(app: App, body: Callable[[Any], Awaitable[None]]) -> None:
    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await body(pilot)

    asyncio.run(main())


def grow_store(db_path: str, rows: int) -> int:
    """Copy the store's transactions (shifted in time) until it holds at least `rows`."""
    db = sqlite3.connect(db_path)
    try:
        count = db.execute("SELECT count(*) FROM dns_transactions").fetchone()[0]
        columns = [r[1] for r in db.execute("PRAGMA table_info(dns_transactions)")][2:]
        names = ", ".join(columns)
        copies = -(-rows // count) - 1
        indexes = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'dns_transactions'"
        )]  # fmt: skip
        for name in indexes:  # rebuilt after the insert: much faster than keeping them up
            db.execute(f"DROP INDEX {name}")
        db.execute(
            "WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < ?) "
            f"INSERT INTO dns_transactions (ts, {names}) SELECT ts + k.n * 200, {names} "
            "FROM dns_transactions, k",
            (copies,),
        )
        for index in QUERY_INDEXES:
            db.execute(index)
        db.commit()
        return db.execute("SELECT count(*) FROM dns_transactions").fetchone()[0]
    finally:
        db.close()
