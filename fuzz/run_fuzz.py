#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs pinsplit's libFuzzer targets for a time budget: `./harness fuzz`.

Builds the `fuzz` preset, then runs each target (or the ones --target names) for --seconds in
libFuzzer's fork mode on every available core. Runs accumulate: each starts from the persistent
corpus results/corpus/<target>[-<policy>]/ and the build's encoded seed corpus, and what it
found is merged back, minimised (libFuzzer -merge=1), so coverage grows across runs. The
targets that must crash (mm_ops under mapcount and refcount) also run once from no seeds at
all, stopping at their first crash; every row records its time to first crash. Crash
artifacts of a run go to results/fuzz/<run id>/<target>/. Prints progress every few seconds and a summary, with every
crash decoded into an op script (pinsplit decode), and writes the summary as
results/fuzz/<run id>.json (kind "fuzz", docs/results-format.md), atomically.

Exit status: 0 no unexpected crash; 1 an unexpected crash was found; 2 bad flags or a failed
build; 130 interrupted (Ctrl-C: the partial results are still written).

Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import configparser
import datetime as dt
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "testing"))
from result_files import (OutputError, check_output_path, finish_stdout,  # noqa: E402
                          git_revision, project_version, write_atomically)


REPO_ROOT = Path(__file__).resolve().parent.parent

# Runs of one target under different settings: (policy label, environment, extra decode
# arguments, crashes expected). A target not listed runs once, clean. The mm_ops target adds
# one row per policy here (the policies where violations are known set expect_crashes).
VARIANTS: dict[str, list[tuple[str | None, dict[str, str], list[str], bool]]] = {
    # mm_ops under every policy: the old ones must crash (their known bugs), the rest must not.
    "mm_ops": [(policy, {"PINSPLIT_MM_POLICY": policy}, [f"--policy={policy}"], expect)
               for policy, expect in (("split", False), ("anon-exclusive", False),
                                      ("ideal", False), ("mapcount", True),
                                      ("refcount", True))],
}

# libFuzzer status lines: fork mode ("#N: cov: ...") and in-process mode ("#N NEW cov: ...").
FORK_STATUS = re.compile(r"#(\d+): cov: (\d+) ft: (\d+) corp: (\d+) exec/s:? (\d+) "
                         r"oom/timeout/crash: (\d+)/(\d+)/(\d+) time: (\d+)s")
INPROCESS_STATUS = re.compile(r"#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/\S+.*?"
                              r"exec/s: (\d+)")
ARTIFACT_PREFIXES = ("crash-", "leak-", "timeout-", "oom-")


class UsageError(Exception):
    pass


