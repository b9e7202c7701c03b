"""IANA DNS registries (RR types, classes, rcodes, opcodes, EDNS options) and name helpers.

Names follow the IANA "Domain Name System (DNS) Parameters" registry and the spelling dig
prints. Numbers without a registered name use the RFC 3597 generic forms (`TYPE<n>`,
`CLASS<n>`) and the same pattern for the other registries (`RCODE<n>`, `OPCODE<n>`, `OPT<n>`).
"""

from __future__ import annotations

from mcpcap.core.errors import BadArgumentError

RR_TYPES: dict[int, str] = {
    1: "A",
    2: "NS",
    3: "MD",
    4: "MF",
    5: "CNAME",
    6: "SOA",
    7: "MB",
    8: "MG",
    9: "MR",
    10: "NULL",
    11: "WKS",
    12: "PTR",
    13: "HINFO",
    14: "MINFO",
    15: "MX",
    16: "TXT",
    17: "RP",
    18: "AFSDB",
    19: "X25",
    20: "ISDN",
    21: "RT",
    22: "NSAP",
    23: "NSAP-PTR",
    24: "SIG",
    25: "KEY",
    26: "PX",
    27: "GPOS",
    28: "AAAA",
    29: "LOC",
    30: "NXT",
    31: "EID",
    32: "NIMLOC",
    33: "SRV",
    34: "ATMA",
    35: "NAPTR",
    36: "KX",
    37: "CERT",
    38: "A6",
    39: "DNAME",
    40: "SINK",
    41: "OPT",
    42: "APL",
    43: "DS",
    44: "SSHFP",
    45: "IPSECKEY",
    46: "RRSIG",
    47: "NSEC",
    48: "DNSKEY",
    49: "DHCID",
    50: "NSEC3",
    51: "NSEC3PARAM",
    52: "TLSA",
    53: "SMIMEA",
    55: "HIP",
    56: "NINFO",
    57: "RKEY",
    58: "TALINK",
    59: "CDS",
    60: "CDNSKEY",
    61: "OPENPGPKEY",
    62: "CSYNC",
    63: "ZONEMD",
    64: "SVCB",
    65: "HTTPS",
    66: "DSYNC",
    67: "HHIT",
    68: "BRID",
    99: "SPF",
    100: "UINFO",
    101: "UID",
    102: "GID",
    103: "UNSPEC",
    104: "NID",
    105: "L32",
    106: "L64",
    107: "LP",
    108: "EUI48",
    109: "EUI64",
    128: "NXNAME",
    249: "TKEY",
    250: "TSIG",
    251: "IXFR",
    252: "AXFR",
    253: "MAILB",
    254: "MAILA",
    255: "ANY",
    256: "URI",
    257: "CAA",
    258: "AVC",
    259: "DOA",
    260: "AMTRELAY",
    261: "RESINFO",
    262: "WALLET",
    263: "CLA",
    264: "IPN",
    32768: "TA",
    32769: "DLV",
}

CLASSES: dict[int, str] = {1: "IN", 3: "CH", 4: "HS", 254: "NONE", 255: "ANY"}

RCODES: dict[int, str] = {
    0: "NOERROR",
    1: "FORMERR",
    2: "SERVFAIL",
    3: "NXDOMAIN",
    4: "NOTIMP",
    5: "REFUSED",
    6: "YXDOMAIN",
    7: "YXRRSET",
    8: "NXRRSET",
    9: "NOTAUTH",
    10: "NOTZONE",
    11: "DSOTYPENI",
    16: "BADVERS",
    17: "BADKEY",
    18: "BADTIME",
    19: "BADMODE",
    20: "BADNAME",
    21: "BADALG",
    22: "BADTRUNC",
    23: "BADCOOKIE",
}

# In a TSIG/TKEY error field 16 means BADSIG (RFC 8945), not BADVERS (RFC 6891).
TSIG_RCODES: dict[int, str] = {**RCODES, 16: "BADSIG"}

OPCODES: dict[int, str] = {
    0: "QUERY",
    1: "IQUERY",
    2: "STATUS",
    4: "NOTIFY",
    5: "UPDATE",
    6: "DSO",
}

EDNS_OPTIONS: dict[int, str] = {
    1: "LLQ",
    2: "UL",
    3: "NSID",
    5: "DAU",
    6: "DHU",
    7: "N3U",
    8: "ECS",
    9: "EXPIRE",
    10: "COOKIE",
    11: "TCP-KEEPALIVE",
    12: "PADDING",
    13: "CHAIN",
    14: "KEY-TAG",
    15: "EDE",
    16: "CLIENT-TAG",
    17: "SERVER-TAG",
    18: "REPORT-CHANNEL",
    19: "ZONEVERSION",
    20292: "UMBRELLA-IDENT",
    26946: "DEVICEID",
}

