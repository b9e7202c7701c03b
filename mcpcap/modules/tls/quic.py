"""QUIC Initial packets (RFC 9000, 9001; RFC 9369 for version 2): protection removed, CRYPTO read.

Every observer can derive the Initial keys from the client's first Destination Connection ID
(RFC 9001 section 5.2). HKDF and AES come from the `cryptography` package: HKDF-Extract is an
HMAC, HKDF-Expand-Label is `HKDFExpand` with TLS 1.3's label structure, header protection is
AES-ECB of a sample, the payload is AES-128-GCM.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from mcpcap.core.modules.contract import PayloadSignature
from mcpcap.modules.tls.wire import Malformed

V1, V2, DRAFT29 = 0x00000001, 0x6B3343CF, 0xFF00001D


@dataclass(frozen=True)
class Version:
    salt: bytes
    label_prefix: str  # "quic " (v1) or "quicv2 " (v2)
    initial_type: int  # the long-header packet type bits of an Initial


VERSIONS = {
    V1: Version(bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a"), "quic ", 0),
    V2: Version(bytes.fromhex("0dede3def700a6db819381be6e269dcbf9bd2ed9"), "quicv2 ", 1),
    DRAFT29: Version(bytes.fromhex("afbfec289993d24c9e9786f19c6111e04390a899"), "quic ", 0),
}
FRAME_PADDING, FRAME_PING, FRAME_ACK, FRAME_ACK_ECN, FRAME_CRYPTO = 0, 1, 2, 3, 6
FRAME_CLOSE, FRAME_CLOSE_APP = 0x1C, 0x1D
# `crypto_frames`' last entry when the packet closed the connection: (CLOSED, the transport
# error code as 8 bytes); codes 0x100-0x1ff are a TLS alert (RFC 9001 section 4.8)
CLOSED = -1
CRYPTO_ERRORS = range(0x100, 0x200)
MAX_CID = 20


def _initial_signature(version: int, info: Version) -> PayloadSignature:
    """A long-header Initial packet of `version`: its first byte's form, fixed and type bits,
    then the version (what `is_initial` tests, as data the scan tests without a call)."""
    first = 0xC0 | info.initial_type << 4
    number = enumerate(version.to_bytes(4, "big"), start=1)
    return PayloadSignature(7, ((0, 0xF0, first), *((at, 0xFF, byte) for at, byte in number)))


INITIAL_SIGNATURES = tuple(_initial_signature(v, info) for v, info in VERSIONS.items())


def is_initial(payload: bytes) -> bool:
    """A long-header Initial packet of a version we can decrypt (cheap: every datagram asks)."""
    if len(payload) < 7 or payload[0] & 0xC0 != 0xC0:
        return False
    version = VERSIONS.get(int.from_bytes(payload[1:5], "big"))
    return version is not None and (payload[0] >> 4) & 3 == version.initial_type


SHA256 = hashes.SHA256()
_ECB = modes.ECB()  # (a mode object holds no state: one serves every cipher)


@lru_cache(maxsize=64)
def _label_info(label: str, length: int) -> bytes:
    """HKDF-Expand-Label's `info` (RFC 8446 section 7.1), made once per label."""
    full = b"tls13 " + label.encode()
    return length.to_bytes(2, "big") + bytes([len(full)]) + full + b"\x00"


def hkdf_expand_label(secret: bytes, label: str, length: int) -> bytes:
    return HKDFExpand(SHA256, length, _label_info(label, length)).derive(secret)


def hkdf_extract(salt: bytes, key_material: bytes) -> bytes:
    mac = hmac.HMAC(salt, SHA256)
    mac.update(key_material)
    return mac.finalize()


class Keys:
    """One side's Initial keys, with the cipher objects made from them once: a connection's
    packets reuse them (header protection is AES-ECB of independent blocks, so one encryptor
    serves every sample; the lock keeps scans in other threads off it meanwhile)."""

    __slots__ = ("_ecb", "_lock", "aead", "hp", "iv", "iv_number", "key")

    def __init__(self, key: bytes, iv: bytes, hp: bytes) -> None:
        self.key, self.iv, self.hp = key, iv, hp
        self.iv_number = int.from_bytes(iv, "big")
        self.aead = AESGCM(key)
        self._ecb = Cipher(algorithms.AES(hp), _ECB).encryptor()
        self._lock = threading.Lock()

    def mask(self, sample: bytes) -> bytes:
        """The header-protection mask of a 16-byte sample."""
        with self._lock:
            return self._ecb.update(sample)


