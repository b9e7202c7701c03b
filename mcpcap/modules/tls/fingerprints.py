"""Client fingerprints: FoxIO's JA4 (and its raw form JA4_r), JA3 and JA3S.

JA4 follows FoxIO's specification (technical_details/JA4.md in FoxIO-LLC/ja4, BSD-licensed):
GREASE is ignored everywhere; the version is the highest supported_versions entry, else the
ClientHello's version; ciphers and extensions are counted (two digits, at most 99) and hashed
sorted, SNI (0000) and ALPN (0010) left out of the extension hash; signature algorithms follow
in their original order. JA3/JA3S are Salesforce's MD5 fingerprints, kept for threat feeds.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from mcpcap.modules.tls.names import is_grease
from mcpcap.modules.tls.wire import EXT_ALPN, EXT_SNI, ClientHello, ServerHello

JA4_VERSIONS = {
    0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3", 0x0002: "s2",
    0xFEFF: "d1", 0xFEFD: "d2", 0xFEFC: "d3",
}  # fmt: skip
EMPTY_HASH = "000000000000"


def _hex(values: list[int]) -> str:
    return ",".join(f"{value:04x}" for value in values)


def _hash12(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _alpn_chars(alpn: list[bytes]) -> str:
    """First and last characters of the first ALPN value; its hex digits when not alphanumeric."""
    if not alpn or not alpn[0]:
        return "00"
    raw = alpn[0]
    first, last = raw[0], raw[-1]
    if _alnum(first) and _alnum(last):
        return chr(first) + chr(last)
    text = raw.hex()
    return text[0] + text[-1]


def _alnum(byte: int) -> bool:
    return 0x30 <= byte <= 0x39 or 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A


def _version(hello: ClientHello) -> str:
    versions = [v for v in hello.versions if not is_grease(v)]
    version = max(versions) if versions else hello.legacy_version
    return JA4_VERSIONS.get(version, "00")


def ja4_parts(hello: ClientHello, quic: bool) -> tuple[str, list[int], list[int], list[int]]:
    """JA4_a, the sorted ciphers, the sorted extensions (SNI/ALPN out), the signature algorithms."""
    ciphers = [c for c in hello.ciphers if not is_grease(c)]
    extensions = [e for e in hello.extensions if not is_grease(e)]
    a = (
        ("q" if quic else "t")
        + _version(hello)
        + ("d" if hello.has_sni else "i")
        + f"{min(len(ciphers), 99):02d}"
        + f"{min(len(extensions), 99):02d}"
        + _alpn_chars(hello.alpn_raw)
    )
    hashed_extensions = sorted(e for e in extensions if e not in (EXT_SNI, EXT_ALPN))
    sig_algs = [s for s in hello.sig_algs if not is_grease(s)]
    return a, sorted(ciphers), hashed_extensions, sig_algs


def ja4(hello: ClientHello, quic: bool = False) -> tuple[str, str]:
    """(ja4, ja4_r) of a ClientHello (cached: most clients share a handful of fingerprints)."""
    alpn = hello.alpn_raw[0] if hello.alpn_raw else None
    return _ja4(
        quic, tuple(hello.ciphers), tuple(hello.extensions), tuple(hello.versions),
        hello.legacy_version, alpn, tuple(hello.sig_algs),
    )  # fmt: skip


@lru_cache(maxsize=4096)
def _ja4(
    quic: bool,
    ciphers: tuple[int, ...],
    extensions: tuple[int, ...],
    versions: tuple[int, ...],
    legacy_version: int,
    alpn: bytes | None,
    sig_algs: tuple[int, ...],
) -> tuple[str, str]:
    """`ja4` of the only fields it reads."""
    hello = ClientHello(
        legacy_version, b"", list(ciphers), list(extensions), versions=list(versions),
        alpn_raw=[] if alpn is None else [alpn], sig_algs=list(sig_algs),
    )  # fmt: skip
    a, ciphers_sorted, hashed_extensions, sig_algs_kept = ja4_parts(hello, quic)
    b_raw = _hex(ciphers_sorted)
    c_raw = _hex(hashed_extensions)
    if sig_algs_kept:
        c_raw += "_" + _hex(sig_algs_kept)
    b = _hash12(b_raw) if ciphers_sorted else EMPTY_HASH
    c = _hash12(c_raw) if hashed_extensions else EMPTY_HASH
    return f"{a}_{b}_{c}", f"{a}_{b_raw}_{c_raw}"


def _dashed(values: tuple[int, ...]) -> str:
    return "-".join(str(value) for value in values if not is_grease(value))


def ja3(hello: ClientHello) -> str:
    return _ja3(
        hello.legacy_version, tuple(hello.ciphers), tuple(hello.extensions),
        tuple(hello.groups), tuple(hello.point_formats),
    )  # fmt: skip


@lru_cache(maxsize=4096)
def _ja3(
    legacy_version: int,
    ciphers: tuple[int, ...],
    extensions: tuple[int, ...],
    groups: tuple[int, ...],
    point_formats: tuple[int, ...],
) -> str:
    text = ",".join(
        (
            str(legacy_version),
            _dashed(ciphers),
            _dashed(extensions),
            _dashed(groups),
            "-".join(str(p) for p in point_formats),
        )
    )
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def ja3s(hello: ServerHello) -> str:
    return _ja3s(hello.legacy_version, hello.cipher, tuple(hello.extensions))


@lru_cache(maxsize=4096)
def _ja3s(legacy_version: int, cipher: int, extensions: tuple[int, ...]) -> str:
    text = f"{legacy_version},{cipher},{_dashed(extensions)}"
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
