"""`mcpcap analyze` options as a user types them: values that start with '-', the per-filter
options (listed in help, refused without --records) and `schema --modules`; through `main()`
in this process and through `python -m mcpcap` in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mcpcap import cli
from mcpcap.core.modules.registry import load_modules


@pytest.fixture(autouse=True)
def no_signal_handlers(monkeypatch):
    """`main()` in this process must not install the command's signal handlers in pytest."""
    monkeypatch.setattr("mcpcap.core.shutdown.end_quietly_on_signals", lambda: None)


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    """`main(args)` in this process: (status, stdout, stderr); a usage error's SystemExit too."""
    try:
        status = cli.main(list(args))
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def run_process(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mcpcap", *args], capture_output=True, text=True, timeout=300
    )


# (spaced arguments, the same with option=value): argparse alone refuses the spaced form
DASH_VALUES = [
    (["--records", "dns.transactions", "--filter", "-qtype:A", "--limit", "5"],
     ["--records", "dns.transactions", "--filter=-qtype:A", "--limit", "5"]),
    (["--records", "dns.transactions", "--sort", "-rtt", "--limit", "5"],
     ["--records", "dns.transactions", "--sort=-rtt", "--limit", "5"]),
    (["--records", "top", "--filter", "-qtype:A", "--by", "qtype"],
     ["--records", "top", "--filter=-qtype:A", "--by", "qtype"]),
    (["--records", "dns.findings", "--sort", "-score", "--limit", "3"],
     ["--records", "dns.findings", "--sort=-score", "--limit", "3"]),
    (["--records", "conn.connections", "--sort", "-bytes", "--limit", "3"],
     ["--records", "conn.connections", "--sort=-bytes", "--limit", "3"]),
    (["--records", "dns.transactions", "--qname-suffix", "-x.example", "--limit", "3"],
     ["--records", "dns.transactions", "--qname-suffix=-x.example", "--limit", "3"]),
    (["--records", "dns.transactions", "--filter", "-rcode:NOERROR -qtype:A,AAAA", "--limit", "3"],
     ["--records", "dns.transactions", "--filter=-rcode:NOERROR -qtype:A,AAAA", "--limit", "3"]),
]  # fmt: skip


@pytest.mark.parametrize(("spaced", "joined"), DASH_VALUES)
def test_a_value_starting_with_a_dash_is_taken_spaced(capsys, example, spaced, joined):
    status, out, err = run_main(capsys, "analyze", str(example), *spaced)
    assert status == 0, err
    assert (status, out) == run_main(capsys, "analyze", str(example), *joined)[:2]
    document = json.loads(out)
    if "--filter" in spaced and "kind" in document:  # a page says its filter; a ranking not
        assert document["filter"] == spaced[spaced.index("--filter") + 1]
    if "--sort" in spaced:
        assert document["sort"] == spaced[spaced.index("--sort") + 1]


def test_negated_filter_and_descending_sort_mean_what_they_say(capsys, example):
    _, out, _ = run_main(capsys, "analyze", str(example), "--records", "dns.transactions",
                         "--filter", "-qtype:A", "--sort", "-rtt", "--limit", "1000")  # fmt: skip
    page = json.loads(out)
    _, whole, _ = run_main(capsys, "analyze", str(example), "--records", "dns.transactions")
    everything = [json.loads(line) for line in whole.splitlines()]
    expected = [t for t in everything if t["qtype_name"] != "A"]
    assert page["total"] == len(expected) and 0 < len(expected) < len(everything)
    rtts = [t["rtt"] for t in page["items"] if t["rtt"] is not None]
    assert rtts == sorted(rtts, reverse=True) and len(set(rtts)) > 1


def test_a_negative_number_is_a_value(capsys, example):
    status, _, err = run_main(capsys, "analyze", str(example), "--records",
                              "dns.transactions", "--limit", "-1")  # fmt: skip
    assert status == 2 and "limit must be a whole number from 1 to 1000, not -1" in err


def test_dash_values_in_a_subprocess(example):
    spaced, joined = DASH_VALUES[0]
    run = run_process("analyze", str(example), *spaced)
    assert run.returncode == 0, run.stderr
    assert run.stdout == run_process("analyze", str(example), *joined).stdout
    assert json.loads(run.stdout)["filter"] == "-qtype:A"
    sort = run_process("analyze", str(example), "--records", "top", "--filter", "-qtype:A")
    assert sort.returncode == 0 and json.loads(sort.stdout)["items"], sort.stderr


@pytest.mark.parametrize("option", ["--help", "-h", "--records", "--limit", "--qname-suffix", "--"])
def test_a_real_option_is_never_taken_as_a_value(capsys, example, option):
    """`--filter --help` is a usage error naming the missing value, not a filter '--help'
    (nor help printed: the command line is wrong either way, and the hint says how to pass
    a value that is also an option's name)."""
    status, out, err = run_main(capsys, "analyze", str(example), "--records",
                                "dns.transactions", "--filter", option)  # fmt: skip
    assert status == 2 and out == ""
    assert "argument --filter: expected one argument" in err
    assert "--filter=VALUE" in err