# each holds two cipher contexts, about 3.7 KB of OpenSSL's memory (2048 of them were 7.5 MiB
# in every process decoding QUIC); a connection needs them briefly, for its first packets
@lru_cache(maxsize=256)
def initial_keys(version: int, dcid: bytes, server: bool) -> Keys:
    """The client's (or server's) Initial keys for a connection whose client chose `dcid`."""
    secret = hkdf_expand_label(
        _initial_secret(version, dcid), "server in" if server else "client in", 32
    )
    prefix = VERSIONS[version].label_prefix
    return Keys(
        hkdf_expand_label(secret, prefix + "key", 16),
        hkdf_expand_label(secret, prefix + "iv", 12),
        hkdf_expand_label(secret, prefix + "hp", 16),
    )


@lru_cache(maxsize=256)
def _initial_secret(version: int, dcid: bytes) -> bytes:
    """HKDF-Extract of the DCID: both sides' keys expand from it (RFC 9001 section 5.2), so a
    connection whose two sides are opened pays for it once."""
    return hkdf_extract(VERSIONS[version].salt, dcid)


def varint(data: bytes, pos: int) -> tuple[int, int]:
    """A QUIC variable-length integer at `pos`: (value, position after it)."""
    if pos >= len(data):
        raise Malformed("QUIC packet truncated", "quic_truncated")
    first = data[pos]
    size = 1 << (first >> 6)
    if pos + size > len(data):
        raise Malformed("QUIC packet truncated", "quic_truncated")
    value = first & 0x3F
    for byte in data[pos + 1 : pos + size]:
        value = value << 8 | byte
    return value, pos + size


@dataclass
class LongHeader:
    """One long-header packet of a datagram, protected: where its parts lie."""

    start: int  # where the packet starts in the datagram
    version: int
    initial: bool
    dcid: bytes
    scid: bytes
    pn_offset: int  # where the (protected) packet number starts
    end: int  # where the packet ends in the datagram (the next may be coalesced after it)


def long_headers(datagram: bytes) -> list[LongHeader]:
    """The long-header packets coalesced in a datagram (a short-header packet ends the list)."""
    out = []
    pos = 0
    while pos < len(datagram) and datagram[pos] & 0x80:
        header = _long_header(datagram, pos)
        if header is None:
            break
        out.append(header)
        pos = header.end
    return out


def _long_header(data: bytes, start: int) -> LongHeader | None:
    if start + 7 > len(data):
        raise Malformed("QUIC packet truncated", "quic_truncated")
    version = int.from_bytes(data[start + 1 : start + 5], "big")
    info = VERSIONS.get(version)
    if info is None:
        return None  # version negotiation, or a version we cannot read
    pos = start + 5
    dcid, pos = _cid(data, pos)
    scid, pos = _cid(data, pos)
    kind = (data[start] >> 4) & 3
    initial = kind == info.initial_type
    if initial:
        token_length, pos = varint(data, pos)
        pos += token_length
    elif kind == (info.initial_type + 3) % 4:  # Retry: no length, the rest of the datagram
        return LongHeader(start, version, False, dcid, scid, len(data), len(data))
    length, pos = varint(data, pos)
    end = pos + length
    if end > len(data):
        raise Malformed("QUIC packet length beyond its datagram", "quic_truncated")
    return LongHeader(start, version, initial, dcid, scid, pos, end)


def _cid(data: bytes, pos: int) -> tuple[bytes, int]:
    if pos >= len(data):
        raise Malformed("QUIC packet truncated", "quic_truncated")
    n = data[pos]
    if n > MAX_CID or pos + 1 + n > len(data):
        raise Malformed("QUIC connection id too long", "quic_bad_header")
    return data[pos + 1 : pos + 1 + n], pos + 1 + n


def decrypt(
    datagram: bytes, header: LongHeader, keys: Keys, largest: int = -1
) -> tuple[int, bytes]:
    """(packet number, plaintext payload) of one protected packet; `Malformed` when it fails."""
    number, _, plain = open_packet(datagram, header, keys, largest)
    return number, plain


def open_packet(
    datagram: bytes, header: LongHeader, keys: Keys, largest: int = -1
) -> tuple[int, int, bytes]:
    """`decrypt`, with the bits the packet number was sent in (the second item)."""
    pn_at, start = header.pn_offset, header.start
    sample_at = pn_at + 4
    if sample_at + 16 > header.end:
        raise Malformed("QUIC packet too short to sample", "quic_truncated")
    mask = keys.mask(datagram[sample_at : sample_at + 16])
    first = datagram[start] ^ (mask[0] & 0x0F)
    pn_length = (first & 3) + 1
    protected = datagram[pn_at : pn_at + pn_length]
    pn_bytes = bytes(b ^ m for b, m in zip(protected, mask[1 : 1 + pn_length], strict=True))
    aad = bytes([first]) + datagram[start + 1 : pn_at] + pn_bytes
    number = decode_packet_number(largest, int.from_bytes(pn_bytes, "big"), pn_length * 8)
    nonce = (keys.iv_number ^ number).to_bytes(12, "big")
    try:
        plain = keys.aead.decrypt(nonce, datagram[pn_at + pn_length : header.end], aad)
    except InvalidTag:
        raise Malformed("QUIC Initial does not decrypt", "quic_undecryptable") from None
    return number, pn_length * 8, plain


