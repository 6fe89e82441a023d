#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The project's own mutation check: `./harness mutate`.

Applies small, realistic mutations from a list (testing/mutations.json: operator swaps,
off-by-one constants, weakened memory orders, dropped checks) to files in core/ and budget/, one
at a time; for each, rebuilds the area's test targets in its own build directory (build/mutate)
and runs the area's CTest subset. A mutant that makes a test fail (or time out) is killed; one
that passes every test survived, and names a promise no test holds the code to; one that does
not compile is invalid and left out of the rates. Prints progress and a summary (kill rate per
area, every survivor), and writes results/mutation/<run id>.json (kind "mutation",
docs/results-format.md) atomically.

The source tree is always restored: each mutated file is put back byte for byte when its mutant
ends, however it ends (a failed build, a test run that crashes, Ctrl-C, SIGTERM); the original
is also saved beside a journal in the build directory before the file is touched, so that even a
run killed outright is repaired by the next run before it does anything else. By default the
mutants are applied to a private copy of the checkout (build/mutate/src: the working tree as it
is, uncommitted edits included), never to the checkout other people build from; --in-place
mutates the checkout itself, under the same restore rules.

Exit status: 0 every mutant killed; 1 a mutant survived; 2 bad flags, a bad mutation list, a
tree that fails its own tests unmutated, or a failed set-up; 130 interrupted (Ctrl-C, SIGTERM:
the mutants finished by then are written, marked `interrupted`).

Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import result_files  # noqa: E402
from result_files import OutputError, check_output_path, finish_stdout, write_atomically  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
VERSION = 1  # of this tool and its list format, recorded in the result


class UsageError(Exception):
    """Bad flags or a bad mutation list: exit 2 with the message."""


class SetupError(Exception):
    """The unmutated tree does not build or pass its own tests, or a tool failed: exit 2."""


# ---- the mutation list ---------------------------------------------------------------------

@dataclass
class Area:
    name: str
    targets: list[str]  # build targets that hold the area's tests
    tests: str  # ctest -R regular expression


@dataclass
class Mutant:
    id: str
    area: str
    file: str  # relative to the tree
    kind: str  # operator, constant, memory_order, dropped_check
    find: str  # exact text, which must occur exactly once in the file
    replace: str
    why: str = ""  # what promise the mutant breaks


KINDS = ("operator", "constant", "memory_order", "dropped_check")


