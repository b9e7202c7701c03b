"""Time whole processes: mcpcap (cold, warm, workers), tshark and scapy baselines.

    python benchmarks/run.py [--sizes 10k,100k,1m] [--repeat 3] [--skip-scapy] [--skip-tshark]
    python benchmarks/run.py --smoke        # 2k packets, one run of everything (CI)

Missing captures are generated into ``benchmarks/data/`` (git-ignored).  Each run is a child
process reaped with ``os.wait4``: wall time, user+sys CPU and ``ru_maxrss`` (KiB on Linux;
the largest single process among the child and the descendants it waited for).  A sampler
also sums the RSS of the whole process tree every 50 ms ("tree RSS", an upper bound on memory
shared between forked workers).  Results go to ``benchmarks/results/latest.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from generate import GENERATOR_VERSION, parse_count, truth_path  # noqa: E402

DATA_DIR = HERE / "data"
RESULTS_DIR = HERE / "results"
SCAPY_SCRIPT = HERE / "baselines" / "scapy_rdpcap.py"
TSHARK_FIELDS = (
    *("frame.number", "dns.id", "dns.flags.response", "dns.qry.name", "dns.qry.type"),
    *("dns.flags.rcode", "dns.a", "dns.resp.ttl"),
)
SEED = 1
SAMPLE_INTERVAL = 0.05
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024
TUI_SIZE = "100k"  # the TUI target's capture
COLD = "mcpcap cold, store written"  # the targets' `mcpcap analyze CAPTURE`, cold
DNS_ONLY = "mcpcap --modules dns (--no-cache)"
DNS_CONN = "mcpcap --modules dns,conn (--no-cache)"  # the conn issue's default modules
KIB_PER_MIB = 1024

# (target name, approach or check, threshold) — evaluated on the largest size measured.
TARGETS = (
    "cold (default modules) at least 2.5x faster than tshark's DNS field export",
    "cold with --modules dns at least 4x faster than tshark's DNS field export",
    "cold with --modules dns,conn (the conn issue's defaults) at least 2.5x faster than tshark",
    "cold at least 30x faster than scapy rdpcap + haslayer(DNS)",
    "peak RSS of any mcpcap process at most 150 MiB",
    "tree RSS with --workers 2 at most 300 MiB (sampled sum)",
    "at least 1.4x from --workers 1 to --workers 2",
    "warm (result store present) under 0.5 s",
    "mcpcap --help under 0.3 s",
)


# --------------------------------------------------------------------------- measuring


@dataclass(slots=True)
class Measurement:
    """One child process: wall and CPU seconds, peak RSS, exit status."""

    wall_s: float
    cpu_s: float
    maxrss_kib: int
    tree_rss_kib: int
    returncode: int
    error: str | None = None
    stdout_bytes: int = 0


class TreeSampler(threading.Thread):
    """Sums VmRSS over a process and its descendants every few milliseconds; keeps the peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kib = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            total = sum(_rss_kib(pid) for pid in _descendants(self.pid))
            self.peak_kib = max(self.peak_kib, total)
            self.done.wait(SAMPLE_INTERVAL)

    def stop(self) -> int:
        self.done.set()
        self.join()
        return self.peak_kib


