"""A span worker's loop compiled (`mcpcap/core/_parallel.c`) against its Python.

Two span scanners of the same modules, one with each loop, scan the same spans of the same
captures; every span's items, partials, stream segments and counts must be equal.
"""

from __future__ import annotations

import marshal
import shutil
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpcap.core import parallel
from mcpcap.core.errors import McpcapError
from mcpcap.core.modules.contract import PayloadSignature
from mcpcap.core.reader import CaptureReader
from mcpcap.core.scan import encode_signatures
from mcpcap.core.streamwork import MIN_REFERENCED

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
COMPILED = None if parallel.span_loop is parallel.python_span_loop else parallel.span_loop
pytestmark = pytest.mark.skipif(
    COMPILED is None, reason="the compiled code is turned off (MCPCAP_PURE_PYTHON)"
)
MODULE_SETS = [
    "dns,conn,http,tls,dhcp,icmp",  # packet mode, streams on any port
    "dns,conn",  # packet mode, DNS over TCP reassembled by the scanning process
    "conn,icmp",
    "tls,dns",  # stream decoders on any port: every packet decoded
    "dns",  # datagrams only: TCP on port 53 goes back whole
    "dns,dhcp",  # datagrams of two modules
    "dhcp",
]


@pytest.fixture(scope="module")
def captures(tmp_path_factory) -> list[Path]:
    """A small benchmark capture (every protocol mcpcap reads), the bundled example, and the
    fixtures that are classic pcap files: fragments (deferred), tunnels, VLANs, odd TCP."""
    from benchmarks import generate

    folder = tmp_path_factory.mktemp("generated")
    generate.generate(folder / "bench.pcap", 5000, seed=12, write_truth=False)
    shutil.copy(ROOT / "example.pcap", folder)
    _snapped(folder / "bench.pcap", folder / "snapped.pcap", 90)
    _around_the_reference_size(folder / "sizes.pcap")
    paths = [folder / name for name in ("bench.pcap", "example.pcap", "snapped.pcap", "sizes.pcap")]
    for name in ("captures", "conn", "tls", "http", "dhcp_icmp", "gaps"):
        paths += sorted((FIXTURES / name).glob("*.pcap"))
    return paths


def _snapped(source: Path, target: Path, snaplen: int) -> None:
    """`source` as a capture with a snap length of `snaplen` would have it (frames cut short,
    their lengths as sent kept)."""
    data = source.read_bytes()
    out, pos = bytearray(data[:24]), 24
    while pos + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack_from("<IIII", data, pos)
        kept = min(incl, snaplen)
        out += struct.pack("<IIII", sec, frac, kept, orig) + data[pos + 16 : pos + 16 + kept]
        pos += 16 + incl
    target.write_bytes(bytes(out))


def _around_the_reference_size(target: Path) -> None:
    """TCP payloads just under, at and over the size from which a worker sends a reference to
    the payload instead of the payload, in both families."""
    from scapy.all import IP, TCP, Ether, IPv6, wrpcap

    frames = []
    for size in (0, 1, MIN_REFERENCED - 1, MIN_REFERENCED, MIN_REFERENCED + 1, 1400):
        for ip in (IP(src="10.0.0.1", dst="10.0.0.2"), IPv6(src="fd00::1", dst="fd00::2")):
            frame = Ether() / ip / TCP(sport=40000, dport=8443, flags="PA", seq=7) / (b"z" * size)
            frame.time = 1_700_000_000 + len(frames)
            frames.append(frame)
    wrpcap(str(target), frames)


def _span_results(path: Path, names: list[str], loop, span_bytes: int) -> list | None:
    """Each span's results, or None for a file that is no classic pcap file."""
    try:
        with CaptureReader(str(path)) as reader:
            layout = reader.pcap_layout
            spans = list(reader.pcap_spans(span_bytes)) if layout is not None else []
    except McpcapError:  # (the fixtures include files that are no captures)
        return None
    if layout is None:
        return None
    scanner = parallel._SpanScanner(layout, names)
    saved = parallel.span_loop
    parallel.span_loop = loop
    try:
        results = []
        for span in spans:
            packed, streams, *counts = scanner.scan(span)
            loaded_streams = marshal.loads(streams) if streams is not None else None
            results.append((marshal.loads(packed), loaded_streams, counts))
        return results
    finally:
        parallel.span_loop = saved
        scanner.close()


