"""Build mcpcap's optional compiled hot path: the C twins of a few Python functions that every
packet goes through (see mcpcap/core/fastpath.py).

Each is compiled with the compiler and flags the running Python was built with (`sysconfig`).
Where that fails (no compiler, no Python headers), the build says so and goes on: mcpcap then
runs its Python code, with the same results, more slowly. An editable install (`pip install -e`)
puts the library next to its source, a wheel carries it.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import subprocess
import sysconfig
import tempfile

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def _source_digest():
    """`mcpcap.core.sourcehash.source_digest`, loaded by its path (the build environment has
    hatchling, not mcpcap's dependencies, so the package itself is not imported)."""
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(
        "_mcpcap_sourcehash", os.path.join(here, "mcpcap", "core", "sourcehash.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.source_digest


source_digest = _source_digest()

# each source becomes the extension module of its name, beside it
SOURCES = (
    os.path.join("mcpcap", "core", "_decap.c"),
    os.path.join("mcpcap", "core", "_flowhash.c"),
    os.path.join("mcpcap", "core", "_parallel.c"),
    os.path.join("mcpcap", "core", "_reader.c"),
    os.path.join("mcpcap", "modules", "conn", "_flows.c"),
    os.path.join("mcpcap", "modules", "conn", "_merge.c"),
    os.path.join("mcpcap", "modules", "dhcp", "_wire.c"),
    os.path.join("mcpcap", "modules", "dns", "_brief.c"),
    os.path.join("mcpcap", "modules", "dns", "_pairing.c"),
    os.path.join("mcpcap", "modules", "dns", "_tallies.c"),
    os.path.join("mcpcap", "modules", "dns", "_worker.c"),
    os.path.join("mcpcap", "modules", "tls", "_hello.c"),
)


def compile_command(source: str, target: str) -> list[str] | None:
    """The command that builds `source` into the extension module `target`, or None where this
    Python does not say how (no shared-library linker in its configuration)."""
    linker = sysconfig.get_config_var("LDSHARED")
    if not linker:
        return None
    flags = shlex.split(sysconfig.get_config_var("CCSHARED") or "")
    include = sysconfig.get_paths()["include"]
    digest = source_digest(source)  # the library knows which sources it was built from
    return [*shlex.split(linker), *flags, "-O2", f'-DSOURCE_SHA256="{digest}"', "-I", include,
            source, "-o", target]  # fmt: skip


def library_name(source: str) -> str:
    """`mcpcap/core/_decap.c` -> `mcpcap/core/_decap.cpython-311-x86_64-linux-gnu.so`."""
    return os.path.splitext(source)[0] + sysconfig.get_config_var("EXT_SUFFIX")


def build(root: str, source: str, target: str) -> bool:
    """Compile `source` (relative to `root`) into `target`; False (and a warning) on failure."""
    command = compile_command(os.path.join(root, source), target)
    if command is None:
        print("mcpcap: no C compiler configured; the Python code will run", flush=True)
        return False
    os.makedirs(os.path.dirname(target), exist_ok=True)
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as error:
        output = getattr(error, "stderr", "") or str(error)
        print(f"mcpcap: {source} did not build; its Python twin will run:\n{output}", flush=True)
        return False
    return True


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel":
            return
        if version == "editable":  # imported from the source tree, beside their Python
            for source in SOURCES:
                build(self.root, source, os.path.join(self.root, library_name(source)))
            return
        directory = tempfile.mkdtemp(prefix="mcpcap-build-")
        for source in SOURCES:
            target = os.path.join(directory, library_name(source))
            if build(self.root, source, target):
                build_data["force_include"][target] = library_name(source)
                build_data["pure_python"] = False
                build_data["infer_tag"] = True