def decode_packet_number(largest: int, truncated: int, bits: int) -> int:
    """RFC 9000 appendix A.3: the full packet number nearest the one expected."""
    expected = largest + 1
    window = 1 << bits
    half = window // 2
    candidate = (expected & ~(window - 1)) | truncated
    if candidate <= expected - half and candidate < (1 << 62) - window:
        return candidate + window
    if candidate > expected + half and candidate >= window:
        return candidate - window
    return candidate


def crypto_frames(plain: bytes) -> list[tuple[int, bytes]]:
    """The (offset, data) of every CRYPTO frame in an Initial's payload, and (CLOSED, code)
    after them when a CONNECTION_CLOSE of a transport error ends it.

    Initial packets carry only PADDING, PING, ACK, CRYPTO and CONNECTION_CLOSE frames
    (RFC 9000 section 12.4); anything else is `Malformed`.
    """
    out = []
    pos = 0
    end = len(plain)
    while pos < end:
        kind, pos = varint(plain, pos)
        if kind == FRAME_PADDING:  # a run of them, skipped at C speed
            pos = _after_padding(plain, pos)
        elif kind == FRAME_PING:
            continue
        elif kind in (FRAME_ACK, FRAME_ACK_ECN):
            pos = _skip_ack(plain, pos, kind == FRAME_ACK_ECN)
        elif kind == FRAME_CRYPTO:
            offset, pos = varint(plain, pos)
            length, pos = varint(plain, pos)
            if pos + length > end:
                raise Malformed("QUIC CRYPTO frame beyond its packet", "quic_bad_frame")
            out.append((offset, plain[pos : pos + length]))
            pos += length
        elif kind == FRAME_CLOSE:
            code, pos = varint(plain, pos)
            out.append((CLOSED, code.to_bytes(8, "big")))
            break
        elif kind == FRAME_CLOSE_APP:
            break
        else:
            raise Malformed(f"QUIC frame type 0x{kind:x} in an Initial", "quic_bad_frame")
    return out


def _after_padding(plain: bytes, pos: int) -> int:
    """Where the run of zero bytes (PADDING frames) at `pos` ends. Padding most often fills
    the packet to its end, which counting the zeros left tells without copying them."""
    end = len(plain)
    if plain.count(0, pos) == end - pos:
        return end
    return end - len(plain[pos:].lstrip(b"\x00"))


def _skip_ack(plain: bytes, pos: int, ecn: bool) -> int:
    _, pos = varint(plain, pos)  # largest acknowledged
    _, pos = varint(plain, pos)  # delay
    count, pos = varint(plain, pos)
    _, pos = varint(plain, pos)  # first range
    for _ in range(min(count, len(plain))):
        _, pos = varint(plain, pos)
        _, pos = varint(plain, pos)
    for _ in range(3 if ecn else 0):
        _, pos = varint(plain, pos)
    return pos


class CryptoStream:
    """CRYPTO data of one direction put back in order (frames may come in any order, repeated).

    `add` returns the bytes that became contiguous; what waits beyond a hole is bounded.
    """

    __slots__ = ("delivered", "pending", "pending_bytes")

    MAX_PENDING = 64 * 1024

    def __init__(self) -> None:
        self.delivered = 0
        self.pending: dict[int, bytes] = {}
        self.pending_bytes = 0

    def add(self, offset: int, data: bytes) -> bytes:
        end = offset + len(data)
        if end <= self.delivered or not data:
            return b""
        if offset > self.delivered:
            if self.pending_bytes + len(data) > self.MAX_PENDING:
                raise Malformed(
                    "QUIC CRYPTO data beyond a hole over its bound", "quic_crypto_overflow"
                )
            if len(data) > len(self.pending.get(offset, b"")):
                self.pending_bytes += len(data) - len(self.pending.get(offset, b""))
                self.pending[offset] = data
            return b""
        out = [data[self.delivered - offset :]]
        self.delivered = end
        while self.pending:
            ready = [o for o in self.pending if o <= self.delivered]
            if not ready:
                break
            for o in sorted(ready):
                chunk = self.pending.pop(o)
                self.pending_bytes -= len(chunk)
                if o + len(chunk) > self.delivered:
                    out.append(chunk[self.delivered - o :])
                    self.delivered = o + len(chunk)
        return b"".join(out)