def load_list(path: Path, tree: Path) -> tuple[dict[str, Area], list[Mutant]]:
    """Parses and checks the mutation list against TREE: every field present and typed, areas
    known, ids unique, every `find` text present exactly once in its file and different from its
    replacement. Raises UsageError naming the list and the entry."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read mutation list '{path}': {error.strerror or error}")
    except json.JSONDecodeError as error:
        raise UsageError(f"{path}: line {error.lineno}, column {error.colno}: {error.msg}")
    if not isinstance(document, dict) or not isinstance(document.get("areas"), dict) or \
            not isinstance(document.get("mutants"), list):
        raise UsageError(f"{path}: expected an object with \"areas\" (object) and \"mutants\" "
                         "(array)")
    areas: dict[str, Area] = {}
    for name, spec in document["areas"].items():
        if not isinstance(spec, dict) or not isinstance(spec.get("targets"), list) or \
                not all(isinstance(t, str) for t in spec["targets"]) or \
                not isinstance(spec.get("tests"), str):
            raise UsageError(f"{path}: area \"{name}\" needs \"targets\" (strings) and "
                             "\"tests\" (a ctest -R expression)")
        try:
            re.compile(spec["tests"])
        except re.error as error:
            raise UsageError(f"{path}: area \"{name}\": bad tests expression: {error}")
        areas[name] = Area(name, spec["targets"], spec["tests"])
    mutants: list[Mutant] = []
    seen: set[str] = set()
    for i, entry in enumerate(document["mutants"]):
        where = f"{path}: mutant #{i + 1}"
        if not isinstance(entry, dict):
            raise UsageError(f"{where}: not an object")
        for key in ("id", "area", "file", "kind", "find", "replace"):
            if not isinstance(entry.get(key), str):
                raise UsageError(f"{where}: \"{key}\" must be a string")
        where = f"{path}: mutant \"{entry['id']}\""
        if entry["id"] in seen:
            raise UsageError(f"{where}: the id is used twice")
        seen.add(entry["id"])
        if entry["area"] not in areas:
            raise UsageError(f"{where}: unknown area \"{entry['area']}\"")
        if entry["kind"] not in KINDS:
            raise UsageError(f"{where}: kind must be one of {', '.join(KINDS)}")
        if entry["find"] == entry["replace"] or not entry["find"]:
            raise UsageError(f"{where}: \"find\" must be non-empty and differ from \"replace\"")
        try:
            text = (tree / entry["file"]).read_text(encoding="utf-8")
        except OSError as error:
            raise UsageError(f"{where}: cannot read {entry['file']}: {error.strerror or error}")
        count = text.count(entry["find"])
        if count != 1:
            raise UsageError(f"{where}: its text occurs {count} times in {entry['file']} "
                             "(must be exactly once)")
        mutants.append(Mutant(entry["id"], entry["area"], entry["file"], entry["kind"],
                              entry["find"], entry["replace"], str(entry.get("why", ""))))
    return areas, mutants


# ---- restoring the tree --------------------------------------------------------------------

class Journal:
    """What is mutated right now: the file and a copy of its original bytes, on disk before the
    file is touched, so that a run killed outright can be repaired by the next one."""

    def __init__(self, state_dir: Path):
        self.dir = state_dir
        self.path = state_dir / "journal.json"
        self.backup = state_dir / "journal.original"

    def begin(self, target: Path, original: bytes) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        write_bytes_atomically(self.backup, original)
        write_bytes_atomically(self.path, json.dumps(
            {"file": str(target), "sha256": hashlib.sha256(original).hexdigest()}).encode())

    def end(self) -> None:
        for p in (self.path, self.backup):
            p.unlink(missing_ok=True)

    def recover(self) -> str | None:
        """Puts back a file a previous run left mutated; returns what it did, None when there
        was nothing to do."""
        if not self.path.exists():
            return None
        entry = json.loads(self.path.read_text(encoding="utf-8"))
        original = self.backup.read_bytes()
        if hashlib.sha256(original).hexdigest() != entry["sha256"]:
            raise SetupError(f"the journal's copy of {entry['file']} is damaged; restore that "
                             f"file by hand (git diff shows the mutation) and remove {self.path}")
        target = Path(entry["file"])
        restored = not target.exists() or target.read_bytes() != original
        if restored:
            write_bytes_atomically(target, original)
        self.end()
        return f"restored {target}, left mutated by an interrupted run" if restored else None


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Temp file in the same folder, then rename: a source file is never half-written."""
    temp = path.with_name(f".{path.name}.mutate-{os.getpid()}")
    temp.write_bytes(data)
    if path.exists():
        shutil.copymode(path, temp)
    os.replace(temp, path)


class Mutation:
    """A context manager that applies one mutant to TREE and restores the file on exit, however
    the block ends. The restored file gets a new modification time, so the next build recompiles
    what the mutant compiled."""

    def __init__(self, tree: Path, mutant: Mutant, journal: Journal):
        self.target = tree / mutant.file
        self.mutant = mutant
        self.journal = journal
        self.original = b""
        self.line = 0

    def __enter__(self) -> "Mutation":
        self.original = self.target.read_bytes()
        text = self.original.decode("utf-8")
        at = text.index(self.mutant.find)
        self.line = text.count("\n", 0, at) + 1
        mutated = text.replace(self.mutant.find, self.mutant.replace, 1).encode("utf-8")
        # Journal first, then the mutant, with no signal in between: whatever interrupts the run
        # later finds the original saved.
        with deferred_signals():
            self.journal.begin(self.target, self.original)
            try:
                write_bytes_atomically(self.target, mutated)
            except BaseException:
                self.journal.end()
                raise
        return self

    def __exit__(self, *exc: object) -> None:
        # Signals that arrive while the original is written back wait until it is.
        with deferred_signals():
            write_bytes_atomically(self.target, self.original)
            self.journal.end()


class deferred_signals:
    """Holds SIGINT and SIGTERM for the duration of the block (restoring a file must not be cut
    in half by the second Ctrl-C of an impatient user)."""

    def __enter__(self) -> None:
        self.blocked = hasattr(signal, "pthread_sigmask")
        if self.blocked:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})

    def __exit__(self, *exc: object) -> None:
        if self.blocked:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


# ---- building and testing ------------------------------------------------------------------

