"""What the compiled twins' differential tests read: every segment of a capture, numbered and
timed as a scan sees them, and the captures they all run on."""

from __future__ import annotations

import shutil
from pathlib import Path

from mcpcap.core.decap import Decapsulator, Segment
from mcpcap.core.reader import CaptureReader

FIXTURES = Path(__file__).resolve().parent / "fixtures"
Numbered = tuple[int, float, Segment]


def segments(path: Path, *, packets: bool = False) -> list[Numbered]:
    """(frame, ts, segment) of every datagram and TCP segment of a capture (every IP packet
    with `packets`, as a packet-mode scan); [] for a file that is no capture."""
    found: list[Numbered] = []
    try:
        with CaptureReader(str(path)) as reader:
            decap = Decapsulator(lambda *_: True, frozenset(), packets=packets)
            for frame, (ts, linktype, data, wire_len) in enumerate(reader, start=1):
                found += [(frame, ts, seg) for seg in decap.decode(linktype, data, ts, wire_len)]
    except Exception:  # (the fixtures include captures that are not captures)
        return found
    return found


def captures(
    folder: Path, fixture_folders: tuple[str, ...], *, seed: int, packets: int = 6000
) -> list[Path]:
    """A small generated benchmark capture (`packets` of them) and example.pcap, copied into
    `folder`, then the fixture captures of `fixture_folders`."""
    from benchmarks import generate

    generate.generate(folder / "bench.pcap", packets, seed=seed, write_truth=False)
    shutil.copy(FIXTURES.parent.parent / "example.pcap", folder)
    paths = sorted(folder.glob("*.pcap"))
    for name in fixture_folders:
        paths += sorted((FIXTURES / name).glob("*.pcap*"))
    return paths
