"""The JSON record of one DNS message: the contract every face and `analyze` print.

Keys are a contract and are never renamed. Formatting happens here, at the boundary, for the
messages that are shown; the decoder's tuples stay compact until then.
"""

from __future__ import annotations

from mcpcap.core.export import connection_uid
from mcpcap.core.timefmt import iso_time as format_time
from mcpcap.core.timefmt import round_ts as format_ts
from mcpcap.modules.dns.decoder import DnsMessage, Question, Record
from mcpcap.modules.dns.registry import class_name, opcode_name, rcode_name, type_name

__all__ = ["format_time", "format_ts", "message_record", "question_record", "resource_record"]


def question_record(question: Question, mdns: bool) -> dict:
    name, qtype, qclass, unicast = question
    out = {
        "name": name,
        "type": qtype,
        "type_name": type_name(qtype),
        "class": qclass,
        "class_name": class_name(qclass),
    }
    if mdns:
        out["unicast_response"] = unicast
    return out


def resource_record(record: Record, mdns: bool) -> dict:
    name, rtype, rclass, ttl, data, flush = record
    out = {
        "name": name,
        "type": rtype,
        "type_name": type_name(rtype),
        "class": rclass,
        "class_name": class_name(rclass),
        "ttl": ttl,
        "data": data,
    }
    if mdns:
        out["cache_flush"] = flush
    return out


UID_KEYS = ("client", "client_port", "server", "server_port", "transport")


def message_record(
    msg: DnsMessage,
    *,
    frame: int,
    ts: float,
    src: str,
    sport: int,
    dst: str,
    dport: int,
    transport: str,
    protocol: str,
    index: int = 0,
) -> dict:
    """The JSON form of one message (see the module docstring: the keys are a contract)."""
    mdns = protocol == "mdns"
    # the connection as its client sees it: a query's sender, a response's receiver
    ends = ((dst, dport, src, sport) if msg.qr else (src, sport, dst, dport)) + (transport,)
    answers = [resource_record(r, mdns) for r in msg.answers]
    return {
        "frame": frame,
        "index": index,
        "ts": format_ts(ts),
        "time": format_time(ts),
        "uid": connection_uid(dict(zip(UID_KEYS, ends, strict=True))),
        "src": src,
        "sport": sport,
        "dst": dst,
        "dport": dport,
        "transport": transport,
        "protocol": protocol,
        "record_id": f"{frame}:{index}",  # what `record(dns.messages, id)` fetches it by
        "id": msg.id,
        "trans_id": msg.id,
        "qr": msg.qr,
        "opcode": msg.opcode,
        "opcode_name": opcode_name(msg.opcode),
        "rcode": msg.rcode,
        "rcode_name": rcode_name(msg.rcode),
        "flags": {
            "aa": msg.aa,
            "tc": msg.tc,
            "rd": msg.rd,
            "ra": msg.ra,
            "z": msg.z,
            "ad": msg.ad,
            "cd": msg.cd,
        },
        "questions": [question_record(q, mdns) for q in msg.questions],
        "answers": answers,
        "authority": [resource_record(r, mdns) for r in msg.authority],
        "additional": [resource_record(r, mdns) for r in msg.additional],
        "edns": msg.edns,
        "malformed": msg.malformed,
        "info": message_info(msg, answers),
    }


INFO_ANSWERS = 4  # answers an `info` line names (then "+N")
INFO_DATA_CHARS = 48  # of each answer's data


def message_info(msg: DnsMessage, answers: list[dict]) -> str:
    """One line, as Wireshark's Info column reads: `query 0x1a2b A www.example.com`, or
    `response 0x1a2b NXDOMAIN A nosuch.example`, `response 0x1a2b A www.example.com A 192.0.2.1`
    (an opcode other than QUERY leads: `UPDATE response ...`). `answers`: the message's answer
    records; the first few are named, each cut to a few dozen characters."""
    words = [] if msg.opcode == 0 else [opcode_name(msg.opcode)]
    words.append(f"{'response' if msg.qr else 'query'} 0x{msg.id:04x}")
    if msg.qr and msg.rcode:
        words.append(rcode_name(msg.rcode))
    words += [f"{type_name(q[1])} {q[0]}" for q in msg.questions]
    if msg.qr:
        words += [f"{r['type_name']} {_cut(r['data'])}" for r in answers[:INFO_ANSWERS]]
        if len(answers) > INFO_ANSWERS:
            words.append(f"+{len(answers) - INFO_ANSWERS}")
    if msg.malformed:
        words.append(f"[malformed: {msg.malformed}]")
    return " ".join(words)


def _cut(text: str) -> str:
    return text if len(text) <= INFO_DATA_CHARS else text[: INFO_DATA_CHARS - 1] + "…"
