"""The DNS module's tables in the result store, and how rows are made.

Messages keep their raw bytes, so a full decode (every section, EDNS, hex) costs nothing during
the scan and is done only for the message a face shows. The messages a worker process decodes are
kept a worker's job at a time: one `dns_message_chunks` row holds the job's message rows
(the `dns_messages` layout) packed with `marshal` (`new_chunk`, `add_row`), which costs a tenth of
a row each and needs no index; jobs never overlap. The scanning process's own messages (DNS over
TCP, other ports, and every message of a one-process scan) are rows of `dns_messages`.
`queries.message_rows` and `queries.iter_message_rows` read both. Transactions hold what pages,
filters and rankings read, the first question of their query among it (name, type, registered
domain). A query message rarely asks more than one question, so the others, and those of
retransmissions beyond their first, sit in a side table (rankings count every question from the
two); answers sit in one too, so the `answer` filter is one indexed look-up.

The scan's rankings (questions per name, per registered domain and per type, query messages per
client) and its messages per time slot are kept as counted, so the summary and the whole
capture's rankings read them instead of grouping every question and message again.
"""

from __future__ import annotations

import ipaddress
import marshal
import sqlite3
from collections.abc import Sequence

from mcpcap.core.modules import malformed
from mcpcap.modules.dns.hunting import tallies

TABLES = """
CREATE TABLE dns_messages (
    frame INTEGER NOT NULL, idx INTEGER NOT NULL, ts REAL NOT NULL,
    src TEXT, sport INTEGER, dst TEXT, dport INTEGER, transport TEXT, protocol TEXT,
    qr INTEGER, id INTEGER, raw BLOB
);
CREATE TABLE dns_message_chunks (
    first_frame INTEGER PRIMARY KEY, last_frame INTEGER NOT NULL, rows BLOB NOT NULL
);
CREATE TABLE dns_transactions (
    id INTEGER PRIMARY KEY, ts REAL NOT NULL, query_frame INTEGER, response_frame INTEGER,
    client TEXT, client_port INTEGER, server TEXT, server_port INTEGER,
    transport TEXT, protocol TEXT, trans_id INTEGER, rtt REAL,
    query TEXT, qname TEXT, domain TEXT, qclass INTEGER, qtype INTEGER, rcode INTEGER,
    aa INTEGER, tc INTEGER, rd INTEGER, ra INTEGER, z INTEGER,
    answers TEXT, ttls TEXT, rejected INTEGER, answered INTEGER NOT NULL,
    retransmissions INTEGER NOT NULL
);
CREATE TABLE dns_extra_questions (tx_id INTEGER NOT NULL, qname TEXT, qtype INTEGER, domain TEXT);
CREATE TABLE dns_answers (tx_id INTEGER NOT NULL, value TEXT);
CREATE TABLE dns_qname_counts (qname TEXT NOT NULL, n INTEGER NOT NULL);
CREATE TABLE dns_domain_counts (domain TEXT NOT NULL, n INTEGER NOT NULL);
CREATE TABLE dns_client_counts (client TEXT NOT NULL, n INTEGER NOT NULL);
CREATE TABLE dns_server_counts (server TEXT NOT NULL, n INTEGER NOT NULL);
CREATE TABLE dns_qtype_counts (qtype INTEGER NOT NULL, n INTEGER NOT NULL);
CREATE TABLE dns_time_slots (
    start INTEGER NOT NULL, seconds INTEGER NOT NULL,
    queries INTEGER NOT NULL, responses INTEGER NOT NULL, errors INTEGER NOT NULL
);
"""

# what the record queries use (see queries.py), made on the store's first use for records
# (`mcpcap.core.indexes`); the queries name one only when the store has it
QUERY_INDEXES = (
    "CREATE INDEX IF NOT EXISTS dns_messages_frame ON dns_messages(frame, idx)",
    "CREATE INDEX IF NOT EXISTS dns_tx_rtt ON dns_transactions(rtt, id)",
    "CREATE INDEX IF NOT EXISTS dns_tx_qname ON dns_transactions(qname, id)",
    "CREATE INDEX IF NOT EXISTS dns_q_tx ON dns_extra_questions(tx_id)",
    "CREATE INDEX IF NOT EXISTS dns_a_value ON dns_answers(value, tx_id)",
    # every filter column and sort key, time first: counting any mix of filters reads this
    # narrow index instead of the table, and time order (or a time range) walks it
    "CREATE INDEX IF NOT EXISTS dns_tx_filters ON dns_transactions("
    "ts, client, server, qtype, rcode, protocol, transport, answered, rtt, qname)",
)

