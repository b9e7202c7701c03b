"""Write many small DHCPv4/DHCPv6 captures, one per case family, for the differential oracle.

Run from the repository root (scapy is in the test extra)::

    python benchmarks/conformance/dhcp.py /work/scratch/diff-dhcp/gen-dhcp
    python ../shared/tools/module_oracle.py dhcp --corpus /work/scratch/diff-dhcp/gen-dhcp --show 20

Every message is built byte by byte (a hostile one is exactly as wrong as meant) and wrapped in
Ethernet/IP/UDP by scapy. The output is deterministic: fixed addresses, a fixed random seed for
the transaction ids and a fixed clock. Without an argument the captures go to a temp directory.
"""

from __future__ import annotations

import random
import socket
import struct
import sys
from collections.abc import Callable, Iterable

from generator_cli import (  # (this folder: first on the path of a script)
    output_folder,
    write_families,
)
from scapy.layers.inet import IP, UDP, fragment
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import GRE, Dot1Q, Ether
from scapy.layers.vxlan import VXLAN
from scapy.packet import Packet

SEED = 4242
START = 1_714_554_000.0  # 2024-05-01 09:00 UTC
COOKIE = b"\x63\x82\x53\x63"
BCAST = "255.255.255.255"
SRV_A, SRV_B, RELAY_IP = "10.1.0.1", "10.1.0.254", "10.9.0.1"
SRV_MAC, SRV_B_MAC, RELAY_MAC = "02:00:00:00:aa:01", "02:00:00:00:bb:01", "02:00:00:00:cc:01"
DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM = range(1, 9)
SOLICIT, ADVERTISE, REQUEST6, CONFIRM, RENEW, REBIND, REPLY, RELEASE6 = range(1, 9)
DECLINE6, RECONFIGURE, INFO_REQ, RELAY_FORW, RELAY_REPL = range(9, 14)

rng = random.Random(SEED)


def mac(n: int) -> str:
    return f"02:00:00:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x}"


def xid() -> int:
    return rng.getrandbits(32)


# ------------------------------------------------------------------ DHCPv4 bytes
def opt(code: int, value: bytes) -> bytes:
    return bytes((code, len(value))) + value


def ip4(text: str) -> bytes:
    return socket.inet_aton(text)


def u32(n: int) -> bytes:
    return struct.pack("!I", n)


def bootp(
    op: int,
    trans: int,
    hw: str | bytes,
    options: bytes | None,
    *,
    htype: int = 1,
    hlen: int | None = None,
    flags: int = 0,
    ciaddr: str = "0.0.0.0",
    yiaddr: str = "0.0.0.0",
    siaddr: str = "0.0.0.0",
    giaddr: str = "0.0.0.0",
    hops: int = 0,
    secs: int = 0,
    sname: bytes = b"",
    file: bytes = b"",
    cookie: bytes = COOKIE,
    end: bool = True,
) -> bytes:
    """A BOOTP/DHCP message; `options` None gives plain BOOTP (no cookie, 64 zero vendor bytes)."""
    raw = bytes.fromhex(hw.replace(":", "")) if isinstance(hw, str) else hw
    head = struct.pack("!BBBBIHH", op, htype, len(raw) if hlen is None else hlen, hops, trans,
                       secs, flags)  # fmt: skip
    head += ip4(ciaddr) + ip4(yiaddr) + ip4(siaddr) + ip4(giaddr) + raw[:16].ljust(16, b"\0")
    head += sname.ljust(64, b"\0")[:64] + file.ljust(128, b"\0")[:128]
    if options is None:
        return head + b"\0" * 64
    return head + cookie + options + (b"\xff" if end else b"")


def mtype(kind: int) -> bytes:
    return opt(53, bytes((kind,)))


def sid(server: str) -> bytes:
    return opt(54, ip4(server))


def lease(seconds: int) -> bytes:
    return opt(51, u32(seconds))


def host(name: bytes) -> bytes:
    return opt(12, name)


PRL = opt(55, bytes((1, 3, 6, 15, 51, 54, 121)))
NET = opt(1, ip4("255.255.255.0")) + opt(3, ip4(SRV_A)) + opt(6, ip4("10.1.0.53"))


def client4(kind: int, trans: int, hw: str, *extra: bytes, **kw) -> bytes:
    return bootp(1, trans, hw, mtype(kind) + b"".join(extra), **kw)


def server4(kind: int, trans: int, hw: str, server: str, yiaddr: str, *extra: bytes, **kw):
    return bootp(2, trans, hw, mtype(kind) + sid(server) + b"".join(extra), yiaddr=yiaddr, **kw)


# ------------------------------------------------------------------ DHCPv6 bytes
def v6opt(code: int, value: bytes) -> bytes:
    return struct.pack("!HH", code, len(value)) + value


def ip6(text: str) -> bytes:
    return socket.inet_pton(socket.AF_INET6, text)


def duid_ll(hw: str) -> bytes:
    return struct.pack("!HH", 3, 1) + bytes.fromhex(hw.replace(":", ""))


def duid_llt(hw: str) -> bytes:
    return struct.pack("!HHI", 1, 1, 700_000_000) + bytes.fromhex(hw.replace(":", ""))


