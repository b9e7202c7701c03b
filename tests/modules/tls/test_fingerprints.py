"""JA4 against FoxIO's specification (technical_details/JA4.md, their published examples), JA3."""

from __future__ import annotations

import hashlib

from mcpcap.modules.tls import fingerprints
from mcpcap.modules.tls.wire import ClientHello, ServerHello
from tests.fixtures.make_tls_captures import (
    FOXIO_CIPHERS,
    FOXIO_JA4,
    FOXIO_JA4_R,
    FOXIO_SIG_ALGS,
)

# the spec's extension list, in the order the example's ClientHello sends them
FOXIO_EXTENSIONS = [0x001B, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002D, 0x000D, 0x0005,
                    0x0023, 0x0012, 0x002B, 0xFF01, 0x000B, 0x000A, 0x0015]  # fmt: skip


def spec_hello(**changes) -> ClientHello:
    hello = ClientHello(
        legacy_version=0x0303,
        session_id=b"",
        ciphers=list(FOXIO_CIPHERS),
        extensions=list(FOXIO_EXTENSIONS),
        versions=[0x0304, 0x0303],
        sig_algs=list(FOXIO_SIG_ALGS),
        alpn_raw=[b"h2", b"http/1.1"],
    )
    for name, value in changes.items():
        setattr(hello, name, value)
    return hello


def test_the_specification_example():
    assert fingerprints.ja4(spec_hello()) == (FOXIO_JA4, FOXIO_JA4_R)


def test_grease_is_ignored_everywhere():
    grease = spec_hello(
        ciphers=[0x0A0A, *FOXIO_CIPHERS, 0xFAFA],
        extensions=[0x1A1A, *FOXIO_EXTENSIONS, 0x2A2A],
        versions=[0x3A3A, 0x0304, 0x0303],
        sig_algs=[0x4A4A, *FOXIO_SIG_ALGS],
    )
    assert fingerprints.ja4(grease) == (FOXIO_JA4, FOXIO_JA4_R)


def test_quic_no_sni_and_version_from_the_hello():
    hello = spec_hello(extensions=[e for e in FOXIO_EXTENSIONS if e != 0], versions=[])
    ja4, _ = fingerprints.ja4(hello, quic=True)
    assert ja4.startswith("q12i1515h2_8daaf6152771_")
    # SNI and ALPN are never in the extension hash, so only the count changes
    assert ja4.endswith("_e5627efa2ab1")


def test_without_signature_algorithms_the_string_has_no_underscore():
    """The spec: `0005,000a,...,ff01` (no signature algorithms) hashes to 6d807ffa2a79."""
    ja4, ja4_r = fingerprints.ja4(spec_hello(sig_algs=[]))
    assert ja4.endswith("_6d807ffa2a79")
    assert ja4_r.endswith("4469,ff01")


def test_empty_lists_hash_to_zeros():
    ja4, _ = fingerprints.ja4(spec_hello(ciphers=[], extensions=[], alpn_raw=[], versions=[]))
    assert ja4 == "t12i000000_000000000000_000000000000"


def test_alpn_characters_per_the_specification():
    cases = {
        b"h2": "h2", b"http/1.1": "h1", b"h": "hh", b"\xab": "ab", b"\xab\xcd": "ad",
        b"\x30\xab": "3b", b"\x30\x31\xab\xcd": "3d", b"\x30\xab\xcd\x31": "01",
    }  # fmt: skip
    for alpn, chars in cases.items():
        assert fingerprints.ja4(spec_hello(alpn_raw=[alpn]))[0][8:10] == chars, alpn
    assert fingerprints.ja4(spec_hello(alpn_raw=[b""]))[0][8:10] == "00"


def test_counts_stop_at_99_and_versions_map():
    many = spec_hello(ciphers=list(range(1, 150)), versions=[0x0302])
    assert fingerprints.ja4(many)[0][:10] == "t11d9916h2"
    assert fingerprints.ja4(spec_hello(versions=[0x7F1C]))[0][1:3] == "00"
    assert fingerprints.ja4(spec_hello(versions=[], legacy_version=0x0300))[0][1:3] == "s3"


def test_ja3_and_ja3s_strings():
    ciphers, extensions = [0x0A0A, 0x1301, 0xC02B], [0x2A2A, 0, 10, 11]
    groups = [0x1A1A, 29, 23]
    hello = ClientHello(0x0303, b"", ciphers, extensions, groups=groups, point_formats=[0])
    text = "771,4865-49195,0-10-11,29-23,0"
    assert fingerprints.ja3(hello) == hashlib.md5(text.encode()).hexdigest()
    server = ServerHello(0x0303, bytes(32), b"", 0x1301, [43, 51])
    assert fingerprints.ja3s(server) == hashlib.md5(b"771,4865,43-51").hexdigest()