class ArgumentParser(argparse.ArgumentParser):
    """Exits 2 with a clear message on bad flags (argparse's own behaviour, kept explicit)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"run_fuzz.py: error: {message}", file=sys.stderr)
        sys.exit(2)


@dataclass
class TargetRun:
    target: str
    policy: str | None
    env: dict[str, str]
    decode_args: list[str]
    expect_crashes: bool
    seconds: int = 0
    executions: int = 0
    execs_per_second: int = 0  # libFuzzer's figure: in fork mode, one worker's (its last job)
    workers: int = 1
    coverage: int = 0
    features: int = 0
    corpus_size: int = 0
    crashes: list[dict[str, str]] = field(default_factory=list)
    interrupted: bool = False
    started: bool = False
    failed: str | None = None  # libFuzzer itself failed (bad options, startup), not a crash
    from_seeds: bool = True  # started from the seed and persistent corpora (else from nothing)
    time_to_first_crash: float | None = None  # seconds from start to the first crash artifact
    asan_options: str = ""  # what the target's runs and merges had (asan_options())

    def execs_per_second_total(self) -> int:
        """Executions per second of all workers together, over the run's wall time."""
        return int(self.executions / self.seconds) if self.seconds > 0 else 0

    def label(self) -> str:
        base = self.target if self.policy is None else f"{self.target}[{self.policy}]"
        return base if self.from_seeds else f"{base}[no-seeds]"


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' must be positive")
    return value


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = ArgumentParser(prog="./harness fuzz",
                            description="Run the libFuzzer targets for a time budget.")
    parser.add_argument("--seconds", type=positive_int, default=30,
                        help="budget per target run (default 30)")
    parser.add_argument("--target", action="append", default=[],
                        help="a target to run, NAME or NAME[POLICY] for one policy of "
                             "mm_ops (repeat or comma-separate; default: all)")
    parser.add_argument("--jobs", type=positive_int, default=os.cpu_count() or 2,
                        help="libFuzzer fork-mode workers (default: the number of cores)")
    parser.add_argument("--seed", type=positive_int, default=1, help="libFuzzer -seed (default 1)")
    parser.add_argument("--build-dir", default=str(REPO_ROOT / "build" / "fuzz"),
                        help="the fuzz preset's build directory")
    parser.add_argument("--results", default=os.environ.get("PINSPLIT_RESULTS",
                                                            str(REPO_ROOT / "results")),
                        help="results folder (default results/ or $PINSPLIT_RESULTS)")
    parser.add_argument("--no-build", action="store_true", help="use the build as it is")
    args = parser.parse_args(argv)
    args.target = [t for spec in args.target for t in spec.split(",") if t]
    return args


def log(message: str) -> None:
    print(f"\033[1m[fuzz]\033[0m {message}", file=sys.stderr, flush=True)