@pytest.mark.parametrize("modules", MODULE_SETS)
def test_the_same_span_results(captures, modules):
    names = modules.split(",")
    compared = 0
    for path in captures:
        for span_bytes in (700, 1 << 21):
            python = _span_results(path, names, parallel.python_span_loop, span_bytes)
            if python is None:
                continue
            assert _span_results(path, names, COMPILED, span_bytes) == python, path.name
            compared += 1
    assert compared >= 40


def test_deferred_frames_and_flushes_come_back_alike(captures):
    """IP fragments go back whole, after the packet decoders' partials so far."""
    path = FIXTURES / "captures" / "ipv4_fragments.pcap"
    names = ["dns", "conn"]
    python = _span_results(path, names, parallel.python_span_loop, 1 << 21)
    items = [item for span in python for item in span[0][0]]
    kinds = {item[0] for item in items}
    assert {parallel.DEFERRED, parallel.PACKET_FLUSH} <= kinds
    assert _span_results(path, names, COMPILED, 1 << 21) == python


def test_errors_of_a_module_reach_the_caller(captures):
    """An exception in a module's decoder stops the span with that exception, as in Python."""
    with CaptureReader(str(captures[0])) as reader:
        layout = reader.pcap_layout
        span = next(reader.pcap_spans(1 << 21))
    scanner = parallel._SpanScanner(layout, ["dns", "conn"])

    def broken(frame, ts, seg):
        raise LookupError(f"decoder failed at frame {frame}")

    scanner.packet_routes["udp"].append(broken)
    try:
        with pytest.raises(LookupError, match="decoder failed at frame"):
            COMPILED(scanner.loop, scanner.file.read(span.start, span.end - span.start),
                     span.start, span.count, span.first_frame, [], [])  # fmt: skip
    finally:
        scanner.close()


def test_a_span_shorter_than_its_records_is_an_error(captures):
    with CaptureReader(str(captures[0])) as reader:
        layout = reader.pcap_layout
        span = next(reader.pcap_spans(1 << 21))
    scanner = parallel._SpanScanner(layout, ["dns", "conn"])
    try:
        buf = scanner.file.read(span.start, span.end - span.start)
        with pytest.raises(ValueError, match="past the span's end"):
            COMPILED(scanner.loop, buf[:-10], span.start, span.count, span.first_frame, [], [])
    finally:
        scanner.close()


