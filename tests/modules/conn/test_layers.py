"""The overview's protocol hierarchy (`ConnSummary.protocols`) on generated captures of every
stack it names (tests/fixtures/make_conn_captures.py `build_layers`): link layers, VLAN tags,
MPLS labels, tunnels within tunnels, IP protocols by name, frames without IP; against the
generator's ground truth, in Wireshark's order, however the scan is cut into spans."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from mcpcap.core import parallel
from mcpcap.core.decap import Segment
from mcpcap.core.service import Analyzer
from mcpcap.modules.conn.flows import MAX_STACKS, FlowDecoder
from tests.fixtures.make_conn_captures import LAYERS, LAYERS_DIR, OUTPUT, build_layers

CAPTURES = build_layers()  # (fills LAYERS)
TSHARK_NAMES = {"ipv4": "ip"}


def hierarchy(make_settings, path: Path, **flags) -> list[tuple[str, int, int]]:
    """The capture's protocol hierarchy as (layer, frames, bytes), services aside."""
    settings = make_settings(modules=["conn"], no_cache=True, **flags)
    with Analyzer(settings).analyze(path, path.name) as analysis:
        protocols = analysis.module("conn").summary().protocols
    return [(p.layer, p.packets, p.bytes) for p in protocols if not p.layer.startswith("service/")]


def truth(name: str) -> dict[str, tuple[int, int]]:
    """Every layer's frames and bytes from the stacks the generator built: each frame counts
    in each layer of its stack; `other` holds the frames without one."""
    frames = LAYERS[name]
    layers = {"frames": (len(frames), sum(size for _, size in frames))}
    for stack, size in frames:
        names = stack.split("/") if stack else ["other"]
        for depth in range(1, len(names) + 1):
            path = "/".join(names[:depth])
            count, total = layers.get(path, (0, 0))
            layers[path] = (count + 1, total + size)
    return layers


def assert_wireshark_order(rows: list[tuple[str, int, int]]) -> None:
    """`frames` first, then depth first: each layer right under its parent's subtree, siblings
    by frames (most first, ties by name)."""
    assert rows[0][0] == "frames"
    chain: list[str] = []  # the path to the previous layer
    last_sibling: dict[str, tuple[int, str]] = {}
    for layer, frames, _ in rows[1:]:
        parent, _, name = layer.rpartition("/")
        while chain and chain[-1] != parent:
            chain.pop()
        assert (chain[-1] if chain else "") == parent, f"{layer} is not under its parent"
        key = (-frames, name)
        assert last_sibling.get(parent, key) <= key, f"{layer} is out of order"
        last_sibling[parent] = key
        chain.append(layer)


@pytest.mark.parametrize("name", sorted(CAPTURES))
def test_the_captures_are_the_generator_output(name):
    assert (LAYERS_DIR / name).read_bytes() == CAPTURES[name]


@pytest.mark.parametrize("name", sorted(CAPTURES))
def test_every_layer_of_every_frame_is_named(make_settings, name):
    rows = hierarchy(make_settings, LAYERS_DIR / name)
    assert {layer: (frames, size) for layer, frames, size in rows} == truth(name)
    assert_wireshark_order(rows)


def test_the_hierarchy_names_what_the_audit_missed(make_settings):
    layers = {row[0]: row[1] for row in hierarchy(make_settings, LAYERS_DIR / "layers-eth.pcap")}
    assert layers["eth/mpls/mpls/ipv4/tcp"] == 1  # MPLS, each label a layer
    assert layers["eth/vlan/vlan/ipv4/udp"] == 1  # VLAN tags nest under the link layer
    assert layers["eth/ipv4/udp/geneve/ipv4/udp/vxlan/eth/ipv4/udp"] == 1  # a tunnel's tunnel
    for protocol in ("igmp", "esp", "sctp", "ospf", "pim", "vrrp", "253"):
        assert layers[f"eth/ipv4/{protocol}"] == 1


def test_the_same_hierarchy_however_the_scan_is_cut(make_settings, monkeypatch):
    path = LAYERS_DIR / "layers-eth.pcap"
    serial = hierarchy(make_settings, path, workers=1)
    monkeypatch.setattr(parallel, "SPAN_BYTES", 512)
    assert hierarchy(make_settings, path, workers=2) == serial


def snapshot_cut(source: Path, target: Path, snaplen: int) -> Path:
    """`source` as a capture taken with a snapshot length: each frame cut to `snaplen` bytes,
    its record's original length kept (a little-endian pcap, as the generator writes)."""
    data = source.read_bytes()
    out, pos = [data[:24]], 24
    while pos + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack_from("<IIII", data, pos)
        kept = min(incl, snaplen)
        out.append(struct.pack("<IIII", sec, frac, kept, orig) + data[pos + 16 : pos + 16 + kept])
        pos += 16 + incl
    target.write_bytes(b"".join(out))
    return target


def test_bytes_are_counted_as_sent_when_a_snapshot_length_cut_the_frames(
    make_settings, monkeypatch, tmp_path
):
    """As Wireshark's hierarchy does: a layer holding the same frames has the same bytes."""
    whole = {layer: (frames, size) for layer, frames, size in hierarchy(make_settings, OUTPUT)}
    cut = snapshot_cut(OUTPUT, tmp_path / "cut.pcap", 60)
    serial = hierarchy(make_settings, cut, workers=1)
    monkeypatch.setattr(parallel, "SPAN_BYTES", 512)
    assert hierarchy(make_settings, cut, workers=2) == serial
    same = [(layer, size) for layer, frames, size in serial if whole.get(layer, (0,))[0] == frames]
    assert len(same) >= 5 and ("eth", whole["eth"][1]) in same
    assert all(size == whole[layer][1] for layer, size in same)


def test_the_stacks_a_span_counts_are_bounded():
    """Past MAX_STACKS distinct stacks a frame counts under its link layer's `other`: every
    frame still counts once."""
    decoder = FlowDecoder()
    for n in range(MAX_STACKS + 10):
        layers = ("eth", f"ethertype {n}")
        decoder.packet(n, 1.0, Segment("l2", "", n, "", 0, b"", 0, 0, layers=layers,
                                       frame_len=60))  # fmt: skip
    stacks = decoder.flush()[5]
    assert len(stacks) == MAX_STACKS + 1
    assert dict((layers, frames) for layers, frames, _ in stacks)[("eth", "other")] == 10
    assert sum(size for _, _, size in stacks) == 60 * (MAX_STACKS + 10)


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is the oracle here")
@pytest.mark.parametrize("path", [OUTPUT, LAYERS_DIR / "layers-eth.pcap"])
def test_frames_and_bytes_as_tshark_counts_them(make_settings, path: Path):
    """Each layer both name (tshark's `ip` is our `ipv4`) has tshark's frames and bytes."""
    ours = {
        "/".join(TSHARK_NAMES.get(n, n) for n in layer.split("/")): (frames, size)
        for layer, frames, size in hierarchy(make_settings, path)
    }
    out = subprocess.run(["tshark", "-qz", "io,phs", "-r", str(path)], capture_output=True,
                         text=True, timeout=60, check=True).stdout  # fmt: skip
    chain: list[str] = []
    compared = 0
    for line in out.splitlines():
        found = re.match(r"^( *)(\S+)\s+frames:(\d+) bytes:(\d+)$", line)
        if found is None:
            continue
        chain[len(found.group(1)) // 2 :] = [found.group(2)]
        layer = "/".join(chain)
        if layer in ours:
            assert ours[layer] == (int(found.group(3)), int(found.group(4))), layer
            compared += 1
    assert compared >= 10