def ia_na(iaid: int, *addresses: tuple[str, int], status: bytes = b"") -> bytes:
    inner = b"".join(v6opt(5, ip6(a) + struct.pack("!II", v // 2, v)) for a, v in addresses)
    return v6opt(3, struct.pack("!III", iaid, 1800, 2880) + inner + status)


def ia_pd(iaid: int, *prefixes: tuple[str, int, int]) -> bytes:
    inner = b"".join(
        v6opt(26, struct.pack("!IIB", v // 2, v, width) + ip6(p)) for p, width, v in prefixes
    )
    return v6opt(25, struct.pack("!III", iaid, 1800, 2880) + inner)


def status(code: int, text: bytes = b"") -> bytes:
    return v6opt(13, struct.pack("!H", code) + text)


def v6msg(kind: int, trans: int, *options: bytes) -> bytes:
    return bytes((kind,)) + (trans & 0xFFFFFF).to_bytes(3, "big") + b"".join(options)


def relay6(kind: int, inner: bytes, link: str, peer: str, *extra: bytes, hops: int = 0) -> bytes:
    return bytes((kind, hops)) + ip6(link) + ip6(peer) + b"".join(extra) + v6opt(9, inner)


def fqdn6(name: str, flags: int = 1) -> bytes:
    wire = b"".join(bytes((len(p),)) + p.encode() for p in name.split(".")) + b"\0"
    return v6opt(39, bytes((flags,)) + wire)


CLIENT_ID = 1
SERVER_ID = 2
ELAPSED = v6opt(8, b"\0\0")
ORO = v6opt(6, struct.pack("!HHH", 23, 24, 39))
RAPID = v6opt(14, b"")


# ------------------------------------------------------------------ frames
class Capture:
    """Frames of one capture, stamped by a clock that moves `gap` seconds per frame."""

    def __init__(self) -> None:
        self.packets: list[Packet] = []
        self.clock = START

    def add(self, pkt: Packet, gap: float = 0.01) -> None:
        self.clock += gap
        pkt.time = self.clock
        self.packets.append(pkt)

    def v4(self, src, dst, payload, *, hw=SRV_MAC, sport=None, dport=None, gap=0.01, wrap=None):
        """A DHCPv4 datagram; client messages go 68 -> 67, server ones 67 -> 68 by default."""
        op = payload[0] if payload else 1
        sport = sport or (68 if op == 1 else 67)
        dport = dport or (67 if op == 1 else 68)
        pkt = IP(src=src, dst=dst, ttl=64, id=len(self.packets)) / UDP(sport=sport, dport=dport)
        pkt = pkt / payload
        self.add(Ether(src=hw, dst="ff:ff:ff:ff:ff:ff") / (wrap(pkt) if wrap else pkt), gap)

    def v6(self, src, dst, payload, *, hw=SRV_MAC, sport=None, dport=None, gap=0.01):
        sport = sport or 546
        dport = dport or 547
        pkt = IPv6(src=src, dst=dst, hlim=1) / UDP(sport=sport, dport=dport) / payload
        self.add(Ether(src=hw, dst="33:33:00:01:00:02") / pkt, gap)


def dora(c: Capture, hw: str, addr: str, *, server=SRV_A, name=b"pc", lease_s=3600,
         trans: int | None = None, client_extra: Iterable[bytes] = (), **kw) -> int:  # fmt: skip
    trans = xid() if trans is None else trans
    extra = (host(name) if name else b"", PRL, *client_extra)
    c.v4("0.0.0.0", BCAST, client4(DISCOVER, trans, hw, *extra, **kw), hw=hw)
    c.v4(server, addr, server4(OFFER, trans, hw, server, addr, lease(lease_s), NET, **kw))
    c.v4(
        "0.0.0.0",
        BCAST,
        client4(REQUEST, trans, hw, *extra, sid(server), opt(50, ip4(addr)), **kw),
        hw=hw,
    )
    c.v4(server, addr, server4(ACK, trans, hw, server, addr, lease(lease_s), NET, **kw))
    return trans


# ------------------------------------------------------------------ DHCPv4 families
def v4_dora(c: Capture) -> None:
    for i in range(6):
        dora(c, mac(0x100 + i), f"10.1.0.{100 + i}", name=f"host-{i}".encode(),
             lease_s=600 * (i + 1), flags=0x8000 if i % 2 else 0)  # fmt: skip
    # a client that sends no host name, a server that names it (RFC 2132 3.14)
    hw, t = mac(0x120), xid()
    c.v4("0.0.0.0", BCAST, client4(DISCOVER, t, hw, PRL), hw=hw)
    c.v4(SRV_A, BCAST, server4(OFFER, t, hw, SRV_A, "10.1.0.120", lease(60), host(b"named")))
    c.v4("0.0.0.0", BCAST, client4(REQUEST, t, hw, sid(SRV_A), opt(50, ip4("10.1.0.120"))), hw=hw)
    c.v4(SRV_A, BCAST, server4(ACK, t, hw, SRV_A, "10.1.0.120", lease(60), host(b"named")))
    # infinite lease, lease 0, and an ACK without server identifier or lease
    dora(c, mac(0x121), "10.1.0.121", lease_s=0xFFFFFFFF)
    dora(c, mac(0x122), "10.1.0.122", lease_s=0)
    hw, t = mac(0x123), xid()
    c.v4("0.0.0.0", BCAST, client4(REQUEST, t, hw, opt(50, ip4("10.1.0.123"))), hw=hw)
    c.v4(SRV_A, BCAST, bootp(2, t, hw, mtype(ACK), yiaddr="10.1.0.123"))


def v4_renew_rebind(c: Capture) -> None:
    hw = mac(0x130)
    dora(c, hw, "10.1.0.130", name=b"renewer")
    for gap in (30.0, 30.0, 200.0):  # renewals unicast from the client's address
        t = xid()
        c.v4("10.1.0.130", SRV_A, client4(REQUEST, t, hw, host(b"renewer"), ciaddr="10.1.0.130"),
             hw=hw, gap=gap)  # fmt: skip
        c.v4(SRV_A, "10.1.0.130", server4(ACK, t, hw, SRV_A, "10.1.0.130", lease(3600),
                                          ciaddr="10.1.0.130"))  # fmt: skip
    # renewal with the same xid as the first one (some clients keep it)
    t = dora(c, mac(0x131), "10.1.0.131")
    c.v4("10.1.0.131", SRV_A, client4(REQUEST, t, mac(0x131), ciaddr="10.1.0.131"), hw=mac(0x131),
         gap=5)  # fmt: skip
    c.v4(SRV_A, "10.1.0.131", server4(ACK, t, mac(0x131), SRV_A, "10.1.0.131", lease(1800)))


def v4_inform_release_decline(c: Capture) -> None:
    hw = mac(0x140)
    t = xid()
    c.v4("10.1.0.140", BCAST, client4(INFORM, t, hw, host(b"desk"), PRL, ciaddr="10.1.0.140"),
         hw=hw)  # fmt: skip
    c.v4(SRV_A, "10.1.0.140", server4(ACK, t, hw, SRV_A, "0.0.0.0", NET, opt(15, b"corp.lan"),
                                      ciaddr="10.1.0.140"))  # fmt: skip
    # INFORM answered by an ACK that (wrongly) carries a lease and a yiaddr
    t = xid()
    c.v4("10.1.0.141", BCAST, client4(INFORM, t, mac(0x141), ciaddr="10.1.0.141"), hw=mac(0x141))
    c.v4(SRV_A, "10.1.0.141", server4(ACK, t, mac(0x141), SRV_A, "10.1.0.141", lease(86400)))
    # RELEASE after a DORA, same xid and new xid
    t = dora(c, mac(0x142), "10.1.0.142", name=b"leaver")
    c.v4("10.1.0.142", SRV_A, client4(RELEASE, t, mac(0x142), sid(SRV_A), ciaddr="10.1.0.142"),
         hw=mac(0x142))  # fmt: skip
    dora(c, mac(0x143), "10.1.0.143")
    c.v4("10.1.0.143", SRV_A, client4(RELEASE, xid(), mac(0x143), sid(SRV_A),
                                      ciaddr="10.1.0.143"), hw=mac(0x143))  # fmt: skip
    # DECLINE (address in use) then a new DISCOVER
    hw, t = mac(0x144), xid()
    dora(c, hw, "10.1.0.144", trans=t)
    c.v4("0.0.0.0", BCAST, client4(DECLINE, t, hw, sid(SRV_A), opt(50, ip4("10.1.0.144"))), hw=hw)
    dora(c, hw, "10.1.0.145")
    # a lone RELEASE with no earlier exchange, and a lone DECLINE
    c.v4("10.1.0.146", SRV_A, client4(RELEASE, xid(), mac(0x146), ciaddr="10.1.0.146"),
         hw=mac(0x146))  # fmt: skip
    c.v4("0.0.0.0", BCAST, client4(DECLINE, xid(), mac(0x147), opt(50, ip4("10.1.0.147"))),
         hw=mac(0x147))  # fmt: skip


def v4_nak(c: Capture) -> None:
    for i in range(3):
        hw, t = mac(0x150 + i), xid()
        c.v4("0.0.0.0", BCAST, client4(REQUEST, t, hw, opt(50, ip4(f"192.168.9.{i}"))), hw=hw)
        c.v4(SRV_A, BCAST, server4(NAK, t, hw, SRV_A, "0.0.0.0", opt(56, b"wrong network")))
        if i == 1:  # then a fresh DORA under the same xid
            c.v4("0.0.0.0", BCAST, client4(DISCOVER, t, hw), hw=hw, gap=1)
            c.v4(SRV_A, BCAST, server4(OFFER, t, hw, SRV_A, "10.1.0.151", lease(100)))
            c.v4("0.0.0.0", BCAST, client4(REQUEST, t, hw, sid(SRV_A),
                                           opt(50, ip4("10.1.0.151"))), hw=hw)  # fmt: skip
            c.v4(SRV_A, BCAST, server4(ACK, t, hw, SRV_A, "10.1.0.151", lease(100)))


def v4_two_servers(c: Capture) -> None:
    for i in range(4):
        hw, t = mac(0x160 + i), xid()
        a, b = f"10.1.0.{160 + i}", f"10.2.0.{160 + i}"
        c.v4("0.0.0.0", BCAST, client4(DISCOVER, t, hw, host(b"two")), hw=hw)
        c.v4(SRV_A, BCAST, server4(OFFER, t, hw, SRV_A, a, lease(100)))
        c.v4(SRV_B, BCAST, server4(OFFER, t, hw, SRV_B, b, lease(200)), hw=SRV_B_MAC)
        chosen, addr, life = (SRV_B, b, 200) if i % 2 else (SRV_A, a, 100)
        c.v4("0.0.0.0", BCAST, client4(REQUEST, t, hw, host(b"two"), sid(chosen),
                                       opt(50, ip4(addr))), hw=hw)  # fmt: skip
        c.v4(chosen, BCAST, server4(ACK, t, hw, chosen, addr, lease(life)))
        if i == 3:  # both servers ACK (a rogue answers every REQUEST)
            other, oaddr = (SRV_A, a) if chosen == SRV_B else (SRV_B, b)
            c.v4(other, BCAST, server4(ACK, t, hw, other, oaddr, lease(999)), hw=SRV_B_MAC)


def v4_retransmit(c: Capture) -> None:
    hw, t = mac(0x170), xid()
    for _ in range(4):
        c.v4("0.0.0.0", BCAST, client4(DISCOVER, t, hw, host(b"slow")), hw=hw, gap=2)
    c.v4(SRV_A, BCAST, server4(OFFER, t, hw, SRV_A, "10.1.0.170", lease(300)))
    for _ in range(2):
        c.v4("0.0.0.0", BCAST, client4(REQUEST, t, hw, host(b"slow"), sid(SRV_A),
                                       opt(50, ip4("10.1.0.170"))), hw=hw, gap=1)  # fmt: skip
    c.v4(SRV_A, BCAST, server4(ACK, t, hw, SRV_A, "10.1.0.170", lease(300)))
    c.v4(SRV_A, BCAST, server4(ACK, t, hw, SRV_A, "10.1.0.170", lease(300)))  # duplicate ACK
    # never answered, long gaps (past any idle timeout)
    hw, t = mac(0x171), xid()
    for gap in (1, 4, 8, 16, 32, 64, 128):
        c.v4("0.0.0.0", BCAST, client4(DISCOVER, t, hw), hw=hw, gap=gap)
    # an ACK that comes 90 s after its REQUEST
    hw, t = mac(0x172), xid()
    c.v4("0.0.0.0", BCAST, client4(REQUEST, t, hw, opt(50, ip4("10.1.0.172"))), hw=hw)
    c.v4(SRV_A, BCAST, server4(ACK, t, hw, SRV_A, "10.1.0.172", lease(50)), gap=90)
    # two clients that picked the same xid
    t = xid()
    for i in range(2):
        dora(c, mac(0x173 + i), f"10.1.0.{173 + i}", trans=t, name=f"twin{i}".encode())


def v4_relayed(c: Capture) -> None:
    agent = opt(
        82,
        opt(1, b"ge-0/0/1.100")
        + opt(2, b"\x00\x06" + bytes.fromhex("0200000099ff"))
        + opt(5, ip4("10.5.0.0"))
        + opt(6, b"sub-42")
        + opt(9, b"\0\0\x0d\xe9\x02\x01\x01"),
    )
    for i in range(3):
        hw, t = mac(0x180 + i), xid()
        addr = f"10.5.0.{10 + i}"
        kw = {"giaddr": RELAY_IP, "hops": 1}
        c.v4(RELAY_IP, SRV_A, client4(DISCOVER, t, hw, host(b"far"), agent, **kw), hw=RELAY_MAC,
             sport=67, dport=67)  # fmt: skip
        c.v4(SRV_A, RELAY_IP, server4(OFFER, t, hw, SRV_A, addr, lease(120), agent, **kw),
             sport=67, dport=67)  # fmt: skip
        c.v4(RELAY_IP, SRV_A, client4(REQUEST, t, hw, host(b"far"), agent, sid(SRV_A),
                                      opt(50, ip4(addr)), **kw), hw=RELAY_MAC, sport=67,
             dport=67)  # fmt: skip
        c.v4(SRV_A, RELAY_IP, server4(ACK, t, hw, SRV_A, addr, lease(120), agent, **kw),
             sport=67, dport=67)  # fmt: skip
        # the relay hands the answer to the client
        c.v4(RELAY_IP, addr, server4(ACK, t, hw, SRV_A, addr, lease(120), **kw), hw=RELAY_MAC)
    # a relay agent option with a sub-option running past it, and one empty
    hw, t = mac(0x18F), xid()
    c.v4(RELAY_IP, SRV_A, client4(DISCOVER, t, hw, opt(82, b"\x01\x09abc"), giaddr=RELAY_IP),
         sport=67, dport=67)  # fmt: skip
    c.v4(RELAY_IP, SRV_A, client4(DISCOVER, xid(), mac(0x18E), opt(82, b""), giaddr=RELAY_IP),
         sport=67, dport=67)  # fmt: skip


def v4_overload(c: Capture) -> None:
    # option 52 = 3: options continue in `file` then `sname` (RFC 2131 4.1)
    for value, name in ((1, b"in-file"), (2, b"in-sname"), (3, b"in-both")):
        hw, t = mac(0x190 + value), xid()
        area = host(name) + lease(777) + b"\xff"
        file = area if value & 1 else b""
        sname = (area if value == 2 else opt(15, b"ovl.lan") + b"\xff") if value & 2 else b""
        c.v4("0.0.0.0", BCAST, bootp(1, t, hw, mtype(DISCOVER) + opt(52, bytes((value,))),
                                     file=file, sname=sname), hw=hw)  # fmt: skip
        c.v4(
            SRV_A,
            BCAST,
            bootp(
                2,
                t,
                hw,
                mtype(ACK) + sid(SRV_A) + opt(52, bytes((value,))),
                yiaddr=f"10.1.0.{190 + value}",
                file=file,
                sname=sname,
            ),
        )
    # the message type itself only in `file`
    hw, t = mac(0x194), xid()
    c.v4(SRV_A, BCAST, bootp(2, t, hw, sid(SRV_A) + opt(52, b"\x01"), yiaddr="10.1.0.194",
                             file=mtype(ACK) + lease(4444) + b"\xff"))  # fmt: skip
    # overload without its flag: a host name in `file` that is not an option area
    c.v4("0.0.0.0", BCAST, bootp(1, xid(), mac(0x195), mtype(DISCOVER), file=host(b"not-opts")),
         hw=mac(0x195))  # fmt: skip
    # overload pointing at empty fields; overload claimed again inside `file`; bad values
    for value, file in ((3, b""), (1, opt(52, b"\x03") + host(b"loop") + b"\xff"), (0, b""),
                        (7, host(b"seven") + b"\xff")):  # fmt: skip
        c.v4(
            "0.0.0.0",
            BCAST,
            bootp(
                1, xid(), mac(0x196 + value), mtype(DISCOVER) + opt(52, bytes((value,))), file=file
            ),
            hw=mac(0x196),
        )


def v4_padding(c: Capture) -> None:
    hw, t = mac(0x1A0), xid()
    padded = b"\0" * 5 + mtype(DISCOVER) + b"\0\0" + host(b"padded") + b"\0" * 20
    c.v4("0.0.0.0", BCAST, bootp(1, t, hw, padded), hw=hw)
    # no end option, nothing after the last option
    c.v4(SRV_A, BCAST, bootp(2, t, hw, mtype(OFFER) + sid(SRV_A) + lease(10), end=False,
                             yiaddr="10.1.0.160"))  # fmt: skip
    # options then End then garbage that looks like options (must be ignored)
    c.v4("0.0.0.0", BCAST, bootp(1, t, hw, mtype(REQUEST) + host(b"padded") + b"\xff" + host(
        b"after-end") + lease(9)), hw=hw)  # fmt: skip
    # trailing pad to 548 bytes after End, and an ACK padded with zeros only (no End)
    ack = bootp(2, t, hw, mtype(ACK) + sid(SRV_A) + lease(10), yiaddr="10.1.0.160")
    c.v4(SRV_A, BCAST, ack + b"\0" * (548 - len(ack)))
    hw2 = mac(0x1A1)
    c.v4("0.0.0.0", BCAST, bootp(1, xid(), hw2, mtype(DISCOVER) + b"\0" * 40, end=False), hw=hw2)
    # option whose length runs past the packet (no End), and a lone option code at the end
    c.v4("0.0.0.0", BCAST, bootp(1, xid(), mac(0x1A2), mtype(DISCOVER) + b"\x0c\x40abc",
                                 end=False), hw=mac(0x1A2))  # fmt: skip
    c.v4("0.0.0.0", BCAST, bootp(1, xid(), mac(0x1A3), mtype(DISCOVER) + b"\x0c", end=False),
         hw=mac(0x1A3))  # fmt: skip


def v4_long_options(c: Capture) -> None:
    # RFC 3396: a host name in three pieces, a lease time in two
    hw, t = mac(0x1B0), xid()
    name = host(b"very-") + host(b"long-") + host(b"name")
    c.v4("0.0.0.0", BCAST, client4(DISCOVER, t, hw, name), hw=hw)
    c.v4(SRV_A, BCAST, server4(ACK, t, hw, SRV_A, "10.1.0.176", opt(51, b"\0\0"),
                               opt(51, b"\x0e\x10")))  # fmt: skip
    # a 300-byte domain search list split into two options
    search = b"".join(bytes((20,)) + bytes([97 + i % 26]) * 20 + b"\x03lan\0" for i in range(11))
    hw, t = mac(0x1B1), xid()
    c.v4(SRV_A, BCAST, server4(ACK, t, hw, SRV_A, "10.1.0.177", lease(3600),
                               opt(119, search[:255]), opt(119, search[255:])))  # fmt: skip
    # the message type twice (not a long option: RFC 2132 says 53 has length 1)
    hw, t = mac(0x1B2), xid()
    c.v4("0.0.0.0", BCAST, client4(DISCOVER, t, hw, mtype(REQUEST)), hw=hw)


def v4_bad_cookie_bootp(c: Capture) -> None:
    hw, t = mac(0x1C0), xid()
    c.v4("0.0.0.0", BCAST, client4(DISCOVER, t, hw, host(b"cookie"), cookie=b"\x63\x82\x53\x64"),
         hw=hw)  # fmt: skip
    c.v4("0.0.0.0", BCAST, client4(DISCOVER, xid(), hw, cookie=b"\0\0\0\0"), hw=hw)
    # BOOTP: request and reply without options (the 64-byte vendor area all zeros)
    hw, t = mac(0x1C1), xid()
    c.v4("0.0.0.0", BCAST, bootp(1, t, hw, None), hw=hw)
    c.v4(SRV_A, BCAST, bootp(2, t, hw, None, yiaddr="10.1.0.193", siaddr=SRV_A,
                             file=b"pxelinux.0"))  # fmt: skip
    # BOOTP with the cookie and only End (RFC 1497 vendor extensions, no DHCP type)
    hw, t = mac(0x1C2), xid()
    c.v4("0.0.0.0", BCAST, bootp(1, t, hw, b""), hw=hw)
    c.v4(SRV_A, BCAST, bootp(2, t, hw, NET, yiaddr="10.1.0.194"))
    # shorter than the BOOTP header, 4 bytes, 1 byte, and the bare header (no cookie)
    for size in (200, 12, 4, 1):
        c.v4("0.0.0.0", BCAST, client4(DISCOVER, xid(), mac(0x1C3), host(b"x"))[:size],
             hw=mac(0x1C3))  # fmt: skip
    c.v4("0.0.0.0", BCAST, client4(DISCOVER, xid(), mac(0x1C4))[:236], hw=mac(0x1C4))


def v4_client_ids(c: Capture) -> None:
    # client identifier naming another MAC than chaddr
    hw, t = mac(0x1D0), xid()
    cid = opt(61, b"\x01" + bytes.fromhex(mac(0x1DF).replace(":", "")))
    c.v4("0.0.0.0", BCAST, client4(DISCOVER, t, hw, cid), hw=hw)
    c.v4(SRV_A, BCAST, server4(OFFER, t, hw, SRV_A, "10.1.0.208", lease(60), cid))
    # a DUID client id (RFC 4361), chaddr of 16 bytes for InfiniBand (htype 32, hlen 0)
    hw, t = mac(0x1D1), xid()
    cid = opt(61, b"\xff\0\0\0\1" + duid_ll(hw))
    c.v4("0.0.0.0", BCAST, client4(DISCOVER, t, hw, cid), hw=hw)
    c.v4("0.0.0.0", BCAST, client4(DISCOVER, xid(), b"", cid, htype=32, hlen=0), hw=hw)
    c.v4("0.0.0.0", BCAST, client4(DISCOVER, xid(), bytes(range(16)), htype=32, hlen=16), hw=hw)
    # IEEE 802 (htype 6), hlen over 16, hlen 6 with htype 0
    c.v4("0.0.0.0", BCAST, client4(DISCOVER, xid(), mac(0x1D2), htype=6), hw=hw)
    c.v4("0.0.0.0", BCAST, client4(DISCOVER, xid(), mac(0x1D3), hlen=20), hw=hw)
    c.v4("0.0.0.0", BCAST, client4(DISCOVER, xid(), mac(0x1D4), htype=0), hw=hw)
    # chaddr with bytes after the hardware address (hlen 6, junk in the padding)
    c.v4("0.0.0.0", BCAST, client4(DISCOVER, xid(), bytes.fromhex("0200000001d5") + b"junk",
                                   hlen=6), hw=hw)  # fmt: skip
    # xid 0 and 0xffffffff
    dora(c, mac(0x1D6), "10.1.0.214", trans=0)
    dora(c, mac(0x1D7), "10.1.0.215", trans=0xFFFFFFFF)


def v4_odd_values(c: Capture) -> None:
    hw, t = mac(0x1E0), xid()
    # host names: trailing NUL, embedded NUL, UTF-8, empty, 255 bytes
    for name in (b"nul\0", b"em\0bed", "caf\u00e9".encode(), b"", b"h" * 255, b"\xff\xfe"):
        c.v4("0.0.0.0", BCAST, client4(DISCOVER, xid(), hw, host(name)), hw=hw)
    # lease time of the wrong length, message type of length 0 and 2, unknown message type
    c.v4(SRV_A, BCAST, server4(ACK, t, hw, SRV_A, "10.1.0.224", opt(51, b"\0\0\1")))
    c.v4("0.0.0.0", BCAST, bootp(1, xid(), hw, opt(53, b"")), hw=hw)
    c.v4("0.0.0.0", BCAST, bootp(1, xid(), hw, opt(53, b"\x01\x03")), hw=hw)
    c.v4("0.0.0.0", BCAST, bootp(1, xid(), hw, opt(53, b"\x63")), hw=hw)
    # leasequery family and FORCERENEW (RFC 4388, 3203)
    t = xid()
    c.v4(RELAY_IP, SRV_A, bootp(1, t, b"", mtype(10), ciaddr="10.1.0.100", giaddr=RELAY_IP,
                                hlen=0), sport=67, dport=67)  # fmt: skip
    c.v4(
        SRV_A,
        RELAY_IP,
        bootp(
            2,
            t,
            mac(0x100),
            mtype(13) + sid(SRV_A) + lease(500),
            ciaddr="10.1.0.100",
            giaddr=RELAY_IP,
        ),
        sport=67,
        dport=67,
    )
    c.v4(SRV_A, "10.1.0.100", bootp(2, xid(), mac(0x100), mtype(9) + sid(SRV_A)))
    # a BOOTREPLY whose type says DISCOVER, a BOOTREQUEST whose type says ACK
    c.v4(SRV_A, BCAST, bootp(2, xid(), hw, mtype(DISCOVER)))
    c.v4("0.0.0.0", BCAST, bootp(1, xid(), hw, mtype(ACK) + lease(5), yiaddr="10.1.0.225"), hw=hw)
    # server to server port 67 -> 67 and client to client 68 -> 68, port 67 <- 1067
    c.v4(SRV_A, SRV_B, client4(DISCOVER, xid(), hw), sport=67, dport=67)
    c.v4("10.1.0.9", "10.1.0.10", client4(DISCOVER, xid(), hw), sport=68, dport=68)
    c.v4("10.1.0.9", SRV_A, client4(INFORM, xid(), hw, ciaddr="10.1.0.9"), sport=1067, dport=67)


def v4_wrapped(c: Capture) -> None:
    """DHCP inside VLANs, QinQ, GRE and VXLAN, and a fragmented DHCP datagram."""
    wraps: list[Callable[[Packet], Packet]] = [
        lambda p: p,
        lambda p: IP(src="192.0.2.1", dst="192.0.2.2") / GRE() / p,
        lambda p: (
            IP(src="192.0.2.1", dst="192.0.2.2")
            / UDP(sport=4000, dport=4789)
            / VXLAN(vni=7)
            / Ether(src=SRV_MAC, dst="ff:ff:ff:ff:ff:ff")
            / p
        ),
    ]
    for i, wrap in enumerate(wraps):
        dora_wrapped(c, mac(0x1F0 + i), f"10.1.0.{240 + i}", wrap)
    hw, t = mac(0x1F8), xid()
    c.add(Ether(src=hw, dst="ff:ff:ff:ff:ff:ff") / Dot1Q(vlan=5) / Dot1Q(vlan=6) /
          IP(src="0.0.0.0", dst=BCAST) / UDP(sport=68, dport=67) /
          client4(DISCOVER, t, hw, host(b"qinq")))  # fmt: skip
    # a 1400-byte ACK in 3 IPv4 fragments
    hw, t = mac(0x1F9), xid()
    big = server4(ACK, t, hw, SRV_A, "10.1.0.249", lease(321), opt(43, b"v" * 250) * 4)
    pkt = IP(src=SRV_A, dst=BCAST, id=777) / UDP(sport=67, dport=68) / big
    for piece in fragment(pkt, fragsize=480):
        c.add(Ether(src=SRV_MAC, dst="ff:ff:ff:ff:ff:ff") / piece)


def dora_wrapped(c: Capture, hw: str, addr: str, wrap: Callable[[Packet], Packet]) -> None:
    t = xid()
    for kind, src, payload in (
        ("c", "0.0.0.0", client4(DISCOVER, t, hw, host(b"wrapped"))),
        ("s", SRV_A, server4(OFFER, t, hw, SRV_A, addr, lease(42))),
        ("c", "0.0.0.0", client4(REQUEST, t, hw, host(b"wrapped"), sid(SRV_A))),
        ("s", SRV_A, server4(ACK, t, hw, SRV_A, addr, lease(42))),
    ):
        c.v4(src, BCAST, payload, hw=hw if kind == "c" else SRV_MAC, wrap=wrap)


# ------------------------------------------------------------------ DHCPv6 families
def v6_four_message(c: Capture) -> None:
    for i in range(3):
        hw, t = mac(0x600 + i), xid()
        cl, ll = v6opt(CLIENT_ID, duid_llt(hw) if i % 2 else duid_ll(hw)), f"fe80::{i + 1}"
        sv = v6opt(SERVER_ID, duid_ll(SRV_MAC))
        ia = ia_na(i, (f"2001:db8::{0x100 + i:x}", 7200))
        name = fqdn6(f"v6host{i}.lan")
        c.v6(ll, "ff02::1:2", v6msg(SOLICIT, t, cl, ELAPSED, ORO, ia_na(i), name), hw=hw)
        c.v6("fe80::aa", ll, v6msg(ADVERTISE, t, cl, sv, ia, v6opt(7, b"\xff")), sport=547,
             dport=546)  # fmt: skip
        t2 = xid()
        c.v6(ll, "ff02::1:2", v6msg(REQUEST6, t2, cl, sv, ELAPSED, ia, fqdn6(f"v6host{i}.lan")),
             hw=hw)  # fmt: skip
        c.v6(
            "fe80::aa",
            ll,
            v6msg(
                REPLY, t2, cl, sv, ia, fqdn6(f"v6host{i}.lan", 0), v6opt(23, ip6("2001:db8::53"))
            ),
            sport=547,
            dport=546,
        )
        for kind in (RENEW, REBIND, RELEASE6):
            t3 = xid()
            c.v6(ll, "ff02::1:2", v6msg(kind, t3, cl, sv if kind != REBIND else b"", ia), hw=hw,
                 gap=10)  # fmt: skip
            c.v6("fe80::aa", ll, v6msg(REPLY, t3, cl, sv, ia if kind != RELEASE6 else status(0)),
                 sport=547, dport=546)  # fmt: skip


def v6_rapid_info(c: Capture) -> None:
    hw, t = mac(0x610), xid()
    cl, sv = v6opt(CLIENT_ID, duid_ll(hw)), v6opt(SERVER_ID, duid_ll(SRV_MAC))
    c.v6("fe80::10", "ff02::1:2", v6msg(SOLICIT, t, cl, RAPID, ia_na(9)), hw=hw)
    c.v6("fe80::aa", "fe80::10", v6msg(REPLY, t, cl, sv, RAPID, ia_na(9, ("2001:db8::10", 300))),
         sport=547, dport=546)  # fmt: skip
    t = xid()
    c.v6("fe80::11", "ff02::1:2", v6msg(INFO_REQ, t, v6opt(CLIENT_ID, duid_ll(mac(0x611))), ORO),
         hw=mac(0x611))  # fmt: skip
    c.v6("fe80::aa", "fe80::11", v6msg(REPLY, t, sv, v6opt(23, ip6("2001:db8::53") * 2),
                                       v6opt(24, b"\x04corp\x03lan\0"), v6opt(32, u32(86400))),
         sport=547, dport=546)  # fmt: skip
    # INFORMATION-REQUEST without a client id (allowed), CONFIRM, DECLINE, RECONFIGURE
    t = xid()
    c.v6("fe80::12", "ff02::1:2", v6msg(INFO_REQ, t, ELAPSED), hw=mac(0x612))
    c.v6("fe80::aa", "fe80::12", v6msg(REPLY, t, sv), sport=547, dport=546)
    cl = v6opt(CLIENT_ID, duid_ll(mac(0x613)))
    t = xid()
    c.v6("fe80::13", "ff02::1:2", v6msg(CONFIRM, t, cl, ia_na(1, ("2001:db8::13", 0))))
    c.v6("fe80::aa", "fe80::13", v6msg(REPLY, t, cl, sv, status(4, b"not on link")), sport=547,
         dport=546)  # fmt: skip
    c.v6("fe80::13", "ff02::1:2", v6msg(DECLINE6, xid(), cl, sv, ia_na(1, ("2001:db8::13", 0))))
    c.v6("fe80::aa", "fe80::13", v6msg(RECONFIGURE, 0, cl, sv, v6opt(19, b"\x05")), sport=547,
         dport=546)  # fmt: skip
    # ADVERTISE with NoAddrsAvail, a REPLY with status in the IA
    t = xid()
    cl = v6opt(CLIENT_ID, duid_ll(mac(0x614)))
    c.v6("fe80::14", "ff02::1:2", v6msg(SOLICIT, t, cl, ia_na(2)))
    c.v6("fe80::aa", "fe80::14", v6msg(ADVERTISE, t, cl, sv, status(2, b"none left")), sport=547,
         dport=546)  # fmt: skip


def v6_prefix_delegation(c: Capture) -> None:
    hw, t = mac(0x620), xid()
    cl, sv = v6opt(CLIENT_ID, duid_llt(hw)), v6opt(SERVER_ID, duid_ll(SRV_MAC))
    pd = ia_pd(1, ("2001:db8:100::", 56, 86400), ("2001:db8:200::", 60, 3600))
    both = ia_na(1, ("2001:db8::620", 1000), ("2001:db8::621", 2000)) + pd
    c.v6("fe80::20", "ff02::1:2", v6msg(SOLICIT, t, cl, ia_na(1), ia_pd(1)), hw=hw)
    c.v6("fe80::aa", "fe80::20", v6msg(ADVERTISE, t, cl, sv, both), sport=547, dport=546)
    t = xid()
    c.v6("fe80::20", "ff02::1:2", v6msg(REQUEST6, t, cl, sv, both), hw=hw)
    c.v6("fe80::aa", "fe80::20", v6msg(REPLY, t, cl, sv, both), sport=547, dport=546)
    # prefix delegation only
    t = xid()
    c.v6("fe80::21", "ff02::1:2", v6msg(SOLICIT, t, cl, RAPID, ia_pd(2)), hw=hw)
    c.v6("fe80::aa", "fe80::21", v6msg(REPLY, t, cl, sv, RAPID, pd), sport=547, dport=546)


def v6_relays(c: Capture) -> None:
    hw, t = mac(0x630), xid()
    cl, sv = v6opt(CLIENT_ID, duid_ll(hw)), v6opt(SERVER_ID, duid_ll(SRV_MAC))
    iface = v6opt(18, b"eth1/7")
    rid = v6opt(37, u32(3561) + b"remote-7")
    sol = v6msg(SOLICIT, t, cl, ia_na(3))
    adv = v6msg(ADVERTISE, t, cl, sv, ia_na(3, ("2001:db8:7::30", 500)))
    one = relay6(RELAY_FORW, sol, "2001:db8:7::1", "fe80::30", iface, rid)
    two = relay6(RELAY_FORW, one, "2001:db8:8::1", "2001:db8:7::1", hops=1)
    c.v6("2001:db8:7::1", "2001:db8::547", one, sport=547, dport=547)
    c.v6("2001:db8:7::1", "2001:db8::547", two, sport=547, dport=547)
    back1 = relay6(RELAY_REPL, adv, "2001:db8:7::1", "fe80::30", iface)
    back2 = relay6(RELAY_REPL, back1, "2001:db8:8::1", "2001:db8:7::1", hops=1)
    c.v6("2001:db8::547", "2001:db8:7::1", back2, sport=547, dport=547)
    c.v6("2001:db8::547", "2001:db8:7::1", back1, sport=547, dport=547)
    c.v6("fe80::1", "fe80::30", adv, sport=547, dport=546)
    # relayed INFORMATION-REQUEST, a relay without a relay message, nested 12 deep
    info = v6msg(INFO_REQ, xid(), v6opt(CLIENT_ID, duid_ll(mac(0x631))))
    c.v6("2001:db8:7::1", "2001:db8::547", relay6(RELAY_FORW, info, "::", "fe80::31"),
         sport=547, dport=547)  # fmt: skip
    c.v6("2001:db8:7::1", "2001:db8::547", bytes((RELAY_FORW, 0)) + ip6("::") + ip6("fe80::32")
         + iface, sport=547, dport=547)  # fmt: skip
    deep = v6msg(SOLICIT, xid(), v6opt(CLIENT_ID, duid_ll(mac(0x633))))
    for hop in range(12):
        deep = relay6(RELAY_FORW, deep, f"2001:db8:{hop}::1", "fe80::33", hops=hop)
    c.v6("2001:db8:7::1", "2001:db8::547", deep, sport=547, dport=547)


def v6_hostile(c: Capture) -> None:
    cl = v6opt(CLIENT_ID, duid_ll(mac(0x640)))
    c.v6("fe80::40", "ff02::1:2", v6msg(SOLICIT, xid(), cl, b"\0\x03\0\x40abc"))  # past the end
    c.v6("fe80::40", "ff02::1:2", v6msg(SOLICIT, xid(), cl, b"\0"))  # half an option header
    c.v6("fe80::40", "ff02::1:2", v6msg(SOLICIT, xid(), cl, v6opt(3, b"\0\0")))  # short IA_NA
    c.v6("fe80::40", "ff02::1:2", b"\x01\x00")  # shorter than the header
    c.v6("fe80::40", "ff02::1:2", v6msg(99, xid(), cl))  # unknown type
    c.v6("fe80::40", "ff02::1:2", v6msg(SOLICIT, xid(), cl, v6opt(39, b"\x01\x3fabc")))  # bad FQDN
    c.v6("fe80::40", "ff02::1:2", v6msg(SOLICIT, xid(), cl, v6opt(8, b"\0")))  # bad elapsed time
    c.v6("fe80::40", "ff02::1:2", relay6(RELAY_FORW, b"\x01", "::", "fe80::40"), sport=547,
         dport=547)  # fmt: skip


def v4_pxe_and_4o6(c: Capture) -> None:
    """PXE boot server requests on UDP 4011 and DHCPv4 over DHCPv6 (RFC 7341)."""
    hw, t = mac(0x1FA), xid()
    pxe = opt(60, b"PXEClient:Arch:00000:UNDI:002001") + opt(93, b"\0\0")
    c.v4("10.1.0.250", SRV_B, client4(REQUEST, t, hw, pxe, ciaddr="10.1.0.250"), hw=hw,
         sport=68, dport=4011)  # fmt: skip
    c.v4(SRV_B, "10.1.0.250", server4(ACK, t, hw, SRV_B, "0.0.0.0", pxe, file=b"boot.efi"),
         sport=4011, dport=68)  # fmt: skip
    c.v4("10.1.0.250", SRV_B, client4(REQUEST, xid(), hw, pxe, ciaddr="10.1.0.250"), hw=hw,
         sport=4011, dport=4011)  # fmt: skip
    # DHCPV4-QUERY (20) / DHCPV4-RESPONSE (21): a DHCPv4 message in option 87
    hw, t = mac(0x1FB), xid()
    query = v6msg(20, 0, v6opt(87, client4(DISCOVER, t, hw, host(b"four-over-six"))))
    answer = v6msg(21, 0, v6opt(87, server4(OFFER, t, hw, SRV_A, "10.1.0.251", lease(60))))
    c.v6("fe80::fb", "ff02::1:2", query, hw=hw)
    c.v6("fe80::aa", "fe80::fb", answer, sport=547, dport=546)


def v4_ports_by_chance(c: Capture) -> None:
    """Other protocols whose ephemeral port happens to be a DHCP port, and empty datagrams."""
    dns = bytes.fromhex("12340100000100000000000003777777076578616d706c6503636f6d0000010001")
    c.v4("10.1.0.9", "10.1.0.53", dns, sport=68, dport=53)
    c.v4("10.1.0.9", "10.1.0.53", dns, sport=67, dport=53)
    c.v6("2001:db8::9", "2001:db8::53", dns, sport=547, dport=53)
    c.v6("2001:db8::9", "2001:db8::123", b"\x23" + bytes(47), sport=546, dport=123)
    c.v4("0.0.0.0", BCAST, b"", sport=68, dport=67)
    c.v6("fe80::9", "ff02::1:2", b"", sport=546, dport=547)


FAMILIES: dict[str, Callable[[Capture], None]] = {
    "v4-dora": v4_dora, "v4-renew-rebind": v4_renew_rebind,
    "v4-inform-release-decline": v4_inform_release_decline, "v4-nak": v4_nak,
    "v4-two-servers": v4_two_servers, "v4-retransmit": v4_retransmit, "v4-relayed": v4_relayed,
    "v4-overload": v4_overload, "v4-padding": v4_padding, "v4-long-options": v4_long_options,
    "v4-bad-cookie-bootp": v4_bad_cookie_bootp, "v4-client-ids": v4_client_ids,
    "v4-odd-values": v4_odd_values, "v4-wrapped": v4_wrapped, "v6-four-message": v6_four_message,
    "v6-rapid-info": v6_rapid_info, "v6-prefix-delegation": v6_prefix_delegation,
    "v6-relays": v6_relays, "v6-hostile": v6_hostile, "v4-pxe-and-4o6": v4_pxe_and_4o6,
    "v4-ports-by-chance": v4_ports_by_chance,
}  # fmt: skip


def main() -> int:
    out = output_folder("dhcp", __doc__.splitlines()[0])
    write_families(out, "dhcp", FAMILIES, Capture)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