def build(build_dir: Path) -> None:
    if not (build_dir / "build.ninja").exists():
        log("configuring the fuzz preset")
        subprocess.run(["cmake", "--preset", "fuzz"], cwd=REPO_ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    log("building the fuzz preset")
    subprocess.run(["cmake", "--build", "--preset", "fuzz", "-j", str(os.cpu_count() or 2)],
                   cwd=REPO_ROOT, check=True)


def known_targets(build_dir: Path) -> list[str]:
    listing = build_dir / "fuzz" / "fuzz_targets.txt"
    if not listing.exists():
        raise UsageError(f"{listing} is missing: is {build_dir} a configured fuzz build?")
    return [line.strip() for line in listing.read_text().splitlines() if line.strip()]


def options_section(fuzz_dir: Path, target: str, section: str) -> list[tuple[str, str]]:
    """One section of TARGET.options (the OSS-Fuzz format) as (key, value) pairs."""
    path = fuzz_dir / f"{target}.options"
    if not path.exists():
        return []
    parser = configparser.ConfigParser()
    parser.read(path)
    return parser.items(section) if parser.has_section(section) else []


def libfuzzer_options(fuzz_dir: Path, target: str) -> list[str]:
    """The [libfuzzer] section of TARGET.options as -key=value flags (paths made absolute)."""
    return [f"-{key}={fuzz_dir / value if key == 'dict' else value}"
            for key, value in options_section(fuzz_dir, target, "libfuzzer")]


def asan_options(fuzz_dir: Path, target: str) -> str:
    """ASAN_OPTIONS for a target's runs and merges: leak checks on, then the [asan] section of
    TARGET.options, then the caller's own ASAN_OPTIONS (ASan lets a later setting win)."""
    settings = ["detect_leaks=1"]
    settings += [f"{key}={value}" for key, value in options_section(fuzz_dir, target, "asan")]
    if os.environ.get("ASAN_OPTIONS"):
        settings.append(os.environ["ASAN_OPTIONS"])
    return ":".join(settings)


def compiler_and_flags(build_dir: Path) -> tuple[str, str]:
    compiler, flags = "unknown", "unknown"
    cache = build_dir / "CMakeCache.txt"
    if cache.exists():
        for line in cache.read_text(errors="replace").splitlines():
            if line.startswith("CMAKE_CXX_COMPILER:"):
                compiler = line.split("=", 1)[1]
            elif line.startswith("CMAKE_CXX_FLAGS:"):
                flags = line.split("=", 1)[1]
    try:
        version = subprocess.run([compiler, "--version"], capture_output=True, text=True,
                                 check=True).stdout.splitlines()[0]
        match = re.search(r"clang version (\S+)", version)
        compiler = f"clang {match.group(1)}" if match else version
    except (OSError, subprocess.CalledProcessError, IndexError):
        pass
    return compiler, flags


def decode(pinsplit: Path, run: TargetRun, artifact: Path) -> str:
    args = list(run.decode_args)
    override = os.environ.get("PINSPLIT_INTERLEAVE_COUNTER")
    if run.target == "interleave" and override:  # decode on the counter the fuzzer ran
        args.append(f"--impl={override}")
    result = subprocess.run([str(pinsplit), "decode", f"--target={run.target}", *args,
                             str(artifact)], capture_output=True, text=True)
    if result.returncode != 0:
        return f"(pinsplit decode failed with exit {result.returncode}: {result.stderr.strip()})"
    return result.stdout


def run_target(run: TargetRun, args: argparse.Namespace, fuzz_dir: Path, out_dir: Path,
               corpus_root: Path, remaining: list[str]) -> None:
    """Runs one target for the budget; fills RUN in place. Raises KeyboardInterrupt after
    stopping the fuzzer cleanly when interrupted."""
    binary = fuzz_dir / run.target
    artifacts = out_dir / run.label()
    artifacts.mkdir(parents=True, exist_ok=True)
    scratch, inputs = corpus_dirs(run, fuzz_dir, corpus_root, out_dir)
    # From no seeds, the run stops at its first crash: its time is the number it is for.
    keep_going = ["-ignore_crashes=1"] if run.from_seeds else []
    command = [str(binary), f"-fork={args.jobs}", f"-max_total_time={args.seconds}",
               f"-seed={args.seed}", f"-artifact_prefix={artifacts}/", *keep_going,
               "-print_final_stats=1", *libfuzzer_options(fuzz_dir, run.target), str(scratch),
               *(str(d) for d in inputs)]
    run.asan_options = asan_options(fuzz_dir, run.target)
    env = dict(os.environ, **run.env, ASAN_OPTIONS=run.asan_options)
    log_path = artifacts / "libfuzzer.log"
    run.workers = args.jobs
    log(f"{run.label()}: {args.seconds}s on {args.jobs} worker(s), "
        f"ASAN_OPTIONS={run.asan_options}; log in {log_path}")
    started_wall = time.time()
    started = time.monotonic()
    run.started = True
    lines: queue.Queue[str | None] = queue.Queue()
    with open(log_path, "w", encoding="utf-8") as log_file:
        # Its own process group, so that stopping it reaches fork mode's workers too.
        process = subprocess.Popen(command, cwd=artifacts, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, errors="replace",
                                   start_new_session=True)

        def pump() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.put(line)
            lines.put(None)

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        try:
            next_print = started + 5
            finished = False
            while not finished:
                try:
                    line = lines.get(timeout=max(0.1, next_print - time.monotonic()))
                except queue.Empty:
                    line = ""
                if line is None:
                    finished = True
                elif line:
                    log_file.write(line)
                    match = FORK_STATUS.search(line) or INPROCESS_STATUS.search(line)
                    if match:
                        (run.executions, run.coverage, run.features, run.corpus_size,
                         run.execs_per_second) = (int(match.group(i)) for i in range(1, 6))
                now = time.monotonic()
                if now >= next_print and not finished:
                    next_print = now + 5
                    crashes = len([p for p in artifacts.iterdir()
                                   if p.name.startswith(ARTIFACT_PREFIXES)])
                    left = ", ".join(remaining) if remaining else "nothing"
                    log(f"{run.label()}: {int(now - started)}s/{args.seconds}s "
                        f"execs={run.executions} exec/s={run.execs_per_second} "
                        f"cov={run.coverage} corpus={run.corpus_size} crashes={crashes}; "
                        f"left after this: {left}")
            process.wait()
            stop_group(process)  # fork-mode workers that outlived their parent, if any
        except KeyboardInterrupt:
            run.interrupted = True
            log(f"{run.label()}: interrupted, stopping the fuzzer and keeping what it found")
            stop_group(process)
            raise
        finally:
            run.seconds = int(round(time.monotonic() - started))
            if process.poll() is None:
                stop_group(process)
            collect_crashes(run, artifacts, fuzz_dir)
            run.time_to_first_crash = first_crash_seconds(artifacts, started_wall)
            merge_corpus(run, binary, corpus_root, scratch)
    if process.returncode not in (0, None) and not run.crashes and not run.interrupted:
        run.failed = f"libFuzzer exited {process.returncode} without a crash; see {log_path}"
        log(f"{run.label()}: {run.failed}")


# ---- corpora that accumulate across runs, and the time to the first crash ----------------

def persistent_corpus(corpus_root: Path, run: TargetRun) -> Path:
    """results/corpus/<target>[-<policy>]/: one per target and policy, shared by every run."""
    name = run.target if run.policy is None else f"{run.target}-{run.policy}"
    return corpus_root / name


def corpus_dirs(run: TargetRun, fuzz_dir: Path, corpus_root: Path,
                out_dir: Path) -> tuple[Path, list[Path]]:
    """The folder the run writes its new inputs to (a fresh scratch folder of this run, merged
    into the persistent corpus afterwards) and the folders it starts from: the persistent
    corpus and the build's seeds, or nothing at all for a run from no seeds."""
    scratch = out_dir / "new-inputs" / run.label()
    scratch.mkdir(parents=True, exist_ok=True)
    if not run.from_seeds:
        return scratch, []
    persistent = persistent_corpus(corpus_root, run)
    persistent.mkdir(parents=True, exist_ok=True)
    seeds = fuzz_dir / "corpus" / run.target
    return scratch, [persistent] + ([seeds] if seeds.is_dir() else [])


def merge_corpus(run: TargetRun, binary: Path, corpus_root: Path, scratch: Path) -> None:
    """Merges what the run found into the persistent corpus, minimised: libFuzzer -merge=1
    keeps, from the old corpus and the new inputs, only inputs that add coverage, into a fresh
    folder that then replaces the old one (the old one is kept until the merge succeeded)."""
    if not any(scratch.iterdir()):
        return
    persistent = persistent_corpus(corpus_root, run)
    persistent.mkdir(parents=True, exist_ok=True)
    merged = persistent.with_name(persistent.name + ".merging")
    old = persistent.with_name(persistent.name + ".old")
    for leftover in (merged, old):
        if leftover.exists():
            shutil.rmtree(leftover)
    merged.mkdir()
    env = dict(os.environ, **run.env, ASAN_OPTIONS=run.asan_options)
    # Merging runs every input once; a crashing one is left out (its artifact was kept already).
    result = subprocess.run([str(binary), "-merge=1", f"-artifact_prefix={scratch}/merge-",
                             str(merged), str(persistent), str(scratch)],
                            env=env, capture_output=True, text=True, errors="replace")
    if result.returncode != 0:
        log(f"{run.label()}: corpus merge failed (exit {result.returncode}); "
            f"{persistent} left as it was")
        shutil.rmtree(merged, ignore_errors=True)
        return
    before = sum(1 for _ in persistent.iterdir())
    persistent.rename(old)
    merged.rename(persistent)
    shutil.rmtree(old, ignore_errors=True)
    after = sum(1 for _ in persistent.iterdir())
    log(f"{run.label()}: corpus {persistent}: {before} -> {after} inputs (minimised merge)")


def first_crash_seconds(artifacts: Path, started_wall: float) -> float | None:
    """Seconds from the run's start to its first crash artifact (by the file's time), or None
    when it found none."""
    times = [p.stat().st_mtime for p in artifacts.iterdir()
             if p.name.startswith(ARTIFACT_PREFIXES)]
    return round(max(0.0, min(times) - started_wall), 3) if times else None


def stop_group(process: subprocess.Popen[str]) -> None:
    """SIGINT to the fuzzer's process group (libFuzzer prints its final stats), then SIGKILL
    whatever is left of the group after a grace period."""
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=10)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def crash_expected(run: TargetRun, decoded: str) -> bool:
    """Whether one crash is a known bug: only where crashes are expected at all (mm_ops under
    mapcount and refcount), and only when its decoded script says that every violation is of a
    kind the policy's header names (the `# crash: expected` line pinsplit decode writes from
    Policy::known_violations). Any other kind, or a crash that would not decode, is new."""
    return run.expect_crashes and re.search(r"^# crash: expected\b", decoded, re.M) is not None


