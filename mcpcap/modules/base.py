"""The protocol-module plug-in interface and its registry.

A module says which packets it wants, consumes them during one scan of a capture, writes what it
found into the result store, and answers queries from the store afterwards. Modules register
through the `mcpcap.modules` entry-point group, so a third party adds a protocol by shipping a
package; mcpcap's own modules are registered the same way (see pyproject.toml) with a built-in
fallback for running from a source tree.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from mcpcap.core.errors import UnknownModuleError

if TYPE_CHECKING:
    import sqlite3

    from mcpcap.core.decap import Segment
    from mcpcap.core.tcpstream import StreamChunk

ENTRY_POINT_GROUP = "mcpcap.modules"
BUILTIN_MODULES = {"dns": "mcpcap.modules.dns.module:DnsModule"}


class ModuleScan(ABC):
    """One module's state during one scan: created per scan, fed in frame order."""

    @abstractmethod
    def on_udp(self, frame: int, ts: float, seg: Segment) -> None: ...

    @abstractmethod
    def on_tcp(self, frame: int, ts: float, chunk: StreamChunk) -> None: ...

    def on_udp_decoded(
        self, frame: int, ts: float, src: str, sport: int, dst: str, dport: int, decoded: Any
    ) -> None:
        """A datagram that the module's `udp_decoder` turned into `decoded` in a worker process.

        Called in capture order, in the scanning process, instead of `on_udp` (parallel scans
        only; a module without a `udp_decoder` never gets it).
        """
        raise NotImplementedError

    def on_worker_flush(self, partial: Any) -> None:
        """What a worker's decoder returned from `flush()` at the end of a span (if not None).

        Called in span order, after the span's `on_udp_decoded` calls; a module whose worker
        decoder counts or makes store rows (instead of this process) adds the worker's tallies
        and writes its rows here.
        """
        raise NotImplementedError

    @abstractmethod
    def finish(self, db: sqlite3.Connection) -> dict[str, Any]:
        """Flush to the store; return the module's summary as plain JSON data."""


class ProtocolModule(ABC):
    """What a protocol plug-in provides. Instances are cheap and stateless."""

    name: ClassVar[str]
    title: ClassVar[str]
    udp_ports: ClassVar[frozenset[int]] = frozenset()
    tcp_ports: ClassVar[frozenset[int]] = frozenset()

    def wants_udp(self, sport: int, dport: int, payload: bytes) -> bool:
        """Whether a UDP datagram may belong to this protocol (called for every datagram)."""
        return sport in self.udp_ports or dport in self.udp_ports

    def udp_decoder(self) -> Callable[[int, float, Segment], Any] | None:
        """A function run in worker processes on every datagram this module wants.

        `decoder(frame, ts, segment)` returns a small value that `marshal` carries (tuples,
        lists and dicts of numbers, strings and bytes), or None for nothing; the scanning
        process hands it to `ModuleScan.on_udp_decoded` in capture order. It must be a
        module-level function and keep no state between datagrams. None (the default) means the
        module cannot be scanned in parallel, and a scan with it runs in one process.
        """
        return None

    def worker_decoder(self) -> Callable[[int, float, Segment], Any]:
        """The decoder a worker process uses.

        The default is `udp_decoder()`. A module may return a callable object that also does
        per-message work of its own (counting, making store rows); its `flush()`, which the
        worker calls after each span, returns what it has (as `marshal` carries) for
        `ModuleScan.on_worker_flush` in the scanning process.
        """
        decoder = self.udp_decoder()
        assert decoder is not None
        return decoder

    @abstractmethod
    def create_tables(self, db: sqlite3.Connection) -> None: ...

    @abstractmethod
    def start_scan(self, db: sqlite3.Connection, options: dict[str, Any]) -> ModuleScan: ...

    @abstractmethod
    def open_results(
        self,
        db: sqlite3.Connection,
        counts: dict[str, Any],
        capture: dict[str, Any],
        settings: Any,
    ) -> Any:
        """The object faces query after a scan (summary(), pages, rankings ...)."""

    @abstractmethod
    def summary_model(self) -> type:
        """The pydantic model of this module's summary."""

    def result_models(self) -> list[type]:
        """Every pydantic model this module returns (for `mcpcap schema`)."""
        return [self.summary_model()]


def _load_entry_points() -> dict[str, str]:
    from importlib.metadata import entry_points

    found = dict(BUILTIN_MODULES)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found[ep.name] = ep.value
    return found


def available_modules() -> list[str]:
    return sorted(_load_entry_points())


def load_module(name: str) -> ProtocolModule:
    targets = _load_entry_points()
    if name not in targets:
        raise UnknownModuleError(
            f"unknown module {name!r}; available modules: {', '.join(sorted(targets))}"
        )
    module_path, _, attr = targets[name].partition(":")
    from importlib import import_module

    cls = getattr(import_module(module_path), attr)
    return cls()


def load_modules(names: Iterable[str] | None) -> list[ProtocolModule]:
    """The chosen modules (all registered ones when `names` is None), in a stable order."""
    chosen = available_modules() if names is None else list(dict.fromkeys(names))
    return [load_module(name) for name in chosen]