def _descendants(root: int) -> list[int]:
    """``root`` and every process below it (from each process's parent id in /proc).

    Only pids above ``root`` are read: descendants are younger, so unless the pid counter
    wrapped during the run they have larger pids, and the scan stays cheap."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) <= root:
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack += children.get(pid, [])
    return found


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * PAGE_KIB
    except (OSError, IndexError, ValueError):
        return 0


def run_once(
    cmd: list[str],
    env: dict[str, str] | None = None,
    timeout: float = 1800.0,
    keep_stdout: bool = False,
) -> tuple[Measurement, bytes]:
    """Run ``cmd`` to completion and measure it; never raises for a failing command."""
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as out:
        stdout = out if keep_stdout else subprocess.DEVNULL
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(
                cmd, stdout=stdout, stderr=err, env=env, cwd=ROOT, start_new_session=True
            )
        except OSError as exc:
            return Measurement(0.0, 0.0, 0, 0, 127, f"cannot start: {exc}"), b""
        sampler = TreeSampler(proc.pid)
        sampler.start()
        timer = threading.Timer(timeout, _kill_group, (proc.pid,))
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        timer.cancel()
        tree = sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        error = None
        if proc.returncode != 0:
            error = _last_line(err.read()) or f"exit status {proc.returncode}"
            if proc.returncode == -signal.SIGKILL and wall >= timeout:
                error = f"timed out after {timeout:.0f} s"
        out.seek(0)
        data = out.read() if keep_stdout else b""
    cpu = usage.ru_utime + usage.ru_stime
    tree = max(tree, usage.ru_maxrss)  # a short process can end between two samples
    measurement = Measurement(wall, cpu, usage.ru_maxrss, tree, proc.returncode, error, len(data))
    return measurement, data


def _kill_group(pid: int) -> None:
    with suppress(OSError):
        os.killpg(pid, signal.SIGKILL)


def _last_line(data: bytes) -> str:
    lines = [line.strip() for line in data.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line and not line.startswith("Running as user")]
    return lines[-1][:300] if lines else ""


# --------------------------------------------------------------------------- rows

# one run of an approach into its row (the run's number as argument); False once it failed
Trial = Callable[[int], bool]


@dataclass(slots=True)
class Row:
    """One approach at one capture size: its runs and the summary shown in the table."""

    approach: str
    size: str
    packets: int
    command: str
    runs: list[Measurement] = field(default_factory=list)
    note: str = ""
    scaled_from: str | None = None
    scale: float = 1.0

    @property
    def ok(self) -> bool:
        return bool(self.runs) and all(run.error is None for run in self.runs)

    @property
    def error(self) -> str | None:
        return next((run.error for run in self.runs if run.error), None)

    def median(self, attr: str) -> float:
        return statistics.median(getattr(run, attr) for run in self.runs) * self.scale

    def peak(self, attr: str) -> float:
        return max(getattr(run, attr) for run in self.runs) * self.scale

    def summary(self) -> dict[str, object]:
        data: dict[str, object] = {
            "approach": self.approach,
            "size": self.size,
            "packets": self.packets,
            "command": self.command,
            "runs": len(self.runs),
            "ok": self.ok,
            "error": self.error,
            "note": self.note,
            "scaled_from": self.scaled_from,
        }
        if self.ok:
            data |= {
                "wall_s_median": round(self.median("wall_s"), 4),
                "cpu_s_median": round(self.median("cpu_s"), 4),
                "peak_rss_mib": round(self.peak("maxrss_kib") / KIB_PER_MIB, 1),
                "tree_rss_mib": round(self.peak("tree_rss_kib") / KIB_PER_MIB, 1),
                "raw_runs": [asdict(run) for run in self.runs],
            }
        return data


class Bench:
    """Everything one invocation measures, in order, with a progress line per run."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.mcpcap = mcpcap_command(args.mcpcap)
        self.rows: list[Row] = []
        self.tui: dict[str, float] = {}  # see tui_figures
        self.scratch = Path(tempfile.mkdtemp(prefix="mcpcap-bench-"))

    def env(self, cache_dir: Path | None = None) -> dict[str, str]:
        env = dict(os.environ)
        if runs_the_module(self.mcpcap):
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        if cache_dir is None:
            cache_dir = Path(tempfile.mkdtemp(dir=self.scratch, prefix="nocache-"))
        env["MCPCAP_CACHE_DIR"] = str(cache_dir)
        return env

    def measure(
        self,
        row: Row,
        cmd: list[str],
        repeat: int,
        env_for_run: Callable[[], dict[str, str]] | None = None,
        check_json: bool = False,
    ) -> Row:
        """Run ``cmd`` ``repeat`` times in a row (stopping at the first failure) into ``row``."""
        once = self.trial(row, cmd, env_for_run, check_json)
        for i in range(repeat):
            if not once(i):
                break
        return row

    def trial(
        self,
        row: Row,
        cmd: list[str],
        env_for_run: Callable[[], dict[str, str]] | None = None,
        check_json: bool = False,
    ) -> Trial:
        """``row`` (added to the table now, in this order) and one run of ``cmd`` into it."""
        row.command = shlex.join(_display(cmd))
        self.rows.append(row)

        def once(i: int) -> bool:
            env = env_for_run() if env_for_run else self.env()
            run, stdout = run_once(cmd, env, self.args.timeout, keep_stdout=check_json)
            if run.error is None and check_json and i == 0:
                run.error = _json_problem(stdout)
            row.runs.append(run)
            _progress(row, run)
            return run.error is None

        return once

    def interleave(self, trials: list[Trial]) -> None:
        """Each trial ``--repeat`` times, round-robin: run 1 of every approach, then run 2 ...

        Timings that are compared (mcpcap against tshark above all) then share whatever the
        machine did meanwhile (other load, a cold cache, a throttled core), as the targets ask
        ("interleaved, median of 5"). A trial that failed runs no more."""
        live = trials
        for i in range(self.args.repeat):
            live = [once for once in live if once(i)]

    def help_row(self) -> None:
        cmd = [*self.mcpcap, "--help"]
        self.measure(Row("mcpcap --help", "-", 0, ""), cmd, self.args.repeat)

    def mcpcap_trials(self, size: str, packets: int, capture: Path) -> list[Trial]:
        analyze = [*self.mcpcap, "analyze", *self.args.mcpcap_args]
        cold = Row("mcpcap cold (--no-cache)", size, packets, "")
        trials = [self.trial(cold, [*analyze, "--no-cache", str(capture)], check_json=True)]
        trials.append(self.store_trial(size, packets, [*analyze, str(capture)]))
        dns = Row(DNS_ONLY, size, packets, "")
        trials.append(self.trial(dns, [*analyze, "--no-cache", "--modules", "dns", str(capture)]))
        pair = Row(DNS_CONN, size, packets, "")
        trials.append(
            self.trial(pair, [*analyze, "--no-cache", "--modules", "dns,conn", str(capture)])
        )
        for workers in (1, 2):
            row = Row(f"mcpcap --workers {workers} (--no-cache)", size, packets, "")
            cmd = [*analyze, "--no-cache", "--workers", str(workers), str(capture)]
            trials.append(self.trial(row, cmd))
        return trials

    def store_trial(self, size: str, packets: int, cmd: list[str]) -> Trial:
        """Cold with the result store written to a fresh dir, then warm on that same dir."""
        cold = Row("mcpcap cold, store written", size, packets, "", note="fresh MCPCAP_CACHE_DIR")
        warm = Row("mcpcap warm (store present)", size, packets, "", note="second run, same dir")
        cold.command = warm.command = shlex.join(_display(cmd))
        self.rows += [cold, warm]

        def once(_i: int) -> bool:
            cache = Path(tempfile.mkdtemp(dir=self.scratch, prefix="cache-"))
            try:
                for row in (cold, warm):
                    run, _ = run_once(cmd, self.env(cache), self.args.timeout)
                    row.runs.append(run)
                    _progress(row, run)
                    if run.error:
                        return False
                return True
            finally:
                shutil.rmtree(cache, ignore_errors=True)

        return once

    def tshark_trial(self, size: str, packets: int, capture: Path) -> Trial | None:
        tshark = shutil.which("tshark")
        if tshark is None:
            self.rows.append(Row("tshark DNS fields", size, packets, "", note="not installed"))
            return None
        cmd = [tshark, "-r", str(capture), "-Y", "dns", "-T", "fields"]
        for name in TSHARK_FIELDS:
            cmd += ["-e", name]
        return self.trial(Row("tshark DNS fields", size, packets, ""), cmd)

    def scapy_row(self, size: str, packets: int, capture: Path) -> None:
        """Measured up to --scapy-max packets; larger sizes scale the largest measurement."""
        if packets > self.args.scapy_max:
            self.scaled_scapy_row(size, packets)
            return
        cmd = [sys.executable, str(SCAPY_SCRIPT), str(capture)]
        row = Row("scapy rdpcap + haslayer", size, packets, "")
        self.measure(row, cmd, self.args.scapy_repeat)

    def scaled_scapy_row(self, size: str, packets: int) -> None:
        measured = [r for r in self.rows if r.approach.startswith("scapy") and not r.scaled_from]
        if not measured:
            base_size = _label(self.args.scapy_max)
            capture = ensure_capture(base_size, self.args.scapy_max)
            self.scapy_row(base_size, self.args.scapy_max, capture)
            measured = [self.rows[-1]]
        base = max(measured, key=lambda r: r.packets)
        row = Row("scapy rdpcap + haslayer", size, packets, base.command, runs=base.runs)
        row.scaled_from, row.scale = base.size, packets / base.packets
        row.note = f"scaled linearly from {base.size} (x{row.scale:g})"
        self.rows.append(row)

    def run(self) -> None:
        if not self.args.skip_mcpcap:
            compile_bytecode()
            self.help_row()
        for size in self.args.sizes:
            packets = parse_count(size)
            capture = ensure_capture(size, packets)
            prime_page_cache(capture)
            trials = []
            if not self.args.skip_mcpcap:
                trials += self.mcpcap_trials(size, packets, capture)
            if not self.args.skip_tshark:
                trials.append(self.tshark_trial(size, packets, capture))
            self.interleave([once for once in trials if once is not None])
            if not self.args.skip_mcpcap and size == TUI_SIZE and not self.args.skip_tui:
                self.tui = tui_figures(capture, self.args.repeat)
            if not self.args.skip_scapy:
                self.scapy_row(size, packets, capture)
        shutil.rmtree(self.scratch, ignore_errors=True)


