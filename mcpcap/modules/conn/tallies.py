"""The overview's tallies of finished connections (`conn_tallies`), counted as rows are written.

One entry per (client, server, outside, vlan, transport, server port, service, state): the
summary's lists group by nothing finer, and a capture has far fewer of those than connections
(17.6k for 123k connections on the 1M-packet benchmark capture). Counting each row as it goes
by costs the scan less than grouping every stored connection again when it ends, the part of a
scan that nothing runs beside (0.14 s against 0.38 s there).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from operator import itemgetter

from mcpcap.core import fastpath

KEY_COLUMNS = (
    "client", "server", "tunnel_parents", "vlan", "transport", "server_port", "service",
    "conn_state",
)  # fmt: skip
VALUE_COLUMNS = (
    "packets", "ip_bytes", "syn_rtt", "retransmissions", "zero_windows", "missed_bytes",
)  # fmt: skip
UDP_LIKE = ("udp", "icmp", "icmpv6")


class ConnTallies:
    """Sums per group of the rows of a table whose columns are `columns` (in row order)."""

    def __init__(self, columns: Sequence[str]) -> None:
        at = {name: i for i, name in enumerate(columns)}
        key_at = tuple(at[name] for name in KEY_COLUMNS)
        value_at = tuple(at[name] for name in VALUE_COLUMNS)
        self._key_of = itemgetter(*key_at)
        self._values_of = itemgetter(*value_at)
        # key -> [connections, packets, ip_bytes, handshakes, retransmissions, retransmitted,
        #         zero_windows, missed_bytes]
        self._groups: dict[tuple, list[int]] = {}
        self.add = self.python_add
        if _COMPILED is not None:  # its C twin (`_merge.c`)
            self.add = _COMPILED.bind_tallies(self._groups, key_at, value_at)

    def python_add(self, rows: Sequence[tuple]) -> None:
        """Each row into its group; `add` is this, or where it was built its C twin."""
        groups, key_of, values_of = self._groups, self._key_of, self._values_of
        for row in rows:
            client, server, parents, vlan, transport, port, service, state = key_of(row)
            key = (client, server, parents is None, vlan is not None, transport, port, service,
                   state)  # fmt: skip
            packets, ip_bytes, syn_rtt, retransmissions, zero_windows, missed = values_of(row)
            tally = groups.get(key)
            if tally is None:
                groups[key] = [1, packets, ip_bytes, int(syn_rtt is not None), retransmissions,
                               int(retransmissions > 0), zero_windows, missed]  # fmt: skip
                continue
            tally[0] += 1
            tally[1] += packets
            tally[2] += ip_bytes
            tally[3] += syn_rtt is not None
            tally[4] += retransmissions
            tally[5] += retransmissions > 0
            tally[6] += zero_windows
            tally[7] += missed

    def rows(self, unicast: Callable[[str], bool]) -> Iterator[tuple]:
        """conn_tallies' rows in key order (a missing service first, as SQL sorts NULL), each
        ending with `failed`: a TCP connection refused or never answered (REJ, S0), or an
        unanswered datagram flow to one host (`unicast(server)`)."""
        for key in sorted(self._groups, key=_sort_key):
            client, server, outside, vlan, transport, port, service, state = key
            if state == "S0" and transport in UDP_LIKE:
                failed = unicast(server)
            else:
                failed = transport == "tcp" and state in ("REJ", "S0")
            yield (client, server, int(outside), int(vlan), transport, port, service, state,
                   *self._groups[key], int(failed))  # fmt: skip


def _sort_key(key: tuple) -> tuple:
    service = key[6]
    return (*key[:6], service is not None, service or "", key[7])


_COMPILED = fastpath.compiled("mcpcap.modules.conn._merge")
