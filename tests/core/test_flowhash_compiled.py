"""`flow_uid` and `community_id` in C (`_flowhash.c`) against their Python references.

The C takes the usual arguments (text addresses, ports and protocols in range) and hands
anything else to the Python; either way the value must be the Python's. (The Community ID
specification's own examples are in tests/modules/conn/test_community.py, which runs the
compiled one where it was built.)
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpcap.core import export
from mcpcap.modules.conn import community
from tests.twins import captures, segments

pytestmark = pytest.mark.skipif(
    export.flow_uid is export.python_flow_uid,
    reason="the compiled code is turned off (MCPCAP_PURE_PYTHON)",
)

ADDRESSES = st.one_of(
    st.ip_addresses().map(str),
    st.sampled_from(["", "10.0.0.1", "10.0.0.01", "::ffff:10.0.0.1", "fe80::1%eth0", "1.2.3",
                     "not an address", "10.0.0.1\x00", "é:1", "\udcff", "x" * 300]),
)  # fmt: skip
PORTS = st.one_of(st.integers(0, 65535), st.integers(-(2**70), 2**70), st.just(True))
TRANSPORTS = st.sampled_from(["tcp", "udp", "icmp", "icmpv6", "47", "", "é", "a|b"])


@settings(max_examples=800, deadline=None)
@given(ADDRESSES, PORTS, ADDRESSES, PORTS, TRANSPORTS, st.integers(-3, 2**70))
def test_flow_uid_is_the_pythons(a, a_port, b, b_port, transport, occurrence):
    for args in ((a, a_port, b, b_port, transport), (a, a_port, b, b_port, transport, occurrence)):
        try:
            expected = export.python_flow_uid(*args)
        except UnicodeEncodeError:  # (a lone surrogate: both raise)
            with pytest.raises(UnicodeEncodeError):
                export.flow_uid(*args)
            continue
        assert export.flow_uid(*args) == expected
        assert export.flow_uid(b, b_port, a, a_port, *args[4:]) == expected  # either order


@settings(max_examples=800, deadline=None)
@given(
    ADDRESSES,
    PORTS,
    ADDRESSES,
    PORTS,
    st.one_of(st.sampled_from([1, 6, 17, 58, 132, 47, 0, 255]), st.integers(-5, 600)),
    st.one_of(st.booleans(), st.just(1)),
    st.sampled_from([0, 0, 1, 65535]),
)
def test_community_id_is_the_pythons(src, sport, dst, dport, proto, one_way, seed):
    def both(**keywords):
        calls = []
        for function in (community.python_community_id, community.community_id):
            try:
                calls.append(function(src, sport, dst, dport, proto, **keywords))
            except Exception as error:  # (both must raise the same)
                calls.append(type(error))
        return calls

    python, compiled = both()
    assert compiled == python
    python, compiled = both(one_way=one_way, seed=seed)
    assert compiled == python


def test_every_flow_of_the_fixture_captures(tmp_path):
    seen = 0
    for path in captures(tmp_path, ("captures", "conn", "dhcp_icmp"), seed=4):
        for _, _, seg in segments(path, packets=True):
            if seg.transport in ("tcp", "udp", "icmp", "icmpv6"):
                ends = (seg.src, seg.sport, seg.dst, seg.dport)
                assert export.flow_uid(*ends, seg.transport) == export.python_flow_uid(
                    *ends, seg.transport
                )
                proto = seg.proto
                assert community.community_id(*ends, proto) == community.python_community_id(
                    *ends, proto
                )
                seen += 1
    assert seen > 1000
