"""`request_frame` and `response_frame`: the frame in which the header block is complete.

The captures are written here with scapy (tests/fixtures/packets.py), one TCP segment a frame;
the expected frames are the ones the script wrote the completing bytes in.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mcpcap.core.records import KindQuery
from mcpcap.core.service import Analyzer

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures"))

from packets import LINKTYPE_ETHERNET, Clock, TcpFlow, ether, mac_for, pcap_bytes, write_file

REQUEST = b"GET /split HTTP/1.1\r\nHost: frames.example\r\nUser-Agent: t\r\n\r\n"
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nbody"


class Frames:
    def __init__(self) -> None:
        self.clock = Clock()
        self.frames: list = []

    def add(self, packet) -> int:
        self.frames.append(self.clock.frame(ether(packet, mac_for(7)), ms=1))
        return len(self.frames)

    def write(self, path: Path) -> Path:
        return write_file(path, pcap_bytes(self.frames, LINKTYPE_ETHERNET))


def pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    ends = [*cuts, len(data)]
    return [data[a:b] for a, b in zip([0, *cuts], ends, strict=True)]


def in_order(cap: Frames, flow: TcpFlow) -> tuple[int, int]:
    """Both header blocks over three segments, the last CRLF alone in the last one."""
    *_, request_end = [cap.add(flow.send("client", "PA", p)) for p in pieces(REQUEST, [5, 30, 58])]
    *_, response_end = [cap.add(flow.send("server", "PA", p)) for p in pieces(RESPONSE, [9, 40])]
    return request_end, response_end


def reordered(cap: Frames, flow: TcpFlow) -> tuple[int, int]:
    """The header block's last segment is captured before the one it follows: the block is
    complete when the earlier one arrives."""
    first, last = pieces(REQUEST, [20])
    start = flow.client_seq
    cap.add(flow.segment("client", "PA", last, seq=start + len(first)))
    request_end = cap.add(flow.segment("client", "PA", first, seq=start))
    flow.client_seq += len(REQUEST)
    response_end = cap.add(flow.send("server", "PA", RESPONSE))
    return request_end, response_end


def write_capture(path: Path, layout) -> tuple[int, int]:
    cap = Frames()
    flow = TcpFlow("10.30.0.5", "10.30.0.80", 52000, 80, client_seq=777_000)
    for packet in flow.handshake():
        cap.add(packet)
    expected = layout(cap, flow)
    for packet in flow.close():
        cap.add(packet)
    cap.write(path)
    return expected


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("layout", [in_order, reordered])
def test_the_frame_completing_each_header_block(tmp_path, make_settings, layout, workers):
    path = tmp_path / "frames.pcap"
    request_end, response_end = write_capture(path, layout)
    settings = make_settings(modules=["http"], workers=workers)
    with Analyzer(settings).analyze(path, path.name) as analysis:
        (record,) = KindQuery(analysis, "http.requests").iterate()
    assert (record["request_frame"], record["response_frame"]) == (request_end, response_end)
    assert (record["uri"], record["status_code"], record["response_body_len"]) == ("/split", 200, 4)
