"""The flow ids every piece carries from the workers: the uid (`flow_uid`, the shared
`connection_uid`) and the Community ID, made once per piece and the same in any order."""

from __future__ import annotations

import hashlib
import random

import pytest

from mcpcap.core.export import BASE62, connection_uid, flow_uid
from mcpcap.modules.conn import flows
from mcpcap.modules.conn.community import community_id
from mcpcap.modules.conn.flows import FlowDecoder, flow_ids
from tests.modules.conn.flowkit import SYN, C, S, icmp, run, tcp, udp


def reference_uid(a: str, a_port: int, b: str, b_port: int, transport: str, n: int = 0) -> str:
    """The uid as documented, one base62 digit at a time."""
    ends = sorted((f"{a}|{a_port}", f"{b}|{b_port}"))
    key = f"{ends[0]}|{ends[1]}|{transport}" + (f"|{n}" if n else "")
    number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:13], "big")
    digits = []
    for _ in range(17):
        number, digit = divmod(number, 62)
        digits.append(BASE62[digit])
    return "C" + "".join(digits)


def test_flow_uid_is_the_documented_uid_in_either_order():
    rng = random.Random(7)
    hosts = ["10.0.0.1", "10.0.0.10", "10.0.0.1", "2001:db8::1", "::1"]  # prefixes of each other
    for _ in range(2000):
        a, b = rng.choice(hosts), rng.choice(hosts)
        a_port, b_port = rng.randrange(70000), rng.choice([0, 53, rng.randrange(70000)])
        transport, n = rng.choice(["tcp", "udp", "icmp", "47"]), rng.choice([0, 0, 1, 12])
        expected = reference_uid(a, a_port, b, b_port, transport, n)
        assert flow_uid(a, a_port, b, b_port, transport, n) == expected
        assert flow_uid(b, b_port, a, a_port, transport, n) == expected
        record = {"client": a, "client_port": a_port, "server": b, "server_port": b_port,
                  "transport": transport}  # fmt: skip
        assert connection_uid(record, n) == expected


def test_pieces_carry_their_flows_ids_but_icmp_leaves_them_to_the_client():
    decoder = FlowDecoder()
    decoder.packet(1, 1.0, udp(S, C))
    decoder.packet(2, 1.1, tcp(C, S, SYN, 7))
    decoder.packet(3, 1.2, icmp("10.0.0.1", "10.0.0.2", 3, 1))
    pieces = dict(decoder.flush()[0])
    for key, piece in pieces.items():
        if key[0] == "icmp":
            assert piece[flows.UID] is None and piece[flows.COMMUNITY] is None
        else:
            transport, a, a_port, b, b_port = key
            proto = flows.PROTO_NUMBERS[transport]
            assert piece[flows.UID] == reference_uid(a, a_port, b, b_port, transport)
            assert piece[flows.COMMUNITY] == community_id(b, b_port, a, a_port, proto)


@pytest.mark.parametrize("every", [0, 1])
def test_records_show_the_same_ids_as_made_in_the_scanning_process(every):
    unreachable, echo = icmp("10.0.0.1", "10.0.0.2", 3, 1), icmp("10.0.0.2", "10.0.0.1", 8)
    packets = [(1.0, udp(S, C)), (1.5, udp(C, S)), (2.0, tcp(C, S, SYN, 7)),
               (3.0, unreachable), (3.1, echo)]  # fmt: skip
    for row in run(packets, flush_every=every):
        key = (row["transport"], row["client"], row["client_port"], row["server"],
               row["server_port"])  # fmt: skip
        assert (row["uid"], row["community_id"]) == flow_ids(key, 0)  # client first: 0
