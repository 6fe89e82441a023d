#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The timings record of `./harness test --timings` and `./harness run --timings`.

The harness appends one line per phase to a TSV while it runs (name, depth, start and end in
epoch seconds, exit status, and for a ctest invocation its JUnit report and its test list);
`timings.py write` turns that into results/timings/COMMAND-RUN_ID.json (kind "timings",
docs/results-format.md), written atomically. `timings.py markdown RECORD` prints the record as
the table README.md and docs/ show; `timings.py check FILE...` checks that every block
`<!-- timings: RECORD -->` ... `<!-- /timings -->` in those files is exactly that table, so a
duration in the docs is the record's, never typed by hand.

Exit status: 0 ok, 1 a block differs from its record, 2 bad input.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from result_files import OutputError, git_revision, project_version, write_atomically  # noqa: E402


class BadInput(Exception):
    pass


def iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def ctest_labels(test_list: Path) -> dict[str, list[str]]:
    """Test name -> labels, from `ctest --show-only=json-v1`."""
    doc = json.loads(test_list.read_text(encoding="utf-8"))
    labels: dict[str, list[str]] = {}
    for test in doc.get("tests", []):
        found: list[str] = []
        for prop in test.get("properties", []):
            if prop.get("name") == "LABELS":
                found = list(prop.get("value", []))
        labels[test["name"]] = found
    return labels


def ctest_summary(junit: Path, test_list: Path | None) -> dict[str, Any]:
    """Tests run and failed in a ctest invocation and, per label, the tests and the sum of their
    durations (tests run in parallel, so a label's sum is test time, not wall time)."""
    root = ET.parse(junit).getroot()
    labels = ctest_labels(test_list) if test_list else {}
    tests = failed = 0
    per_label: dict[str, dict[str, Any]] = {}
    for case in root.iter("testcase"):
        tests += 1
        status = case.get("status", "run")
        bad = case.find("failure") is not None or case.find("error") is not None
        failed += 1 if bad or status == "fail" else 0
        seconds = float(case.get("time", "0") or 0)
        for label in labels.get(case.get("name", ""), []) or ["(no label)"]:
            entry = per_label.setdefault(label, {"label": label, "tests": 0, "test_seconds": 0.0})
            entry["tests"] += 1
            entry["test_seconds"] += seconds
    for entry in per_label.values():
        entry["test_seconds"] = round(entry["test_seconds"], 1)
    return {"tests": tests, "failed": failed,
            "labels": sorted(per_label.values(), key=lambda e: e["label"])}


