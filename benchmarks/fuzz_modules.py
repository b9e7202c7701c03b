"""Mutation fuzzer: hostile variants of known captures through every module, in process.

    python benchmarks/fuzz_modules.py [--mutants 2000] [--seed 1] [--timeout 30] [--out DIR]

Takes the captures under tests/fixtures, ../shared/corpus and ../shared/corpus-modules (found
relative to the repository; missing folders are skipped), and writes mutants of them as pcap:
bytes flipped (biased towards the headers and towards anything that looks like a length:
IP/UDP/TLS/QUIC/DHCP/IPv6-extension lengths all hold "the bytes that follow"), HTTP numbers
rewritten (Content-Length, chunk sizes), packets truncated (incl_len shrunk, orig_len kept),
duplicated, dropped, reordered, retimed, TCP segments split in two or moved in sequence space,
QUIC client Initials decrypted, mutated and sealed again, and now and then a record header that
lies about its length; one in five written as pcapng (whose times reach past year 9999); and a
few mutants of the seed files' own bytes (pcapng blocks, gzip streams).

Each mutant is analysed with all built-in modules in a child process (killed after --timeout
seconds: a hang), which then builds every module's summary and, of every kind, a page in each
sort, a ranking by each field, one record by id and the export in each format, and validates
the records against their models. A finding is any
exception other than the clear error for a file that is not a capture, a hang, memory past
--memory MiB, or an analysis slower than --slow seconds (a mutant is at most --window frames).
Findings are deduplicated by where they were raised; each one's first mutant is kept in --out
with its traceback. The same seed gives the same mutants.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing as mp
import os
import random
import re
import signal
import struct
import sys
import tempfile
import time
import traceback
import zlib
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SUFFIXES = (".pcap", ".pcapng", ".pcap.gz", ".pcapng.gz", ".cap")
WINDOW = 300  # frames of one capture per mutant: small mutants, many of them
HEADER_BYTES = 96  # where the link, tunnel, IP and transport headers of most frames lie
Frame = tuple[float, bytes, int]  # ts, captured bytes, original length

# -- the seeds -----------------------------------------------------------------------------------


def seed_captures() -> list[Path]:
    """The fixtures' captures, then the shared corpora's (beside the main checkout)."""
    from tests.corpus import find_corpus

    shared = find_corpus().parent
    found = []
    for folder in (REPO / "tests" / "fixtures", shared / "corpus", shared / "corpus-modules"):
        if folder.is_dir():
            found += [p for p in sorted(folder.rglob("*")) if p.name.endswith(SUFFIXES)]
    return found


def read_frames(path: Path) -> tuple[int, list[Frame]] | None:
    """The frames of the capture's most common link type (pcap holds one), or None."""
    from mcpcap.core.errors import McpcapError
    from mcpcap.core.reader import CaptureReader

    try:
        with CaptureReader(path) as reader:
            records = list(reader)
    except McpcapError:
        return None
    if not records:
        return None
    linktype = Counter(r[1] for r in records).most_common(1)[0][0]
    return linktype, [(ts, data, orig) for ts, lt, data, orig in records if lt == linktype]


# -- mutations -----------------------------------------------------------------------------------


def length_spots(data: bytes) -> list[tuple[int, int]]:
    """(offset, width) of the values that could be lengths: nonzero and at most what follows."""
    spots = []
    for i in range(len(data) - 1):
        rest = len(data) - i
        if 0 < data[i] < rest:
            spots.append((i, 1))
        if 0 < (data[i] << 8 | data[i + 1]) < rest:
            spots.append((i, 2))
        if i + 2 < len(data) and data[i] == 0 and 0 < int.from_bytes(data[i : i + 3]) < rest:
            spots.append((i, 3))
    return spots


def set_length(rng: random.Random, data: bytes) -> bytes:
    spots = length_spots(data)
    if not spots:
        return flip(rng, data)
    at, width = rng.choice(spots)
    old = int.from_bytes(data[at : at + width])
    top = (1 << (8 * width)) - 1
    new = rng.choice((0, 1, old - 1, old + 1, old * 2, top, top - 1, top >> 1, rng.randint(0, top)))
    return data[:at] + (new & top).to_bytes(width) + data[at + width :]


def flip(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    out = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 4))):
        span = min(len(out), HEADER_BYTES) if rng.random() < 0.5 else len(out)
        at = rng.randrange(span)
        out[at] = rng.choice((rng.randrange(256), out[at] ^ (1 << rng.randrange(8)), 0, 0xFF))
    return bytes(out)


