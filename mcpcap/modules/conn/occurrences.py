"""The 2nd, 3rd ... connection of one 5-tuple: its own uid (occurrence 1, 2 ...).

Every connection is written with its flow's uid (`flow_uid` of the 5-tuple). A flow that
split (an inactivity timeout, a new SYN on the same ports) then has several rows with one
uid, and the later ones are renamed when the scan ends.

Which uids repeat is noted as the rows are written (`RepeatedUids`), in fixed memory, so
that the end of the scan neither sorts nor indexes every uid to find them: it reads the
table once, in row order, for the few flows that split, and renames them by row id. At the
1M-packet benchmark capture that took the scan's end, which runs on one core, from 16k page
reads and 8k page writes (an index of every uid first, then rows fetched and updated in the
index's order through the build's small page cache) to 2.6k reads and 1.4k writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from mcpcap.core import flowsplits
from mcpcap.core.export import flow_uid

BATCH = 1_000  # split connections renamed at once
# what renaming a split connection reads of its row (the window functions sort only these: with
# every column, sorting the candidates' rows took a quarter more of the scan's serial end)
SPLIT_COLUMNS = "id, uid, ts, client, client_port, server, server_port, transport"
SEEN_BITS = 1 << 23  # 1 MiB of hash bits: about 1.5% of 123k lone uids look repeated


class RepeatedUids:
    """The uids seen more than once, noted as rows go by: a bit per hash keeps each uid's
    first sight, and a uid whose bit is already set is a candidate. Most candidates repeat;
    the rest share a hash bit with another uid, and `number_occurrences` counts their rows
    before it renames anything. Memory: the bits, and one string per candidate."""

    def __init__(self) -> None:
        self._seen = bytearray(SEEN_BITS >> 3)
        self.candidates: set[str] = set()

    def add(self, rows: Iterable[tuple], column: int) -> None:
        seen, candidates, mask = self._seen, self.candidates, SEEN_BITS - 1
        for row in rows:
            uid = row[column]
            bit = hash(uid) & mask
            byte, flag = bit >> 3, 1 << (bit & 7)
            if seen[byte] & flag:
                candidates.add(uid)
            else:
                seen[byte] |= flag


def number_occurrences(db: sqlite3.Connection, candidates: Iterable[str]) -> None:
    """Rename the later connections of each split flow, and write every connection of those
    flows to `flow_splits` (first uid, start time, uid) for the other modules' records.

    `candidates` holds every uid that more than one row has (and maybe others). The split
    rows are numbered by SQLite and renamed in batches: a capture of many short connections
    on few 5-tuples (DNS from a small range of ports) never has them all in memory at once.
    """
    flowsplits.write(db, [])
    db.execute("CREATE TEMP TABLE conn_candidates (uid TEXT PRIMARY KEY) WITHOUT ROWID")
    db.executemany("INSERT INTO conn_candidates VALUES (?)", ((uid,) for uid in candidates))
    db.execute(
        f"CREATE TEMP TABLE conn_split AS SELECT {SPLIT_COLUMNS}, occurrence FROM (SELECT "
        f"{SPLIT_COLUMNS}, row_number() OVER (PARTITION BY uid ORDER BY id) - 1 AS occurrence, "
        "count(*) OVER (PARTITION BY uid) AS shared FROM conn_connections "
        "WHERE uid IN conn_candidates) WHERE shared > 1 ORDER BY id"
    )
    split = db.execute("SELECT * FROM conn_split")
    while batch := split.fetchmany(BATCH):
        uids = [
            (flow_uid(client, client_port, server, server_port, transport, occurrence), id_)
            for id_, _, _, client, client_port, server, server_port, transport, occurrence in batch
        ]
        db.executemany("UPDATE conn_connections SET uid = ? WHERE id = ?", uids)
        flowsplits.write(
            db, [(row[1], row[2], uid) for row, (uid, _) in zip(batch, uids, strict=True)]
        )
    db.execute("DROP TABLE conn_split")
    db.execute("DROP TABLE conn_candidates")
