"""Names of pcap link types (tcpdump.org LINKTYPE_ values) for results."""

from __future__ import annotations

LINKTYPE_NAMES = {
    0: "NULL",
    1: "ETHERNET",
    9: "PPP",
    12: "RAW",
    14: "RAW",
    50: "PPP_HDLC",
    101: "RAW",
    105: "IEEE802_11",
    108: "LOOP",
    113: "LINUX_SLL",
    119: "IEEE802_11_PRISM",
    127: "IEEE802_11_RADIOTAP",
    149: "PKTAP",
    192: "PPI",
    228: "IPV4",
    229: "IPV6",
    239: "NFLOG",
    258: "PKTAP",
    276: "LINUX_SLL2",
}


def linktype_name(linktype: int) -> str:
    return LINKTYPE_NAMES.get(linktype, f"LINKTYPE_{linktype}")
