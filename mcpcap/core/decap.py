"""Turn captured frames into the UDP and TCP segments a caller asked for.

The common case (Ethernet, IPv4, unfragmented UDP on an unwanted port) is decided with a few
byte comparisons and one call of the caller's filter, without formatting any address. Link
layers, tunnels and fragments that are rarer take slower, general paths; link types this module
does not know are dissected by scapy, imported only when such a frame appears.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from collections.abc import Callable
from typing import Any, NamedTuple

from mcpcap.core import fastpath

UdpFilter = Callable[[int, int, bytes], bool]

MAX_TUNNEL_DEPTH = 4
MAX_VLAN_TAGS = 8
MAX_MPLS_LABELS = 16
MAX_IPV6_EXTENSIONS = 16
MAX_FRAGMENTS_PER_DATAGRAM = 512
MAX_DATAGRAM_BYTES = 65_535
ADDRESS_CACHE_SIZE = 65_536

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
ETH_VLAN_TAGS = frozenset((0x8100, 0x88A8, 0x9100))
ETH_MPLS = frozenset((0x8847, 0x8848))
ETH_PPPOE_SESSION = 0x8864
ETH_TRANSPARENT_BRIDGING = 0x6558
ETH_ERSPAN_2 = 0x88BE
ETH_ERSPAN_3 = 0x22EB

IPPROTO_IPIP = 4
IPPROTO_TCP = 6
IPPROTO_UDP = 17
IPPROTO_IPV6 = 41
IPPROTO_GRE = 47
IPPROTO_NONE = 59
IPV6_SKIPPABLE_EXTENSIONS = frozenset((0, 43, 60, 135, 139, 140))
IPV6_FRAGMENT = 44
IPPROTO_AH = 51

UDP_VXLAN = frozenset((4789, 8472))
UDP_GENEVE = 6081
UDP_TEREDO = 3544
UDP_GTP_U = 2152
UDP_L2TP = 1701
UDP_TUNNEL_DPORTS = UDP_VXLAN | {UDP_GENEVE, UDP_TEREDO, UDP_GTP_U, UDP_L2TP}
MAX_GTP_EXTENSIONS = 8

TCP_SYN_FIN_RST = 0x07

PPP_IPV4 = 0x0021
PPP_IPV6 = 0x0057

_AF_IPV4 = frozenset((2,))
_AF_IPV6 = frozenset((10, 24, 28, 30))

_HHH = struct.Struct("!HHH").unpack_from
_HH = struct.Struct("!HH").unpack_from
# ethertype, version+IHL, total length, flags+fragment offset, protocol, UDP ports and length
_ETH_IPV4_UDP_HEADERS = struct.Struct("!12xHBxHxxHxB10xHHH")
_ETH_IPV4_UDP, _ETH_IPV4_UDP_SIZE = _ETH_IPV4_UDP_HEADERS.unpack_from, _ETH_IPV4_UDP_HEADERS.size
# ethertype, version+class, payload length, next header, then the transport ports and UDP length
_ETH_IPV6_L4_HEADERS = struct.Struct("!12xHB3xHB33xHHH")
_ETH_IPV6_L4, _ETH_IPV6_L4_SIZE = _ETH_IPV6_L4_HEADERS.unpack_from, _ETH_IPV6_L4_HEADERS.size
_HHIIH = struct.Struct("!HHIIH").unpack_from
_TCP_HEADER = struct.Struct("!HHIIHH").unpack_from  # ports, seq, ack, offset+flags, window
# ethertype, version+IHL, total length, flags+fragment offset, TTL, protocol, addresses
_ETH_IPV4_L4_HEADERS = struct.Struct("!12xHBxHxxHBB2x4s4s")
_ETH_IPV4_L4, _ETH_IPV4_L4_SIZE = _ETH_IPV4_L4_HEADERS.unpack_from, _ETH_IPV4_L4_HEADERS.size
# ethertype, version+class, payload length, next header, hop limit, addresses
_ETH_IPV6_PACKET_HEADERS = struct.Struct("!12xHB3xHBB16s16s")
_ETH_IPV6_PACKET, _ETH_IPV6_PACKET_SIZE = (
    _ETH_IPV6_PACKET_HEADERS.unpack_from,
    _ETH_IPV6_PACKET_HEADERS.size,
)
# packet mode's `malformed` reasons for what the decoders raise (see `Decapsulator._bad_frame`)
BAD_FRAME_REASONS = {
    "bad IPv4 header": "ipv4_header",
    "bad IPv6 header": "ipv6_header",
    "IPv6 extension headers run past the packet": "ipv6_extension_headers",
}
_new_segment = tuple.__new__  # builds a Segment without NamedTuple's slower keyword __new__
# the rest of a Segment outside packet mode, after the payload of a datagram and after the seq and
# flags of a TCP segment (concatenated: faster than unpacking them into the tuple)
_UDP_REST = (0, 0, 0, 0, 0, 0, 0, None, None, None, (), 0)
_TCP_REST = (0, 0, 0, 0, None, None, None, (), 0)  # after the ack (the reassembler reads acks)
ETH_ARP = 0x0806
IPPROTO_ICMP = 1
IPPROTO_ICMPV6 = 58
_inet_ntoa = socket.inet_ntoa
_inet_ntop = socket.inet_ntop
_AF_INET6 = socket.AF_INET6

# The protocol hierarchy (`Segment.layers`): layer names as Wireshark's protocol hierarchy
# statistics show them, but `ipv4` for its `ip`. Link layers whose decoder names no layer of
# its own (Ethernet and PPP name themselves, as they also appear inside tunnels); the scapy path
# names the link types it reaches from `SCAPY_LINK_LAYERS`, else as `linktype N`.
LINK_LAYERS: dict[int, tuple[str, ...]] = {
    0: ("null",), 10: ("fddi",), 12: ("raw",), 14: ("raw",), 101: ("raw",), 104: ("chdlc",),
    108: ("loop",), 109: ("enc",), 113: ("sll",), 117: ("pflog",), 149: ("pktap",),
    192: ("ppi",), 228: ("raw",), 229: ("raw",), 239: ("nflog",), 258: ("pktap",),
    276: ("sll",),
}  # fmt: skip
SCAPY_LINK_LAYERS = {105: ("wlan", "llc"), 119: ("prism", "wlan", "llc"),
                     127: ("radiotap", "wlan", "llc"), 163: ("avs", "wlan", "llc")}  # fmt: skip
ETHERTYPE_LAYERS = {0x0806: "arp", 0x8035: "rarp", 0x88CC: "lldp", 0x888E: "eapol",
                    0x8863: "pppoed", 0x88E5: "macsec", 0x9000: "loop", 0x88F7: "ptp",
                    0x8809: "slow", 0x893A: "ieee1905"}  # fmt: skip
IP_PROTOCOL_LAYERS = {
    0: "hopopts", 1: "icmp", 2: "igmp", 4: "ipv4", 6: "tcp", 17: "udp", 41: "ipv6",
    43: "routing", 44: "fragment", 46: "rsvp", 47: "gre", 50: "esp", 51: "ah", 58: "icmpv6",
    60: "dstopts", 88: "eigrp", 89: "ospf", 103: "pim", 112: "vrrp", 115: "l2tp",
    132: "sctp", 135: "mobility", 136: "udplite", 137: "mpls-in-ip",
}  # fmt: skip
ETH_IPV4_TCP_LAYERS = ("eth", "ipv4", "tcp")
ETH_IPV4_UDP_LAYERS = ("eth", "ipv4", "udp")
ETH_IPV6_TCP_LAYERS = ("eth", "ipv6", "tcp")
ETH_IPV6_UDP_LAYERS = ("eth", "ipv6", "udp")
ETH_IPV4_ICMP_LAYERS = ("eth", "ipv4", "icmp")
ETH_IPV6_ICMP_LAYERS = ("eth", "ipv6", "icmpv6")
ETH_ARP_LAYERS = ("eth", "arp")


class FrameDeferred(Exception):
    """Raised (only with `defer_fragments`) for a frame that needs state across frames."""


class Segment(NamedTuple):
    """One transport segment: a UDP datagram or a TCP segment (seq and flags 0 for UDP).

    In packet mode (`Decapsulator(packets=True)`) every IP packet is one: `transport` is then
    also `icmp`/`icmpv6` (ports hold the ICMP type and code, `payload` the whole ICMP message),
    `ip` (any other protocol; ports 0) or `l2` (a frame that carries no IP; `sport` holds its
    ethertype), and the fields after `tcp_flags` are filled in: `ip_len` is the IP header and
    payload as sent, `data_len` the transport payload's length per its headers (a snap length
    may have cut `payload` shorter), `vlan` the outermost VLAN id, `outer` the carrier of a
    tunnelled packet as (proto, src, sport, dst, dport), `ttl` the IPv4 TTL or IPv6 hop limit.
    A frame or IP packet whose headers do not decode is `malformed`: `payload` holds the reason
    (ASCII), `proto` the IP protocol and the addresses and ports what could be read (else '', 0).
    `layers` names the protocols from the link layer in (`("eth", "vlan", "ipv4", "tcp")`,
    the same tuple object for every packet of the common stacks): the first segment of a frame
    (the only one with `outer` None) carries the whole frame's, tunnels included, so counting
    it counts the frame once. `frame_len` is the frame's length as sent (a snapshot length may
    have cut what was captured of it), as Wireshark's protocol hierarchy counts bytes.
    """

    transport: str
    src: str
    sport: int
    dst: str
    dport: int
    payload: bytes
    seq: int
    tcp_flags: int
    ack: int = 0
    window: int = 0
    ip_len: int = 0
    data_len: int = 0
    proto: int = 0
    vlan: int | None = None
    outer: tuple | None = None
    ttl: int | None = None
    layers: tuple[str, ...] = ()
    frame_len: int = 0


def _compiled_ethernet() -> tuple[Callable[..., list[Segment] | None] | None, ...]:
    """`Decapsulator._ethernet_ipv4_packet` and `_ethernet_datagram` compiled (`_decap.c`),
    where it was built (else None, None): `(buf, start, end, frame_len, address_cache,
    format_address)`, the second with the UDP filter and the TCP ports after them."""
    compiled = fastpath.compiled("mcpcap.core._decap")
    if compiled is None:
        return None, None
    layers = (ETH_IPV4_TCP_LAYERS, ETH_IPV4_UDP_LAYERS, ETH_IPV6_TCP_LAYERS, ETH_IPV6_UDP_LAYERS,
              ETH_IPV4_ICMP_LAYERS, ETH_IPV6_ICMP_LAYERS, ETH_ARP_LAYERS)  # fmt: skip
    compiled.setup(Segment, *layers, tuple(UDP_TUNNEL_DPORTS), UDP_TEREDO)
    return compiled.ethernet_packet, compiled.ethernet_datagram


_COMPILED_ETHERNET_PACKET, _COMPILED_ETHERNET_DATAGRAM = _compiled_ethernet()
# the shortest Ethernet frame the compiled functions take (Ethernet and an IPv4 header)
MIN_ETHERNET_FAST = 34


def format_ipv6(raw: bytes) -> str:
    """RFC 5952 text for a 16-byte address.

    inet_ntop agrees with RFC 5952 except for the deprecated IPv4-compatible form (::a.b.c.d),
    which RFC 5952 does not recommend; those addresses go through ipaddress instead.
    """
    if raw[:12] == b"\x00" * 12:
        return ipaddress.IPv6Address(raw).compressed
    return _inet_ntop(_AF_INET6, raw)


def format_address(raw: bytes) -> str:
    return _inet_ntoa(raw) if len(raw) == 4 else format_ipv6(raw)


class _Datagram:
    """The fragments of one IP datagram received so far."""

    __slots__ = ("first_ts", "next_header", "pieces", "size", "total")

    def __init__(self, first_ts: float) -> None:
        self.first_ts = first_ts
        self.pieces: list[tuple[int, bytes]] = []
        self.total: int | None = None
        self.size = 0
        self.next_header: int | None = None


class FragmentTable:
    """Bounded IP fragment reassembly (by bytes, by datagram count and by age).

    Overlapping fragments: for IPv4 the first data received for a byte wins (a later
    overlapping fragment cannot rewrite what was already seen); for IPv6 the whole datagram is
    discarded, as RFC 5722 requires. Exact duplicates are ignored.
    """

    def __init__(self, max_bytes: int, max_datagrams: int, timeout: float) -> None:
        self.max_bytes = max_bytes
        self.max_datagrams = max_datagrams
        self.timeout = timeout
        self._datagrams: dict[Any, _Datagram] = {}
        self.buffered_bytes = 0
        self.expired = 0
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._datagrams)

    def add(
        self,
        key: Any,
        offset: int,
        more: bool,
        data: bytes,
        ts: float,
        *,
        next_header: int | None = None,
        discard_overlaps: bool = False,
    ) -> tuple[bytes, int | None] | None:
        """Add one fragment; (payload, next_header of the first fragment) once complete."""
        self._expire(ts)
        end = offset + len(data)
        datagram = self._datagrams.get(key)
        if datagram is None:
            datagram = self._new_datagram(key, ts)
        if end > MAX_DATAGRAM_BYTES or len(datagram.pieces) >= MAX_FRAGMENTS_PER_DATAGRAM:
            self._drop(key)
            return None
        if not more:
            if datagram.total is not None and datagram.total != end:
                self._drop(key)
                return None
            datagram.total = end
        verdict = _overlap_verdict(datagram.pieces, offset, data)
        if verdict == "duplicate":
            return None
        if verdict == "overlap" and discard_overlaps:
            self._drop(key)
            return None
        if offset == 0 and next_header is not None:
            datagram.next_header = next_header
        datagram.pieces.append((offset, data))
        datagram.size += len(data)
        self.buffered_bytes += len(data)
        self._enforce_byte_bound()
        if key not in self._datagrams or datagram.total is None:
            return None
        if not _covers(datagram.pieces, datagram.total):
            return None
        del self._datagrams[key]
        self.buffered_bytes -= datagram.size
        return _assemble(datagram.pieces, datagram.total), datagram.next_header

    def _new_datagram(self, key: Any, ts: float) -> _Datagram:
        while len(self._datagrams) >= self.max_datagrams:
            self._drop(next(iter(self._datagrams)))
        datagram = self._datagrams[key] = _Datagram(ts)
        return datagram

    def _expire(self, ts: float) -> None:
        """Datagrams are kept in arrival order, so the oldest are at the front."""
        datagrams = self._datagrams
        while datagrams:
            key = next(iter(datagrams))
            if datagrams[key].first_ts + self.timeout >= ts:
                return
            self._drop(key, expired=True)

    def _enforce_byte_bound(self) -> None:
        while self.buffered_bytes > self.max_bytes and self._datagrams:
            self._drop(next(iter(self._datagrams)))

    def _drop(self, key: Any, *, expired: bool = False) -> None:
        """Forget an incomplete datagram, counting it as expired (timeout) or dropped."""
        datagram = self._datagrams.pop(key, None)
        if datagram is not None:
            self.buffered_bytes -= datagram.size
            if expired:
                self.expired += 1
            else:
                self.dropped += 1


def _overlap_verdict(pieces: list[tuple[int, bytes]], offset: int, data: bytes) -> str:
    end = offset + len(data)
    verdict = "new"
    for start, piece in pieces:
        if start == offset and piece == data:
            return "duplicate"
        if start < end and start + len(piece) > offset:
            verdict = "overlap"
    return verdict


def _covers(pieces: list[tuple[int, bytes]], total: int) -> bool:
    covered = 0
    for start, piece in sorted(pieces, key=lambda p: p[0]):
        if start > covered:
            return False
        covered = max(covered, start + len(piece))
    return covered >= total


def _assemble(pieces: list[tuple[int, bytes]], total: int) -> bytes:
    """Write pieces latest first so the earliest data for each byte is what remains."""
    buf = bytearray(total)
    for start, piece in reversed(pieces):
        if start < total:
            chunk = piece[: total - start]
            buf[start : start + len(chunk)] = chunk
    return bytes(buf)


class Decapsulator:
    """Decode frames of any link type down to the UDP/TCP segments a caller wants.

    `udp_wanted(sport, dport, payload)` decides for UDP; TCP is kept when either port is in
    `tcp_ports` and the segment carries data or SYN/FIN/RST. Tunnel carriers (IP-in-IP, GRE,
    VXLAN, Geneve, Teredo) are always followed. A frame too short or inconsistent for its
    headers counts in `malformed` and yields nothing.
    """

    def __init__(
        self,
        udp_wanted: UdpFilter,
        tcp_ports: frozenset[int],
        *,
        max_fragment_bytes: int = 4 << 20,
        max_fragment_datagrams: int = 4096,
        fragment_timeout: float = 60.0,  # RFC 8200 4.5; RFC 1122 3.3.2 says 60 to 120 s
        defer_fragments: bool = False,
        packets: bool = False,
    ) -> None:
        self._udp_wanted = udp_wanted
        # packet mode: every IP packet becomes a Segment (see `Segment`), for modules that
        # count every packet; the per-frame facts below are set while a frame is decoded
        self.packets = packets
        self._vlan: int | None = None
        self._outer: tuple | None = None
        self._ip_len = 0
        self._sent_end = 0
        self._ttl: int | None = None
        # a worker that sees a slice of the capture leaves IP fragments to the process that
        # sees every frame in order: `decode` raises FrameDeferred for them
        self._defer_fragments = defer_fragments
        self._tcp_ports = frozenset(tcp_ports)
        self.fragments = FragmentTable(max_fragment_bytes, max_fragment_datagrams, fragment_timeout)
        self.malformed = 0
        self._address_text: dict[bytes, str] = {}
        self._format = self._format_address  # (bound once: the compiled path calls it)
        self.warnings: list[str] = []
        self._scapy_dissectors: dict[int, Any] = {}
        self._scapy_layers: dict[int, tuple[str, ...]] = {}
        self._layers: tuple[str, ...] = ()  # the frame's so far (`Segment.layers`)
        self._frame_len = 0
        self._link_decoders: dict[int, Callable[[bytes, float, int], list[Segment]]] = {
            0: self._null,
            1: self._ethernet_frame,
            9: self._ppp,
            10: self._fddi,
            12: self._raw_ip,
            14: self._raw_ip,
            50: self._ppp,
            101: self._raw_ip,
            104: self._cisco_hdlc,
            108: self._openbsd_loop,
            109: self._openbsd_enc,
            113: self._linux_sll,
            117: self._pflog,
            149: self._pktap,
            192: self._ppi,
            228: self._raw_ipv4,
            229: self._raw_ipv6,
            239: self._nflog,
            258: self._pktap,
            276: self._linux_sll2,
        }

    # -- entry point -------------------------------------------------------------------------

    def decode(self, linktype: int, data: bytes, ts: float, wire_len: int = 0) -> list[Segment]:
        """The wanted segments in one frame (usually none or one)."""
        return self.decode_at(linktype, data, 0, len(data), ts, wire_len)

    def decode_at(
        self, linktype: int, buf: bytes, start: int, end: int, ts: float, wire_len: int = 0
    ) -> list[Segment]:
        """`decode` of the frame `buf[start:end]`, read where it lies.

        A worker decodes a span of the file held in one buffer: a frame that the hot paths
        drop (most of a capture) is never copied out of it. `wire_len` is the frame's length
        as sent (the record's original length), which a snapshot length may have cut: its
        segments' `frame_len` (the captured length when it is 0 or less).
        """
        if self.packets:
            self._vlan = self._outer = None
            self._frame_len = wire_len if wire_len > end - start else end - start
            if linktype == 1 and end - start >= _ETH_IPV4_L4_SIZE:
                if _COMPILED_ETHERNET_PACKET is not None:
                    segments = _COMPILED_ETHERNET_PACKET(
                        buf, start, end, self._frame_len, self._address_text, self._format
                    )
                else:
                    segments = self._ethernet_ipv4_packet(buf, start, end)
                if segments is not None:
                    return segments
        elif linktype == 1 and end - start >= _ETH_IPV4_UDP_SIZE:
            if _COMPILED_ETHERNET_DATAGRAM is not None:
                segments = _COMPILED_ETHERNET_DATAGRAM(
                    buf, start, end, 0, self._address_text, self._format, self._udp_wanted,
                    self._tcp_ports,
                )  # fmt: skip
            else:
                segments = self._ethernet_datagram(buf, start, end)
            if segments is not None:
                return segments
        data = buf if start == 0 and end == len(buf) else buf[start:end]
        self._frame_len = wire_len if wire_len > end - start else end - start
        try:
            return self._link(linktype, data, ts, 0)
        except (IndexError, struct.error, ValueError) as error:
            self.malformed += 1
            return [self._bad_frame(error)] if self.packets else []

    def compiled_parts(self) -> tuple | None:
        """What a compiled caller needs to take the hot path of `decode_at` itself, or None
        where it was not built: (the compiled `_ethernet_ipv4_packet`, the address cache, the
        formatter) in packet mode, (the compiled `_ethernet_datagram`, the address cache, the
        formatter, the UDP filter, the TCP ports) otherwise. Called as `function(buf, start,
        end, frame_len, *the rest)` for an Ethernet frame of at least `MIN_ETHERNET_FAST`
        bytes; every frame it gives None for, and every other frame, goes to `decode_at`."""
        if self.packets:
            if _COMPILED_ETHERNET_PACKET is None:
                return None
            return _COMPILED_ETHERNET_PACKET, self._address_text, self._format
        if _COMPILED_ETHERNET_DATAGRAM is None:
            return None
        return (_COMPILED_ETHERNET_DATAGRAM, self._address_text, self._format, self._udp_wanted,
                self._tcp_ports)  # fmt: skip

    def _bad_frame(self, error: Exception) -> Segment:
        """Packet mode: a frame whose headers do not decode, as a `malformed` segment (the
        reason in `payload`): a module that accounts for every frame can say what it skipped."""
        reason = "truncated"  # (an IndexError or struct.error: a header cut short)
        if isinstance(error, ValueError) and error.args and isinstance(error.args[0], str):
            reason = BAD_FRAME_REASONS.get(error.args[0], "bad_header")
        self._layers += ("malformed",)
        return Segment("malformed", "", 0, "", 0, reason.encode(), 0, 0, vlan=self._vlan,
                       outer=self._outer, layers=self._layers,
                       frame_len=self._frame_len)  # fmt: skip

    def _ethernet_datagram(self, buf: bytes, start: int, end: int) -> list[Segment] | None:
        """The hot path outside packet mode: Ethernet and IPv4 without options or
        fragmentation, then UDP that is no tunnel (kept when wanted), or TCP on a port nobody
        asked for (dropped); IPv6 without extension headers likewise (`_ethernet_ipv6`). None:
        take the long way (same result). (Literals instead of named constants save global
        lookups.)"""
        ethertype, first, total, frag, protocol, sport, dport, length = _ETH_IPV4_UDP(buf, start)
        if ethertype == 0x0800 and first == 0x45 and not frag & 0x3FFF:
            if (
                protocol == 17
                and total >= 28
                and length >= 8
                and end - start >= 42  # the whole UDP header captured
                and dport not in UDP_TUNNEL_DPORTS
                and sport != 3544
            ):
                # The payload ends at the UDP length, the IP total length or the captured end,
                # whichever comes first.
                stop = start + (34 + length if length + 20 < total else 14 + total)
                payload = buf[start + 42 : stop if stop < end else end]
                if self._udp_wanted(sport, dport, payload):
                    return self._udp_segment(
                        buf[start + 26 : start + 30], buf[start + 30 : start + 34], sport, dport,
                        payload,
                    )  # fmt: skip
                return []
            if protocol == 6 and sport not in self._tcp_ports and dport not in self._tcp_ports:
                return []
        elif ethertype == 0x86DD and end - start >= _ETH_IPV6_L4_SIZE:
            return self._ethernet_ipv6(buf, start, end)
        return None

    def _ethernet_ipv4_packet(self, buf: bytes, start: int, end: int) -> list[Segment] | None:
        """Packet mode's hot path: Ethernet, IPv4 without options or fragmentation, then TCP,
        UDP that is no tunnel, or ICMP (IPv6: `_ethernet_ipv6_packet`); or ARP. None: take the
        long way (same result)."""
        ethertype, first, total, frag, ttl, protocol, src, dst = _ETH_IPV4_L4(buf, start)
        if ethertype != 0x0800 or first != 0x45 or frag & 0x3FFF or total < 28:
            if ethertype == 0x86DD and end - start >= _ETH_IPV6_PACKET_SIZE:
                return self._ethernet_ipv6_packet(buf, start, end)
            if ethertype == ETH_ARP:
                return [_new_segment(Segment, ("l2", "", ETH_ARP, "", 0, b"", 0, 0, 0, 0, 0, 0, 0,
                                               None, None, None, ETH_ARP_LAYERS,
                                               self._frame_len))]  # fmt: skip
            return None
        ip_end = start + 14 + total  # as sent; the captured bytes may stop sooner
        stop = ip_end if ip_end < end else end
        text = self._address_text
        src_text = text.get(src) or self._format_address(src)
        dst_text = text.get(dst) or self._format_address(dst)
        if protocol == 6:
            if stop - start < 54:
                return None
            sport, dport, seq, ack, offset_flags, window = _TCP_HEADER(buf, start + 34)
            header_end = start + 34 + ((offset_flags >> 12) << 2)
            if header_end < start + 54 or header_end > stop:
                return None
            payload = buf[header_end:stop]
            return [
                _new_segment(Segment, ("tcp", src_text, sport, dst_text, dport, payload, seq,
                                       offset_flags & 0xFF, ack, window, total,
                                       ip_end - header_end, 6, None, None, ttl,
                                       ETH_IPV4_TCP_LAYERS,
                                       self._frame_len))
            ]  # fmt: skip
        if protocol == 17:
            if stop - start < 42:
                return None
            sport, dport, length = _HHH(buf, start + 34)
            if length < 8 or dport in UDP_TUNNEL_DPORTS or sport == UDP_TEREDO:
                return None
            udp_end = start + 34 + length
            payload = buf[start + 42 : udp_end if udp_end < stop else stop]
            return [
                _new_segment(Segment, ("udp", src_text, sport, dst_text, dport, payload, 0, 0,
                                       0, 0, total, length - 8, 17, None, None, ttl,
                                       ETH_IPV4_UDP_LAYERS,
                                       self._frame_len))
            ]  # fmt: skip
        if protocol == IPPROTO_ICMP and stop - start >= 36:
            return [
                _new_segment(Segment, ("icmp", src_text, buf[start + 34], dst_text,
                                       buf[start + 35], buf[start + 34 : stop], 0, 0, 0, 0, total,
                                       total - 20, 1, None, None, ttl, ETH_IPV4_ICMP_LAYERS,
                                       self._frame_len))
            ]  # fmt: skip
        return None

    def _ethernet_ipv6_packet(self, buf: bytes, start: int, end: int) -> list[Segment] | None:
        """Packet mode's IPv6 hot path: Ethernet, IPv6 without extension headers (nor a
        jumbogram), then TCP, UDP that is no tunnel, or ICMPv6. None: take the long way (same
        result, malformed headers included)."""
        _, first, payload_len, next_header, hops, src, dst = _ETH_IPV6_PACKET(buf, start)
        if first >> 4 != 6 or not payload_len:
            return None
        l4 = start + 54
        ip_end = l4 + payload_len  # as sent; the captured bytes may stop sooner
        stop = ip_end if ip_end < end else end
        text = self._address_text
        if next_header == 6:
            if stop - l4 < 20:
                return None
            sport, dport, seq, ack, offset_flags, window = _TCP_HEADER(buf, l4)
            header_end = l4 + ((offset_flags >> 12) << 2)
            if header_end < l4 + 20 or header_end > stop:
                return None
            payload = buf[header_end:stop]
            data_len = ip_end - header_end
            return [
                _new_segment(Segment, ("tcp", text.get(src) or self._format_address(src), sport,
                                       text.get(dst) or self._format_address(dst), dport,
                                       payload, seq, offset_flags & 0xFF, ack, window,
                                       40 + payload_len,
                                       data_len if data_len > len(payload) else len(payload), 6,
                                       None, None, hops, ETH_IPV6_TCP_LAYERS,
                                       self._frame_len))
            ]  # fmt: skip
        if next_header == 17:
            if stop - l4 < 8:
                return None
            sport, dport, length = _HHH(buf, l4)
            if length < 8 or dport in UDP_TUNNEL_DPORTS or sport == UDP_TEREDO:
                return None
            udp_end = l4 + length
            return [
                _new_segment(Segment, ("udp", text.get(src) or self._format_address(src), sport,
                                       text.get(dst) or self._format_address(dst), dport,
                                       buf[l4 + 8 : udp_end if udp_end < stop else stop], 0, 0,
                                       0, 0, 40 + payload_len, length - 8, 17, None, None, hops,
                                       ETH_IPV6_UDP_LAYERS,
                                       self._frame_len))
            ]  # fmt: skip
        if next_header == IPPROTO_ICMPV6 and stop - l4 >= 2:
            return [
                _new_segment(Segment, ("icmpv6", text.get(src) or self._format_address(src),
                                       buf[l4], text.get(dst) or self._format_address(dst),
                                       buf[l4 + 1], buf[l4:stop], 0, 0, 0, 0, 40 + payload_len,
                                       payload_len, 58, None, None, hops, ETH_IPV6_ICMP_LAYERS,
                                       self._frame_len))
            ]  # fmt: skip
        return None

    def _ethernet_ipv6(self, buf: bytes, start: int, end: int) -> list[Segment] | None:
        """The IPv6 hot path: Ethernet, IPv6 without extension headers, then UDP that is no
        tunnel or TCP on a port nobody asked for. None: take the long way (same result)."""
        _, first, payload_len, next_header, sport, dport, length = _ETH_IPV6_L4(buf, start)
        if first >> 4 != 6:
            return None
        if next_header == 6:
            if sport in self._tcp_ports or dport in self._tcp_ports:
                return None
            return []
        if (
            next_header != 17
            or length < 8
            or end - start < 62  # a UDP header the snap length cut
            # (0: no jumbogram without a hop-by-hop header; under 8: a UDP header past the
            # packet's end, malformed: both the long way)
            or payload_len < 8
            or dport in UDP_TUNNEL_DPORTS
            or sport == UDP_TEREDO
        ):
            return None
        stop = start + 54 + payload_len
        if start + 54 + length < stop:
            stop = start + 54 + length
        payload = buf[start + 62 : stop if stop < end else end]
        if self._udp_wanted(sport, dport, payload):
            return self._udp_segment(
                buf[start + 22 : start + 38], buf[start + 38 : start + 54], sport, dport, payload
            )
        return []

    def _udp_segment(
        self, src: bytes, dst: bytes, sport: int, dport: int, payload: bytes
    ) -> list[Segment]:
        text = self._address_text
        src_text = text.get(src) or self._format_address(src)
        dst_text = text.get(dst) or self._format_address(dst)
        return [
            _new_segment(Segment, ("udp", src_text, sport, dst_text, dport, payload) + _UDP_REST)  # noqa: RUF005
        ]

    def _format_address(self, raw: bytes) -> str:
        """Format and remember an address (formatting costs more than a dictionary lookup)."""
        if len(self._address_text) >= ADDRESS_CACHE_SIZE:
            self._address_text.clear()
        text = self._address_text[raw] = format_address(raw)
        return text

    def _link(self, linktype: int, data: bytes, ts: float, depth: int) -> list[Segment]:
        if not depth:  # a frame: its layers (`Segment.layers`) from here
            self._layers = ()
        decoder = self._link_decoders.get(linktype)
        if decoder is None:
            segments = self._scapy_link(linktype, data, ts, depth)
        else:
            names = LINK_LAYERS.get(linktype)
            if names is not None:
                self._layers += names
            segments = decoder(data, ts, depth)
        if not depth and segments and segments[0].layers is not self._layers and self.packets:
            # a tunnel's carrier comes first: it carries the layers of the whole frame
            segments[0] = segments[0]._replace(layers=self._layers)
        return segments

    # -- link layers -------------------------------------------------------------------------

    def _ethernet_frame(self, data: bytes, ts: float, depth: int) -> list[Segment]:
        return self._ethernet(data, 0, ts, depth)

    def _ethernet(self, data: bytes, off: int, ts: float, depth: int) -> list[Segment]:
        ethertype = (data[off + 12] << 8) | data[off + 13]
        off += 14
        self._layers += ("eth",)
        if ethertype < 0x0600:  # 802.3 length field: only LLC/SNAP carries IP
            self._layers += ("llc",)
            if data[off : off + 3] != b"\xaa\xaa\x03":
                if self.packets and depth == 0:  # (spanning tree, NetBIOS ...: ethertype 0)
                    return [Segment("l2", "", 0, "", 0, b"", 0, 0, vlan=self._vlan,
                                    layers=self._layers, frame_len=self._frame_len)]  # fmt: skip
                return []
            ethertype = (data[off + 6] << 8) | data[off + 7]
            off += 8
        return self._ethertype(ethertype, data, off, ts, depth)

    def _ethertype(
        self, ethertype: int, data: bytes, off: int, ts: float, depth: int
    ) -> list[Segment]:
        tags = 0
        while ethertype in ETH_VLAN_TAGS and tags < MAX_VLAN_TAGS:
            if self.packets and self._vlan is None:
                self._vlan = ((data[off] << 8) | data[off + 1]) & 0x0FFF
            ethertype = (data[off + 2] << 8) | data[off + 3]
            off += 4
            tags += 1
            self._layers += ("vlan",)
        if ethertype == ETH_IPV4:
            return self._ipv4(data, off, ts, depth)
        if ethertype == ETH_IPV6:
            return self._ipv6(data, off, ts, depth)
        if ethertype in ETH_MPLS:
            return self._mpls(data, off, ts, depth)
        if ethertype == ETH_PPPOE_SESSION:
            self._layers += ("pppoes",)
            return self._ppp_protocol(data, off + 6, ts, depth)
        if self.packets and depth == 0:
            self._layers += (ethertype_layer(ethertype),)
            return [Segment("l2", "", ethertype, "", 0, b"", 0, 0, vlan=self._vlan,
                            layers=self._layers, frame_len=self._frame_len)]  # fmt: skip
        return []

    def _mpls(self, data: bytes, off: int, ts: float, depth: int) -> list[Segment]:
        """The labels, then IP, or an Ethernet pseudowire behind its control word (RFC 4448:
        a first nibble of 0, RFC 4385; without one, its MAC address cannot be told from IP)."""
        for _ in range(MAX_MPLS_LABELS):
            self._layers += ("mpls",)
            bottom = data[off + 2] & 0x01
            off += 4
            if bottom:
                if data[off] >> 4 == 0 and depth < MAX_TUNNEL_DEPTH:
                    self._layers += ("pwethcw",)  # (tshark's name for it)
                    return self._ethernet(data, off + 4, ts, depth + 1)
                return self._ip_by_version(data, off, ts, depth)
        return []

    def _raw_ip(self, data: bytes, ts: float, depth: int) -> list[Segment]:
        return self._ip_by_version(data, 0, ts, depth)

    def _raw_ipv4(self, data: bytes, ts: float, depth: int) -> list[Segment]:
        return self._ipv4(data, 0, ts, depth)

    def _raw_ipv6(self, data: bytes, ts: float, depth: int) -> list[Segment]:
        return self._ipv6(data, 0, ts, depth)

    def _ip_by_version(self, data: bytes, off: int, ts: float, depth: int) -> list[Segment]:
        version = data[off] >> 4
        if version == 4:
            return self._ipv4(data, off, ts, depth)
        if version == 6:
            return self._ipv6(data, off, ts, depth)
        return []

    def _null(self, data: bytes, ts: float, depth: int) -> list[Segment]:
        """BSD loopback: the address family in the capturing host's byte order."""
        family = struct.unpack_from("<I", data)[0]
        if family > 0xFFFF:
            family = struct.unpack_from(">I", data)[0]
        return self._address_family(family, data, 4, ts, depth)

    def _openbsd_loop(self, data: bytes, ts: float, depth: int) -> list[Segment]:
        family = struct.unpack_from(">I", data)[0]
        if family > 0xFFFF:
            family = struct.unpack_from("<I", data)[0]
        return self._address_family(family, data, 4, ts, depth)

    def _openbsd_enc(self, data: bytes, ts: float, depth: int) -> list[Segment]:
        """OpenBSD enc(4): address family, SPI and flags (12 bytes), then the IP packet."""
        return self._ip_by_version(data, 12, ts, depth)

    def _pflog(self, data: bytes, ts: float, depth: int) -> list[Segment]:
        """pf's log: its header names its own length (padded to 4 bytes), then the IP packet
        (read by its version: each BSD numbers AF_INET6 its own way)."""
        header_len = (data[0] + 3) & ~3
        if header_len < 4:
            raise ValueError("bad pflog header")
        return self._ip_by_version(data, header_len, ts, depth)

    def _address_family(
        self, family: int, data: bytes, off: int, ts: float, depth: int
    ) -> list[Segment]:
        if family in _AF_IPV4:
            return self._ipv4(data, off, ts, depth)
        if family in _AF_IPV6:
            return self._ipv6(data, off, ts, depth)
        return []

    def _linux_sll(self, data: bytes, ts: float, depth: int) -> list[Segment]:
        return self._ethertype((data[14] << 8) | data[15], data, 16, ts, depth)

    def _linux_sll2(self, data: bytes, ts: float, depth: int) -> list[Segment]:
        return self._ethertype((data[0] << 8) | data[1], data, 20, ts, depth)

    def _ppp(self, data: bytes, ts: float, depth: int) -> list[Segment]:
        off = 2 if data[0] == 0xFF and data[1] == 0x03 else 0
        return self._ppp_protocol(data, off, ts, depth)

    def _ppp_protocol(self, data: bytes, off: int, ts: float, depth: int) -> list[Segment]:
        self._layers += ("ppp",)
        if data[off] & 0x01:  # protocol field compressed to one byte
            protocol, off = data[off], off + 1
        else:
            protocol, off = (data[off] << 8) | data[off + 1], off + 2
        if protocol == PPP_IPV4:
            return self._ipv4(data, off, ts, depth)
        if protocol == PPP_IPV6:
            return self._ipv6(data, off, ts, depth)
        return []

    def _cisco_hdlc(self, data: bytes, ts: float, depth: int) -> list[Segment]:
        return self._ethertype((data[2] << 8) | data[3], data, 4, ts, depth)

    def _fddi(self, data: bytes, ts: float, depth: int) -> list[Segment]:
        """FDDI: frame control, two addresses, then LLC/SNAP carrying an ethertype."""
        if data[13:16] != b"\xaa\xaa\x03":
            return []
        return self._ethertype((data[19] << 8) | data[20], data, 21, ts, depth)

    def _pktap(self, data: bytes, ts: float, depth: int) -> list[Segment]:
        """Apple PKTAP: a little-endian header naming its own length and the inner link type."""
        header_len, inner_linktype = struct.unpack_from("<II", data)
        if header_len < 8 or depth >= MAX_TUNNEL_DEPTH or inner_linktype in (149, 258):
            return []
        return self._link(inner_linktype, data[header_len:], ts, depth + 1)

    def _ppi(self, data: bytes, ts: float, depth: int) -> list[Segment]:
        """Per-Packet Information: a little-endian header naming its length and inner DLT."""
        header_len, inner_linktype = struct.unpack_from("<HI", data, 2)
        if header_len < 8 or depth >= MAX_TUNNEL_DEPTH or inner_linktype == 192:
            return []
        return self._link(inner_linktype, data[header_len:], ts, depth + 1)

    def _nflog(self, data: bytes, ts: float, depth: int) -> list[Segment]:
        """Linux NFLOG: TLVs in the capturing host's byte order; type 9 is the packet."""
        family = data[0]
        for endian in ("<", ">"):
            payload = _nflog_payload(data, endian)
            if payload is not None:
                if family == 2:
                    return self._ipv4(payload, 0, ts, depth)
                if family == 10:
                    return self._ipv6(payload, 0, ts, depth)
                return self._ip_by_version(payload, 0, ts, depth)
        return []

    def _scapy_link(self, linktype: int, data: bytes, ts: float, depth: int) -> list[Segment]:
        """The general path: scapy dissects the frame; continue at its first IP layer."""
        if linktype not in self._scapy_dissectors:
            self._scapy_dissectors[linktype] = _load_scapy_dissector(linktype)
            if self._scapy_dissectors[linktype] is None:
                self.warnings.append(f"link type {linktype} is not supported; its frames skipped")
            self._scapy_layers[linktype] = SCAPY_LINK_LAYERS.get(
                linktype, (f"linktype {linktype}",)
            )
        self._layers += self._scapy_layers[linktype]
        dissector = self._scapy_dissectors[linktype]
        if dissector is None:
            return []
        inner = dissector(data)
        if inner is None:
            return []
        return self._ip_by_version(inner, 0, ts, depth)

    # -- IP ----------------------------------------------------------------------------------

    def _ipv4(self, data: bytes, off: int, ts: float, depth: int) -> list[Segment]:
        self._layers += ("ipv4",)
        first = data[off]
        header_len = (first & 0x0F) << 2
        total = (data[off + 2] << 8) | data[off + 3]
        if not total:  # TCP segmentation offload: the packet is what was captured (as Zeek
            total = len(data) - off  # and Wireshark read it)
        if first >> 4 != 4 or header_len < 20 or total < header_len:
            raise ValueError("bad IPv4 header")
        # A total length beyond the captured bytes: use what was captured (as tshark does).
        end = off + total
        if end > len(data):
            end = len(data)
        l4 = off + header_len
        protocol = data[off + 9]
        if data[off + 6] & 0x3F or data[off + 7]:
            return self._ipv4_fragment(data, off, l4, end, protocol, ts, depth)
        if self.packets:
            self._ip_len, self._sent_end, self._ttl = total, off + total, data[off + 8]
        elif protocol == IPPROTO_UDP:
            sport, dport, length = _HHH(data, l4)
            if length < 8:
                raise ValueError("bad UDP length")
            if l4 + length < end:
                end = l4 + length
            payload = data[l4 + 8 : end]
            if dport in UDP_TUNNEL_DPORTS or sport == UDP_TEREDO:
                inner = self._udp_tunnel(sport, dport, payload, ts, depth)
                if inner:
                    return inner
            if self._udp_wanted(sport, dport, payload):
                src = _inet_ntoa(data[off + 12 : off + 16])
                dst = _inet_ntoa(data[off + 16 : off + 20])
                segment = ("udp", src, sport, dst, dport, payload) + _UDP_REST  # noqa: RUF005
                return [_new_segment(Segment, segment)]
            return []
        return self._transport(
            protocol, data, l4, end, data[off + 12 : off + 16], data[off + 16 : off + 20], ts, depth
        )

    def _ipv4_fragment(
        self, data: bytes, off: int, l4: int, end: int, protocol: int, ts: float, depth: int
    ) -> list[Segment]:
        if self._defer_fragments:
            raise FrameDeferred
        flags_offset = (data[off + 6] << 8) | data[off + 7]
        src, dst = data[off + 12 : off + 16], data[off + 16 : off + 20]
        key = (4, src, dst, data[off + 4 : off + 6], protocol)
        done = self.fragments.add(
            key, (flags_offset & 0x1FFF) << 3, bool(flags_offset & 0x2000), data[l4:end], ts
        )
        if done is None:
            return []
        payload = done[0]
        self._ip_len, self._sent_end = l4 - off + len(payload), len(payload)
        self._ttl = data[off + 8]
        return self._transport(protocol, payload, 0, len(payload), src, dst, ts, depth)

    def _ipv6(self, data: bytes, off: int, ts: float, depth: int) -> list[Segment]:
        self._layers += ("ipv6",)
        if data[off] >> 4 != 6:
            raise ValueError("bad IPv6 header")
        payload_len = (data[off + 4] << 8) | data[off + 5]
        if not payload_len:
            payload_len = _jumbo_length(data, off)
        end = off + 40 + payload_len
        if end > len(data):
            end = len(data)
        src, dst = data[off + 8 : off + 24], data[off + 24 : off + 40]
        if self.packets:
            self._ttl = data[off + 7]
            self._ip_len = 40 + payload_len
            self._sent_end = off + self._ip_len
        return self._ipv6_chain(data[off + 6], data, off + 40, end, src, dst, ts, depth)

    def _ipv6_chain(
        self,
        next_header: int,
        data: bytes,
        off: int,
        end: int,
        src: bytes,
        dst: bytes,
        ts: float,
        depth: int,
    ) -> list[Segment]:
        """Walk extension headers to the transport; a fragment header starts reassembly."""
        for _ in range(MAX_IPV6_EXTENSIONS):
            if next_header in IPV6_SKIPPABLE_EXTENSIONS:
                next_header, off = data[off], off + ((data[off + 1] + 1) << 3)
            elif next_header == IPPROTO_AH:
                next_header, off = data[off], off + ((data[off + 1] + 2) << 2)
            elif next_header == IPV6_FRAGMENT:
                if data[off + 2] or data[off + 3] & 0xF9:
                    return self._ipv6_fragment(data, off, end, src, dst, ts, depth)
                next_header, off = data[off], off + 8  # atomic: processed alone (RFC 6946 4)
            elif next_header == IPPROTO_NONE:
                return []
            else:
                if off > end:
                    raise ValueError("IPv6 extension headers run past the packet")
                return self._transport(next_header, data, off, end, src, dst, ts, depth)
        return []

    def _ipv6_fragment(
        self, data: bytes, off: int, end: int, src: bytes, dst: bytes, ts: float, depth: int
    ) -> list[Segment]:
        next_header = data[off]
        offset_flags = (data[off + 2] << 8) | data[off + 3]
        if self._defer_fragments:
            raise FrameDeferred
        key = (6, src, dst, data[off + 4 : off + 8])
        done = self.fragments.add(
            key,
            offset_flags & 0xFFF8,
            bool(offset_flags & 0x0001),
            data[off + 8 : end],
            ts,
            next_header=next_header,
            discard_overlaps=True,
        )
        if done is None or done[1] is None:
            return []
        payload, first_next_header = done
        if self.packets:  # the original packet (RFC 8200 4.5): the unfragmentable part (the
            # IPv6 header and the extension headers before this one) and the payload
            self._ip_len = off - (self._sent_end - self._ip_len) + len(payload)
            self._sent_end = len(payload)
        return self._ipv6_chain(first_next_header, payload, 0, len(payload), src, dst, ts, depth)

    # -- transport and tunnels ---------------------------------------------------------------

    def _transport(
        self,
        protocol: int,
        data: bytes,
        off: int,
        end: int,
        src: bytes,
        dst: bytes,
        ts: float,
        depth: int,
    ) -> list[Segment]:
        for _ in range(MAX_IPV6_EXTENSIONS):  # an IPv4 packet's AH headers (RFC 4302 2)
            if protocol != IPPROTO_AH:
                break
            protocol, off = data[off], off + ((data[off + 1] + 2) << 2)
        if self.packets:
            return self._packet(protocol, data, off, end, src, dst, ts, depth)
        if protocol == IPPROTO_UDP:
            return self._udp(data, off, end, src, dst, ts, depth)
        if protocol == IPPROTO_TCP:
            return self._tcp(data, off, end, src, dst)
        return self._tunnel(protocol, data[off:end], ts, depth)  # ICMP's quotes are never read

    def _tunnel(self, protocol: int, inner: bytes, ts: float, depth: int) -> list[Segment]:
        """What an IP-in-IP, IPv6-in-IP or GRE packet carries ([] for any other protocol)."""
        if depth >= MAX_TUNNEL_DEPTH:
            return []
        if protocol == IPPROTO_IPIP:
            return self._ipv4(inner, 0, ts, depth + 1)
        if protocol == IPPROTO_IPV6:
            return self._ipv6(inner, 0, ts, depth + 1)
        if protocol == IPPROTO_GRE:
            return self._gre(inner, ts, depth + 1)
        return []

    def _packet(
        self,
        protocol: int,
        data: bytes,
        off: int,
        end: int,
        src: bytes,
        dst: bytes,
        ts: float,
        depth: int,
    ) -> list[Segment]:
        """Packet mode: this IP packet as a Segment, then what a tunnel carries inside it."""
        text = self._address_text
        src_text = text.get(src) or self._format_address(src)
        dst_text = text.get(dst) or self._format_address(dst)
        ip_len, sent_end, vlan, outer = self._ip_len, self._sent_end, self._vlan, self._outer
        ttl, frame_len = self._ttl, self._frame_len
        if protocol != IPPROTO_IPIP and protocol != IPPROTO_IPV6:  # (the inner IP names itself)
            self._layers += (ip_protocol_layer(protocol),)
        layers = self._layers
        if protocol == IPPROTO_TCP:
            if end - off < 20:  # (the IP total length or the capture leaves no TCP header)
                reason = _cut_reason(b"tcp", 20, off, end, sent_end)
                return self._bad_packet(reason, protocol, data, off, end, src_text, dst_text)
            sport, dport, seq, ack, offset_flags = _HHIIH(data, off)
            header_len = (offset_flags >> 12) << 2
            if header_len < 20 or off + header_len > sent_end:
                reason = b"tcp_data_offset" if header_len < 20 else b"tcp_options_truncated"
                return self._bad_packet(reason, protocol, data, off, end, src_text, dst_text)
            window = (data[off + 14] << 8) | data[off + 15]
            # (a snap length may have cut the options: the segment holds no payload then)
            payload = data[off + header_len : end] if off + header_len <= end else b""
            data_len = max(sent_end - off - header_len, len(payload))
            return [
                Segment("tcp", src_text, sport, dst_text, dport, payload, seq, offset_flags & 0xFF,
                        ack, window, ip_len, data_len, protocol, vlan, outer, ttl, layers,
                        frame_len)
            ]  # fmt: skip
        if protocol == IPPROTO_UDP:
            if end - off < 8:
                reason = _cut_reason(b"udp", 8, off, end, sent_end)
                return self._bad_packet(reason, protocol, data, off, end, src_text, dst_text)
            sport, dport, length = _HHH(data, off)
            if length < 8:
                return self._bad_packet(b"udp_length", protocol, data, off, end, src_text,
                                        dst_text)  # fmt: skip
            payload = data[off + 8 : min(end, off + length)]
            segments = [
                Segment("udp", src_text, sport, dst_text, dport, payload, 0, 0, 0, 0, ip_len,
                        length - 8, protocol, vlan, outer, ttl, layers, frame_len)
            ]  # fmt: skip
            if dport in UDP_TUNNEL_DPORTS or sport == UDP_TEREDO:
                self._outer = (protocol, src_text, sport, dst_text, dport)
                segments += self._udp_tunnel(sport, dport, payload, ts, depth)
                self._outer = outer
            return segments
        if protocol in (IPPROTO_ICMP, IPPROTO_ICMPV6):
            if end - off < 2:
                return self._bad_packet(b"icmp_header_truncated", protocol, data, off, end,
                                        src_text, dst_text)  # fmt: skip
            icmp_type, code = data[off], data[off + 1]
            return [
                Segment("icmp" if protocol == IPPROTO_ICMP else "icmpv6", src_text, icmp_type,
                        dst_text, code, data[off:end], 0, 0, 0, 0, ip_len, sent_end - off,
                        protocol, vlan, outer, ttl, layers, frame_len)
            ]  # fmt: skip
        segments = [
            Segment("ip", src_text, 0, dst_text, 0, data[off:end], 0, 0, 0, 0, ip_len,
                    sent_end - off, protocol, vlan, outer, ttl, layers, frame_len)
        ]  # fmt: skip
        if depth < MAX_TUNNEL_DEPTH and protocol in (IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_GRE):
            self._outer = (protocol, src_text, 0, dst_text, 0)
            try:
                segments += self._tunnel(protocol, data[off:end], ts, depth)
            except (IndexError, struct.error, ValueError):
                self.malformed += 1  # the carrier still counts; what it carried did not decode
                self._layers += ("malformed",)
            finally:
                self._outer = outer
        return segments

    def _bad_packet(
        self, reason: bytes, protocol: int, data: bytes, off: int, end: int, src: str, dst: str
    ) -> list[Segment]:
        """Packet mode: an IP packet whose transport header does not decode, as a `malformed`
        segment (the reason in `payload`; the ports when the header has them)."""
        self.malformed += 1
        sport, dport = _HH(data, off) if end - off >= 4 else (0, 0)
        self._layers += ("malformed",)
        return [Segment("malformed", src, sport, dst, dport, reason, 0, 0, 0, 0, self._ip_len,
                        0, protocol, self._vlan, self._outer, self._ttl, self._layers,
                        self._frame_len)]  # fmt: skip

    def _udp(
        self, data: bytes, off: int, end: int, src: bytes, dst: bytes, ts: float, depth: int
    ) -> list[Segment]:
        sport, dport, length = _HHH(data, off)
        if length < 8 or end - off < 8:
            raise ValueError("bad UDP length")
        if off + length < end:
            end = off + length
        payload = data[off + 8 : end]
        if dport in UDP_TUNNEL_DPORTS or sport == UDP_TEREDO:
            inner = self._udp_tunnel(sport, dport, payload, ts, depth)
            if inner:
                return inner
        if self._udp_wanted(sport, dport, payload):
            return self._udp_segment(src, dst, sport, dport, payload)
        return []

    def _tcp(self, data: bytes, off: int, end: int, src: bytes, dst: bytes) -> list[Segment]:
        sport, dport, seq, ack, offset_flags = _HHIIH(data, off)
        if sport not in self._tcp_ports and dport not in self._tcp_ports:
            return []
        header_len = (offset_flags >> 12) << 2
        if header_len < 20 or off + header_len > end:
            raise ValueError("bad TCP header")
        flags = offset_flags & 0xFF
        payload = data[off + header_len : end]
        if not payload and not flags & TCP_SYN_FIN_RST:
            return []
        text = self._address_text
        src_text = text.get(src) or self._format_address(src)
        dst_text = text.get(dst) or self._format_address(dst)
        return [
            _new_segment(
                Segment,
                ("tcp", src_text, sport, dst_text, dport, payload, seq, flags, ack) + _TCP_REST,  # noqa: RUF005
            )
        ]

    def _udp_tunnel(
        self, sport: int, dport: int, payload: bytes, ts: float, depth: int
    ) -> list[Segment]:
        """Segments inside a VXLAN, Geneve, GTP-U, L2TP or Teredo datagram; [] if not one."""
        if depth >= MAX_TUNNEL_DEPTH:
            return []
        layers = self._layers
        try:
            if dport in UDP_VXLAN:
                if payload[0] & 0x08 and len(payload) >= 8 + 14:
                    self._layers += ("vxlan",)
                    return self._ethernet(payload, 8, ts, depth + 1)
            elif dport == UDP_GENEVE:
                return self._geneve(payload, ts, depth + 1)
            elif dport == UDP_GTP_U:
                return self._gtp_u(payload, ts, depth + 1)
            elif dport == UDP_L2TP:
                return self._l2tp(payload, ts, depth + 1)
            if sport == UDP_TEREDO or dport == UDP_TEREDO:
                return self._teredo(payload, ts, depth + 1)
        except (IndexError, struct.error, ValueError):
            self._layers = layers  # not a tunnel after all: the caller treats it as plain UDP
        return []

    def _geneve(self, payload: bytes, ts: float, depth: int) -> list[Segment]:
        if payload[0] >> 6 != 0:
            return []
        header_len = 8 + ((payload[0] & 0x3F) << 2)
        protocol = (payload[2] << 8) | payload[3]
        self._layers += ("geneve",)
        if protocol == ETH_TRANSPARENT_BRIDGING:
            return self._ethernet(payload, header_len, ts, depth)
        return self._ethertype(protocol, payload, header_len, ts, depth)

    def _gtp_u(self, payload: bytes, ts: float, depth: int) -> list[Segment]:
        """GTPv1-U (3GPP TS 29.281): a G-PDU carries one IP packet after its header and
        extension headers; the other messages (echo, error indication) carry none."""
        flags = payload[0]
        if flags >> 5 != 1 or not flags & 0x10 or payload[1] != 0xFF:
            return []
        off = 8
        if flags & 0x07:  # sequence number, N-PDU number and the next extension's type
            off, next_type = 12, payload[11]
            for _ in range(MAX_GTP_EXTENSIONS):
                if not next_type:
                    break
                size = payload[off] << 2  # (in 4-octet units; its last octet: the next type)
                if not size:
                    raise ValueError("bad GTP extension header")
                off, next_type = off + size, payload[off + size - 1]
            else:
                return []
        self._layers += ("gtp",)
        return self._ip_by_version(payload, off, ts, depth)

    def _l2tp(self, payload: bytes, ts: float, depth: int) -> list[Segment]:
        """An L2TPv2 data message (RFC 2661 3.1) carries one PPP frame; control messages and
        other versions carry none."""
        flags = (payload[0] << 8) | payload[1]
        if flags & 0x8000 or flags & 0x000F != 2:
            return []
        off = 6 + (2 if flags & 0x4000 else 0) + (4 if flags & 0x0800 else 0)
        if flags & 0x0200:  # offset size, then that many bytes of padding
            off += 2 + ((payload[off] << 8) | payload[off + 1])
        self._layers += ("l2tp",)
        return self._ppp(payload[off:], ts, depth)

    def _teredo(self, payload: bytes, ts: float, depth: int) -> list[Segment]:
        """Teredo: IPv6 in UDP, after an optional authentication and origin indication."""
        off = 0
        if payload[0] == 0x00 and payload[1] == 0x01:
            off = 4 + payload[2] + payload[3] + 9
        if payload[off] == 0x00 and payload[off + 1] == 0x00:
            off += 8
        if payload[off] >> 4 != 6:
            return []
        self._layers += ("teredo",)
        return self._ipv6(payload, off, ts, depth)

    def _gre(self, data: bytes, ts: float, depth: int) -> list[Segment]:
        flags = (data[0] << 8) | data[1]
        protocol = (data[2] << 8) | data[3]
        version = flags & 0x07
        off = 4
        if flags & 0x8000 or flags & 0x4000:  # checksum (and offset, with routing)
            off += 4
        if flags & 0x2000:  # key
            off += 4
        if flags & 0x1000:  # sequence number
            off += 4
        if version == 1:  # enhanced GRE (PPTP): optional acknowledgment, then PPP
            if flags & 0x0080:
                off += 4
            return self._ppp(data[off:], ts, depth) if protocol == 0x880B else []
        if version != 0 or flags & 0x4000:
            return []  # source routing is obsolete; other versions unknown
        if protocol == ETH_TRANSPARENT_BRIDGING:
            return self._ethernet(data, off, ts, depth)
        if protocol == ETH_ERSPAN_2:
            self._layers += ("erspan",)
            return self._ethernet(data, off + 8 if flags & 0x1000 else off, ts, depth)
        if protocol == ETH_ERSPAN_3:
            self._layers += ("erspan",)
            return self._erspan3(data, off, ts, depth)
        return self._ethertype(protocol, data, off, ts, depth)

    def _erspan3(self, data: bytes, off: int, ts: float, depth: int) -> list[Segment]:
        has_subheader = data[off + 11] & 0x01
        off += 12 + (8 if has_subheader else 0)
        return self._ethernet(data, off, ts, depth)


