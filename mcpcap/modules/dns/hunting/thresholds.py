"""Every threshold of DNS hunting, in one place (the README explains each).

A change here changes the findings of every store: `THRESHOLDS_DIGEST` is part of the key the
findings table is stored under, so stores built before the change are recomputed when asked.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Names:
    min_letter_pairs: int = 5  # fewer letter pairs than this: the word model does not judge
    word_bits: float = 5.0  # mean bits per letter pair at or below which a label reads as words
    random_bits: float = 6.5  # ... at or above which it reads as random letters
    min_random_length: int = 6  # shorter labels are never called random
    min_mixed_token: int = 8  # letter-digit mixing counts in tokens (between - . _) this long
    min_encoded_length: int = 12  # shorter data is never called hex, base32 or base64
    min_data_length: int = 8  # characters below the zone for a name to carry data at all
    long_data_length: int = 40  # ... from which its length counts fully


@dataclass(frozen=True)
class Tunnel:
    min_names: int = 5  # distinct names below a zone before it is judged
    data_name: float = 0.5  # a name's data score from which it counts as carrying data
    names_scale: float = 25.0  # data names for 63% of the volume factor (1 - e^-n/scale)
    unusual_bonus: float = 0.2  # added for a zone asked only TXT, NULL, CNAME, MX, ANY ...
    bytes_bonus: float = 0.1  # added when one client sent `bytes_full` bytes in names
    bytes_full: int = 4096
    feature_names: int = 5000  # distinct names per zone whose features are computed
    short_below: float = 8.0  # mean characters below the zone at which names carry little
    long_below: float = 24.0  # ... from which the length counts fully
    short_weight: float = 0.6  # the score's share left for a zone of short names
    reused_tokens: float = 0.3  # share of new tokens (between . and -) at or under which ...
    new_tokens: float = 0.7  # ... names recombine a few parts (host names), and from which not
    reuse_weight: float = 0.6  # the score's share a zone of recombined parts loses


@dataclass(frozen=True)
class Dga:
    window: float = 300.0  # seconds within which NXDOMAIN domains are counted
    min_domains: int = 5  # distinct NXDOMAIN registered domains in a window before judging
    domains_scale: float = 12.0  # domains for 63% of the volume factor
    random_label: float = 0.5  # randomness from which a domain's own label is random-looking
    words_weight: float = 0.55  # the score's share left when none of the domains look random


@dataclass(frozen=True)
class FastFlux:
    min_addresses: int = 10  # distinct addresses a name must resolve to
    min_networks: int = 6  # distinct /24 (IPv4) or /48 (IPv6) networks among them
    networks_scale: float = 8.0  # networks for 63% of the score
    low_ttl: int = 300  # a median TTL at or under this counts fully
    high_ttl: int = 1800  # ... at or over this, the name is not judged
    min_per_response: int = 2  # addresses a response must carry at least once
    full_turnover: float = 3.0  # distinct addresses / the most in one response, for full score


@dataclass(frozen=True)
class OddResolver:
    min_clients: int = 3  # clients in the capture before a lone resolver stands out
    main_share: float = 0.6  # share of clients the busiest resolver must serve
    max_lone: int = 2  # more resolvers that one client alone asks: none of them is odd
    min_lone_queries: int = 5  # queries to a lone resolver before it counts
    lone_score: float = 0.55  # a resolver only one client uses while the others share one
    port_score: float = 0.6  # DNS to or from a port other than 53, 5353, 5355
    min_unsolicited: int = 5  # responses never asked for before a server is judged
    unsolicited_share: float = 0.5  # ... and the share of the server's responses they are
    unsolicited_score: float = 0.55


@dataclass(frozen=True)
class Rebinding:
    score: float = 0.75  # public then private from the same server
    two_servers_score: float = 0.55  # public from one server, private from another


@dataclass(frozen=True)
class Report:
    threshold: float = 0.5  # findings under this score are not kept
    examples: int = 3  # transaction ids kept per finding
    clients: int = 10  # client addresses listed per finding
    summary: int = 5  # findings the DNS summary shows (the best; all of them at or over threshold)


NAMES = Names()
TUNNEL = Tunnel()
DGA = Dga()
FAST_FLUX = FastFlux()
ODD_RESOLVER = OddResolver()
REBINDING = Rebinding()
REPORT = Report()
ALL = (NAMES, TUNNEL, DGA, FAST_FLUX, ODD_RESOLVER, REBINDING, REPORT)
THRESHOLDS_DIGEST = hashlib.sha256(
    json.dumps([asdict(part) for part in ALL], sort_keys=True).encode()
).hexdigest()[:16]