# the columns of dns_transactions, in order (`pairing` makes its rows)
TRANSACTION_COLUMNS = (
    "id", "ts", "query_frame", "response_frame", "client", "client_port", "server",
    "server_port", "transport", "protocol", "trans_id", "rtt", "query", "qname", "domain",
    "qclass", "qtype", "rcode", "aa", "tc", "rd", "ra", "z", "answers", "ttls", "rejected",
    "answered", "retransmissions",
)  # fmt: skip

INSERT_MESSAGE = "INSERT INTO dns_messages VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
INSERT_MESSAGE_CHUNK = "INSERT INTO dns_message_chunks VALUES (?,?,?)"
INSERT_TRANSACTION = (
    "INSERT INTO dns_transactions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
INSERT_EXTRA_QUESTION = "INSERT INTO dns_extra_questions VALUES (?,?,?,?)"
INSERT_ANSWER = "INSERT INTO dns_answers VALUES (?,?)"

ADDRESS_TYPES = (1, 28)  # A, AAAA


def create_tables(db: sqlite3.Connection) -> None:
    db.executescript(TABLES)
    db.executescript(tallies.TABLES)
    malformed.create_table(db, "dns")


def insert_rows(db: sqlite3.Connection, table: str, rows: list[tuple]) -> None:
    """Rows into one of the module's tables (`table` is one of ours, never a user's word)."""
    if rows:
        marks = ",".join("?" * len(rows[0]))
        db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)


# A chunk's rows are a list in `marshal`'s format of this version: it makes no references
# between objects, so each row's bytes stand alone, and a worker appends them to its job's
# chunk one message at a time (`add_row`, or `_worker.c` the same bytes) instead of keeping
# every row as a tuple until the job ends and packing them all at once.
ROW_VERSION = 2
_COUNT = slice(1, 5)  # the list's length: after its type byte, 4 bytes little-endian


def new_chunk() -> bytearray:
    """A job's chunk of message rows, with no row yet."""
    return bytearray(marshal.dumps([], ROW_VERSION))


def add_row(chunk: bytearray, row: tuple) -> None:
    """One message's row (the `dns_messages` layout) after the others."""
    chunk += marshal.dumps(row, ROW_VERSION)
    chunk[_COUNT] = (chunk_length(chunk) + 1).to_bytes(4, "little")


def chunk_length(chunk: bytearray) -> int:
    """How many rows the chunk holds."""
    return int.from_bytes(chunk[_COUNT], "little")


def message_chunk(first_frame: int, last_frame: int, chunk: bytearray) -> tuple[int, int, bytes]:
    """The `dns_message_chunks` row of a job's chunk (in frame order, not empty)."""
    return first_frame, last_frame, bytes(chunk)


def chunk_rows(packed: bytes) -> list[tuple]:
    """The message rows a chunk holds (`message_chunk` packed them)."""
    return marshal.loads(packed)


def answers_digest(records: Sequence[tuple]) -> tuple[str, str, tuple[str, ...]]:
    """What a transaction keeps of its answer records, made where the message is decoded:
    (packed data, packed TTLs, the values the `answer` filter looks up)."""
    if not records:
        return ("", "", ())
    return (
        LIST_MARK + ITEM_SEPARATOR.join([rr[4] for rr in records]),
        LIST_MARK + ITEM_SEPARATOR.join([str(rr[3]) for rr in records]),
        tuple([rr[4] if rr[1] in ADDRESS_TYPES else rr[4].lower() for rr in records]),
    )


LIST_MARK, ITEM_SEPARATOR = "\x1e", "\x1f"  # never in presentation data: control bytes are escaped


def pack_list(items: Sequence[str]) -> str:
    """A list of strings as one TEXT value (much cheaper than JSON on the hot path)."""
    return LIST_MARK + ITEM_SEPARATOR.join(items) if items else ""


def unpack_list(text: str) -> list[str]:
    return text[1:].split(ITEM_SEPARATOR) if text else []


def normalise_answer(text: str) -> str:
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        return text.lower().rstrip(".") or "."