# RFC 8914 extended DNS error info codes.
EDE_CODES: dict[int, str] = {
    0: "Other Error",
    1: "Unsupported DNSKEY Algorithm",
    2: "Unsupported DS Digest Type",
    3: "Stale Answer",
    4: "Forged Answer",
    5: "DNSSEC Indeterminate",
    6: "DNSSEC Bogus",
    7: "Signature Expired",
    8: "Signature Not Yet Valid",
    9: "DNSKEY Missing",
    10: "RRSIGs Missing",
    11: "No Zone Key Bit Set",
    12: "NSEC Missing",
    13: "Cached Error",
    14: "Not Ready",
    15: "Blocked",
    16: "Censored",
    17: "Filtered",
    18: "Prohibited",
    19: "Stale NXDomain Answer",
    20: "Not Authoritative",
    21: "Not Supported",
    22: "No Reachable Authority",
    23: "Network Error",
    24: "Invalid Data",
    25: "Signature Expired before Valid",
    26: "Too Early",
    27: "Unsupported NSEC3 Iterations Value",
    28: "Unable to conform to policy",
    29: "Synthesized",
    30: "Invalid Query Type",
}

# RFC 9460 SvcParamKeys.
SVC_PARAM_KEYS: dict[int, str] = {
    0: "mandatory",
    1: "alpn",
    2: "no-default-alpn",
    3: "port",
    4: "ipv4hint",
    5: "ech",
    6: "ipv6hint",
    7: "dohpath",
    8: "ohttp",
    9: "tls-supported-groups",
}


def type_name(n: int) -> str:
    """Mnemonic of an RR TYPE, `TYPE<n>` when unassigned (RFC 3597)."""
    return RR_TYPES.get(n) or f"TYPE{n}"


def class_name(n: int) -> str:
    """Mnemonic of a CLASS, `CLASS<n>` when unassigned (RFC 3597)."""
    return CLASSES.get(n) or f"CLASS{n}"


def rcode_name(n: int) -> str:
    """Mnemonic of an (extended) RCODE, `RCODE<n>` when unassigned."""
    return RCODES.get(n) or f"RCODE{n}"


def tsig_rcode_name(n: int) -> str:
    """Mnemonic of a TSIG/TKEY error field, where 16 is BADSIG."""
    return TSIG_RCODES.get(n) or f"RCODE{n}"


def opcode_name(n: int) -> str:
    """Mnemonic of an OPCODE, `OPCODE<n>` when unassigned."""
    return OPCODES.get(n) or f"OPCODE{n}"


def edns_option_name(n: int) -> str:
    """Mnemonic of an EDNS option code, `OPT<n>` when unassigned."""
    return EDNS_OPTIONS.get(n) or f"OPT{n}"


def svc_param_key_name(n: int) -> str:
    """RFC 9460 presentation name of a SvcParamKey (`key<n>` when unassigned)."""
    return SVC_PARAM_KEYS.get(n) or f"key{n}"


def _reverse(table: dict[int, str]) -> dict[str, int]:
    return {name.upper(): code for code, name in table.items()}


_TYPES_BY_NAME = {**_reverse(RR_TYPES), "*": 255}
_CLASSES_BY_NAME = {**_reverse(CLASSES), "CHAOS": 3, "HESIOD": 4, "*": 255}
_RCODES_BY_NAME = {**_reverse(RCODES), "BADSIG": 16}


def _parse(text: object, by_name: dict[str, int], prefix: str, limit: int, what: str) -> int:
    """Shared parser: a registered name, `<PREFIX><n>` or a decimal number within `limit`."""
    raw = str(text).strip()
    key = raw.upper()
    if key in by_name:
        return by_name[key]
    digits = key[len(prefix) :] if key.startswith(prefix) else key
    if digits.isdigit() and digits.isascii():
        value = int(digits)
        if 0 <= value <= limit:
            return value
    names = ", ".join(sorted(by_name))
    raise BadArgumentError(
        f"unknown {what} {raw!r}: use a name ({names}), {prefix}<n> or a number 0..{limit}"
    )


def parse_type(text: str | int) -> int:
    """An RR TYPE from a name (case-insensitive), `TYPE<n>` or a number."""
    return _parse(text, _TYPES_BY_NAME, "TYPE", 0xFFFF, "DNS type")


def parse_class(text: str | int) -> int:
    """A CLASS from a name (case-insensitive), `CLASS<n>` or a number."""
    return _parse(text, _CLASSES_BY_NAME, "CLASS", 0xFFFF, "DNS class")


def parse_rcode(text: str | int) -> int:
    """An (extended, 12-bit) RCODE from a name (case-insensitive), `RCODE<n>` or a number."""
    return _parse(text, _RCODES_BY_NAME, "RCODE", 0xFFF, "DNS rcode")


def parse_opcode(text: str | int) -> int:
    """An OPCODE from a name (case-insensitive), `OPCODE<n>` or a number."""
    return _parse(text, _reverse(OPCODES), "OPCODE", 15, "DNS opcode")