HTTP_NUMBER = re.compile(rb"(?i)(content-length:[ \t]*)(\d+)|(\r\n)([0-9a-f]+)(\r\n)")
HUGE_NUMBERS = (b"0", b"1", b"-1", b"99999999999999999999999", b"18446744073709551616",
                b"fffffffffffffff", b"7fffffff", b"+5", b" 12 ", b"1_0", b"0x10", b"")  # fmt: skip


def http_number(rng: random.Random, data: bytes) -> bytes:
    matches = list(HTTP_NUMBER.finditer(data))
    if not matches:
        return set_length(rng, data)
    match = rng.choice(matches)
    group = 2 if match.group(2) is not None else 4
    return data[: match.start(group)] + rng.choice(HUGE_NUMBERS) + data[match.end(group) :]


def splice(rng: random.Random, data: bytes) -> bytes:
    """Bytes inserted or removed inside the frame: every length after them now lies."""
    at = rng.randrange(len(data) + 1)
    if rng.random() < 0.5:
        return data[:at] + rng.randbytes(rng.choice((1, 2, 4, 16, 200))) + data[at:]
    return data[:at] + data[at + rng.choice((1, 2, 4, 16)) :]


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


FRAME_MUTATIONS = (flip, flip, set_length, set_length, set_length, http_number, splice, truncate)
RAW_IP_LINKTYPES = (12, 101, 228, 229)
VLAN_TAGS = (b"\x81\x00", b"\x88\xa8")


def tcp_header(linktype: int, data: bytes, proto: int = 6) -> tuple[int, int] | None:
    """(IP header, TCP header) offsets of an Ethernet or raw-IP frame carrying TCP (or
    `proto`) right after a plain IPv4 or IPv6 header; None for anything else."""
    if linktype == 1:
        ip = 14
        while data[ip - 2 : ip] in VLAN_TAGS:
            ip += 4
    elif linktype in RAW_IP_LINKTYPES:
        ip = 0
    else:
        return None
    if len(data) < ip + 60:
        return None
    if data[ip] == 0x45 and data[ip + 9] == proto:
        return ip, ip + 20
    if data[ip] >> 4 == 6 and data[ip + 6] == proto:
        return ip, ip + 40
    return None


def tcp_payload(data: bytes, ip: int, tcp: int) -> bytes:
    """The TCP payload, as far as the IP length says (not the Ethernet padding after it)."""
    at = tcp + (data[tcp + 12] >> 4) * 4
    if data[ip] >> 4 == 4:
        return data[at : ip + int.from_bytes(data[ip + 2 : ip + 4])]
    return data[at : ip + 40 + int.from_bytes(data[ip + 4 : ip + 6])]


def _with_payload(data: bytes, ip: int, tcp: int, seq: int, payload: bytes) -> bytes:
    """The frame's headers with `payload`, its sequence number and the IP length made to fit."""
    at = tcp + (data[tcp + 12] >> 4) * 4
    head = bytearray(data[:at])
    if data[ip] >> 4 == 4:
        head[ip + 2 : ip + 4] = (at - ip + len(payload)).to_bytes(2)
    else:
        head[ip + 4 : ip + 6] = (at - ip - 40 + len(payload)).to_bytes(2)
    head[tcp + 4 : tcp + 8] = (seq % (1 << 32)).to_bytes(4)
    return bytes(head) + payload


def resegment(rng: random.Random, linktype: int, frame: Frame) -> list[Frame]:
    """A TCP segment as two (split inside its payload, now and then sent in reverse order),
    or with its sequence number moved (overlaps, holes, a wrap). Other frames stay."""
    ts, data, orig = frame
    found = tcp_header(linktype, data)
    if found is None:
        return [frame]
    ip, tcp = found
    payload, seq = tcp_payload(data, ip, tcp), int.from_bytes(data[tcp + 4 : tcp + 8])
    if len(payload) < 2 or rng.random() < 0.3:
        moved = seq + rng.choice((-1, 1, -100, 100, 1 << 31, rng.randrange(1 << 32)))
        return [(ts, _with_payload(data, ip, tcp, moved, payload), orig)]
    cut = rng.randrange(1, len(payload))
    first = _with_payload(data, ip, tcp, seq, payload[:cut])
    second = _with_payload(data, ip, tcp, seq + cut, payload[cut:])
    pieces = [(ts, first, len(first)), (ts, second, len(second))]
    return pieces[::-1] if rng.random() < 0.3 else pieces