@dataclass
class Outcome:
    status: str  # killed, survived, invalid
    detail: str = ""  # the failing test, the timeout, or the compiler's first error
    seconds: float = 0.0
    build_seconds: float = 0.0


class Runner:
    """Builds an area's targets and runs its tests in the mutation build directory. Either step
    may be replaced by a command (--build-command, --test-command: {targets}, {tests} and {build}
    are substituted), which is how the tests of this tool run it without a compiler."""

    def __init__(self, tree: Path, build_dir: Path, jobs: int, timeout: int,
                 build_command: str | None = None, test_command: str | None = None):
        self.tree, self.build_dir, self.jobs, self.timeout = tree, build_dir, jobs, timeout
        self.build_command, self.test_command = build_command, test_command

    def configure(self) -> None:
        if self.build_command is not None or (self.build_dir / "build.ninja").exists():
            return
        # No sanitizer and -O1: the mutants are judged by the tests' verdicts, not by sanitizer
        # reports, and most of the run's time is compiling.
        command = ["cmake", "-S", str(self.tree), "-B", str(self.build_dir), "-G", "Ninja",
                   "-DCMAKE_CXX_COMPILER=clang++-14", "-DCMAKE_C_COMPILER=clang-14",
                   "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DPINSPLIT_SANITIZER=none",
                   "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1", "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1"]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise SetupError(f"cmake failed for {self.build_dir}:\n{tail(result.stdout + result.stderr)}")

    def build(self, area: Area) -> tuple[bool, str]:
        if self.build_command is not None:
            command = shlex.split(self.build_command.format(
                targets=" ".join(area.targets), build=self.build_dir))
        else:
            command = ["nice", "-n", "10", "cmake", "--build", str(self.build_dir),
                       f"-j{self.jobs}", "--target", *area.targets]
        result = subprocess.run(command, capture_output=True, text=True)
        return result.returncode == 0, first_error(result.stdout + result.stderr)

    def test(self, area: Area) -> tuple[bool, str]:
        if self.test_command is not None:
            command = shlex.split(self.test_command.format(tests=area.tests,
                                                           build=self.build_dir))
        else:
            command = ["ctest", "--test-dir", str(self.build_dir), "-R", area.tests,
                       "--stop-on-failure", "--timeout", str(self.timeout), "-j", str(self.jobs)]
        try:
            result = subprocess.run(command, capture_output=True, text=True,
                                    timeout=self.timeout * 4)
        except subprocess.TimeoutExpired:
            return False, f"the test run took over {self.timeout * 4} s"
        if result.returncode == 0 and "No tests were found" in result.stdout + result.stderr:
            raise SetupError(f"area '{area.name}': no test matches '{area.tests}'")
        return result.returncode == 0, failed_tests(result.stdout)


def tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def first_error(text: str) -> str:
    for line in text.splitlines():
        if " error: " in line or line.startswith("error:"):
            return line.strip()[:300]
    return tail(text, 3)[:300]


def failed_tests(ctest_output: str) -> str:
    """The names of the failed tests in ctest's summary ("  12 - name (Failed)")."""
    names = re.findall(r"^\s*\d+ - (.+) \((Failed|Timeout|[A-Z][^()]*)\)\s*$", ctest_output,
                       re.MULTILINE)
    return ", ".join(f"{name} ({why})" for name, why in names) or tail(ctest_output, 3)


def judge(mutant: Mutant, area: Area, runner: Runner, tree: Path,
          journal: Journal) -> tuple[Outcome, int]:
    """Applies, builds, tests, restores. Returns the outcome and the mutated line."""
    started = time.monotonic()
    with Mutation(tree, mutant, journal) as mutation:
        built, error = runner.build(area)
        build_seconds = round(time.monotonic() - started, 1)
        if not built:
            outcome = Outcome("invalid", error)
        else:
            passed, failures = runner.test(area)
            outcome = Outcome("survived", "") if passed else Outcome("killed", failures)
    outcome.seconds = round(time.monotonic() - started, 1)
    outcome.build_seconds = build_seconds
    return outcome, mutation.line


# ---- the run -------------------------------------------------------------------------------