def tui_figures(capture: Path, repeat: int) -> dict[str, float]:
    """Medians from `tui_open.py` (fresh processes, empty caches): seconds from choosing the
    capture in the running app's browser to the whole overview shown (the target), and, for
    `mcpcap tui CAPTURE`, from the launch and from the start of the open."""
    figures: dict[str, float] = {}
    for mode, flags in (("browse", ["--browse"]), ("launch", [])):
        out = Path(tempfile.mkstemp(suffix=".json")[1])
        cmd = [sys.executable, str(HERE / "tui_open.py"), str(capture), "--repeat", str(repeat)]
        print(f"  tui_open.py {' '.join(flags) or '(launch)'} ...", file=sys.stderr, flush=True)
        done = subprocess.run([*cmd, *flags, "--json", str(out)], capture_output=True, text=True)
        if done.returncode != 0:
            print(f"  tui_open.py failed: {done.stderr.strip()[-500:]}", file=sys.stderr)
            continue
        runs = json.loads(out.read_text())["runs"]
        out.unlink()
        if mode == "browse":
            figures["chosen to overview"] = statistics.median(
                r["overview"] - r["chosen"] for r in runs
            )
        else:
            figures["launch to overview"] = statistics.median(r["overview"] for r in runs)
            figures["open to overview"] = statistics.median(r["overview"] - r["open"] for r in runs)
    return figures