def requic(rng: random.Random, linktype: int, data: bytes) -> bytes:
    """A QUIC client Initial whose plaintext (CRYPTO frames, the ClientHello in them) is
    mutated in place, then sealed again: a flip of the ciphertext would only fail its tag."""
    from mcpcap.modules.tls import quic

    found = tcp_header(linktype, data, proto=17)
    if found is None or not quic.is_initial(data[found[1] + 8 :]):
        return flip(rng, data)
    at = found[1] + 8
    datagram = bytearray(data[at:])
    try:
        header = quic.long_headers(bytes(datagram))[0]
        keys = quic.initial_keys(header.version, header.dcid, server=False)
        number, bits, plain = quic.open_packet(bytes(datagram), header, keys)
    except (quic.Malformed, IndexError):
        return flip(rng, data)
    start, pn_at, pn_length = header.start, header.pn_offset, bits // 8
    mask = keys.mask(bytes(datagram[pn_at + 4 : pn_at + 20]))
    datagram[start] ^= mask[0] & 0x0F
    for n in range(pn_length):
        datagram[pn_at + n] ^= mask[1 + n]
    plain = rng.choice((flip, set_length, set_length))(rng, plain)
    nonce = (keys.iv_number ^ number).to_bytes(12)
    aad = bytes(datagram[start : pn_at + pn_length])
    datagram[pn_at + pn_length : header.end] = keys.aead.encrypt(nonce, plain, aad)
    mask = keys.mask(bytes(datagram[pn_at + 4 : pn_at + 20]))
    datagram[start] ^= mask[0] & 0x0F
    for n in range(pn_length):
        datagram[pn_at + n] ^= mask[1 + n]
    return data[:at] + bytes(datagram)


def mutate(rng: random.Random, linktype: int, frames: list[Frame]) -> list[Frame]:
    """A few mutations of the frames (of one window of the capture)."""
    frames = list(frames)
    carrying = [i for i, (_, data, _) in enumerate(frames) if len(data) > 66]
    for _ in range(rng.choice((1, 2, 3, 5, 8, 20))):
        # mostly a frame with a payload: the modules' parsers see those
        i = rng.choice(carrying) if carrying and rng.random() < 0.8 else rng.randrange(len(frames))
        i = min(i, len(frames) - 1)
        ts, data, orig = frames[i]
        roll = rng.random()
        if roll < 0.6:
            data = rng.choice(FRAME_MUTATIONS)(rng, data)
            # a shortened frame keeps its original length, as a capture with a snaplen does
            frames[i] = (ts, data, max(orig, len(data)))
        elif roll < 0.65:
            frames[i : i + 1] = resegment(rng, linktype, frames[i])
        elif roll < 0.7:
            frames[i] = (ts, requic(rng, linktype, data), orig)
        elif roll < 0.75:
            # time running backwards, standing still, jumping (pcapng reaches past year 9999)
            moved = rng.choice((0.0, ts - 3600, ts - 1e-6, ts + 1e6, 4294967295.0, 1e13, -1e12))
            frames[i] = (moved, data, orig)
        elif roll < 0.8:
            for _ in range(rng.choice((1, 1, 2, 10))):
                frames.insert(rng.randrange(i, len(frames) + 1), frames[i])
        elif roll < 0.85 and len(frames) > 1:
            del frames[i]
        else:
            j = min(len(frames) - 1, i + rng.randint(1, 5))
            frames[i : j + 1] = reversed(frames[i : j + 1])
    return frames


def pcap_bytes(rng: random.Random, linktype: int, frames: list[Frame]) -> bytes:
    """A pcap file; one in ten has one record header that lies (length past the data, past
    the snap length, or an original length under the captured one)."""
    if rng.random() < 0.2:
        return pcapng_bytes(linktype, frames)
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype)]
    liar = rng.randrange(len(frames)) if rng.random() < 0.1 else -1
    for n, (ts, data, orig) in enumerate(frames):
        incl = len(data)
        if n == liar:
            incl, orig = rng.choice(((incl + 100, orig), (300000, orig), (incl, incl - 1),
                                     (0xFFFFFFFF, orig), (incl, 0)))  # fmt: skip
        ts = min(max(ts, 0.0), 4294967295.0)  # what pcap's 32-bit seconds hold
        sec = int(ts)
        usec = min(999_999, max(0, round((ts - sec) * 1e6)))
        out.append(struct.pack("<IIII", sec & 0xFFFFFFFF, usec, incl & 0xFFFFFFFF,
                               max(0, orig) & 0xFFFFFFFF) + data)  # fmt: skip
    return b"".join(out)


def _block(kind: int, body: bytes) -> bytes:
    body += bytes(-len(body) % 4)
    return struct.pack("<II", kind, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))