def test_a_frame_with_tcp_after_a_datagram_goes_back_whole(captures):
    """Outside packet mode a frame carrying TCP anywhere among its segments (a tunnel's) goes
    back whole; one of datagrams alone goes to the decoders. A decapsulator that gives both
    kinds of frames makes the two loops agree on each."""
    from mcpcap.core.decap import Segment

    with CaptureReader(str(captures[0])) as reader:
        layout = reader.pcap_layout
        span = next(reader.pcap_spans(1 << 21))
    scanner = parallel._SpanScanner(layout, ["dns"])
    query = bytes.fromhex("12340100000100000000000003777777076578616d706c6503636f6d0000010001")
    udp = Segment("udp", "192.0.2.1", 5353, "192.0.2.2", 53, query, 0, 0)
    tcp = Segment("tcp", "192.0.2.1", 40000, "192.0.2.2", 53, b"x", 1, 0x18)

    def decode_at(linktype, buf, start, end, ts, orig):
        return [udp, tcp] if (start // 7) % 2 else [udp, udp]

    loop = scanner.loop._replace(decode_at=decode_at, compiled_decap=None)
    buf = scanner.file.read(span.start, span.end - span.start)
    try:
        results = []
        for run in (parallel.python_span_loop, COMPILED):
            out: list = []
            counts = run(loop, buf, span.start, span.count, span.first_frame, out, [])
            results.append((counts, out))
        assert results[0] == results[1]
        kinds = {item[0] for item in results[0][1]}
        assert parallel.DEFERRED in kinds and 0 in kinds
    finally:
        scanner.close()


def _dispatches() -> list:
    """The UDP dispatches of every module set above with more than one reader of datagrams
    (the compiled loop over the checks), each with its Python `python_for_datagram`."""
    from mcpcap.core.modules.registry import load_modules
    from mcpcap.core.scan import UdpDispatch

    found = []
    for names in MODULE_SETS:
        modules = load_modules(names.split(","))
        dispatch = UdpDispatch([(module, i) for i, module in enumerate(modules)])
        if dispatch.only is None and dispatch._checks:
            found.append(dispatch)
    return found


def test_the_same_datagram_targets_for_every_datagram_of_the_captures(captures):
    from tests.twins import segments

    dispatches = _dispatches()
    assert dispatches and all(d.for_datagram != d.python_for_datagram for d in dispatches)
    datagrams = [seg for path in captures for _, _, seg in segments(path) if seg.transport == "udp"]
    assert len(datagrams) > 1000
    for dispatch in dispatches:
        seen = set()
        for seg in datagrams:
            targets = dispatch.for_datagram(seg.sport, seg.dport, seg.payload)
            assert targets == dispatch.python_for_datagram(seg.sport, seg.dport, seg.payload)
            seen.update(targets)
        assert len(seen) == len(dispatch._checks)  # every module got datagrams
    # a DNS query on the DHCP port: both modules, in module order
    query = bytes.fromhex("1234010000010000000000000378797a0000010001")
    everything = dispatches[0]
    assert everything.for_datagram(68, 67, query) == everything.python_for_datagram(68, 67, query)
    assert len(everything.for_datagram(68, 67, query)) == 2


def test_a_scan_without_readers_of_datagrams_asks_the_compiled_dispatch():
    """conn reads packets, no datagram: the span loop still asks for each datagram's targets,
    in C (a call into Python for every datagram cost a conn-only scan a fifth of its loop)."""
    from mcpcap.core.modules.registry import load_modules
    from mcpcap.core.scan import UdpDispatch

    dispatch = UdpDispatch([(module, i) for i, module in enumerate(load_modules(["conn"]))])
    assert not dispatch._checks
    assert dispatch.for_datagram != dispatch.python_for_datagram
    query = bytes.fromhex("1234010000010000000000000378797a0000010001")
    for ports in ((40000, 53), (68, 67), (443, 50000)):
        assert (
            dispatch.for_datagram(*ports, query)
            == []
            == dispatch.python_for_datagram(*ports, query)
        )
        assert dispatch.wanted(*ports, query) is False


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 65535), st.sampled_from([53, 67, 68, 443, 546, 547, 5353, 5355, 40000]),
       st.binary(max_size=64))  # fmt: skip
def test_the_same_datagram_targets_for_any_datagram(sport, dport, payload):
    for dispatch in _DISPATCHES:
        for ports in ((sport, dport), (dport, sport)):
            assert dispatch.for_datagram(*ports, payload) == dispatch.python_for_datagram(
                *ports, payload
            )


_DISPATCHES = _dispatches() if COMPILED is not None else []