def _display(cmd: list[str]) -> list[str]:
    """Shorter paths in the printed command lines."""
    out = []
    for part in cmd:
        path = Path(part)
        if path.is_absolute() and path.is_relative_to(ROOT):
            part = str(path.relative_to(ROOT))
        elif part == sys.executable:
            part = "python"
        out.append(part)
    return out


def _json_problem(stdout: bytes) -> str | None:
    try:
        json.loads(stdout)
    except ValueError as exc:
        return f"stdout is not one JSON document ({exc})"
    return None


def _progress(row: Row, run: Measurement) -> None:
    state = f"FAILED: {run.error}" if run.error else "ok"
    print(
        f"  {row.approach:<34} {row.size:>5}  wall {run.wall_s:8.3f} s  cpu {run.cpu_s:8.3f} s"
        f"  rss {run.maxrss_kib / KIB_PER_MIB:7.1f} MiB  tree {run.tree_rss_kib / KIB_PER_MIB:7.1f}"
        f" MiB  {state}",
        file=sys.stderr,
        flush=True,
    )


# --------------------------------------------------------------------------- inputs


def runs_the_module(command: list[str]) -> bool:
    """Whether `command` is `PYTHON -m mcpcap ...` (rather than a console script)."""
    return command[1:3] == ["-m", "mcpcap"]