def read_phases(tsv: Path) -> list[dict[str, Any]]:
    phases = []
    for number, line in enumerate(tsv.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 5:
            raise BadInput(f"{tsv}:{number}: expected at least 5 tab-separated fields")
        name, depth, start, end, status = fields[:5]
        try:
            phase: dict[str, Any] = {"name": name, "depth": int(depth),
                                     "started": iso(float(start)),
                                     "seconds": round(float(end) - float(start), 1),
                                     "status": int(status)}
        except ValueError as e:
            raise BadInput(f"{tsv}:{number}: {e}") from e
        junit = fields[5] if len(fields) > 5 else ""
        test_list = fields[6] if len(fields) > 6 else ""
        if junit and Path(junit).is_file():
            try:
                phase["ctest"] = ctest_summary(Path(junit),
                                               Path(test_list) if test_list and
                                               Path(test_list).is_file() else None)
            except (ET.ParseError, json.JSONDecodeError, KeyError) as e:
                phase["ctest_error"] = f"cannot read the ctest reports: {e}"
        phases.append((float(start), phase["depth"], number, phase))
    # Written when they end; shown in start order, a phase before the phases nested in it.
    phases.sort(key=lambda p: p[:3])
    return [p[3] for p in phases]


def compiler() -> str:
    try:
        out = subprocess.run(["clang++-14", "--version"], capture_output=True, text=True,
                             check=True).stdout
        match = re.search(r"clang version (\S+)", out)
        return f"clang {match.group(1)}" if match else out.splitlines()[0]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "unknown"


def cmd_write(args: argparse.Namespace) -> int:
    phases = read_phases(Path(args.tsv))
    revision = os.environ.get("PINSPLIT_GIT_REVISION") or git_revision()
    started = float(args.started)
    ended = float(args.ended)
    run_id = dt.datetime.fromtimestamp(started, dt.timezone.utc).strftime(
        "%Y-%m-%dT%H-%M-%SZ") + "-" + revision
    installed = [p for p in args.installed.split() if p]
    document = {
        "kind": "timings",
        "run": {"id": run_id, "started": iso(started), "version": project_version(),
                "git_revision": revision, "host": socket.gethostname(),
                "cpus": os.cpu_count() or 0, "compiler": compiler(), "flags": "",
                "preset": args.presets},
        "command": args.command,
        "status": int(args.status),
        "total_seconds": round(ended - started, 1),
        "conditions": {
            "checkout": str(Path(args.checkout).resolve()),
            "packages_installed_during_run": installed,
            "fresh_build_dirs": [p["name"].split(" ", 1)[1] for p in phases
                                 if p["name"].startswith("configure ")],
            "loadavg_at_start": args.loadavg_start,
            "loadavg_at_end": args.loadavg_end,
            "niceness": os.nice(0),  # inherited from the harness: a niced run on a shared machine
        },
        "phases": phases,
    }
    out = Path(args.output_dir) / f"{args.command}-{run_id}.json"
    write_atomically(out, document)
    print(out)
    return 0


def duration(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def markdown(record_path: Path) -> str:
    doc = json.loads(record_path.read_text(encoding="utf-8"))
    if doc.get("kind") != "timings":
        raise BadInput(f"{record_path}: not a timings record (kind {doc.get('kind')!r})")
    run, cond = doc["run"], doc["conditions"]
    lines = ["| phase | wall time |", "| --- | ---: |"]
    for phase in doc["phases"]:
        indent = "&nbsp;&nbsp;" * phase["depth"]
        failed = "" if phase["status"] == 0 else f" (exit {phase['status']})"
        lines.append(f"| {indent}{phase['name']}{failed} | {duration(phase['seconds'])} |")
        ctest = phase.get("ctest")
        if ctest:
            for label in ctest["labels"]:
                lines.append(f"| {indent}&nbsp;&nbsp;label `{label['label']}`: {label['tests']} "
                             f"tests, {duration(label['test_seconds'])} of test time | |")
    lines.append(f"| **total** | **{duration(doc['total_seconds'])}** |")
    installed = cond["packages_installed_during_run"]
    fresh = cond["fresh_build_dirs"]
    packages = ("installed by this run: " + ", ".join(installed) if installed
                else "all installed beforehand")
    lines += ["", f"Recorded by `./harness {doc['command']} --timings` on {run['started']} at "
              f"revision {run['git_revision']} (pinsplit {run.get('version', '?')}), exit status "
              f"{doc['status']}, on {run['cpus']} CPUs (load average "
              f"{cond['loadavg_at_start'].split(' ')[0]} at the start"
              f"{', run at nice ' + str(cond['niceness']) if cond.get('niceness') else ''}); "
              f"build folders "
              f"{'created by this run: ' + ', '.join(fresh) if fresh else 'already configured'}; "
              f"packages {packages}."]
    return "\n".join(lines) + "\n"


BLOCK = re.compile(r"<!-- timings: (\S+) -->\n(.*?)<!-- /timings -->", re.DOTALL)


def cmd_check(args: argparse.Namespace) -> int:
    bad = 0
    blocks = 0
    for name in args.files:
        path = Path(name)
        text = path.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            blocks += 1
            record = (path.parent / match.group(1)).resolve()
            if not record.is_file():
                print(f"{path}: timings block names {match.group(1)}, which does not exist")
                bad += 1
                continue
            wanted = markdown(record)
            if match.group(2) != wanted:
                print(f"{path}: the timings block differs from {match.group(1)}; "
                      f"it should read:\n{wanted}")
                bad += 1
    print(f"{blocks} timings block(s) checked, {bad} wrong")
    if args.expect_blocks and blocks == 0:
        print("no timings block found, but one was expected")
        return 1
    return 1 if bad else 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    w = sub.add_parser("write", help="turn the harness's phase TSV into a timings record")
    w.add_argument("--tsv", required=True)
    w.add_argument("--command", required=True, choices=["test", "run"])
    w.add_argument("--presets", required=True)
    w.add_argument("--started", required=True)
    w.add_argument("--ended", required=True)
    w.add_argument("--status", required=True)
    w.add_argument("--installed", default="")
    w.add_argument("--checkout", default=".")
    w.add_argument("--loadavg-start", default="")
    w.add_argument("--loadavg-end", default="")
    w.add_argument("--output-dir", required=True)
    m = sub.add_parser("markdown", help="the table a doc shows for a record")
    m.add_argument("record")
    c = sub.add_parser("check", help="every timings block of FILES matches its record")
    c.add_argument("files", nargs="+")
    c.add_argument("--expect-blocks", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.what == "write":
            return cmd_write(args)
        if args.what == "markdown":
            sys.stdout.write(markdown(Path(args.record)))
            return 0
        return cmd_check(args)
    except (BadInput, OSError, OutputError, json.JSONDecodeError, KeyError, ValueError) as e:
        print(f"timings.py: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