def collect_crashes(run: TargetRun, artifacts: Path, fuzz_dir: Path) -> None:
    pinsplit = fuzz_dir.parent / "cli" / "pinsplit"
    run.crashes = []
    for artifact in sorted(artifacts.iterdir()):
        if artifact.name.startswith(ARTIFACT_PREFIXES):
            decoded = decode(pinsplit, run, artifact)
            run.crashes.append({"file": str(artifact), "decoded": decoded,
                                "expected": crash_expected(run, decoded)})


TARGET_SPEC = re.compile(r"([A-Za-z0-9_]+)(?:\[([A-Za-z0-9_-]+)\])?")


def split_target_spec(spec: str) -> tuple[str, str | None]:
    """"mm_ops" -> ("mm_ops", None): every policy; "mm_ops[split]" -> one policy."""
    match = TARGET_SPEC.fullmatch(spec)
    if not match:
        raise UsageError(f"bad target {spec!r}: NAME or NAME[POLICY]")
    name, policy = match.groups()
    policies = [v[0] for v in VARIANTS.get(name, [])]
    if policy is not None and policy not in policies:
        raise UsageError(f"target {name} has no policy {policy!r}"
                         + (f"; its policies: {', '.join(policies)}" if policies else ""))
    return name, policy


def plan(args: argparse.Namespace, targets: list[str]) -> list[TargetRun]:
    runs = []
    for target, only in map(split_target_spec, targets):
        for policy, env, decode_args, expect in VARIANTS.get(target, [(None, {}, [], False)]):
            if only is None or policy == only:
                runs.append(TargetRun(target, policy, env, decode_args, expect))
    return runs + runs_from_no_seeds(runs)