def mcpcap_command(override: str | None) -> list[str]:
    """The console script if installed, else ``python -m mcpcap`` from this checkout."""
    if override:
        return shlex.split(override)
    script = shutil.which("mcpcap")
    return [script] if script else [sys.executable, "-m", "mcpcap"]


def _label(packets: int) -> str:
    if packets % 1_000_000 == 0:
        return f"{packets // 1_000_000}m"
    return f"{packets // 1000}k" if packets % 1000 == 0 else str(packets)


def ensure_capture(size: str, packets: int) -> Path:
    """``benchmarks/data/bench-<size>.pcap``, generated (seed 1) unless this generator
    version already made it."""
    capture = DATA_DIR / f"bench-{size}.pcap"
    truth = truth_path(capture)
    if capture.exists() and truth.exists():
        known = json.loads(truth.read_text())
        current = known.get("generator") == f"mcpcap-benchmarks/{GENERATOR_VERSION}"
        if current and known.get("packets") == packets and known.get("seed") == SEED:
            return capture
    print(f"generating {os.path.relpath(capture, ROOT)} ({packets} packets)", file=sys.stderr)
    started = time.perf_counter()
    # in a process of its own: a command started later inherits this process's peak RSS as
    # the floor of its own `ru_maxrss` (Linux keeps it across fork and exec), and generating a
    # million packets here took it past the mcpcap processes' own peak
    generator = HERE / "generate.py"
    command = [sys.executable, str(generator), "--packets", str(packets), "--seed", str(SEED)]
    subprocess.run([*command, "--out", str(capture)], check=True, stdout=subprocess.DEVNULL)
    print(f"  done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return capture


def compile_bytecode() -> None:
    """Compile the mcpcap being measured, as installing a package does: an editable install
    under PYTHONDONTWRITEBYTECODE would otherwise compile every module at every start."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("mcpcap")
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            compileall.compile_dir(folder, quiet=1)


def prime_page_cache(path: Path) -> None:
    """Read the capture once so every approach starts with it in the page cache."""
    with open(path, "rb") as fh:
        while fh.read(1 << 24):
            pass


def _version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=ROOT)
    except (OSError, subprocess.TimeoutExpired):
        return "unavailable"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text and out.returncode == 0 else "unavailable"


def command_python(command: list[str]) -> list[str] | None:
    """The interpreter a mcpcap command runs on: the command's own first word for
    `python -m mcpcap`, else the console script's `#!` line (None when neither tells)."""
    if runs_the_module(command):
        return command[:1]
    script = shutil.which(command[0])
    try:
        with open(script or command[0], "rb") as fh:
            first = fh.readline(4096).decode(errors="replace")
    except OSError:
        return None
    if not first.startswith("#!"):
        return None
    return shlex.split(first[2:]) or None


def interpreter(command: list[str]) -> str:
    """Version and real path of the Python that runs `command`: two builds of one version can
    run the same code at different speeds (see "Which Python" in benchmarks/README.md)."""
    python = command_python(command)
    if python is None:
        return "unavailable"
    code = (
        "import os, platform, sys\n"
        "print(platform.python_version(), os.path.realpath(sys.executable))"
    )
    version, _, path = _version([*python, "-c", code]).partition(" ")
    return f"{version} ({path})" if path else version


def machine_info(bench: Bench) -> dict[str, object]:
    cpu = "unknown"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    commit = _version(["git", "rev-parse", "--short", "HEAD"]).replace("unavailable", "no commit")
    dirty = _version(["git", "status", "--porcelain"]) not in ("unavailable", "")
    tshark = _version(["tshark", "--version"]) if shutil.which("tshark") else "not installed"
    scapy = _version([sys.executable, "-c", "import scapy; print(scapy.__version__)"])
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "memory_gib": round(mem_kib / 2**20, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "mcpcap_python": interpreter(bench.mcpcap),
        "mcpcap": _version([*bench.mcpcap, "--version"]),
        "mcpcap_command": shlex.join(_display(bench.mcpcap)),
        "tshark": tshark.removeprefix("TShark (Wireshark) ").split(" (")[0],
        "scapy": scapy,
        "git_commit": f"{commit}{' (dirty)' if dirty else ''}",
        "command": shlex.join(["python", "benchmarks/run.py", *sys.argv[1:]]),
    }


# --------------------------------------------------------------------------- reporting


def find(rows: list[Row], approach: str, size: str) -> Row | None:
    return next((r for r in rows if r.approach == approach and r.size == size and r.ok), None)


def ratio(row: Row, rows: list[Row]) -> float | None:
    cold = find(rows, "mcpcap cold (--no-cache)", row.size)
    if not row.ok or cold is None or row.size == "-":
        return None
    return row.median("wall_s") / cold.median("wall_s")


def evaluate_targets(
    rows: list[Row], sizes: list[str], tui: dict[str, float] | None = None
) -> list[dict[str, object]]:
    """Each target as measured at the largest size that has a cold mcpcap run.

    "Cold" is the issue's command, `mcpcap analyze CAPTURE` with no result store yet (it writes
    one); the table's ratio column is against the `--no-cache` run (a throwaway store)."""
    size = next((s for s in reversed(sizes) if find(rows, COLD, s)), None)
    cold = find(rows, COLD, size) if size else None

    def speedup(approach: str, of: Row | None = cold) -> float | None:
        other = find(rows, approach, size) if size else None
        return other.median("wall_s") / of.median("wall_s") if other and of else None

    def tshark_over(approach: str) -> float | None:
        """How many times faster than tshark `approach` ran."""
        return speedup("tshark DNS fields", find(rows, approach, size) if size else None)

    mcpcap_rows = [r for r in rows if r.ok and r.size == size and r.approach.startswith("mcpcap")]
    peak = max((r.peak("maxrss_kib") / KIB_PER_MIB for r in mcpcap_rows), default=None)
    w1 = find(rows, "mcpcap --workers 1 (--no-cache)", size) if size else None
    w2 = find(rows, "mcpcap --workers 2 (--no-cache)", size) if size else None
    warm = find(rows, "mcpcap warm (store present)", size) if size else None
    help_row = find(rows, "mcpcap --help", "-")
    values = (
        (speedup("tshark DNS fields"), 2.5, "x", True),
        (tshark_over(DNS_ONLY), 4.0, "x", True),
        (tshark_over(DNS_CONN), 2.5, "x", True),
        (speedup("scapy rdpcap + haslayer"), 30.0, "x", True),
        (peak, 150.0, " MiB", False),
        (w2.peak("tree_rss_kib") / KIB_PER_MIB if w2 else None, 300.0, " MiB", False),
        (w1.median("wall_s") / w2.median("wall_s") if w1 and w2 else None, 1.4, "x", True),
        (warm.median("wall_s") if warm else None, 0.5, " s", False),
        (help_row.median("wall_s") if help_row else None, 0.3, " s", False),
    )
    results = []
    for name, (value, limit, unit, higher_is_better) in zip(TARGETS, values, strict=True):
        if value is None:
            status = "not measured"
        else:
            status = "pass" if (value >= limit if higher_is_better else value <= limit) else "FAIL"
        shown = None if value is None else f"{value:.2f}{unit}"
        at = "-" if "help" in name or size is None else size
        results.append({"target": name, "size": at, "measured": shown, "status": status})
    chosen = (tui or {}).get("chosen to overview")
    results.append(
        {
            "target": "TUI shows the DNS overview of the 100k capture within 2 s of opening it",
            "size": TUI_SIZE,
            "measured": None if chosen is None else f"{chosen:.2f} s",
            "status": "not measured" if chosen is None else "pass" if chosen <= 2.0 else "FAIL",
        }
    )
    return results


def markdown(
    rows: list[Row],
    targets: list[dict[str, object]],
    info: dict[str, object],
    tui: dict[str, float] | None = None,
) -> str:
    lines = [
        "# mcpcap benchmark results",
        "",
        f"- date: {info['date']}",
        f"- machine: {info['cpu']}, {info['usable_cores']} usable cores of {info['cores']},"
        f" {info['memory_gib']} GiB RAM, {info['os']}",
        f"- versions: Python {info['python']}, {info['mcpcap']} (git {info['git_commit']}),"
        f" tshark: {info['tshark']}, scapy {info['scapy']}",
        f"- mcpcap command: `{info['mcpcap_command']}`, on Python {info['mcpcap_python']}",
        f"- command: `{info['command']}`",
        "",
        "| approach | size | runs | wall median s | cpu median s | peak RSS MiB "
        "| tree RSS MiB | wall ÷ mcpcap cold | note |",
        "|---|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    for row in rows:
        lines.append(_table_line(row, rows))
    lines += ["", "## Targets", ""]
    if all(t["size"] != "1m" for t in targets):
        lines += [
            "The targets are defined at 1m packets; these are measured at a smaller size.",
            "",
        ]
    lines += ["| target | size | measured | status |", "|---|---|--:|---|"]
    for t in targets:
        lines.append(f"| {t['target']} | {t['size']} | {t['measured'] or '-'} | {t['status']} |")
    if tui:
        lines += ["", f"TUI ({TUI_SIZE}, `benchmarks/tui_open.py`, medians):", ""]
        lines += [f"- {name}: {seconds:.2f} s" for name, seconds in tui.items()]
    return "\n".join(lines) + "\n"


def _table_line(row: Row, rows: list[Row]) -> str:
    if not row.ok:
        reason = row.note if not row.runs else f"failed: {row.error}"
        return f"| {row.approach} | {row.size} | {len(row.runs)} | - | - | - | - | - | {reason} |"
    r = ratio(row, rows)
    cells = (
        row.approach,
        row.size,
        str(len(row.runs)),
        f"{row.median('wall_s'):.3f}",
        f"{row.median('cpu_s'):.3f}",
        f"{row.peak('maxrss_kib') / KIB_PER_MIB:.1f}",
        f"{row.peak('tree_rss_kib') / KIB_PER_MIB:.1f}",
        "-" if r is None else f"{r:.2f}",
        row.note.replace("|", "/"),
    )
    return "| " + " | ".join(cells) + " |"


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


# --------------------------------------------------------------------------- command line


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k,1m", help="comma separated: 10k,100k,1m")
    parser.add_argument("--repeat", type=int, default=3, help="runs per approach (median)")
    parser.add_argument("--skip-scapy", action="store_true")
    parser.add_argument("--skip-tshark", action="store_true")
    parser.add_argument("--skip-tui", action="store_true", help="no TUI timing at 100k")
    parser.add_argument("--skip-mcpcap", action="store_true", help="baselines only")
    parser.add_argument("--smoke", action="store_true", help="2k packets, one run of everything")
    parser.add_argument("--scapy-max", type=parse_count, default=100_000, help="scale above this")
    parser.add_argument("--scapy-repeat", type=int, default=1, help="runs of the scapy baseline")
    parser.add_argument("--mcpcap", help="command to run instead of `mcpcap` (shell words)")
    parser.add_argument(
        "--mcpcap-args", default="", help="extra arguments after `analyze` (shell words)"
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per run")
    parser.add_argument("--out", type=Path, help="results prefix (default results/latest)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.repeat, args.scapy_repeat, args.scapy_max = "2k", 1, 1, 2_000
        args.out = args.out or DATA_DIR / "results-smoke"
    args.sizes = [s.strip().lower() for s in args.sizes.split(",") if s.strip()]
    args.mcpcap_args = shlex.split(args.mcpcap_args)
    args.out = args.out or RESULTS_DIR / "latest"
    return args


@contextmanager
def _announce(message: str) -> Iterator[None]:
    print(message, file=sys.stderr, flush=True)
    started = time.perf_counter()
    yield
    print(f"finished in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bench = Bench(args)
    with _announce(f"benchmarking {shlex.join(bench.mcpcap)} at {', '.join(args.sizes)}"):
        bench.run()
    info = machine_info(bench)
    targets = evaluate_targets(bench.rows, args.sizes, bench.tui)
    report = markdown(bench.rows, targets, info, bench.tui)
    print(report)
    rows = [r.summary() for r in bench.rows]
    document = {"machine": info, "rows": rows, "targets": targets, "tui": bench.tui}
    write_atomic(args.out.with_suffix(".md"), report)
    write_atomic(args.out.with_suffix(".json"), json.dumps(document, indent=2) + "\n")
    print(f"wrote {args.out.with_suffix('.md')} and .json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
