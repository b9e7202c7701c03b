"""Which end of a connection is the server, when the packets cannot say (a capture that starts
after the connection did): the ports services are known to listen on."""

from __future__ import annotations

# Zeek's likely_server_ports, roughly: the ports its analyzers register (of DHCP's, only the
# servers': 67, and DHCPv6's 547; a server's unicast answer to a client's 68 or 546 then makes
# the client the originator, as in Zeek's conn.log)
LIKELY_SERVER_PORTS = frozenset((
    20, 21, 22, 23, 25, 53, 67, 69, 80, 88, 110, 111, 123, 135, 137, 138, 139, 143, 161,
    162, 179, 389, 443, 445, 465, 500, 502, 514, 547, 587, 593, 631, 636, 853, 873, 989,
    990, 993, 995, 1080, 1194, 1433, 1521, 1701, 1723, 1812, 1813, 1883, 2049, 2152, 2181,
    3128, 3260, 3268, 3306, 3389, 3478, 3544, 4500, 4789, 5060, 5061, 5222, 5353, 5355, 5432,
    5672, 5900, 6081, 6379, 6443, 6667, 8000, 8008, 8080, 8081, 8443, 8888, 9000, 9092, 9200,
    11211, 27017,
))  # fmt: skip
# a first packet to it never makes its receiver the originator (Zeek flips no such connection)
BROADCAST = "255.255.255.255"


def likely_server(port: int, peer_port: int) -> bool:
    """Whether the end on `port` is the server: it listens where services do, its peer not."""
    return port in LIKELY_SERVER_PORTS and peer_port not in LIKELY_SERVER_PORTS