def _jumbo_length(data: bytes, off: int) -> int:
    """An IPv6 packet's payload length when its header says 0: a jumbogram's, from the Jumbo
    Payload option of its hop-by-hop header (RFC 2675); without that option, 0 (the payload is
    empty, as tshark and Zeek read it)."""
    if data[off + 6] != 0:
        return 0
    pos, stop = off + 42, min(off + 40 + ((data[off + 41] + 1) << 3), len(data))
    while pos + 1 < stop:
        kind, size = data[pos], data[pos + 1]
        if kind == 0:  # Pad1
            pos += 1
            continue
        if kind == 0xC2 and size == 4 and pos + 6 <= stop:
            return int.from_bytes(data[pos + 2 : pos + 6], "big")
        pos += 2 + size
    return 0


def _cut_reason(transport: bytes, header: int, off: int, end: int, sent_end: int) -> bytes:
    """Why a transport header is short: `<transport>_header_cut` when the packet as sent holds
    it and the capture's snap length cut it after the ports (its flow can still count the
    packet), else `<transport>_header_truncated`."""
    if sent_end - off >= header and end - off >= 4:
        return transport + b"_header_cut"
    return transport + b"_header_truncated"


def ip_protocol_layer(protocol: int) -> str:
    """An IP protocol's layer name (its number for the ones not in IP_PROTOCOL_LAYERS)."""
    name = IP_PROTOCOL_LAYERS.get(protocol)
    if name is None:
        name = IP_PROTOCOL_LAYERS[protocol] = str(protocol)  # at most 256: remembered
    return name