def pcapng_bytes(linktype: int, frames: list[Frame]) -> bytes:
    """A pcapng file: one interface in microseconds, whose offset (if_tsoffset, signed) moves
    the times before the first packet's into the negative range."""
    first = min((ts for ts, _, _ in frames), default=0.0)
    offset = min(0, int(first))
    idb = struct.pack("<HHI", linktype, 0, 262144)
    idb += struct.pack("<HHq", 14, 8, offset) + struct.pack("<HH", 0, 0)
    out = [_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)), _block(1, idb)]
    for ts, data, orig in frames:
        ticks = round((ts - offset) * 1e6) & ((1 << 64) - 1)
        epb = struct.pack("<IIIII", 0, ticks >> 32, ticks & 0xFFFFFFFF, len(data), orig)
        out.append(_block(6, epb + data))
    return b"".join(out)


def make_mutant(
    rng: random.Random, seed: Path, linktype: int, frames: list[Frame], window: int = WINDOW
) -> bytes:
    """Mostly the frames of a window of the seed, mutated, as pcap (or pcapng); one in twenty
    is the seed file itself (pcapng's blocks too) with bytes and lengths changed in its first
    64 KiB."""
    if rng.random() < 0.05:
        return file_mutant(rng, seed)
    start = rng.randrange(max(1, len(frames) - window + 1))
    return pcap_bytes(rng, linktype, mutate(rng, linktype, frames[start : start + window]))


def file_mutant(rng: random.Random, seed: Path) -> bytes:
    raw = seed.read_bytes()
    if raw[:2] == b"\x1f\x8b" and rng.random() < 0.7:  # else the gzip stream is mutated
        # what inflates (a fixture's gzip stream is cut short on purpose)
        raw = zlib.decompressobj(wbits=31).decompress(raw, 1 << 20)
    data = raw[: 64 * 1024]
    if not data:
        return raw
    for _ in range(rng.choice((1, 2, 4, 8))):
        at = rng.randrange(len(data))
        window = data[at : at + 256]
        data = data[:at] + rng.choice((flip, set_length, splice))(rng, window) + data[at + 256 :]
    return data


# -- one analysis, in the child ------------------------------------------------------------------

BROKEN_FILE_ERRORS = ("NotACaptureError", "CaptureReadError")


def analyse(path: Path, cache: Path, workers: int, stream_bytes: int | None = None) -> None:
    """Everything a face could ask of the capture; raises what went wrong."""
    from mcpcap.core.config import Settings
    from mcpcap.core.export import write_records
    from mcpcap.core.records import KindQuery, all_kinds
    from mcpcap.core.service import Analyzer

    settings = Settings(use_cache=False, workers=workers, cache_dir=cache)
    if stream_bytes is not None:  # a small bound: streams are cut (see StreamBudget)
        settings.max_stream_bytes = stream_bytes
    with Analyzer(settings).analyze(path, path.name) as analysis:
        _printable(json.dumps(analysis.summary(), ensure_ascii=False))
        for name in analysis.module_names:
            summary = analysis.module(name).summary()
            type(summary).model_validate(summary.model_dump())
        first_ts = analysis.capture_document()["first_ts"]
        for kind in all_kinds(analysis.modules):
            query = KindQuery(analysis, kind.name)
            page = query.page(limit=25)
            for item in page.items:
                _check(kind, item)
            for sort in kind.sorts:
                query.page(sort=sort, limit=5)
            for spec in kind.rank_by:
                query.top(by=spec.name, limit=5)
            if page.items:
                query.one(page.items[0][kind.id_field])
            for fmt in kind.exports:  # what `analyze --records KIND --format FMT` prints
                out = io.StringIO()
                write_records(query.iterate(), out, fmt, kind, first_ts)
                _printable(out.getvalue())


def _printable(text: str) -> None:
    """Output a face writes must encode (a lone surrogate from undecodable bytes would not)."""
    text.encode("utf-8")


class ModelViolation(Exception):
    """A record the kind's model refuses: the faces would show a broken document."""


def _check(kind, item: dict) -> None:
    from pydantic import ValidationError

    try:
        kind.model.model_validate(item)
    except ValidationError as exc:
        where = ".".join(map(str, exc.errors()[0]["loc"]))
        raise ModelViolation(f"{kind.name} record: {where}") from exc