def test_a_module_test_that_fails_fails_the_dispatch():
    from mcpcap.core.scan import _COMPILED

    def broken(sport: int, dport: int, payload: bytes) -> bool:
        raise ZeroDivisionError

    def truthy(sport: int, dport: int, payload: bytes) -> object:
        return [sport]  # (any value: its truth decides, as in the Python)

    dispatch, wanted = _COMPILED.bind_dispatch, _COMPILED.bind_wanted
    checks = ((frozenset((53,)), b"", None, "ports"), (frozenset(), b"", truthy, "truthy"))
    assert dispatch(checks)(53, 1, b"") == ["ports", "truthy"]
    assert dispatch(checks)(1, 53, b"") == ["ports", "truthy"]
    assert wanted(checks)(1, 2, b"") is True
    assert wanted(((frozenset((53,)), b"", None, "ports"),))(1, 2, b"") is False
    for bind in (dispatch, wanted):
        with pytest.raises(ZeroDivisionError):
            bind(((frozenset(), b"", broken, "x"),))(1, 2, b"")
        with pytest.raises(TypeError):
            bind(((frozenset(), b"", 3, "x"),))
        with pytest.raises(TypeError):
            bind(((frozenset(), "not bytes", None, "x"),))
        with pytest.raises(TypeError):
            bind([])
        with pytest.raises(TypeError):
            bind(())(1, 2)
        with pytest.raises(TypeError):  # a payload without a buffer
            bind(((frozenset(), encode_signatures((PayloadSignature(1, ()),)), None, "x"),))(
                1, 2, 7
            )


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.builds(
            lambda length, tests: PayloadSignature(
                length,
                tuple((offset % length, mask, value) for offset, mask, value in tests)
                if length
                else (),
            ),
            st.integers(0, 12),
            st.lists(
                st.tuples(st.integers(0, 11), st.integers(0, 255), st.integers(0, 255)), max_size=4
            ),
        ),
        max_size=3,
    ),
    st.binary(max_size=16),
)
def test_signatures_match_in_c_as_in_python(signatures, payload):
    """A payload matches the encoded signatures in C exactly when one of them matches it."""
    from mcpcap.core.scan import _COMPILED

    check = ((frozenset(), encode_signatures(tuple(signatures)), None, "x"),)
    expected = any(signature.matches(payload) for signature in signatures)
    assert _COMPILED.bind_wanted(check)(1, 2, payload) is expected
    assert _COMPILED.bind_dispatch(check)(1, 2, bytearray(payload)) == (["x"] if expected else [])


def _hand_over_log(hand_items, items: list, handler_count: int = 3) -> list:
    """What `hand_items` did with `items`, as a log of calls, ending with the error it raised."""
    log: list = []

    def handler(index: int):
        def on_udp_decoded(*args):
            if args[:1] == ("boom",):
                raise ZeroDivisionError(index)
            log.append((index, args))

        return on_udp_decoded

    def special(item):
        if item[-1:] == ("boom",):
            raise KeyError(item[0])
        log.append(("special", item))

    try:
        hand_items(items, [handler(i) for i in range(handler_count)], special)
    except Exception as error:  # (both must raise the same)
        log.append((type(error), error.args))
    return log


_ITEMS = st.lists(
    st.one_of(
        st.tuples(st.integers(-4, 3)),
        st.tuples(st.integers(-4, 3), st.integers(0, 9), st.floats(0, 9), st.text(max_size=2)),
        st.tuples(st.sampled_from([2**70, -(2**70), 2**63, 3]), st.just("x")),
        st.tuples(st.just(1), st.just("boom")),
        st.tuples(st.just(-2), st.just("boom")),
        st.just(()),
        st.lists(st.integers(-1, 2), min_size=1, max_size=3),
        st.tuples(st.just(1.0), st.just("x")),
        st.tuples(st.just(True), st.just("x")),
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(_ITEMS)
def test_items_are_handed_over_as_the_python_does(items):
    """Module items, the core's (negative kinds), kinds past the handlers or too big for an
    index, empty tuples, lists, floats and bools as kinds, and handlers that raise: the same
    calls in the same order, and the same error."""
    assert _hand_over_log(parallel.hand_items, items) == _hand_over_log(
        parallel.python_hand_items, items
    )


def test_items_are_handed_over_without_copies():
    """A handler gets the item's own objects, as `*item[1:]` gives them."""
    payload = object()
    seen = []
    parallel.hand_items([(0, payload)], [lambda value: seen.append(value)], seen.append)
    assert seen == [payload] and seen[0] is payload
