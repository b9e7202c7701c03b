"""What one name tells the hunt: words against random strings, and encodings."""

from __future__ import annotations

import base64
import random

import pytest

from mcpcap.modules.dns.hunting import bigrams
from mcpcap.modules.dns.hunting.allow import Allowlist
from mcpcap.modules.dns.hunting.names import data_score, encoding, entropy, randomness
from mcpcap.modules.dns.hunting.train import pair_costs, table_text, training_text
from mcpcap.modules.dns.hunting.zones import below, zone

WORDS = ["facebook", "microsoft", "cloudflare", "wikipedia", "instagram", "telemetry",
         "googlesyndication", "doubleclick", "letsencrypt", "linkedin", "bytedance",
         "spotify", "mozilla", "ubuntu", "yandex", "settings-win", "client-office365"]  # fmt: skip


def random_labels(seed: int, n: int = 200) -> list[str]:
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randrange(10, 20))) for _ in range(n)]


def test_words_read_as_words_and_random_letters_as_random():
    assert max(randomness(word) for word in WORDS) < 0.5
    scores = [randomness(label) for label in random_labels(7)]
    assert sum(score >= 0.5 for score in scores) / len(scores) >= 0.9
    assert randomness("xn--80ak6aa92e") == 0.0  # an IDN is words in another script


@pytest.mark.parametrize("size", [16, 30, 45])
def test_encodings_are_recognised(size):
    data = random.Random(size).randbytes(size)
    assert encoding(data.hex()) == "hex"
    assert encoding(base64.b32encode(data).decode().rstrip("=").lower()) == "base32"
    assert encoding(base64.urlsafe_b64encode(data).decode().rstrip("=")) == "base64"
    assert encoding("abc\\200\\201defghijk") == "binary"
    assert encoding("downloadcenter") is None


def test_long_encoded_names_carry_more_data_than_short_ones():
    data = random.Random(3).randbytes(40)
    long_hex, _ = data_score(data.hex()[:63] + "." + data.hex()[63:])
    short_hex, _ = data_score(data.hex()[:10])
    assert long_hex > short_hex >= 0
    assert data_score("www")[0] == data_score("mail.office")[0] == 0.0
    assert entropy("aaaa") == 0.0 and round(entropy("abcd"), 6) == 2.0


def test_the_shipped_table_is_what_training_makes():
    """The letter-pair table is small and rebuilt from text every CPython ships."""
    assert len(bigrams.COSTS) == len(bigrams.SYMBOLS) ** 2 == 729
    rebuilt = table_text(pair_costs(training_text()))
    differing = sum(a != b for a, b in zip(rebuilt, bigrams.COSTS, strict=True))
    assert differing <= 40  # another Python's documentation moves a few half bits at most


def test_zones_of_names_with_and_without_a_real_suffix():
    assert zone("example.com", "abc.def.example.com") == "example.com"
    assert zone("pirate.sea", "xyz.pirate.sea") == "pirate.sea"  # an unknown suffix, not data
    hexed = "dnscat.546b03f5.5a03b5b1e1aa8f8fdb1bbe"
    assert zone("546b03f5.5a03b5b1e1aa8f8fdb1bbe", hexed) == "dnscat.*"
    assert below("dnscat.*", hexed) == "546b03f5.5a03b5b1e1aa8f8fdb1bbe"
    assert below("example.com", "ABC.def.example.com") == "ABC.def"


def test_the_allowlist_matches_whole_labels():
    allow = Allowlist(["corp.example"])
    assert allow.allows("e123.dscx.akamaiedge.net")
    assert allow.allows("4.3.2.1.in-addr.arpa")
    assert allow.allows("_ldap._tcp.dc.example.com")  # a service name
    assert allow.allows("host.corp.example")  # from the settings
    assert not allow.allows("notakamaiedge.net")
    assert not allow.allows("example.com")
