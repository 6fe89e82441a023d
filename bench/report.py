#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turns Google Benchmark JSON from pinsplit_bench into a `kind: "bench"` result file.

Reads the JSON that `pinsplit_bench --benchmark_out=RAW --benchmark_out_format=json` wrote,
pairs every benchmark with its plain twin, computes ratio_to_plain, evaluates the targets of
issue 6, prints a report and writes RAW's `context` and `benchmarks` untouched plus `kind`, `run`,
`ratios` and `targets` (docs/results-format.md), atomically: a temp file in the destination
folder, then a rename.

Names (bench/bench_suite.h): BM_<Operation>/<scheme>/<mode>[/key:value...][/real_time]
[/threads:N]. The twin of a benchmark is the one whose <scheme> is "plain" and whose name is
otherwise equal. Benchmarks from any suite are handled alike; one without a twin gets a null
ratio.

Statistics. With repetitions, a benchmark's throughput is the median items_per_second of its
repetitions (run_type "iteration"); aggregates are kept in the file but not used here. A target
compares a scheme's throughput with a reference benchmark's at the same mode and thread count,
and its measured value is the geometric mean of those ratios over the thread counts it applies
to: every count up to the CPU count uncontended, 2 up to the CPU count contended (one thread is
not contention). When no such count was run, the oversubscribed counts are used and the target
says so in `note`.

The contended split-vs-cas_split target is relative to the hardware: how much one fetch_add
beats one compare-exchange loop on a contended word differs between machines, so the same run
measures two raw pairs on a bare atomic word (raw_fetch_add, raw_cas_loop: bench/
refcount_benchmark.cc) and the target is the share of that hardware ratio the split word keeps:
(split / cas_split) / (raw_fetch_add / raw_cas_loop) per thread count, then the geometric mean.
Such a target also records both raw figures (`raw`).

Targets are reported, never asserted: the exit status is 0 whether or not they are met, 2 for
bad input or flags.

Standard library only (there is no PyPI on pinsplit's machines).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import re
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "testing"))
from result_files import (OutputError, check_output_path, finish_stdout,  # noqa: E402
                          git_revision, project_version, write_atomically)


EXIT_BAD_INPUT = 2


class BadInput(Exception):
    """Input that cannot be turned into a result file; the message names the file."""


@dataclass(frozen=True)
class TargetSpec:
    """One target: `scheme` `operation` throughput >= threshold x `reference` throughput."""

    name: str
    goal: str
    threshold: float
    scheme: str
    operation: str
    mode: str
    reference_scheme: str
    reference_operation: str
    # When set, (fast scheme, slow scheme) of the same operation and mode whose ratio the
    # measured one is divided by: the share of the hardware's own ratio (see the module comment).
    hardware: tuple[str, str] | None = None


HARDWARE_SHARE_TARGET = "split get/put contended: share of the hardware fetch_add/CAS ratio"


def _targets() -> list[TargetSpec]:
    specs = []
    for mode in ("uncontended", "contended"):
        for scheme in ("split", "split_8_8_16"):
            specs.append(
                TargetSpec(f"{scheme} get/put {mode}", ">= 0.97x plain", 0.97, scheme,
                           "get_put", mode, "plain", "get_put"))
        for kind in ("read", "write"):
            specs.append(
                TargetSpec(f"split pin/unpin ({kind}) {mode}", ">= 0.9x plain get/put", 0.9,
                           "split", f"pin_unpin_{kind}", mode, "plain", "get_put"))
    specs.append(
        TargetSpec(HARDWARE_SHARE_TARGET, ">= 0.9 of raw fetch_add / raw CAS loop", 0.9, "split",
                   "get_put", "contended", "cas_split", "get_put",
                   hardware=("raw_fetch_add", "raw_cas_loop")))
    return specs


TARGETS = _targets()


