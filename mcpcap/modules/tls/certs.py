"""The server's leaf certificate, read with `cryptography`'s X.509 support (TLS 1.2 and below)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache

from mcpcap.modules.tls.wire import Malformed


@dataclass
class Certificate:
    subject: str
    issuer: str
    not_before: float
    not_after: float
    san_dns: list[str]
    sha256: str
    common_names: list[str] = field(default_factory=list)

    def problems(self, ts: float, server_name: str | None) -> list[str]:
        """What is wrong with it when the capture saw it (Zeek-like names)."""
        out = []
        if ts > self.not_after:
            out.append("expired_at_capture_time")
        if ts < self.not_before:
            out.append("not_yet_valid")
        if self.subject == self.issuer:
            out.append("self_signed")
        if server_name and not self.matches(server_name):
            out.append("name_mismatch")
        return out

    def matches(self, name: str) -> bool:
        """RFC 6125: the SAN DNS names (the common name only without any), one leading `*.`."""
        names = self.san_dns or self.common_names
        return any(_name_matches(pattern, name) for pattern in names)


def _name_matches(pattern: str, name: str) -> bool:
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, rest = name.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == name


@lru_cache(maxsize=256)  # keyed by whole certificates: 1024 held 3.5 MiB
def parse_leaf(der: bytes) -> Certificate:
    """The certificate's fields; `Malformed` when it is not X.509 DER.

    Cached by the certificate's bytes: a server sends the same one to every client, and
    parsing is most of what a TLS 1.2 handshake costs (the result is never modified).
    """
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        cert = x509.load_der_x509_certificate(der)
        subject = cert.subject.rfc4514_string()
        issuer = cert.issuer.rfc4514_string()
        not_before = cert.not_valid_before_utc.timestamp()
        not_after = cert.not_valid_after_utc.timestamp()
        common_names = [
            str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        ]
    except Exception:  # cryptography raises ValueError and others on garbage
        raise Malformed("certificate is not X.509 DER", "bad_certificate") from None
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        san_dns = san.value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        san_dns = []
    except Exception:
        raise Malformed("certificate extensions do not parse", "bad_certificate") from None
    return Certificate(
        subject=subject,
        issuer=issuer,
        not_before=not_before,
        not_after=not_after,
        san_dns=list(san_dns),
        sha256=hashlib.sha256(der).hexdigest(),
        common_names=common_names,
    )
