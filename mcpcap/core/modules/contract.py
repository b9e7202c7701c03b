"""The protocol-module contract: what a module gives the scan, the store and every face.

A module says which packets it wants, consumes them during one scan of a capture (in worker
processes where it can), writes what it found into the result store, and answers questions from
the store afterwards through a `ModuleResults`. Its `kinds()` declare the records it offers; the
faces render every kind generically, so a module never needs face code.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    import sqlite3

    from pydantic import BaseModel

    from mcpcap.core.decap import Segment
    from mcpcap.core.filtering import Filter
    from mcpcap.core.models import Ranking
    from mcpcap.core.modules.counts import ModuleCounts
    from mcpcap.core.modules.kinds import RecordKind, RecordPage
    from mcpcap.core.tcpstream import StreamChunk


def __getattr__(name: str) -> Any:
    """`ModuleCounts` lives in `counts` (pydantic is loaded only when it is used)."""
    if name == "ModuleCounts":
        from mcpcap.core.modules.counts import ModuleCounts

        return ModuleCounts
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ModuleScan(ABC):
    """One module's state during one scan: created per scan, fed in frame order."""

    @abstractmethod
    def on_udp(self, frame: int, ts: float, seg: Segment) -> None: ...

    @abstractmethod
    def on_tcp(self, frame: int, ts: float, chunk: StreamChunk) -> bool | None:
        """Stream bytes of a connection this module reads (by its `tcp_ports`, or claimed by
        `claims_tcp`), in order. False releases the connection: no more chunks of it come."""

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
        and writes its rows here. A packet module (`wants_packets`) gets its decoder's partials
        here in serial scans too: the core feeds one decoder itself and flushes it every
        `PACKETS_PER_FLUSH` packets.
        """
        raise NotImplementedError

    def on_stream_flush(self, partial: Any) -> None:
        """What the module's stream decoder returned from `flush()` (if not None).

        Called in capture order (the order the decoder saw its chunks), in the scanning
        process, before `finish`; only for a module with a `stream_decoder`, whose `on_tcp` is
        then never called. Its partials come later than the datagrams of the same frames: rows
        written here must not depend on how they interleave with the module's other rows.
        """
        raise NotImplementedError

    @abstractmethod
    def finish(self, db: sqlite3.Connection) -> ModuleCounts:
        """Flush to the store; return what the module saw (stored as its counts)."""

    def warnings(self) -> list[str]:
        """Asked after `finish`: the capture facts' warnings about this scan (a bound it
        reached that changed its results), as `max_stream_bytes` has its own."""
        return []


@runtime_checkable
class StreamDecoder(Protocol):
    """A module's reader of TCP connections, away from the scanning process (`stream_decoder`).

    It gets the chunks of the connections its module reads (by port or claimed), in order, as
    `ModuleScan.on_tcp` would, keeps each connection's state itself, and hands what it
    finished over at `flush()` as a value `marshal` carries (or None for nothing new).

    A decoder that holds bytes of unfinished messages may define `share_budget(budget)`: it is
    then given the scan's `StreamBudget` (its reassembler's), to count what it holds against.
    """

    def on_tcp(self, frame: int, ts: float, chunk: StreamChunk) -> bool | None:
        """As `ModuleScan.on_tcp`: False releases the connection."""

    def flush(self) -> Any:
        """What was finished since the last flush, for `ModuleScan.on_stream_flush`."""

    def close(self) -> None:
        """The end of the capture: finish every connection still open (a flush follows)."""


@runtime_checkable
class ModuleResults(Protocol):
    """What faces ask of a finished module: its summary and its kinds' records."""

    def summary(self, top_n: int | None = None) -> BaseModel: ...

    def records(
        self,
        kind: RecordKind,
        flt: Filter,
        *,
        sort: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> RecordPage: ...

    def iter_records(
        self, kind: RecordKind, flt: Filter, *, sort: str | None = None
    ) -> Iterator[dict[str, Any]]: ...

    def record(self, kind: RecordKind, record_id: str) -> dict[str, Any]: ...

    def top(
        self,
        kind: RecordKind,
        flt: Filter,
        *,
        by: str | None = None,
        weight: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Ranking: ...


@dataclass(frozen=True)
class ModulePrompt:
    """A ready-made investigation for MCP clients: its text is `template` with the one
    argument, the capture's name, in place of `{capture}`."""

    name: str
    title: str
    description: str
    template: str


@dataclass(frozen=True)
class PayloadSignature:
    """What a datagram's first bytes look like when it may be a module's protocol on a port of
    its own choosing: at least `min_length` bytes, and `payload[offset] & mask == value` for each
    (offset, mask, value) of `tests`, every offset below `min_length`.

    Declared as data, a signature is tested in the scan's C code (where it was built) without a
    call into Python for each of the capture's datagrams.
    """

    min_length: int
    tests: tuple[tuple[int, int, int], ...]

    def __post_init__(self) -> None:
        if not 0 <= self.min_length <= 0xFFFF:
            raise ValueError("a signature's min_length is 0 to 65535")
        for offset, mask, value in self.tests:
            if not (0 <= offset < self.min_length and 0 <= mask <= 0xFF and 0 <= value <= 0xFF):
                raise ValueError(f"a signature's test {(offset, mask, value)} is out of range")
        if len(self.tests) > 0xFF:
            raise ValueError("a signature has at most 255 tests")

    def matches(self, payload: bytes) -> bool:
        return len(payload) >= self.min_length and all(
            payload[offset] & mask == value for offset, mask, value in self.tests
        )


class ProtocolModule(ABC):
    """What a protocol plug-in provides. Instances are cheap and stateless."""

    name: ClassVar[str]
    title: ClassVar[str]
    schema_version: ClassVar[str] = "1"  # of the module's store tables: part of the store key
    udp_ports: ClassVar[frozenset[int]] = frozenset()
    # datagrams on other ports that are wanted too: those any of these signatures match
    udp_signatures: ClassVar[tuple[PayloadSignature, ...]] = ()
    tcp_ports: ClassVar[frozenset[int]] = frozenset()
    worker_imports: ClassVar[tuple[str, ...]] = ()  # imported once before workers fork
    # what its results and summary import: a parallel scan imports them while the workers
    # decode the first spans, when the scanning process would wait, not at the scan's end
    results_imports: ClassVar[tuple[str, ...]] = ()
    # every IP packet goes to the module's worker decoder (`.packet(frame, ts, segment)`),
    # whichever process decodes it; see `worker_decoder`
    wants_packets: ClassVar[bool] = False
    # the packet-mode transports (`Segment.transport`) that decoder reads; None: every packet
    packet_transports: ClassVar[frozenset[str] | None] = None
    # the uids its store tables hold, as (table, uid column, time, "uid" or "json" for a JSON
    # list): when `conn` splits a flow into several connections, the scan moves each to the
    # connection open at that time (see `mcpcap.core.flowsplits`), an SQL expression of the
    # row no earlier than its packets on those flows (the latest connection begun by then)
    stored_uids: ClassVar[tuple[tuple[str, str, str, str], ...]] = ()
    # the indexes its record queries use, as `CREATE INDEX IF NOT EXISTS` statements: made on
    # the store's first use for records, not by the scan (see `mcpcap.core.indexes`); a store
    # that cannot be written is read without them, so queries must not depend on them
    query_indexes: ClassVar[tuple[str, ...]] = ()

    def wants_udp(self, sport: int, dport: int, payload: bytes) -> bool:
        """Whether a UDP datagram may belong to this protocol: on one of its `udp_ports`, or
        matched by one of its `udp_signatures`. A module may override this test (it is then
        called for every datagram of a capture, which ports and signatures never are)."""
        ports = self.udp_ports
        if sport in ports or dport in ports:
            return True
        return any(signature.matches(payload) for signature in self.udp_signatures)

    def claims_tcp(self, sport: int, dport: int, data: bytes) -> bool:
        """Whether a TCP connection on ports not in `tcp_ports` is this module's protocol.

        Asked in the scanning process with the first bytes of each direction that carries
        data, until some module claims the connection; the claimer gets every later chunk of
        both directions (`ModuleScan.on_tcp`). A connection nobody claims is not reassembled.
        """
        return False

    def claims_streams(self) -> bool:
        """Whether the module claims TCP connections by their bytes (it overrides `claims_tcp`)."""
        return type(self).claims_tcp is not ProtocolModule.claims_tcp

    def scans_in_workers(self) -> bool:
        """Whether a scan with this module may decode in worker processes: it has a
        `udp_decoder`, or it reads no UDP datagrams at all (stream and packet work is fine)."""
        if self.udp_decoder() is not None:
            return True
        return (
            not self.udp_ports
            and not self.udp_signatures
            and type(self).wants_udp is ProtocolModule.wants_udp
        )

    def udp_decoder(self) -> Callable[[int, float, Segment], Any] | None:
        """A function run in worker processes on every datagram this module wants.

        `decoder(frame, ts, segment)` returns a small value that `marshal` carries (tuples,
        lists and dicts of numbers, strings and bytes), or None for nothing; the scanning
        process hands it to `ModuleScan.on_udp_decoded` in capture order. It must be a
        module-level function and keep no state between datagrams. None (the default) means the
        module cannot be scanned in parallel, and a scan with it runs in one process.
        """
        return None

    def stream_decoder(self) -> StreamDecoder:
        """A new `StreamDecoder` for one scan, when the module reads TCP connections.

        A module that defines it reads its streams there: in the scanning process for a
        serial scan, in a stream worker process for a parallel one (see
        `mcpcap.core.streamwork`). Without it, `ModuleScan.on_tcp` gets the chunks in the
        scanning process.
        """
        raise NotImplementedError

    def worker_decoder(self) -> Any:
        """The decoder a worker process uses.

        The default is `udp_decoder()`. A module may return a callable object that also does
        per-message work of its own (counting, making store rows); its `flush()`, which the
        worker calls after each span, returns what it has (as `marshal` carries) for
        `ModuleScan.on_worker_flush` in the scanning process. A packet module's decoder also
        has `packet(frame, ts, segment)`, called for every IP packet (packet-mode `Segment`s:
        tcp, udp, icmp, icmpv6, ip and l2) in capture order within a span. A decoder with a
        `compiled_call` attribute (a compiled twin of its call, with the same arguments and
        results) is called through that instead.
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
        counts: ModuleCounts,
        capture: dict[str, Any],
        settings: Any,
    ) -> ModuleResults:
        """The object faces query after a scan (summary, records, rankings)."""

    @abstractmethod
    def summary_model(self) -> type[BaseModel]:
        """The pydantic model of this module's summary."""

    def summary_is_current(self, db: sqlite3.Connection, settings: Any) -> bool:
        """Whether the summary the scan stored still holds for `settings`. A module whose
        summary depends on a setting outside the store key says False when it changed, and
        faces then ask `open_results(...).summary()` instead."""
        return True

    def kinds(self) -> list[RecordKind]:
        """The record kinds this module offers, in the order faces show them."""
        return []

    def result_models(self) -> list[type[BaseModel]]:
        """Every pydantic model this module returns (for `mcpcap schema`)."""
        return [self.summary_model(), *(kind.model for kind in self.kinds())]

    def prompts(self) -> list[ModulePrompt]:
        """The MCP prompts this module offers (the server registers every chosen module's)."""
        return []

    def face_hooks(self) -> dict[str, Any]:
        """Presentation only this module needs, by face hook name (e.g. a TUI overview).

        Faces look a hook up by name and fall back to their generic rendering without it.
        """
        return {}