def runs_from_no_seeds(runs: list[TargetRun]) -> list[TargetRun]:
    """One more row for each target that must crash, started from no seeds at all: how fast
    the fuzzer finds the known bugs on its own."""
    return [TargetRun(r.target, r.policy, r.env, r.decode_args, r.expect_crashes,
                      from_seeds=False) for r in runs if r.expect_crashes]


def summary(runs: list[TargetRun]) -> str:
    # exec/s: all workers together (executions / seconds); per worker: libFuzzer's own figure.
    lines = [f"{'target':<38} {'seconds':>7} {'executions':>11} {'exec/s':>8} {'/worker':>8} "
             f"{'cov':>6} {'ft':>6} {'corpus':>6} {'1st crash':>9} crashes"]
    for r in runs:
        new = unexpected_crashes(r)
        mark = "" if not r.crashes else (f" UNEXPECTED: {new}" if new else " (expected)")
        first = "-" if r.time_to_first_crash is None else f"{r.time_to_first_crash:.1f}s"
        lines.append(f"{r.label():<38} {r.seconds:>7} {r.executions:>11} "
                     f"{r.execs_per_second_total():>8} {r.execs_per_second:>8} "
                     f"{r.coverage:>6} {r.features:>6} "
                     f"{r.corpus_size:>6} {first:>9} {len(r.crashes)}{mark}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    # Ctrl-C and SIGTERM stop the run cleanly, even when started where SIGINT was ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    args = parse_args(argv)
    build_dir = Path(args.build_dir).resolve()
    results = Path(args.results).resolve()
    try:
        # The summary's destination is checked before the build and the runs, not after.
        check_output_path(results / "fuzz" / "run.json")
    except OutputError as e:
        print(f"run_fuzz.py: error: --results: {e}", file=sys.stderr)
        return 2
    if not args.no_build:
        try:
            build(build_dir)
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"run_fuzz.py: error: the fuzz build failed: {e}", file=sys.stderr)
            return 2
    try:
        known = known_targets(build_dir)
        unknown = [t for t in args.target if split_target_spec(t)[0] not in known]
        if unknown:
            raise UsageError(f"unknown target(s) {', '.join(unknown)}; known: {', '.join(known)}")
    except UsageError as e:
        print(f"run_fuzz.py: error: {e}", file=sys.stderr)
        return 2
    targets = args.target or known
    fuzz_dir = build_dir / "fuzz"

    started = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    revision = git_revision()
    run_id = started.strftime("%Y-%m-%dT%H-%M-%SZ") + "-" + revision
    out_dir = results / "fuzz" / run_id
    compiler, flags = compiler_and_flags(build_dir)
    runs = plan(args, targets)
    interrupted = False
    for i, run in enumerate(runs):
        try:
            run_target(run, args, fuzz_dir, out_dir, results / "corpus",
                       [r.label() for r in runs[i + 1:]])
        except KeyboardInterrupt:
            interrupted = True
            break
    done = [r for r in runs if r.started]

    document = {
        "kind": "fuzz",
        "run": {"id": run_id, "started": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "version": project_version(), "git_revision": revision,
                "host": socket.gethostname(), "cpus": os.cpu_count() or 0,
                "compiler": compiler, "flags": flags, "preset": "fuzz"},
        "interrupted": interrupted,
        "targets": [{"target": r.target, "policy": r.policy, "seconds": r.seconds,
                     "executions": r.executions, "execs_per_second": r.execs_per_second,
                     "workers": r.workers,
                     "execs_per_second_total": r.execs_per_second_total(),
                     "coverage": r.coverage, "features": r.features,
                     "corpus_size": r.corpus_size, "crashes": r.crashes,
                     "expect_crashes": r.expect_crashes, "seed": args.seed,
                     "failed": r.failed, "from_seeds": r.from_seeds,
                     "time_to_first_crash_seconds": r.time_to_first_crash,
                     "asan_options": r.asan_options} for r in done],
    }
    json_path = results / "fuzz" / f"{run_id}.json"
    try:
        write_atomically(json_path, document)
    except OutputError as e:
        print(f"run_fuzz.py: error: {e}", file=sys.stderr)
        return 2
    try:
        report(done)
    except OSError as error:
        return finish_stdout("run_fuzz.py", 0, lost=error)
    log(f"summary written to {json_path}")
    if interrupted:
        log("interrupted: partial results kept")
        return finish_stdout("run_fuzz.py", 130)
    return finish_stdout("run_fuzz.py", 1 if any_unexpected(done) else 0)


def unexpected_crashes(run: TargetRun) -> int:
    return sum(1 for crash in run.crashes if not crash.get("expected", False))


def any_unexpected(done: list[TargetRun]) -> bool:
    return any(r.failed or unexpected_crashes(r) for r in done)


def report(done: list[TargetRun]) -> None:
    """Prints the summary table, each failure and each crash decoded."""
    print(summary(done))
    for r in done:
        if r.failed:
            print(f"\n--- {r.label()}: {r.failed}")
        for crash in r.crashes:
            mark = " (expected)" if crash.get("expected") else " UNEXPECTED"
            print(f"\n--- {r.label()}: {crash['file']}{mark}\n{crash['decoded']}")
        if r.expect_crashes and not r.crashes and not r.interrupted:
            print(f"\nnote: {r.label()} was expected to crash and did not in {r.seconds}s")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
