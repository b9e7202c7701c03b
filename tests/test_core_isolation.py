"""The headless core never imports a face's libraries (textual, rich, mcp)."""

import json
import subprocess
import sys

FACE_LIBRARIES = ("textual", "rich", "mcp")


def test_core_imports_no_face_library():
    code = (
        "import json, sys\n"
        "import mcpcap.core.service, mcpcap.core.scan, mcpcap.modules.dns.results\n"
        "import mcpcap.modules.dns.summary, mcpcap.modules.dns.decoder\n"
        f"names = {FACE_LIBRARIES!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in names)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_cli_help_imports_nothing_heavy():
    code = (
        "import json, sys\n"
        "from mcpcap import cli\n"
        "cli.build_parser().format_help()\n"
        "heavy = ('scapy', 'textual', 'rich', 'mcp', 'pydantic', 'httpx')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
