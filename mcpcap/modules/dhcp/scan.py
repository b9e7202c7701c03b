"""One scan: DHCP messages -> client exchanges, in capture order, into the store.

An exchange is the messages of one transaction id and one client (its hardware address, for
DHCPv6 its DUID). It ends when it goes quiet for `IDLE` seconds, holds `MAX_MESSAGES` messages,
or when a client starts again after an ACK (a renewal, a new INFORM): a DECLINE or RELEASE after
the ACK still belongs to it. Open exchanges are bounded (`MAX_OPEN`); the oldest is written first.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter, OrderedDict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from mcpcap.core.export import connection_uid
from mcpcap.core.modules.contract import ModuleScan
from mcpcap.core.modules.malformed import MalformedLog
from mcpcap.modules.dhcp import wire

if TYPE_CHECKING:
    from mcpcap.core.modules.counts import ModuleCounts

IDLE = 60.0
MAX_MESSAGES = 64
MAX_OPEN = 20_000
MAX_HELD_MESSAGES = 100_000  # in open exchanges together (about 1.7 KB each): the oldest go
BATCH = 250  # finished exchanges waiting for a write (each keeps its decoded messages)
BATCH_MESSAGES = 20_000  # closed exchanges are written at BATCH of them or this many messages
FINAL = frozenset(("ACK", "REPLY"))
OFFERS = frozenset(("OFFER", "ADVERTISE"))
ANSWERS = FINAL | {"NAK"}  # a server's last word on a request
AFTER_FINAL = frozenset(("DECLINE", "RELEASE"))

CREATE_TABLES = """
CREATE TABLE dhcp_transactions (
    id INTEGER PRIMARY KEY, ts REAL NOT NULL, trans_id INTEGER NOT NULL, family TEXT NOT NULL,
    client TEXT, server TEXT, mac TEXT, host_name TEXT, client_fqdn TEXT, domain TEXT,
    requested_addr TEXT, offered_addr TEXT, assigned_addr TEXT, lease_time INTEGER,
    msg_types TEXT NOT NULL, frames TEXT NOT NULL, client_message TEXT, server_message TEXT,
    duration REAL NOT NULL, vendor_class TEXT, relay TEXT, duid TEXT, outcome TEXT NOT NULL,
    uids TEXT NOT NULL, messages TEXT NOT NULL, relayed INTEGER NOT NULL,
    addr_clients INTEGER NOT NULL DEFAULT 0, mac_addrs INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE dhcp_messages (
    trans INTEGER NOT NULL, m_frame INTEGER NOT NULL, m_type TEXT NOT NULL, m_server TEXT,
    m_addr TEXT, m_ident TEXT
);
"""
COLUMNS = 26  # the values `_Exchange.row` gives (the last two columns are filled at the end)
INSERT_TRANSACTION = "INSERT INTO dhcp_transactions VALUES (" + ", ".join("?" * COLUMNS) + ", 0, 0)"
INSERT_MESSAGE = "INSERT INTO dhcp_messages VALUES (?, ?, ?, ?, ?, ?)"
MAC, ASSIGNED_ADDR = 6, 12  # their places in a row
_messages_json = json.JSONEncoder(ensure_ascii=False).encode  # made once, not per row


def message_type(msg: dict[str, Any]) -> str:
    if msg["type"]:
        return msg["type"]
    return "BOOTREPLY" if msg["from_server"] else "BOOTREQUEST"


class _Answer(NamedTuple):
    """What one server message said, for the record's server fields."""

    kind: str
    server: str
    server_id: str | None  # DHCPv4: an address; DHCPv6: the server's DUID
    address: str | None  # offered or assigned (yiaddr; v6: the IA_NA's first address)
    lease: int | None
    domain: str | None
    message: str | None


def _first(values: Iterable[Any]) -> Any:
    return next((value for value in values if value is not None and value != ""), None)


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class _Exchange:
    """One exchange being gathered."""

    __slots__ = ("addrs", "answers", "choice", "duid_servers", "family", "fields", "first",
                 "frames", "id", "idents", "last", "messages", "servers", "types", "uids",
                 "xid")  # fmt: skip

    def __init__(self, number: int, msg: dict[str, Any], ts: float) -> None:
        self.id = number
        self.family = msg["family"]
        self.xid = msg["xid"]
        self.first = self.last = ts
        self.types: list[str] = []
        self.frames: list[int] = []
        self.servers: list[str | None] = []  # the server of each message (None: the client's)
        self.idents: list[str | None] = []  # the same servers as the summary tells them apart
        self.duid_servers: dict[str, str] = {}  # DHCPv6: a server's DUID -> its address
        self.addrs: list[str | None] = []  # the address each server message gave
        self.answers: list[_Answer] = []
        self.choice: str | None = None  # the server identifier the client's messages name
        self.uids: list[str] = []
        self.fields: dict[str, Any] = {}
        self.messages: list[dict[str, Any]] = []

    def ends_before(self, msg: dict[str, Any], ts: float) -> bool:
        """Whether `msg` starts a new exchange instead of joining this one."""
        if ts - self.last > IDLE or len(self.types) >= MAX_MESSAGES:
            return True
        done = any(kind in FINAL for kind in self.types)
        return done and not msg["from_server"] and message_type(msg) not in AFTER_FINAL

    def add(self, frame: int, ts: float, src: str, uid: str, msg: dict[str, Any]) -> None:
        kind = message_type(msg)
        self.last = ts
        self.types.append(kind)
        self.frames.append(frame)
        server, identity = self._server_of(src, msg)
        self.servers.append(server)
        self.idents.append(identity)
        self.addrs.append(None)
        if uid not in self.uids:
            self.uids.append(uid)
        opts, relay = msg["opts"], msg["relay"]
        self.messages.append(
            {"frame": frame, "msg_type": kind, "src": src, "dst": msg["dst"],
             "options": {**opts, "relay": relay} if relay else opts,  # (read, never changed)
             "malformed": msg["malformed"]}
        )  # fmt: skip
        set_field = self._set
        set_field("mac", msg["mac"])
        set_field("duid", msg["duid"])
        set_field("relay", msg["relay"])
        set_field("vendor_class", opts.get("vendor_class"))
        set_field("client_fqdn", opts.get("client_fqdn"))
        if server is not None:
            self._server_fields(kind, server, msg)
        else:
            self._client_fields(src, msg)

    def _server_of(self, src: str, msg: dict[str, Any]) -> tuple[str | None, str | None]:
        """A message's server (None for a client's) and who that server is, for counting
        servers. DHCPv4: its server identifier (option 54), else its source, both times.
        DHCPv6: the first address of the exchange that sent its DUID (a relay's answer to the
        client comes from the relay but names the server behind it, whose answer to the relay
        came first), told apart by the DUID (RFC 8415 11: whichever address it answers from)."""
        if not msg["from_server"]:
            return None, None
        server_id = msg["opts"].get("server_id")
        if not isinstance(server_id, str):
            return src, src
        if msg["family"] == "dhcpv4":
            return server_id, server_id
        return self.duid_servers.setdefault(server_id, src), "duid:" + server_id

    def _set(self, name: str, value: Any, replace: bool = False) -> None:
        if value is not None and value != "" and (replace or self.fields.get(name) is None):
            self.fields[name] = value

    def _client_fields(self, src: str, msg: dict[str, Any]) -> None:
        opts = msg["opts"]
        relay = msg["relay"] or {}
        address = msg["ciaddr"] or relay.get("peer_address")
        if address is None and src not in ("0.0.0.0", "::") and not msg["giaddr"]:
            address = src
        self._set("client", address)
        self._set("host_name", opts.get("host_name"), replace=True)
        fqdn = opts.get("client_fqdn")
        if msg["family"] == "dhcpv6" and fqdn:
            self._set("host_name", fqdn.split(".")[0])
        self._set("client_message", opts.get("message"), replace=True)
        # the last one asked for, as Zeek keeps it: after a NAK the client asks for another
        self._set("requested_addr", opts.get("requested_addr") or _ia_address(opts), replace=True)
        if self.choice is None:
            self.choice = _text_or_none(opts.get("server_id"))

    def _server_fields(self, kind: str, server: str, msg: dict[str, Any]) -> None:
        """Keep what the server said: which server the record names is decided at the end."""
        opts = msg["opts"]
        address = lease = None
        if msg["family"] == "dhcpv4":
            if kind in ("OFFER", "ACK"):
                address, lease = msg["yiaddr"], opts.get("lease_time")
        elif kind in ("ADVERTISE", "REPLY"):
            address, lease = _ia_lease(opts)
        domains = opts.get("domain_list")
        self.answers.append(
            _Answer(kind, server, _text_or_none(opts.get("server_id")), address, lease,
                    opts.get("domain_name") or (domains[0] if domains else None),
                    opts.get("message") or opts.get("status_message"))
        )  # fmt: skip
        self.addrs[-1] = address
        # option 12 from a server names the client (RFC 2132 3.14): kept when the client
        # named itself nowhere, as the client's own name replaces it
        self._set("host_name", _text_or_none(opts.get("host_name")))
        if kind == "ACK" and self.fields.get("client") is None and msg["ciaddr"]:
            self._set("client", msg["ciaddr"])

    def _chosen_server(self) -> str | None:
        """The server the record names: the one the client's REQUEST chose (its server
        identifier) when that server answered, else the one that gave the final answer (ACK,
        NAK, REPLY), else the first to offer, else the first to answer."""
        answers = self.answers
        if not answers:
            return None
        choice = self.choice
        if choice is not None:
            for answer in answers:
                if choice in (answer.server, answer.server_id):
                    return answer.server
        final = _first(a.server for a in reversed(answers) if a.kind in ANSWERS)
        offered = _first(a.server for a in answers if a.kind in OFFERS)
        return final or offered or answers[0].server

    def _server_row_fields(self) -> dict[str, Any]:
        """server, offered_addr, assigned_addr, lease_time, domain and server_message, each
        from the chosen server's messages (the offer: its own, else the first one made)."""
        server = self._chosen_server()
        answers = self.answers
        own = [a for a in answers if a.server == server]
        offer = _first(a for a in own if a.kind in OFFERS and a.address) or _first(
            a for a in answers if a.kind in OFFERS and a.address
        )
        # the chosen server's ACK commits the binding (RFC 2131 3.1, step 5): another
        # server's ACK to the same REQUEST (a rogue's) only counts when it gave none
        final = _first(a for a in reversed(own) if a.kind in FINAL and a.address) or _first(
            a for a in reversed(answers) if a.kind in FINAL and a.address
        )
        lease = _first((final.lease if final else None, offer.lease if offer else None))
        return {
            "server": server,
            "offered_addr": offer.address if offer else None,
            "assigned_addr": final.address if final else None,
            "lease_time": lease,
            "domain": _first(a.domain for a in [*own, *answers]),
            "server_message": _first(a.message for a in reversed([*answers, *own])),
        }

    def outcome(self) -> str:
        types = set(self.types)
        if types & FINAL:
            return "ack"
        if "NAK" in types:
            return "nak"
        if types & {"OFFER", "ADVERTISE"}:
            return "offered"
        if any(kind in wire.V4_SERVER_TYPES or kind in wire.V6_SERVER_TYPES for kind in types):
            return "other"
        return "unanswered"

    def row(self) -> tuple:
        f = self.fields.get
        s = self._server_row_fields()
        relay = f("relay")
        return (
            self.id, self.first, self.xid, self.family, f("client"), s["server"], f("mac"),
            f("host_name"), f("client_fqdn"), s["domain"], f("requested_addr"),
            s["offered_addr"], s["assigned_addr"], s["lease_time"], json.dumps(self.types),
            json.dumps(self.frames), f("client_message"), s["server_message"],
            round(self.last - self.first, 6), f("vendor_class"),
            json.dumps(relay) if relay else None, f("duid"), self.outcome(),
            json.dumps(self.uids), _messages_json(self.messages),
            int(relay is not None),
        )  # fmt: skip


def _ia_address(opts: dict[str, Any]) -> str | None:
    return _ia_lease(opts)[0]


def _ia_lease(opts: dict[str, Any]) -> tuple[str | None, int | None]:
    """The first address of the message's IA_NA (or IA_TA) with its valid lifetime."""
    for name in ("ia_na", "ia_ta"):
        for entry in opts.get(name) or ():
            if "address" in entry:
                return entry["address"], entry["valid"]
    return None, None


class DhcpScan(ModuleScan):
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.open: OrderedDict[tuple, _Exchange] = OrderedDict()
        self.held = 0  # messages in the open exchanges
        self.done: list[_Exchange] = []
        self.done_messages = 0
        self.numbered = 0
        self.uids: dict[tuple, str] = {}
        self.malformed = MalformedLog(db, "dhcp")
        self.tally: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.shared = SharedAddresses()

    def on_udp(self, frame: int, ts: float, seg: Any) -> None:
        """A serial scan's datagram: decoded here, as a worker would have."""
        decoded = wire.decode_datagram(frame, ts, seg)
        if decoded is not None:
            self.on_udp_decoded(frame, ts, seg.src, seg.sport, seg.dst, seg.dport, decoded)

    def on_tcp(self, frame: int, ts: float, chunk: Any) -> bool:
        """DHCP is UDP only: no TCP port is asked for."""
        return False

    def on_udp_decoded(
        self, frame: int, ts: float, src: str, sport: int, dst: str, dport: int, decoded: Any
    ) -> None:
        msg = decoded
        self.tally["messages"] += 1
        self.tally[msg["family"]] += 1
        if msg["malformed"]:
            self.reasons[msg["malformed"]] += 1
            self.malformed.add((frame, ts, src, sport, dst, dport, "udp", msg["malformed"]))
        if msg["xid"] is None:
            return
        self._expire(ts)
        key = (msg["family"], msg["xid"], msg["mac"] if msg["family"] == "dhcpv4" else msg["duid"])
        exchange = self.open.get(key)
        if exchange is not None and exchange.ends_before(msg, ts):
            self._close(self.open.pop(key))
            exchange = None
        if exchange is None:
            self.numbered += 1
            exchange = self.open[key] = _Exchange(self.numbered, msg, ts)
            if len(self.open) > MAX_OPEN:
                self._close(self.open.popitem(last=False)[1])
        else:
            self.open.move_to_end(key)
        msg["dst"] = dst
        exchange.add(frame, ts, src, self._uid(src, sport, dst, dport), msg)
        self.held += 1
        while self.held > MAX_HELD_MESSAGES:  # hostile: many clients, long exchanges
            self._close(self.open.popitem(last=False)[1])

    def _uid(self, src: str, sport: int, dst: str, dport: int) -> str:
        """The UDP flow's connection uid (a hash: kept for the flows seen lately)."""
        key = (src, sport, dst, dport)
        uid = self.uids.get(key)
        if uid is None:
            if len(self.uids) >= MAX_OPEN:
                self.uids.clear()
            uid = self.uids[key] = connection_uid(
                {"client": src, "client_port": sport, "server": dst, "server_port": dport,
                 "transport": "udp"}
            )  # fmt: skip
        return uid

    def _expire(self, ts: float) -> None:
        """Write the exchanges that went quiet (the oldest activity comes first)."""
        while self.open:
            exchange = next(iter(self.open.values()))
            if ts - exchange.last <= IDLE:
                break
            self._close(self.open.popitem(last=False)[1])

    def _close(self, exchange: _Exchange) -> None:
        """An exchange out of `open`, to be written."""
        self.held -= len(exchange.messages)
        self.done.append(exchange)
        self.done_messages += len(exchange.messages)
        if len(self.done) >= BATCH or self.done_messages >= BATCH_MESSAGES:
            self._write()

    def _write(self) -> None:
        rows = [e.row() for e in self.done]
        self.db.executemany(INSERT_TRANSACTION, rows)
        self.shared.add(rows)
        messages = [
            (e.id, *message)
            for e in self.done
            for message in zip(e.frames, e.types, e.servers, e.addrs, e.idents, strict=True)
        ]
        self.db.executemany(INSERT_MESSAGE, messages)
        self.done.clear()
        self.done_messages = 0

    def finish(self, db: sqlite3.Connection) -> ModuleCounts:
        from mcpcap.core.modules.counts import ModuleCounts  # (pydantic: see `_FirstWait`)

        self.done.extend(self.open.values())
        self.open.clear()
        self._write()
        self.malformed.flush()
        self.shared.store(db)
        return ModuleCounts(
            messages=self.tally["messages"],
            malformed=sum(self.reasons.values()),
            detail={**self.tally, "malformed": dict(self.reasons)},
        )


class SharedAddresses:
    """Which MACs got each assigned address, and which addresses each MAC got, counted as the
    transactions are written: at the end each row learns its `addr_clients` and `mac_addrs`
    with one indexed update per address and per MAC (grouping the table again for every row
    took 0.2 s of the scan's single-threaded end on the 1M-packet benchmark capture)."""

    def __init__(self) -> None:
        self.macs_of: dict[str, set[str]] = {}  # assigned address -> MACs given it
        self.addresses_of: dict[str, set[str]] = {}  # MAC -> addresses it was given

    def add(self, rows: list[tuple]) -> None:
        for row in rows:
            mac, address = row[MAC], row[ASSIGNED_ADDR]
            if address is not None:
                macs = self.macs_of.setdefault(address, set())
                if mac is not None:
                    macs.add(mac)
            if mac is not None:
                addresses = self.addresses_of.setdefault(mac, set())
                if address is not None:
                    addresses.add(address)

    def store(self, db: sqlite3.Connection) -> None:
        """Every row's two counts in one pass over the table in row order, then its indexes.

        (An indexed update per address and per MAC visited the rows in index order: with rows
        of about 1.7 KB, each visit fetched a page the build's small page cache had let go of,
        8k page reads and as many writes at the 1M-packet benchmark capture.)"""
        db.execute("CREATE TEMP TABLE dhcp_addr_clients (addr TEXT PRIMARY KEY, n INTEGER)")
        db.execute("CREATE TEMP TABLE dhcp_mac_addrs (owner TEXT PRIMARY KEY, n INTEGER)")
        db.executemany(
            "INSERT INTO dhcp_addr_clients VALUES (?, ?)",
            [(address, len(macs)) for address, macs in self.macs_of.items() if macs],
        )
        db.executemany(
            "INSERT INTO dhcp_mac_addrs VALUES (?, ?)",
            [(mac, len(addresses)) for mac, addresses in self.addresses_of.items() if addresses],
        )
        db.execute(
            "UPDATE dhcp_transactions SET addr_clients ="
            " coalesce((SELECT n FROM dhcp_addr_clients WHERE addr = assigned_addr), 0),"
            " mac_addrs = coalesce((SELECT n FROM dhcp_mac_addrs WHERE owner = mac), 0)"
        )
        db.execute("DROP TABLE dhcp_addr_clients")
        db.execute("DROP TABLE dhcp_mac_addrs")
        db.execute("CREATE INDEX dhcp_transactions_assigned ON dhcp_transactions (assigned_addr)")
        db.execute("CREATE INDEX dhcp_transactions_mac ON dhcp_transactions (mac)")
