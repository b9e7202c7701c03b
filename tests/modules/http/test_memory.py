"""What the HTTP stream decoder keeps of a connection once it is done with it: nothing."""

from __future__ import annotations

import weakref

from mcpcap.core.gcpause import collector_paused
from mcpcap.core.tcpstream import StreamChunk
from mcpcap.modules.http.scan import HttpStreams
from tests.modules.http.wire import response

CLIENT, SERVER = ("10.0.0.1", 40000), ("10.0.0.2", 80)
REQUEST = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"


def chunk(from_client: bool, data: bytes = b"", end: bool = False) -> StreamChunk:
    src, dst = (CLIENT, SERVER) if from_client else (SERVER, CLIENT)
    return StreamChunk(*src, *dst, data, gap=False, syn_seen=True, end=end)


def test_a_finished_connection_is_freed_while_the_collector_is_paused():
    """A scan pauses the cyclic collector, so a connection must not take part in a reference
    cycle: each one a scan forgot stayed in memory until the scan ended (about 4 MiB of them at
    the 1M-packet benchmark)."""
    streams = HttpStreams()
    with collector_paused():
        assert streams.on_tcp(1, 1.0, chunk(True, REQUEST))
        (conn,) = streams.connections.values()
        freed = weakref.ref(conn)
        del conn
        assert streams.on_tcp(2, 2.0, chunk(False, response("200 OK", b"hi")))
        streams.on_tcp(3, 3.0, chunk(True, end=True))
        streams.on_tcp(4, 4.0, chunk(False, end=True))
        assert not streams.connections
        assert freed() is None
    rows, *_ = streams.flush()
    assert len(rows) == 1  # the exchange was recorded before the connection went