def child(conn, memory_mib: int, workers: int, stream_bytes: int | None) -> None:
    import resource

    os.setpgrp()  # its scan's workers too end with it (see Runner.stop)
    limit = memory_mib << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    with tempfile.TemporaryDirectory(prefix="mcpcap-fuzz-") as cache:
        while True:
            path = conn.recv()
            try:
                analyse(Path(path), Path(cache), workers, stream_bytes)
                conn.send(None)
            except Exception as exc:  # every failure is a finding, reported to the parent
                if type(exc).__name__ in BROKEN_FILE_ERRORS:
                    conn.send(None)
                else:
                    conn.send((_signature(exc), traceback.format_exc()))


def _signature(exc: BaseException) -> str:
    """Where in mcpcap the exception was raised: the deepest of our frames."""
    if isinstance(exc, ModelViolation):
        return f"{type(exc).__name__} {exc}"
    ours = [f for f in traceback.extract_tb(exc.__traceback__) if "/mcpcap/" in f.filename]
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
    return f"{type(exc).__name__} at {where}"


class Runner:
    """A child process that analyses one mutant at a time, restarted after a hang or death."""

    def __init__(
        self, timeout: float, memory_mib: int, workers: int, stream_bytes: int | None = None
    ) -> None:
        self.timeout, self.memory_mib, self.workers = timeout, memory_mib, workers
        self.stream_bytes = stream_bytes
        self.proc = None

    def _start(self) -> None:
        ctx = mp.get_context("fork")
        self.conn, theirs = ctx.Pipe()
        # not a daemon: a parallel scan starts worker processes of its own
        self.proc = ctx.Process(
            target=child, args=(theirs, self.memory_mib, self.workers, self.stream_bytes)
        )
        self.proc.start()

    def run(self, path: Path) -> tuple[str, str] | None:
        if self.proc is None or not self.proc.is_alive():
            self._start()
        self.conn.send(str(path))
        if self.conn.poll(self.timeout):
            try:
                return self.conn.recv()
            except EOFError:
                pass
            child = self.proc
            self.stop()
            return ("died", f"the child died (exit code {child.exitcode})")
        self.stop()
        return ("hang", f"no result after {self.timeout:.0f} s")

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.join()
            self.proc = None


# -- the loop ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--slow", type=float, default=10.0, help="seconds that make a finding")
    parser.add_argument("--memory", type=int, default=3072, help="MiB of address space")
    parser.add_argument("--workers", type=int, default=1, help="2: the parallel scan's path")
    parser.add_argument("--max-stream-bytes", type=int, help="a small one cuts TCP streams")
    parser.add_argument("--match", default="", help="only seeds whose name has one of A,B,...")
    parser.add_argument("--window", type=int, default=WINDOW, help="frames of a seed per mutant")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "mcpcap-fuzz")
    args = parser.parse_args(argv)
    words = args.match.split(",")
    seeds = [s for s in seed_captures() if any(word in s.name for word in words)]
    loaded = [(s, r) for s in seeds if (r := read_frames(s)) is not None]
    print(f"{len(loaded)} seed captures of {len(seeds)}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    runner = Runner(args.timeout, args.memory, args.workers, args.max_stream_bytes)
    findings: dict[str, int] = {}
    started = time.monotonic()
    try:
        for n in range(args.mutants):
            seed, (linktype, frames) = loaded[n % len(loaded)]
            mutant = args.out / "current.pcap"
            mutant.write_bytes(make_mutant(rng, seed, linktype, frames, args.window))
            began = time.monotonic()
            result = runner.run(mutant)
            took = time.monotonic() - began
            if result is None and took > args.slow:
                result = ("slow", f"{took:.1f} s (--slow {args.slow:.0f})")
            if result is not None:
                _record(args.out, findings, result, seed, mutant, n)
            if (n + 1) % 100 == 0:
                print(f"{n + 1} mutants, {sum(findings.values())} findings, "
                      f"{time.monotonic() - started:.0f} s", flush=True)  # fmt: skip
    finally:
        runner.stop()
    print(f"{args.mutants} mutants: {len(findings)} distinct findings")
    for signature, count in sorted(findings.items(), key=lambda kv: -kv[1]):
        print(f"  {count:5} {signature}")
    return 1 if findings else 0


def _record(out: Path, findings: dict[str, int], result, seed: Path, mutant: Path, n: int) -> None:
    signature, text = result
    if signature not in findings:
        name = re.sub(r"[^\w.-]+", "_", signature)
        kept = out / f"{name}.pcap"
        kept.write_bytes(mutant.read_bytes())
        (out / f"{name}.txt").write_text(f"mutant {n} of {seed.name}\n{text}")
        print(f"NEW {signature} (mutant {n} of {seed.name}) -> {kept}", flush=True)
    findings[signature] = findings.get(signature, 0) + 1


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