def snake_case(camel: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", camel).lower()


@dataclass
class Benchmark:
    """One benchmark (all its repetitions), parsed from its run_name."""

    run_name: str
    family: str
    scheme: str | None
    operation: str
    mode: str | None
    threads: int
    samples: list[float]
    order: tuple[int, int]

    @property
    def items_per_second(self) -> float:
        return statistics.median(self.samples)

    def twin_name(self, scheme: str) -> str | None:
        if self.scheme is None:
            return None
        parts = self.run_name.split("/")
        parts[1] = scheme
        return "/".join(parts)


def parse_run_name(run_name: str) -> tuple[str, str | None, str | None]:
    """Returns (family, scheme, mode) of BM_<Operation>/<scheme>/<mode>/..."""
    parts = run_name.split("/")
    family = parts[0]
    scheme = parts[1] if len(parts) > 1 and ":" not in parts[1] and parts[1] != "real_time" \
        else None
    mode = parts[2] if scheme and len(parts) > 2 and ":" not in parts[2] \
        and parts[2] != "real_time" else None
    return family, scheme, mode


def load_raw(path: Path) -> dict[str, Any]:
    if path.is_dir():
        raise BadInput(f"{path}: cannot read: it is a directory, not a file")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise BadInput(f"{path}: cannot read: {error.strerror or error}") from error
    if not text.strip():
        raise BadInput(f"{path}: empty file")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadInput(f"{path}: not JSON: {error}") from error
    if not isinstance(raw, dict):
        raise BadInput(f"{path}: not a Google Benchmark JSON object")
    for field, kind in (("context", dict), ("benchmarks", list)):
        if not isinstance(raw.get(field), kind):
            raise BadInput(f"{path}: missing or malformed '{field}' (is this Google Benchmark "
                           f"JSON?)")
    return raw


def collect(raw: dict[str, Any], path: Path) -> tuple[dict[str, Benchmark], list[str]]:
    """Groups repetitions by run_name. Returns the benchmarks and the names that failed."""
    benchmarks: dict[str, Benchmark] = {}
    failed: list[str] = []
    for index, entry in enumerate(raw["benchmarks"]):
        if not isinstance(entry, dict) or "name" not in entry:
            raise BadInput(f"{path}: benchmarks[{index}] has no name")
        if entry.get("run_type", "iteration") != "iteration":
            continue
        run_name = entry.get("run_name", entry["name"])
        if entry.get("error_occurred"):
            failed.append(f"{run_name}: {entry.get('error_message', 'error')}")
            continue
        rate = entry.get("items_per_second")
        if not isinstance(rate, (int, float)) or rate <= 0:
            failed.append(f"{run_name}: no items_per_second (SetItemsProcessed missing?)")
            continue
        family, scheme, mode = parse_run_name(run_name)
        bench = benchmarks.get(run_name)
        if bench is None:
            operation = snake_case(family[3:] if family.startswith("BM_") else family)
            # Registration order, which random interleaving does not keep in the file.
            order = (entry.get("family_index", index), entry.get("per_family_instance_index", 0))
            bench = Benchmark(run_name, family, scheme, operation, mode,
                              int(entry.get("threads", 1)), [], order)
            benchmarks[run_name] = bench
        bench.samples.append(float(rate))
    return benchmarks, failed


def compute_ratios(benchmarks: dict[str, Benchmark], cpus: int) -> list[dict[str, Any]]:
    ratios = []
    for bench in sorted(benchmarks.values(), key=lambda b: b.order):
        twin = benchmarks.get(bench.twin_name("plain") or "")
        plain_rate = twin.items_per_second if twin else None
        ratios.append({
            "benchmark": bench.run_name,
            "scheme": bench.scheme,
            "operation": bench.operation,
            "mode": bench.mode,
            "threads": bench.threads,
            "items_per_second": bench.items_per_second,
            "plain_items_per_second": plain_rate,
            "ratio_to_plain": bench.items_per_second / plain_rate if plain_rate else None,
            "oversubscribed": bench.threads > cpus,
            "repetitions": len(bench.samples),
        })
    return ratios


def harness_speeds(benchmarks: dict[str, Benchmark]) -> list[dict[str, Any]]:
    """The BM_Harness/<engine>/<mode>[/key:value...] benchmarks (executions or schedules per
    second of a fuzz target or explorer), in their own list: they have no plain twin."""
    rows = []
    for bench in sorted(benchmarks.values(), key=lambda b: b.order):
        if bench.family != "BM_Harness" or bench.scheme is None:
            continue
        params = dict(part.split(":", 1) for part in bench.run_name.split("/")[3:]
                      if ":" in part and not part.startswith("threads:"))
        rows.append({
            "benchmark": bench.run_name,
            "engine": bench.scheme,
            "mode": bench.mode,
            "params": params,
            "items_per_second": bench.items_per_second,
            "threads": bench.threads,
            "repetitions": len(bench.samples),
        })
    return rows


def geometric_mean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def ratios_by_threads(benchmarks: dict[str, Benchmark], scheme: str, operation: str,
                      mode: str, reference_scheme: str, reference_operation: str
                      ) -> tuple[dict[int, float], dict[int, list[float]]]:
    """scheme's throughput / the reference's, per thread count, where both ran with the same
    mode and everything else in the name equal: the ratio of the medians, and the ratio of
    each repetition (k-th over k-th)."""
    by_key = {(b.scheme, b.operation, "/".join(b.run_name.split("/")[2:])): b
              for b in benchmarks.values()}
    by_threads: dict[int, float] = {}
    repetitions: dict[int, list[float]] = {}
    for bench in benchmarks.values():
        if (bench.scheme, bench.operation, bench.mode) != (scheme, operation, mode):
            continue
        tail = "/".join(bench.run_name.split("/")[2:])
        reference = by_key.get((reference_scheme, reference_operation, tail))
        if reference is not None:
            by_threads[bench.threads] = bench.items_per_second / reference.items_per_second
            repetitions[bench.threads] = [a / b for a, b in zip(bench.samples, reference.samples)]
    return by_threads, repetitions


def evaluate_target(spec: TargetSpec, benchmarks: dict[str, Benchmark],
                    cpus: int) -> dict[str, Any]:
    """Measures one target from the benchmarks that ran (see the module comment)."""
    by_threads, reps = ratios_by_threads(benchmarks, spec.scheme, spec.operation, spec.mode,
                                         spec.reference_scheme, spec.reference_operation)
    raw_by_threads = by_threads
    hardware: dict[int, float] = {}
    if spec.hardware:
        hardware, hardware_reps = ratios_by_threads(benchmarks, spec.hardware[0], spec.operation,
                                                    spec.mode, spec.hardware[1], spec.operation)
        by_threads = {t: r / hardware[t] for t, r in raw_by_threads.items() if t in hardware}
        reps = {t: [a / b for a, b in zip(reps[t], hardware_reps[t])] for t in by_threads}
    least = 2 if spec.mode == "contended" else 1
    chosen = sorted(t for t in by_threads if least <= t <= cpus)
    note = None
    if not chosen:
        chosen = sorted(t for t in by_threads if t >= least)
        if chosen:
            note = "only oversubscribed thread counts ran"
    measured = geometric_mean([by_threads[t] for t in chosen]) if chosen else None
    if measured is None:
        note = "not measured: its benchmarks did not run"
    # The target measured from each repetition alone (the k-th of every benchmark involved),
    # for its spread and the dashboard's significance test; empty without repetitions.
    count = min((len(reps[t]) for t in chosen), default=0)
    by_repetition = [geometric_mean([reps[t][k] for t in chosen]) for k in range(count)] \
        if count >= 2 else []
    target = {
        "name": spec.name,
        "goal": spec.goal,
        "threshold": spec.threshold,
        "measured": measured,
        "met": None if measured is None else measured >= spec.threshold,
        "threads": chosen,
        "ratio_by_threads": {str(t): by_threads[t] for t in sorted(by_threads)},
        "by_repetition": by_repetition,
        "note": note,
    }
    if spec.hardware:
        fast, slow = spec.hardware
        target["raw"] = {
            f"{spec.scheme}_vs_{spec.reference_scheme}":
                geometric_mean([raw_by_threads[t] for t in chosen]) if chosen else None,
            f"{fast}_vs_{slow}":
                geometric_mean([hardware[t] for t in chosen]) if chosen else None,
        }
    return target


def started_utc(context: dict[str, Any]) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(context["date"]).astimezone(dt.timezone.utc)
    except (KeyError, TypeError, ValueError):
        return dt.datetime.now(dt.timezone.utc)


def run_metadata(context: dict[str, Any], revision: str, preset: str | None) -> dict[str, Any]:
    started = started_utc(context).replace(microsecond=0)
    build_dir = context.get("pinsplit_build_dir", "")
    return {
        "id": started.strftime("%Y-%m-%dT%H-%M-%SZ") + "-" + revision,
        "started": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "version": project_version(),
        "git_revision": revision,
        "host": context.get("host_name", "unknown"),
        "cpus": int(context.get("pinsplit_bench_cpus", context.get("num_cpus", 0))),
        "compiler": context.get("pinsplit_compiler", "unknown"),
        "flags": context.get("pinsplit_flags", "unknown"),
        "preset": preset or (Path(build_dir).name if build_dir else "unknown"),
        "library_build_type": context.get("library_build_type", "unknown"),
    }


def format_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}x"