def test_a_value_that_is_an_option_name_can_be_given_with_equals(capsys, example):
    status, _, err = run_main(capsys, "analyze", str(example), "--records",
                              "dns.transactions", "--filter=--help")  # fmt: skip
    assert status == 2 and "'--help' is not a filter token" in err


def test_help_lists_every_filter_option_by_module(capsys):
    status, out, _ = run_main(capsys, "analyze", "--help")
    assert status == 0
    flat = " ".join(out.split())
    for module in load_modules(None):
        names = {s.name for kind in module.kinds() for s in kind.filters}
        if names:
            assert f"{module.name} filters" in out
        for name in names:
            assert "--" + name.replace("_", "-") + " " in flat, name
    assert "--qname-suffix TEXT" in flat and "--answered true|false" in flat
    assert "--server-port N" in flat
    assert run_process("analyze", "--help").stdout == out


def test_help_after_other_options(capsys, example):
    status, out, _ = run_main(capsys, "analyze", str(example), "--records", "dns.transactions",
                              "--he")  # fmt: skip
    assert status == 0 and "--qname-suffix" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--qname-suffix", "example.com"],
         "--qname-suffix filters the records of dns.transactions, dns.messages: add --records "
         "with one of them (or --records top --kind with one of them)"),
        (["--min-rtt", "0.5"],
         "--min-rtt filters dns.transactions records: add --records dns.transactions "
         "(or --records top --kind dns.transactions)"),
        (["--category", "tunnel"], "add --records dns.findings"),
        (["--client", "10.0.0.1"], "--client filters the records of dns.transactions, "
         "dns.findings, conn.connections"),
        (["--records", "describe", "--rcode", "3"],
         "--rcode filters the records of dns.transactions, dns.messages"),
        (["--filter", "rcode:3"], "--filter filters records: add --records KIND"),
        (["--conn-state", "-S0"], "add --records conn.connections"),
    ],
)  # fmt: skip
def test_a_filter_without_records_is_a_usage_error(capsys, example, args, message):
    status, out, err = run_main(capsys, "analyze", str(example), *args)
    assert status == 2 and out == ""
    assert message in err, err


def test_a_filter_without_records_in_a_subprocess(example):
    run = run_process("analyze", str(example), "--min-rtt", "0.5")
    assert run.returncode == 2 and run.stdout == ""
    assert "add --records dns.transactions" in run.stderr and "Traceback" not in run.stderr


def test_schema_takes_modules(capsys):
    status, out, _ = run_main(capsys, "schema", "--modules", "dns,conn")
    models = set(json.loads(out)["models"])
    assert status == 0
    assert {"DnsSummary", "DnsTransaction", "ConnSummary", "Connection", "RecordPage"} <= models
    assert not {"HttpSummary", "TlsSummary", "DhcpSummary", "IcmpSummary"} & models
    _, every, _ = run_main(capsys, "schema")
    assert models < set(json.loads(every)["models"])
    run = run_process("schema", "--modules", "dns,nosuch")
    assert run.returncode == 2 and run.stdout == ""
    assert "unknown module 'nosuch'; available modules:" in run.stderr


def test_describe_and_errors_say_a_filters_type(capsys, example):
    status, out, _ = run_main(capsys, "analyze", "--records", "describe", "--kind",
                              "conn.connections")  # fmt: skip
    filters = {f["name"]: f["type"] for f in json.loads(out)["kinds"][0]["filters"]}
    assert status == 0 and filters["port"] == "integer" and filters["duration"] == "number"
    assert filters["client"] == "string" and filters["tunnelled"] == "boolean"
    status, _, err = run_main(capsys, "analyze", str(example), "--records", "conn.connections",
                              "--filter", "duration>soon")  # fmt: skip
    assert status == 2 and "duration takes a number (" in err and "not 'soon'" in err


@pytest.mark.parametrize(
    ("option", "value"),
    [("--max-packets", "-5"), ("--max-packets", "0"), ("--top", "-1"), ("--workers", "0")],
)
def test_a_count_below_one_is_a_usage_error(capsys, example, option, value):
    status, out, err = run_main(capsys, "analyze", str(example), option, value)
    assert status == 2 and out == ""
    assert f"argument {option}: must be a whole number of at least 1, not '{value}'" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--records", "transactions", "--kind", "conn.connections"],
         "--kind goes with --records top or describe"),
        (["--records", "transactions", "--by", "qname"], "--by goes with --records top"),
        (["--records", "top", "--sort", "-rtt"], "--sort goes with --records a record kind"),
        (["--sort", "-rtt"], "not --records summary"),
        (["--limit", "5"], "--limit goes with --records a record kind or top"),
        (["--kind", "dns.messages"], "--kind goes with --records top or describe"),
    ],
)  # fmt: skip
def test_an_option_the_records_mode_ignores_is_a_usage_error(capsys, example, args, message):
    """`--kind conn.connections` beside `--records transactions` printed transactions."""
    status, out, err = run_main(capsys, "analyze", str(example), *args)
    assert status == 2 and message in err and out == ""
