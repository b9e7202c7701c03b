"""The compiled parts of the per-packet hot path, where they were built.

A few functions that every packet of a capture goes through have a C twin beside them:
`_decap.c` (`Decapsulator._ethernet_ipv4_packet` and `_ethernet_datagram`), `_parallel.c`
(`parallel.python_span_loop`, `UdpDispatch.python_for_datagram`, `parallel.python_hand_items`,
and `streampack.pack`, `python_next_kept` and `python_record_at`), `_reader.c` (the walk over
a pcap file's record headers that cuts it into spans), `_flowhash.c` (`export.python_flow_uid` and
`community.python_community_id`), the conn module's `_flows.c` (`FlowDecoder.packet` for the
packets that only count, and UDP flows) and `_merge.c` (`ConnTracker.python_add_span` for the
lone pieces of UDP and other transports, with their rows, and `ConnTallies.python_add`), the
DHCP module's `_wire.c` (`wire.python_decode_v4` for a message that reads cleanly), the DNS
module's `_brief.c` (`decoder.python_decode_brief` for the common message, and
`decoder.python_remember_brief`), `_worker.c` (`WorkerDecoder.__call__` for a clean message),
`_pairing.c` (`Pairer.python_add` for the usual query and response, and
`DnsScan.python_on_udp_decoded`) and `_tallies.c` (`HuntTallies.python_add`, the hunt's
tallies of stored transactions), and the TLS module's `_hello.c`
(`wire.python_client_hello_fields` for a hello that parses cleanly). Installing mcpcap builds
them when a C compiler is there (`hatch_build.py`); without one, or with `MCPCAP_PURE_PYTHON=1`
in the environment, everything runs in Python with the same results.
The Python code stays the reference: differential tests hold each C twin to it.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from mcpcap.core.sourcehash import source_digest

PURE_PYTHON_VARIABLE = "MCPCAP_PURE_PYTHON"


def pure_python() -> bool:
    """Whether the environment asks for the Python code only."""
    return os.environ.get(PURE_PYTHON_VARIABLE, "") not in ("", "0")


@cache
def compiled(name: str) -> ModuleType | None:
    """The compiled module `name` (`mcpcap.core._decap`), or None: not built, turned off, or
    built from other sources than the `.c` file beside it and the headers it includes (an
    editable install whose C changed since: `pip install -e .` builds it again). Checked once
    a process: several Python modules bind parts of one library."""
    if pure_python():
        return None
    try:
        module = importlib.import_module(name)
    except ImportError:
        return None
    if not _built_from_source_beside(module):
        print(f"mcpcap: {module.__file__} was built from other sources than the .c file "
              "beside it and the headers it includes; running the Python code "
              "(`pip install -e .` builds it again)", file=sys.stderr)  # fmt: skip
        return None
    return module


def checked_bind(name: str, ours: Mapping[str, Any], what: str) -> Callable[..., Any] | None:
    """The `bind` of the compiled module `name`, or None where it is not used (`compiled`).
    Its `LAYOUT`, the indices its C was written with, must be the Python's (`ours`, the Python
    module's globals): a mismatch is a bug in the C, which would read the wrong places."""
    module = compiled(name)
    if module is None:
        return None
    python = {key: ours.get(key) for key in module.LAYOUT}
    if python != module.LAYOUT:
        raise RuntimeError(f"{name}'s {what} layout {module.LAYOUT} is not the Python's {python}")
    return module.bind


def _built_from_source_beside(module: ModuleType) -> bool:
    library = Path(module.__file__ or "")
    source = library.with_name(library.name.split(".", 1)[0] + ".c")
    if not source.is_file():  # (a wheel carries the sources; a trimmed install may not)
        return True
    return source_digest(source) == getattr(module, "SOURCE_SHA256", "")
