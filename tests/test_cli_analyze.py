"""`mcpcap analyze` as a user runs it: output formats, pages, exit codes, stderr."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest
from parsezeeklogs import read_zeek

from mcpcap.core.modules.registry import BUILTIN_MODULES


def mcpcap(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    run = subprocess.run(
        [sys.executable, "-m", "mcpcap", *args], capture_output=True, text=True, timeout=300
    )
    if check and run.returncode != 0:
        raise AssertionError(run.stderr)
    return run


def test_default_is_the_bundled_example_summary():
    run = mcpcap("analyze")
    document = json.loads(run.stdout)
    assert set(document) == {"schema_version", "capture", *BUILTIN_MODULES}
    assert document["capture"]["name"] == "example.pcap"
    assert "bundled example" in run.stderr


def test_messages_as_json_lines_and_as_array(example):
    lines = mcpcap("analyze", str(example), "--records", "messages").stdout.splitlines()
    array = json.loads(
        mcpcap("analyze", str(example), "--records", "messages", "--format", "json").stdout
    )
    assert [json.loads(line) for line in lines] == array
    assert len(array) == 346
    frames = [(m["frame"], m["index"]) for m in array]
    assert frames == sorted(frames)
    assert {
        "frame",
        "ts",
        "time",
        "src",
        "sport",
        "dst",
        "dport",
        "transport",
        "protocol",
        "id",
        "trans_id",
        "qr",
        "opcode",
        "opcode_name",
        "rcode",
        "rcode_name",
        "flags",
        "questions",
        "answers",
        "authority",
        "additional",
        "edns",
        "malformed",
    } <= set(array[0])


def test_max_packets_stops_and_says_so(example):
    run = mcpcap("analyze", str(example), "--records", "messages", "--max-packets", "20")
    assert all(json.loads(line)["frame"] <= 20 for line in run.stdout.splitlines())
    assert "stopped after 20 packets" in run.stderr


def test_transactions_page_with_filters(example):
    args = ["analyze", str(example), "--records", "transactions", "--qname-suffix", "example.com",
            "--rcode", "NOERROR", "--limit", "5"]  # fmt: skip
    page = json.loads(mcpcap(*args).stdout)
    assert set(page) == {
        "schema_version", "kind", "filter", "sort", "total", "items", "next_cursor", "truncated"
    }  # fmt: skip
    assert page["kind"] == "dns.transactions"
    assert page["filter"] == "qname_suffix:example.com rcode:NOERROR"
    assert len(page["items"]) == 5 and page["total"] > 5
    as_tokens = ["analyze", str(example), "--records", "dns.transactions", "--limit", "5",
                 "--filter", "qname_suffix:example.com rcode:NOERROR"]  # fmt: skip
    assert json.loads(mcpcap(*as_tokens).stdout) == page
    following = json.loads(mcpcap(*args, "--cursor", page["next_cursor"]).stdout)
    assert {i["query_frame"] for i in following["items"]}.isdisjoint(
        i["query_frame"] for i in page["items"]
    )


def test_transactions_stream_equals_summary_count(example):
    lines = mcpcap("analyze", str(example), "--records", "transactions").stdout.splitlines()
    summary = json.loads(mcpcap("analyze", str(example)).stdout)
    assert len(lines) == summary["dns"]["transactions"]


def test_zeek_dns_log_reads_back_with_a_zeek_log_parser(example, tmp_path):
    out = tmp_path / "dns.log"
    out.write_text(
        mcpcap("analyze", str(example), "--records", "transactions", "--format", "zeek").stdout
    )
    records = list(read_zeek(str(out)))
    ours = [
        json.loads(line)
        for line in mcpcap("analyze", str(example), "--records", "transactions").stdout.splitlines()
    ]
    assert len(records) == len(ours)
    for zeek, mine in zip(records, ours, strict=False):
        assert zeek["id.orig_h"] == mine["client"] and zeek["id.resp_p"] == mine["server_port"]
        assert zeek["query"] == mine["query"] and zeek["trans_id"] == mine["trans_id"]
        assert (zeek["rcode_name"] or None) == mine["rcode_name"]
        assert list(zeek["answers"] or []) == (mine["answers"] or [])


def test_the_zeek_dns_log_writes_zeeks_defaults():
    """dns/main.zeek: AA, TC, RD, RA and rejected are `&default=F` and Z `&default=0` (an
    unanswered query's row has them), the answers `&optional` ("-" with none)."""
    from mcpcap.core.export import write_records
    from mcpcap.core.modules.registry import load_modules
    from mcpcap.core.records import all_kinds, find_kind

    kind = find_kind(all_kinds(load_modules(["dns"])), "dns.transactions")
    unanswered = {"ts": 1.0, "uid": "Cx", "client": "10.0.0.1", "client_port": 1,
                  "server": "10.0.0.2", "server_port": 53, "transport": "udp", "query": "a.b",
                  "aa": None, "tc": None, "rd": True, "ra": None, "z": None, "answers": None,
                  "ttls": None, "rejected": None}  # fmt: skip
    no_answer = {**unanswered, "aa": True, "tc": False, "ra": True, "z": 0, "answers": [],
                 "ttls": [], "rejected": True}  # fmt: skip
    out = io.StringIO()
    write_records([unanswered, no_answer], out, "zeek", kind)
    lines = [line.split("\t") for line in out.getvalue().splitlines()]
    names = next(line[1:] for line in lines if line[0] == "#fields")
    rows = [dict(zip(names, line, strict=True)) for line in lines if not line[0].startswith("#")]
    flags = ("AA", "TC", "RD", "RA", "Z", "answers", "TTLs", "rejected")
    assert [tuple(row[name] for name in flags) for row in rows] == [
        ("F", "F", "T", "F", "0", "-", "-", "F"),
        ("T", "F", "T", "T", "0", "-", "-", "T"),
    ]


def test_csv_has_a_header_and_a_row_per_transaction(example):
    text = mcpcap("analyze", str(example), "--records", "transactions", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 173
    assert rows[0]["query"] and "rtt" in rows[0]


def test_ranking(example):
    ranking = json.loads(
        mcpcap(
            "analyze", str(example), "--records", "top", "--by", "registered_domain", "--limit", "3"
        ).stdout
    )
    assert ranking["by"] == "registered_domain"
    assert ranking["items"][0] == {"key": "example.com", "count": 81}


def test_ranking_pages_with_a_cursor(example):
    """--records top --cursor continues a ranking cut by --limit, to its end, losing nothing."""
    top = ["analyze", str(example), "--records", "top", "--by", "qname"]
    whole = json.loads(mcpcap(*top, "--limit", "1000").stdout)
    assert whole["next_cursor"] is None and len(whole["items"]) == whole["total_distinct"]
    items, cursor, pages = [], None, 0
    while True:
        page = json.loads(
            mcpcap(*top, "--limit", "7", *(["--cursor", cursor] if cursor else [])).stdout
        )
        assert page["total_distinct"] == whole["total_distinct"]
        assert page["others"] == sum(i["count"] for i in whole["items"]) - sum(
            i["count"] for i in page["items"]
        )
        items += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert items == whole["items"] and pages == -(-len(items) // 7)


def test_a_cursor_goes_on_in_the_next_uncached_analysis_of_the_same_file(example):
    """`--no-cache` builds a store of its own each time; its cursors name the file, not it."""
    for kind in ("dns.transactions", "conn.connections"):
        args = ["analyze", str(example), "--no-cache", "--records", kind, "--limit", "3"]
        first = json.loads(mcpcap(*args, "--format", "json").stdout)
        again = json.loads(
            mcpcap(*args, "--format", "json", "--cursor", first["next_cursor"]).stdout
        )
        whole = json.loads(mcpcap(*args[:-1], "6", "--format", "json").stdout)
        assert first["items"] + again["items"] == whole["items"], kind


def test_a_cursor_is_refused_on_another_capture_and_after_the_file_changed(
    example, captures, tmp_path
):
    copy = tmp_path / "mine.pcap"
    copy.write_bytes(example.read_bytes())
    for records in (["transactions", "--limit", "5"], ["top", "--limit", "2"]):
        args = ["--records", *records]
        cursor = json.loads(mcpcap("analyze", str(copy), *args).stdout)["next_cursor"]
        assert cursor
        again = mcpcap("analyze", str(copy), *args, "--cursor", cursor)  # the same file: accepted
        assert json.loads(again.stdout)["items"]
        other = mcpcap(
            "analyze", str(captures / "pairing.pcap"), *args, "--cursor", cursor, check=False
        )
        assert other.returncode == 2 and "another capture" in other.stderr, other.stderr
    cursor = json.loads(
        mcpcap("analyze", str(copy), "--records", "transactions", "--limit", "5").stdout
    )["next_cursor"]
    copy.write_bytes((captures / "pairing.pcap").read_bytes())  # other content, same name
    changed = mcpcap(
        "analyze",
        str(copy),
        "--records",
        "transactions",
        "--limit",
        "5",
        "--cursor",
        cursor,
        check=False,
    )
    assert changed.returncode == 2 and "before its file changed" in changed.stderr


@pytest.mark.parametrize("flag", [["--max-reply-chars", "3999"], ["--max-reply-chars", "0"]])
def test_a_reply_budget_under_the_minimum_is_a_usage_error(example, flag):
    for command in (["analyze", str(example)], ["serve"], ["tui"]):
        run = mcpcap(*command, *flag, check=False)
        assert run.returncode == 2 and "at least 4000" in run.stderr, run.stderr
        assert run.stdout == ""


def test_a_reply_budget_under_the_minimum_from_the_environment(example):
    env = {**os.environ, "MCPCAP_MAX_REPLY_CHARS": "1000"}
    run = subprocess.run([sys.executable, "-m", "mcpcap", "analyze", str(example)],
                         capture_output=True, text=True, timeout=300, env=env)  # fmt: skip
    assert run.returncode == 1 and "MCPCAP_MAX_REPLY_CHARS" in run.stderr
    assert "at least 4000" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--records", "nonsense"], 2, "unknown record kind 'nonsense'"),
        (["--records", "messages", "--format", "zeek"], 2, "jsonl, json, csv, not 'zeek'"),
        (["--records", "dns.transactions", "--filter", "rcod:3"], 2, "did you mean 'rcode'"),
        (["--records", "dns.transactions", "--nosuch-option", "x"], 2, "unrecognized"),
        (["--qtype", "BOGUS", "--records", "transactions"], 2, "qtype"),
        (["--modules", "nosuch"], 2, "available modules: conn, dhcp, dns, http, icmp, tls"),
    ],
)
def test_user_mistakes_get_one_line_and_an_exit_code(example, args, code, message):
    run = mcpcap("analyze", str(example), *args, check=False)
    assert run.returncode == code
    assert message in run.stderr
    assert "Traceback" not in run.stderr
    assert run.stdout == ""


@pytest.mark.parametrize("name", ["not_a_capture.pcap", "empty.pcap", "gzip_of_text.pcap.gz"])
def test_not_a_capture_is_a_clear_error(captures, name):
    run = mcpcap("analyze", str(captures / name), check=False)
    assert run.returncode == 1
    assert "not a capture" in run.stderr
    assert "Traceback" not in run.stderr and run.stdout == ""


def test_schema_lists_every_result_model():
    schemas = json.loads(mcpcap("schema").stdout)["models"]
    assert {"CaptureSummary", "DnsSummary", "TransactionPage", "DnsMessage", "Ranking"} <= set(
        schemas
    )
    assert "top_qnames" in schemas["DnsSummary"]["properties"]


def test_version():
    from mcpcap import __version__

    assert mcpcap("--version").stdout.strip() == f"mcpcap {__version__}"


def test_warm_summary_is_the_stored_document_and_builds_no_models(example, tmp_path):
    """A warm `mcpcap analyze` prints what the scan stored, without importing pydantic."""
    env = {**os.environ, "MCPCAP_CACHE_DIR": str(tmp_path)}
    cold = subprocess.run(
        [sys.executable, "-m", "mcpcap", "analyze", str(example)], env=env, capture_output=True
    )
    probe = (
        "import sys, runpy; sys.argv = ['mcpcap', 'analyze', sys.argv[1]]\n"
        "try:\n    runpy.run_module('mcpcap', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "sys.stderr.write('pydantic' in sys.modules and 'MODELS' or 'NO-MODELS')\n"
    )
    warm = subprocess.run(
        [sys.executable, "-c", probe, str(example)], env=env, capture_output=True, text=True
    )
    assert cold.returncode == 0
    assert warm.stderr.endswith("NO-MODELS"), warm.stderr
    assert json.loads(warm.stdout) == json.loads(cold.stdout)