def sync_tree(source: Path, copy: Path) -> None:
    """Makes COPY hold the files of the checkout SOURCE as they are (tracked and untracked, not
    ignored), writing only those that differ, so the mutation build stays incremental."""
    listed = subprocess.run(["git", "-C", str(source), "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        src, dst = source / name, copy / name
        if not src.is_file():
            continue  # deleted in the working tree
        data = src.read_bytes()
        if dst.is_file() and dst.read_bytes() == data:
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomically(dst, data)
        shutil.copymode(src, dst)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' must be positive")
    return value


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"mutate.py: error: {message}", file=sys.stderr)
        sys.exit(2)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = ArgumentParser(prog="./harness mutate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", default=str(REPO_ROOT / "testing" / "mutations.json"),
                        help="the mutation list (default testing/mutations.json)")
    parser.add_argument("--area", action="append", default=[],
                        help="only these areas (repeat or comma-separate; default: all)")
    parser.add_argument("--mutant", action="append", default=[],
                        help="only these mutants, by id (repeat or comma-separate)")
    parser.add_argument("--limit", type=positive_int, help="at most N mutants, drawn by --seed")
    parser.add_argument("--seed", type=positive_int, default=1,
                        help="orders (and with --limit, picks) the mutants (default 1)")
    parser.add_argument("--build-dir", default=str(REPO_ROOT / "build" / "mutate"),
                        help="the mutation build's folder (default build/mutate)")
    parser.add_argument("--in-place", action="store_true",
                        help="mutate the checkout itself instead of a private copy of it")
    parser.add_argument("--jobs", type=positive_int, default=2, help="build and test jobs")
    parser.add_argument("--timeout", type=positive_int, default=300,
                        help="seconds a single test may take before it counts as killed")
    parser.add_argument("--results", default=os.environ.get("PINSPLIT_RESULTS",
                                                            str(REPO_ROOT / "results")),
                        help="results folder (default results/ or $PINSPLIT_RESULTS)")
    parser.add_argument("--output", help="the result file (default RESULTS/mutation/<run id>.json)")
    parser.add_argument("--build-command", help=argparse.SUPPRESS)
    parser.add_argument("--test-command", help=argparse.SUPPRESS)
    parser.add_argument("--source", default=str(REPO_ROOT), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.area = [a for spec in args.area for a in spec.split(",") if a]
    args.mutant = [m for spec in args.mutant for m in spec.split(",") if m]
    return args


def select(mutants: list[Mutant], areas: dict[str, Area], args: argparse.Namespace) -> list[Mutant]:
    unknown = [a for a in args.area if a not in areas]
    if unknown:
        raise UsageError(f"unknown area '{unknown[0]}'; known: {', '.join(areas)}")
    missing = [i for i in args.mutant if i not in {m.id for m in mutants}]
    if missing:
        raise UsageError(f"no mutant '{missing[0]}' in the list")
    chosen = [m for m in mutants if (not args.area or m.area in args.area) and
              (not args.mutant or m.id in args.mutant)]
    random.Random(args.seed).shuffle(chosen)
    if args.limit is not None:
        chosen = chosen[:args.limit]
    # Grouped by area, in the list's order within each: an area's targets are built once per
    # mutant, and a reader follows the report file by file.
    order = {m.id: i for i, m in enumerate(mutants)}
    return sorted(chosen, key=lambda m: (list(areas).index(m.area), order[m.id]))


def summarize(results: list[dict[str, Any]], areas: dict[str, Area]) -> list[dict[str, Any]]:
    rows = []
    for name in areas:
        mine = [r for r in results if r["area"] == name]
        if not mine:
            continue
        killed = sum(r["outcome"] == "killed" for r in mine)
        survived = sum(r["outcome"] == "survived" for r in mine)
        judged = killed + survived
        rows.append({"area": name, "mutants": len(mine), "killed": killed, "survived": survived,
                     "invalid": sum(r["outcome"] == "invalid" for r in mine),
                     "kill_rate": round(killed / judged, 4) if judged else None})
    return rows


def report(results: list[dict[str, Any]], rows: list[dict[str, Any]]) -> str:
    lines = [f"{'area':<10} {'mutants':>7} {'killed':>6} {'survived':>8} {'invalid':>7} "
             f"{'kill rate':>9}"]
    for r in rows:
        rate = "-" if r["kill_rate"] is None else f"{100 * r['kill_rate']:.0f}%"
        lines.append(f"{r['area']:<10} {r['mutants']:>7} {r['killed']:>6} {r['survived']:>8} "
                     f"{r['invalid']:>7} {rate:>9}")
    survivors = [r for r in results if r["outcome"] == "survived"]
    if survivors:
        lines.append("survivors:")
        for r in survivors:
            lines.append(f"  {r['id']}: {r['file']}:{r['line']} ({r['kind']}) "
                         f"{r['find']!r} -> {r['replace']!r}: {r['why']}")
    return "\n".join(lines)


def interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    # Ctrl-C and SIGTERM unwind through the restores, even when started with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupt)
    args = parse_args(argv)
    source = Path(args.source).resolve()
    build_root = Path(args.build_dir).resolve()
    journal = Journal(build_root / "state")
    started = dt.datetime.now(dt.timezone.utc)
    run_id = started.strftime("%Y-%m-%dT%H-%M-%SZ")
    output = Path(args.output) if args.output else Path(args.results) / "mutation" / f"{run_id}.json"
    try:
        note = journal.recover()
        if note:
            print(f"mutate: {note}", file=sys.stderr)
        tree = source if args.in_place else build_root / "src"
        if not args.in_place:
            sync_tree(source, tree)
        areas, mutants = load_list(Path(args.list), tree)
        chosen = select(mutants, areas, args)
        output.parent.mkdir(parents=True, exist_ok=True)
        check_output_path(output)
        runner = Runner(tree, build_root / "build", args.jobs, args.timeout,
                        args.build_command, args.test_command)
        runner.configure()
    except (UsageError, SetupError, OutputError) as error:
        print(f"mutate.py: error: {error}", file=sys.stderr)
        return 2
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"mutate.py: error: {error}", file=sys.stderr)
        return 2

    results: list[dict[str, Any]] = []
    interrupted = False
    run_started = time.monotonic()
    try:
        used = [a for a in areas.values() if any(m.area == a.name for m in chosen)]
        for area in used:
            print(f"[mutate] baseline: building and testing area '{area.name}' unmutated",
                  file=sys.stderr, flush=True)
            built, error = runner.build(area)
            if not built:
                raise SetupError(f"area '{area.name}' does not build unmutated: {error}")
            passed, failures = runner.test(area)
            if not passed:
                raise SetupError(f"area '{area.name}' fails its tests unmutated: {failures}")
        for i, mutant in enumerate(chosen, 1):
            outcome, line = judge(mutant, areas[mutant.area], runner, tree, journal)
            results.append({"id": mutant.id, "area": mutant.area, "file": mutant.file,
                            "line": line, "kind": mutant.kind, "find": mutant.find,
                            "replace": mutant.replace, "why": mutant.why,
                            "outcome": outcome.status, "detail": outcome.detail,
                            "seconds": outcome.seconds,
                            "build_seconds": outcome.build_seconds})
            elapsed = time.monotonic() - run_started
            print(f"[mutate] {i}/{len(chosen)} {mutant.id} ({mutant.file}:{line}): "
                  f"{outcome.status}{': ' + outcome.detail if outcome.detail else ''} "
                  f"[{outcome.seconds}s; {elapsed:.0f}s so far]", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        interrupted = True
        print("[mutate] interrupted: the tree is restored; writing what finished",
              file=sys.stderr)
    except SetupError as error:
        print(f"mutate.py: error: {error}", file=sys.stderr)
        return 2

    rows = summarize(results, areas)
    judged = sum(r["killed"] + r["survived"] for r in rows)
    killed = sum(r["killed"] for r in rows)
    revision = result_files.git_revision()
    version = getattr(result_files, "project_version", lambda: "unknown")()
    document = {
        "kind": "mutation",
        "run": {"id": run_id, "started": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "version": version, "git_revision": revision, "host": socket.gethostname(),
                "cpus": os.cpu_count() or 0, "compiler": "clang++-14", "flags": "-O1",
                "preset": "mutate"},
        "tool_version": VERSION,
        "seed": args.seed,
        "list": os.path.relpath(Path(args.list).resolve(), REPO_ROOT),
        "in_place": args.in_place,
        "interrupted": interrupted,
        "seconds": round(time.monotonic() - run_started, 1),
        "kill_rate": round(killed / judged, 4) if judged else None,
        "areas": rows,
        "mutants": results,
    }
    try:
        write_atomically(output, document)
    except OSError as error:
        print(f"mutate.py: error: {error}", file=sys.stderr)
        return 2
    print(report(results, rows))
    print(f"result: {output}")
    if interrupted:
        return finish_stdout("mutate.py", 130)
    survived = any(r["outcome"] == "survived" for r in results)
    return finish_stdout("mutate.py", 1 if survived else 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