def format_table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report_text(document: dict[str, Any], failed: list[str]) -> str:
    run = document["run"]
    out = [f"pinsplit benchmarks, run {run['id']} ({run['host']}, {run['cpus']} CPUs, "
           f"{run['compiler']}, preset {run['preset']})"]
    if run.get("library_build_type") == "debug":
        # Debian builds libbenchmark without NDEBUG. The timed loop is inlined into
        # pinsplit_bench (release), so only the library's bookkeeping runs unoptimised.
        out.append("(Google Benchmark library built as debug: its bookkeeping only; the timed "
                   "loops are compiled into pinsplit_bench)")
    out += ["", "Targets (reported, not asserted):"]
    rows = [["target", "goal", "measured", "threads", "met"]]
    for target in document["targets"]:
        met = {True: "MET", False: "NOT MET", None: "not measured"}[target["met"]]
        threads = ",".join(str(t) for t in target["threads"]) or "-"
        raw = "".join(f"; {name} {format_ratio(value)}"
                      for name, value in (target.get("raw") or {}).items())
        rows.append([target["name"], target["goal"], format_ratio(target["measured"]), threads,
                     met + (f" ({target['note']})" if target["note"] and target["measured"]
                            else "") + (f" (raw{raw[1:]})" if raw else "")])
    out.append(format_table(rows))

    # Ratio to plain per operation and scheme, over the same thread counts as the targets.
    cpus = run["cpus"]
    summary: dict[tuple[str, str], dict[str, list[float]]] = {}
    schemes: list[str] = []
    for ratio in document["ratios"]:
        if ratio["ratio_to_plain"] is None or ratio["oversubscribed"]:
            continue
        if ratio["mode"] == "contended" and ratio["threads"] < 2 and cpus >= 2:
            continue
        key = (ratio["operation"], ratio["mode"] or "-")
        summary.setdefault(key, {}).setdefault(ratio["scheme"], []).append(
            ratio["ratio_to_plain"])
        if ratio["scheme"] not in schemes:
            schemes.append(ratio["scheme"])
    if summary:
        out += ["", "Ratio to plain (geometric mean over thread counts that fit the CPUs; "
                "contended from 2 threads):"]
        rows = [["operation", "mode"] + schemes]
        for (operation, mode), by_scheme in summary.items():
            rows.append([operation, mode] + [
                format_ratio(geometric_mean(by_scheme[s])) if s in by_scheme else "-"
                for s in schemes
            ])
        out.append(format_table(rows))
    if document.get("harness"):
        out += ["", "Harness speed (executions or schedules per second, one thread):"]
        rows = [["engine", "mode", "params", "per second"]]
        for row in document["harness"]:
            params = ",".join(f"{k}:{v}" for k, v in row["params"].items()) or "-"
            rows.append([row["engine"], row["mode"] or "-", params,
                         f"{row['items_per_second']:.0f}"])
        out.append(format_table(rows))
    if failed:
        out += ["", "Benchmarks that failed (left out):"] + [f"  {f}" for f in failed]
    return "\n".join(out)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description="Pair pinsplit benchmarks with their plain twins, evaluate the targets, "
        "write a kind:bench result file.")
    parser.add_argument("input", type=Path, help="Google Benchmark JSON (--benchmark_out)")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--output", type=Path, help="result file to write")
    where.add_argument("--output-dir", type=Path,
                       help="folder to write RUN_ID.json into (results/bench)")
    parser.add_argument("--git-revision", help="default: git rev-parse --short HEAD "
                        "(+ -dirty)")
    parser.add_argument("--preset", help="default: the name of the build folder")
    args = parser.parse_args(argv)  # exits 2 on bad flags

    try:
        # A destination that cannot be written is refused before any work.
        check_output_path(args.output or args.output_dir / "run.json")
    except OutputError as error:
        print(f"report.py: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        raw = load_raw(args.input)
        benchmarks, failed = collect(raw, args.input)
        if not benchmarks:
            raise BadInput(f"{args.input}: no benchmark with items_per_second"
                           + (f" ({len(failed)} failed)" if failed else ""))
    except BadInput as error:
        print(f"report.py: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT

    run = run_metadata(raw["context"], args.git_revision or git_revision(), args.preset)
    document = dict(raw)
    document["kind"] = "bench"
    document["run"] = run
    document["ratios"] = compute_ratios(benchmarks, run["cpus"])
    document["targets"] = [evaluate_target(spec, benchmarks, run["cpus"]) for spec in TARGETS]
    document["harness"] = harness_speeds(benchmarks)

    output = args.output or args.output_dir / f"{run['id']}.json"
    try:
        write_atomically(output, document)
    except OutputError as error:
        print(f"report.py: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        print(report_text(document, failed))
        print(f"\nwrote {output}")
    except OSError as error:
        return finish_stdout("report.py", 0, lost=error)
    return finish_stdout("report.py", 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