def ethertype_layer(ethertype: int) -> str:
    """A frame without IP: its ethertype's layer name (`ethertype 0x88b5` for the others)."""
    name = ETHERTYPE_LAYERS.get(ethertype)
    if name is None:
        name = ETHERTYPE_LAYERS[ethertype] = f"ethertype 0x{ethertype:04x}"  # at most 65,536
    return name


def _nflog_payload(data: bytes, endian: str) -> bytes | None:
    """The packet TLV (type 9) of an NFLOG frame read with one byte order, or None."""
    unpack = struct.Struct(endian + "HH").unpack_from
    off = 4
    while off + 4 <= len(data):
        length, tlv_type = unpack(data, off)
        if length < 4 or off + length > len(data):
            return None
        if tlv_type & 0x7FFF == 9:
            return data[off + 4 : off + length]
        off += (length + 3) & ~3
    return None


def _load_scapy_dissector(linktype: int) -> Callable[[bytes], bytes | None] | None:
    """A function from frame bytes to the bytes of its first IP/IPv6 layer, via scapy."""
    import scapy.layers.all  # noqa: F401 - registers every link type scapy knows
    from scapy.config import conf
    from scapy.layers.inet import IP
    from scapy.layers.inet6 import IPv6

    frame_class = conf.l2types.get(linktype)
    if frame_class is None:
        return None

    def first_ip_layer(data: bytes) -> bytes | None:
        try:
            layer = frame_class(data)
        except Exception:  # scapy raises many kinds of errors on hostile bytes
            return None
        while layer is not None and layer.__class__.__name__ != "NoPayload":
            if isinstance(layer, (IP, IPv6)):
                original = getattr(layer, "original", None)
                return bytes(original) if original else None
            layer = layer.payload if layer.payload else None
        return None

    return first_ip_layer
