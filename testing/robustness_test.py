# SPDX-License-Identifier: MIT
"""Hostile input and failing outputs, one table per class of defect (issue 9, docs/cli.md).

Each class is a CTest test (label "robustness"): `robustness_test.py CLASS --pinsplit P
--stress S --sanitizer NAME`. Every row runs a real command (the built binaries, bench/report.py,
fuzz/run_fuzz.py, ./harness) and states the exit status and the message it must give; a class
fails when any row does, and prints every row that failed.

  atomic_writes     --output/--json/report --output on a missing file, a regular file, a
                    symlink, a FIFO and a directory: replaced atomically, written in place or
                    refused, never a temp file left behind
  checker_limits    a checker's or a format's capacity is bad input (2) naming the limit
  numbers           one number grammar and one range rule in every dialect
  wrong_paths       directories, missing files, empty scripts
  lost_stdout       stdout on /dev/full is exit 2 with a message, for every command
  late_checks       an output that cannot be written is refused before the work
  sanitizer_reports the storm's own result counts the sanitizer's reports
  flags             invalid values always rejected; a flag that does not apply is noted
  small             BOM named, long tokens cut, ranges stated, ./harness build usage, --ops
                    rounding, SIGTERM keeps the summary, the 64-process cap documented
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "testing"))

import result_files  # noqa: E402


@dataclass
class Row:
    """One command, its expected exit status, and text its output (stdout+stderr) must hold."""
    name: str
    argv: list[str]
    exit: int
    says: list[str] = field(default_factory=list)
    never_says: list[str] = field(default_factory=list)
    stdin: bytes | None = None
    stdout_to: str | None = None  # a path stdout is redirected to (/dev/full)
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = 60


class Context:
    def __init__(self, args: argparse.Namespace, work: Path):
        self.pinsplit = args.pinsplit
        self.stress = args.stress
        self.sanitizer = args.sanitizer
        self.work = work
        self.failures: list[str] = []

    def path(self, name: str) -> Path:
        return self.work / name

    def file(self, name: str, content: str | bytes) -> str:
        p = self.path(name)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content.encode() if isinstance(content, str) else content)
        return str(p)

    def run(self, row: Row) -> subprocess.CompletedProcess | None:
        env = dict(os.environ, **row.env)
        stdout = subprocess.PIPE
        sink = None
        if row.stdout_to:
            sink = open(row.stdout_to, "wb")
            stdout = sink
        try:
            done = subprocess.run(row.argv, input=row.stdin, stdout=stdout,
                                  stderr=subprocess.PIPE, env=env, cwd=self.work,
                                  timeout=row.timeout)
        except subprocess.TimeoutExpired:
            self.failures.append(f"{row.name}: timed out after {row.timeout}s")
            return None
        finally:
            if sink:
                sink.close()
        text = (done.stdout or b"").decode(errors="replace") + done.stderr.decode(errors="replace")
        problems = []
        if done.returncode != row.exit:
            problems.append(f"exit {done.returncode}, expected {row.exit}")
        problems += [f"does not say {s!r}" for s in row.says if s not in text]
        problems += [f"says {s!r}" for s in row.never_says if s in text]
        if problems:
            shown = text if len(text) < 1500 else text[:1500] + "..."
            self.failures.append(f"{row.name}: {'; '.join(problems)}\n    $ {' '.join(row.argv)}"
                                 f"\n    {shown.strip()}")
        return done

    def check(self, name: str, ok: bool, why: str) -> None:
        if not ok:
            self.failures.append(f"{name}: {why}")


COUNTER_SCRIPT = "get => ok\nput => live\nexpect refs=1\n"
MM_SCRIPT = "spawn A\nA map 0\nA write 0 16\nA read 0 => 16\n"
INTERLEAVE_SCRIPT = "thread 1 get\nthread 2 pin read\nschedule 1 2\n"
# A budget run of a second or less: one preset, one layout, no simulation.
QUICK_BUDGET = ["budget", "--workload=ksm_page", "--layout=4/4/24", "--sim_arrivals=0"]
# One scenario for fidelity: agrees on a kernel the backend can run on, else "skipped: ...".
FIDELITY_SCENARIO = str(ROOT / "scenarios" / "mm" / "cow" / "basic_after_fork.ops")


def sample_inputs(ctx: Context) -> tuple[str, str, str, Path]:
    """A counter, an mm and an interleave script, and the counter script encoded as a fuzz
    input (refcount_ops)."""
    counter = ctx.file("c.ops", COUNTER_SCRIPT)
    mm = ctx.file("m.ops", MM_SCRIPT)
    interleave = ctx.file("i.ops", INTERLEAVE_SCRIPT)
    encoded = ctx.path("c.bin")
    subprocess.run([ctx.pinsplit, "encode", "--target=refcount_ops", f"--output={encoded}",
                    counter], check=True)
    return counter, mm, interleave, encoded


def python_tool(script: str) -> list[str]:
    return [sys.executable, str(ROOT / script)]


def bench_raw(ctx: Context) -> str:
    """A minimal Google Benchmark JSON that bench/report.py accepts."""
    raw = {"context": {"date": "2026-01-01T00:00:00+00:00", "host_name": "h", "num_cpus": 2,
                       "mhz_per_cpu": 1, "library_build_type": "release", "caches": []},
           "benchmarks": [{"name": "BM_Get/split", "run_type": "iteration",
                           "items_per_second": 1e6, "real_time": 1, "cpu_time": 1,
                           "time_unit": "ns", "iterations": 1}]}
    return ctx.file("raw.json", json.dumps(raw))


# --- 1. atomic writes ---------------------------------------------------------------------------

def destinations(ctx: Context, tag: str) -> list[tuple[str, str, str]]:
    """(kind, path, what must hold afterwards) for each kind of destination."""
    folder = ctx.path(f"dest-{tag}")
    folder.mkdir()
    (folder / "old.txt").write_text("old")
    (folder / "target.txt").write_text("old")
    os.symlink("target.txt", folder / "link.txt")
    os.mkfifo(folder / "pipe")
    (folder / "dir").mkdir()
    return [("missing", str(folder / "new.txt"), "regular"),
            ("regular", str(folder / "old.txt"), "regular"),
            ("symlink", str(folder / "link.txt"), "symlink"),
            ("fifo", str(folder / "pipe"), "fifo"),
            ("directory", str(folder / "dir"), "refused")]


def drain_fifo(path: str, into: list[bytes]) -> threading.Thread:
    def read() -> None:
        with open(path, "rb") as f:
            into.append(f.read())
    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def check_destination(ctx: Context, name: str, kind: str, path: str, expect: str,
                      done: subprocess.CompletedProcess | None, fifo_data: list[bytes]) -> None:
    folder = Path(path).parent
    leftovers = [p.name for p in folder.iterdir() if ".tmp" in p.name]
    ctx.check(name, not leftovers, f"temp files left behind: {leftovers}")
    if done is None:
        return
    if expect == "refused":
        ctx.check(name, done.returncode == 2, f"a directory must be refused (exit {done.returncode})")
        ctx.check(name, b"is a directory" in done.stderr, "the error must say it is a directory")
        ctx.check(name, Path(path).is_dir(), "the directory must survive")
        return
    ctx.check(name, done.returncode == 0, f"exit {done.returncode}: {done.stderr[-300:]!r}")
    if expect == "regular":
        ctx.check(name, Path(path).is_file() and not Path(path).is_symlink()
                  and Path(path).read_bytes() not in (b"", b"old"), "not replaced with the output")
    elif expect == "symlink":
        ctx.check(name, Path(path).is_symlink(), "the symlink was replaced by a file")
        ctx.check(name, (folder / "target.txt").read_bytes() != b"old",
                  "the symlink's target was not updated")
    elif expect == "fifo":
        ctx.check(name, stat.S_ISFIFO(os.lstat(path).st_mode), "the FIFO was replaced by a file")
        ctx.check(name, bool(fifo_data) and len(fifo_data[0]) > 0,
                  "nothing was written into the FIFO")


def run_to_destination(ctx: Context, name: str, argv_for, tag: str) -> None:
    for kind, path, expect in destinations(ctx, tag):
        fifo_data: list[bytes] = []
        reader = drain_fifo(path, fifo_data) if kind == "fifo" else None
        row = Row(f"{name} -> {kind}", argv_for(path), 2 if expect == "refused" else 0)
        done = ctx.run(row)
        if reader:
            reader.join(timeout=10)
        check_destination(ctx, row.name, kind, path, expect, done, fifo_data)


def class_atomic_writes(ctx: Context) -> None:
    script = ctx.file("counter.ops", "get\nput\n")
    raw = bench_raw(ctx)
    run_to_destination(ctx, "encode --output", lambda out: [
        ctx.pinsplit, "encode", "--target=refcount_ops", f"--output={out}", script], "encode")
    encoded = ctx.path("counter.bin")
    subprocess.run([ctx.pinsplit, "encode", "--target=refcount_ops", f"--output={encoded}",
                    script], check=True)
    run_to_destination(ctx, "decode --output", lambda out: [
        ctx.pinsplit, "decode", "--target=refcount_ops", f"--output={out}", str(encoded)],
        "decode")
    run_to_destination(ctx, "stress --json", lambda out: [
        ctx.stress, "--storm=attack", "--scheme=bias", "--ops=32", "--threads=2",
        "--progress=false", f"--json={out}"], "stress")
    run_to_destination(ctx, "budget --output", lambda out: [
        ctx.pinsplit, *QUICK_BUDGET, "--json", f"--output={out}"], "budget")
    run_to_destination(ctx, "report.py --output", lambda out: [
        *python_tool("bench/report.py"), raw, "--output", out, "--git-revision", "t",
        "--preset", "t"], "report")
    # write_atomically itself (run_fuzz.py and report.py write through it).
    for kind, path, expect in destinations(ctx, "python"):
        fifo_data: list[bytes] = []
        reader = drain_fifo(path, fifo_data) if kind == "fifo" else None
        code, err = 0, b""
        try:
            result_files.write_atomically(Path(path), {"kind": "test"})
        except result_files.OutputError as error:
            code, err = 2, str(error).encode()
        if reader:
            reader.join(timeout=10)
        check_destination(ctx, f"write_atomically -> {kind}", kind, path, expect,
                          subprocess.CompletedProcess([], code, b"", err), fifo_data)


# --- 2. checker limits --------------------------------------------------------------------------

def class_checker_limits(ctx: Context) -> None:
    long_interleave = "".join(f"thread {1 + i % 2} try_get\n" for i in range(65))
    exactly_64 = "".join(f"thread {1 + i % 2} pin read\n" for i in range(64))
    spawn_17 = "".join(f"spawn P{i}\n" for i in range(17))
    spawn_65 = "".join(f"spawn P{i}\n" for i in range(65))
    mm_97 = "spawn A\n" + "A map 0\nA unmap 0\n" * 48
    refcount_513 = "get\n" * 513
    interleave_5 = "".join("thread 1 try_get\n" for _ in range(5)) + "thread 2 get\n"
    rows = [
        Row("replay: interleave script of 65 ops on a correct counter", [
            ctx.pinsplit, "replay", "--quiet", ctx.file("long.ops", long_interleave)], 2,
            ["at most 64", "not a verdict"], ["NOT linearizable"]),
        Row("replay: 64 ops is within the limit", [
            ctx.pinsplit, "replay", "--quiet", ctx.file("64.ops", exactly_64)], 0),
        Row("encode mm_ops: 17 live processes", [
            ctx.pinsplit, "encode", "--target=mm_ops", "--output=-",
            ctx.file("spawn17.ops", spawn_17)], 2, ["at most 16 live processes"]),
        Row("encode mm_ops: 97 operations", [
            ctx.pinsplit, "encode", "--target=mm_ops", ctx.file("mm97.ops", mm_97)], 2,
            ["at most 96 operations"]),
        Row("encode refcount_ops: 513 operations", [
            ctx.pinsplit, "encode", "--target=refcount_ops", ctx.file("rc513.ops", refcount_513)],
            2, ["at most 512 operations"]),
        Row("encode interleave: 5 ops in one thread", [
            ctx.pinsplit, "encode", "--target=interleave", ctx.file("il5.ops", interleave_5)], 2,
            ["more than 4 operations"]),
        Row("replay mm: 65 processes (the model's cap)", [
            ctx.pinsplit, "replay", "--quiet", ctx.file("spawn65.ops", spawn_65)], 2,
            ["max_processes = 64"]),
        Row("compare: 65 processes", [ctx.pinsplit, "compare", str(ctx.path("spawn65.ops"))], 2,
            ["max_processes = 64"]),
    ]
    for row in rows:
        ctx.run(row)


# --- 3. numbers ---------------------------------------------------------------------------------

def class_numbers(ctx: Context) -> None:
    cases = [
        # (name, script, exit, says)
        ("mm: a read asserted in hex", "spawn A\nA map 0\nA write 0 16\nA read 0 => 0x10\n", 0, []),
        ("mm: a hex value written, read in decimal",
         "spawn A\nA map 0\nA write 0 0xff\nA read 0 => 255\n", 0, []),
        ("mm: a pin read asserted in hex",
         "spawn A\nA map 0\nA write 0 10\nA pin read 0 as h\nh read => 0xA\n", 0, []),
        ("mm: value past 2^32-1", "spawn A\nA map 0\nA write 0 0x100000000\n", 2,
         ["out of range 0..4294967295"]),
        ("mm: read result past 2^32-1", "spawn A\nA map 0\nA read 0 => 4294967296\n", 2,
         ["out of range 0..4294967295"]),
        ("mm: address past the address space", "spawn A\nA map 64\n", 2, ["out of range 0..63"]),
        ("mm: address range past the address space", "spawn A\nA map 0..0x40\n", 2,
         ["out of range 0..63"]),
        ("counter: refs past 2^32-1", "set refs=4294967296\n", 2, ["out of range 0..4294967295"]),
        ("counter: refs in hex", "set refs=0x2\nexpect refs=2\n", 0, []),
        ("counter: not a number", "set refs=two\n", 2, ["must be a number (decimal or 0x hex)"]),
        ("interleave: thread id in hex", "thread 0x1 get\nthread 2 try_get\n", 0, []),
        ("interleave: thread id out of range", "thread 5 get\n", 2, ["out of range 1..4"]),
        ("interleave: schedule id out of range", "thread 1 get\nschedule 9\n", 2,
         ["out of range 1..4"]),
    ]
    for i, (name, script, code, says) in enumerate(cases):
        ctx.run(Row(f"replay {name}", [ctx.pinsplit, "replay", "--quiet",
                                       ctx.file(f"num{i}.ops", script)], code, says))
    ctx.run(Row("compare: hex asserted read", [ctx.pinsplit, "compare", str(ctx.path("num0.ops"))],
                0))
    doc = (ROOT / "docs" / "op-script.md").read_text()
    ctx.check("docs/op-script.md states the one range rule", "0 .. 2^32-1" in doc
              and "every dialect" in doc, "the number rule is not stated for every dialect")


# --- 4. wrong paths -----------------------------------------------------------------------------

def class_wrong_paths(ctx: Context) -> None:
    folder = str(ctx.path("a-folder"))
    os.makedirs(folder, exist_ok=True)
    missing = str(ctx.path("no-such-file.ops"))
    empty = ctx.file("empty.ops", "# only a comment\n\n")
    commands = {
        "replay": [ctx.pinsplit, "replay"],
        "compare": [ctx.pinsplit, "compare"],
        "decode": [ctx.pinsplit, "decode", "--target=mm_ops"],
        "encode": [ctx.pinsplit, "encode", "--target=refcount_ops"],
        "report.py": [*python_tool("bench/report.py"), "--output", str(ctx.path("r.json"))],
        "budget": [ctx.pinsplit, "budget", "--sim_arrivals=0"],
    }
    for command, argv in commands.items():
        ctx.run(Row(f"{command} DIR", [*argv, folder], 2, ["is a directory"], ["PASS"]))
        ctx.run(Row(f"{command} MISSING", [*argv, missing], 2, ["No such file"]))
    # fidelity takes folders of scenarios: an empty one has nothing to compare. Every file is
    # read before the first run, so a missing one is refused before the kernel is touched.
    ctx.run(Row("fidelity MISSING", [ctx.pinsplit, "fidelity", FIDELITY_SCENARIO, missing], 2,
                ["No such file", "no-such-file.ops"], ["agree", "skipped"]))
    ctx.run(Row("fidelity of an empty folder", [ctx.pinsplit, "fidelity", folder], 2,
                ["no .ops files"]))
    ctx.run(Row("budget - reads a workload from stdin", [
        ctx.pinsplit, "budget", "--sim_arrivals=0", "--layout=4/4/24", "-"], 2,
        ["standard input: line 1"], stdin=b"nonsense\n"))
    ctx.run(Row("replay of an empty script warns", [ctx.pinsplit, "replay", empty], 0,
                ["warning", "holds no operations"]))
    ctx.run(Row("encode of an empty script warns", [
        ctx.pinsplit, "encode", "--target=refcount_ops", "--output", str(ctx.path("e.bin")),
        empty], 0, ["warning", "holds no operations"]))
    ctx.run(Row("fidelity of an empty script warns", [
        ctx.pinsplit, "fidelity", "--false_pin=false", empty], 0,
        ["warning", "holds no operations"]))
    ctx.run(Row("compare of an empty script", [ctx.pinsplit, "compare", empty], 2,
                ["holds no operations"]))
    ctx.run(Row("replay of an empty stdin warns", [ctx.pinsplit, "replay", "-"], 0,
                ["warning", "standard input holds no operations"], stdin=b""))


# --- 5. lost stdout -----------------------------------------------------------------------------

def class_lost_stdout(ctx: Context) -> None:
    if not os.path.exists("/dev/full"):
        ctx.failures.append("lost_stdout: /dev/full is missing; this class cannot run here")
        return
    counter, mm, interleave, encoded = sample_inputs(ctx)
    rows = [
        ("replay counter", [ctx.pinsplit, "replay", counter]),
        ("replay mm", [ctx.pinsplit, "replay", mm]),
        ("replay interleave", [ctx.pinsplit, "replay", interleave]),
        ("compare", [ctx.pinsplit, "compare", mm]),
        ("compare --json", [ctx.pinsplit, "compare", "--json", mm]),
        ("decode", [ctx.pinsplit, "decode", "--target=refcount_ops", str(encoded)]),
        ("decode --output=-", [ctx.pinsplit, "decode", "--target=refcount_ops", "--output=-",
                               str(encoded)]),
        ("encode", [ctx.pinsplit, "encode", "--target=refcount_ops", counter]),
        ("impls", [ctx.pinsplit, "impls"]),
        ("budget", [ctx.pinsplit, *QUICK_BUDGET]),
        ("budget --json", [ctx.pinsplit, *QUICK_BUDGET, "--json"]),
        ("budget --json --output=F (the table still goes to stdout)", [
            ctx.pinsplit, *QUICK_BUDGET, "--json", f"--output={ctx.path('b.json')}"]),
        ("fidelity", [ctx.pinsplit, "fidelity", FIDELITY_SCENARIO]),
        ("host-check", [ctx.pinsplit, "host-check"]),
        ("stress", [ctx.stress, "--storm=attack", "--scheme=bias", "--ops=32", "--threads=2",
                    "--progress=false"]),
        ("report.py", [*python_tool("bench/report.py"), bench_raw(ctx), "--output",
                       str(ctx.path("rep.json")), "--git-revision", "t", "--preset", "t"]),
    ]
    for name, argv in rows:
        ctx.run(Row(f"{name} > /dev/full", argv, 2, ["cannot write standard output"],
                    stdout_to="/dev/full"))


# --- 6. late checks -----------------------------------------------------------------------------

def class_late_checks(ctx: Context) -> None:
    folder = ctx.path("out-folder")
    folder.mkdir()
    nowhere = str(ctx.path("no-such-dir") / "x.json")
    a_file = ctx.file("plain-file", "x")
    rows = [
        # A storm that would run for 60 s must be refused at once.
        Row("stress --json into a missing folder", [
            ctx.stress, "--seconds=60", "--progress=false", f"--json={nowhere}"], 2,
            ["--json", "No such file or directory"], ["storm:"], timeout=20),
        Row("stress --json=DIR", [ctx.stress, "--seconds=60", "--progress=false",
                                  f"--json={folder}"], 2, ["is a directory"], ["storm:"],
            timeout=20),
        # The output is checked before the input is even read: the error names the output.
        Row("decode --output=DIR", [ctx.pinsplit, "decode", "--target=mm_ops",
                                    f"--output={folder}", "missing-input"], 2,
            ["is a directory"], ["missing-input"]),
        Row("encode --output into a missing folder", [
            ctx.pinsplit, "encode", "--target=mm_ops", f"--output={nowhere}", "missing-input"], 2,
            ["No such file or directory", "no-such-dir"], ["missing-input"]),
        # The default budget run takes seconds; a bad --output is refused before it.
        Row("budget --output=DIR", [ctx.pinsplit, "budget", f"--output={folder}"], 2,
            ["is a directory"], ["seed", "timing"]),
        Row("fidelity --output into a missing folder", [
            ctx.pinsplit, "fidelity", f"--output={nowhere}", "missing-input"], 2,
            ["No such file or directory", "no-such-dir"], ["missing-input"]),
        Row("host false-pin --output=DIR", [ctx.pinsplit, "host", "false-pin",
                                            f"--output={folder}"], 2, ["is a directory"]),
        Row("report.py --output=DIR", [*python_tool("bench/report.py"), "missing-input",
                                       "--output", str(folder)], 2, ["is a directory"],
            ["missing-input"]),
        Row("./harness stress with results under a file", [str(ROOT / "harness"), "stress"], 2,
            ["cannot write results"], env={"PINSPLIT_RESULTS": a_file}, timeout=20),
        Row("./harness bench with results under a file", [str(ROOT / "harness"), "bench"], 2,
            ["cannot write results"], env={"PINSPLIT_RESULTS": a_file}, timeout=20),
        Row("run_fuzz.py --results under a file", [
            *python_tool("fuzz/run_fuzz.py"), "--no-build", "--build-dir", str(ctx.path("nb")),
            "--results", a_file], 2, ["--results", "Not a directory"]),
    ]
    for row in rows:
        started = time.monotonic()
        ctx.run(row)
        ctx.check(row.name, time.monotonic() - started < 15, "the refusal came late")


# --- 7. sanitizer reports -----------------------------------------------------------------------

def class_sanitizer_reports(ctx: Context) -> None:
    out = ctx.path("storm.json")
    done = ctx.run(Row("a clean storm records 0 sanitizer reports", [
        ctx.stress, "--storm=attack", "--scheme=bias", "--ops=32", "--threads=2",
        "--progress=false", f"--json={out}"], 0, ["0 sanitizer report(s)"]))
    if done is not None and out.exists():
        storms = json.loads(out.read_text())["storms"]
        ctx.check("clean storm JSON", all(s.get("sanitizer_reports") == 0 for s in storms),
                  f"sanitizer_reports missing or not 0: {storms}")
    if ctx.sanitizer != "tsan":
        return
    # A put whose last drop is relaxed races with earlier holders: TSan reports it, no
    # violation check fires, and the storm's own result must say so.
    racy = ctx.path("racy.json")
    done = ctx.run(Row("a racing storm counts TSan's reports and exits 1", [
        ctx.stress, "--storm=word", "--scheme=broken:put-relaxed-last", "--seconds=3",
        "--mix=get:8,retire:4", "--progress=false", "--seed=12345", f"--json={racy}"], 1,
        ["ThreadSanitizer: data race", "sanitizer report(s)", "replay with"],
        env={"TSAN_OPTIONS": "halt_on_error=0"}))
    if done is not None:
        ctx.check("racing storm JSON written", racy.exists(), "no JSON written")
        if racy.exists():
            storm = json.loads(racy.read_text())["storms"][0]
            ctx.check("racing storm JSON", storm.get("sanitizer_reports", 0) > 0,
                      f"sanitizer_reports is {storm.get('sanitizer_reports')}")


# --- 8. flags -----------------------------------------------------------------------------------

def class_flags(ctx: Context) -> None:
    counter, mm, interleave, encoded = sample_inputs(ctx)
    p = ctx.pinsplit
    rows = [
        # Invalid values: always an error, whether or not the flag applies.
        Row("compare --policy=nope", [p, "compare", "--policy=nope", mm], 2, ["unknown policy"]),
        Row("replay --policy=nope on a counter script", [p, "replay", "--policy=nope", counter],
            2, ["unknown policy"]),
        Row("replay --impl=nope", [p, "replay", "--impl=nope", counter], 2, ["unknown counter"]),
        Row("compare --impl=nope", [p, "compare", "--impl=nope", mm], 2, ["unknown counter"]),
        Row("encode --policy=nope", [p, "encode", "--target=refcount_ops", "--policy=nope",
                                     counter], 2, ["unknown policy"]),
        Row("decode --target=nope", [p, "decode", "--target=nope", str(encoded)], 2,
            ["unknown fuzz target"]),
        Row("impls --policy=nope", [p, "impls", "--policy=nope"], 2, ["unknown policy"]),
        Row("budget --policy=nope", [p, *QUICK_BUDGET, "--policy=nope"], 2, ["unknown policy"]),
        Row("fidelity --impl=nope", [p, "fidelity", "--impl=nope", FIDELITY_SCENARIO], 2,
            ["unknown counter"]),
        Row("budget --layout=nope", [p, "budget", "--layout=nope"], 2, ["nope"]),
        Row("budget --target=2", [p, "budget", "--target=2"], 2, ["probability in (0, 1)"]),
        Row("budget --workload=nope", [p, "budget", "--workload=nope"], 2,
            ["neither a file", "nor a preset"]),
        Row("fidelity --random=-1", [p, "fidelity", "--random=-1"], 2, ["--random"]),
        Row("host false-pin --max_refs=0", [p, "host", "false-pin", "--max_refs=0"], 2,
            ["1..65536"]),
        Row("stress --policy=nope on a word storm", [
            ctx.stress, "--storm=attack", "--policy=nope", "--ops=32"], 2, ["unknown --policy"]),
        Row("stress --scheme=nope on the mm storm", [
            ctx.stress, "--storm=mm", "--scheme=nope", "--ops=16"], 2, ["unknown --scheme"]),
        Row("stress --mm_variant=nope", [ctx.stress, "--storm=mm", "--mm_variant=nope",
                                         "--ops=16"], 2,
            ["--mm_variant: unknown model variant 'nope'", "broken:recheck-before-pin"]),
        Row("stress --mm_variant=nope on the attack storm", [
            ctx.stress, "--storm=attack", "--mm_variant=nope", "--ops=32"], 2,
            ["unknown model variant"]),
        Row("stress --mm_variant=<a long token>", [
            ctx.stress, "--storm=mm", "--mm_variant=" + "x" * 5000, "--ops=16"], 2,
            ["(5000 characters)"]),
        Row("stress: a narrowed recheck with the recheck removed", [
            ctx.stress, "--storm=mm", "--mm_variant=broken:late-fork-bump",
            "--nocheck_write_protect_seq", "--ops=16"], 2, ["choose one"]),
        Row("stress: split's GUP-fast flaw under another policy", [
            ctx.stress, "--storm=mm", "--policy=anon-exclusive",
            "--mm_variant=broken:mapcount-fast-pin", "--ops=16"], 2,
            ["changes split's GUP-fast only"]),
        # Valid values where the flag does not apply: a note, and the command runs.
        Row("replay --policy on a counter script", [p, "replay", "--quiet", "--policy=mapcount",
                                                    counter], 0, ["--policy does not apply"]),
        Row("replay --policy on an interleave script", [
            p, "replay", "--quiet", "--policy=mapcount", interleave], 0,
            ["--policy does not apply"]),
        Row("replay --json", [p, "replay", "--quiet", "--json", counter], 0,
            ["--json does not apply"]),
        Row("compare --impl", [p, "compare", "--impl=bias", mm], 0, ["--impl does not apply"]),
        Row("compare --policy", [p, "compare", "--policy=split", mm], 0,
            ["--policy does not apply"]),
        Row("decode --policy on refcount_ops", [p, "decode", "--target=refcount_ops",
                                                "--policy=refcount", str(encoded)], 0,
            ["--policy does not apply"]),
        Row("encode --impl on mm_ops", [p, "encode", "--target=mm_ops", "--impl=bias",
                                        "--output", str(ctx.path("m.bin")), mm], 0,
            ["--impl does not apply"]),
        Row("impls --quiet", [p, "impls", "--quiet"], 0, ["--quiet does not apply"]),
        Row("budget --policy", [p, *QUICK_BUDGET, "--policy=split"], 0,
            ["--policy does not apply"]),
        Row("budget --quiet", [p, *QUICK_BUDGET, "--quiet"], 0, ["--quiet does not apply"]),
        Row("stress --policy on the attack storm", [
            ctx.stress, "--storm=attack", "--scheme=bias", "--policy=split", "--ops=32",
            "--threads=2", "--progress=false"], 0, ["--policy does not apply"]),
        Row("stress --mm_variant on the attack storm", [
            ctx.stress, "--storm=attack", "--scheme=bias", "--mm_variant=broken:late-fork-bump",
            "--ops=32", "--threads=2", "--progress=false"], 0, ["--mm_variant does not apply"]),
        Row("stress --seconds with --ops", [
            ctx.stress, "--storm=attack", "--scheme=bias", "--seconds=5", "--ops=32",
            "--threads=2", "--progress=false"], 0, ["--seconds does not apply"]),
        # A flag that applies is not noted.
        Row("replay --policy on an mm script", [p, "replay", "--quiet", "--policy=split", mm], 0,
            [], ["does not apply"]),
        Row("budget --json --target", [p, *QUICK_BUDGET, "--json", "--target=1e-9"], 0, [],
            ["does not apply"]),
        # --help succeeds for every command (Abseil's own exits 1).
        Row("budget --help", [p, "budget", "--help"], 0, ["pinsplit budget"]),
        Row("fidelity --help", [p, "fidelity", "--help"], 0, ["pinsplit fidelity"]),
        Row("host-check --help", [p, "host-check", "--help"], 0, ["pinsplit host-check"]),
    ]
    for row in rows:
        ctx.run(row)


# --- 9. the smaller items -----------------------------------------------------------------------

def class_small(ctx: Context) -> None:
    bom = b"\xef\xbb\xbf"
    p = ctx.pinsplit
    huge = "x" * 1_000_000
    long_arg = "y" * 100_000  # one argv string may hold at most 128 KiB
    rows = [
        Row("replay: BOM on a counter script", [p, "replay", ctx.file("b1.ops", bom + b"get\n")],
            2, ["byte-order mark"], ["unknown operation"]),
        Row("replay: BOM on an mm script", [p, "replay", ctx.file("b2.ops", bom + MM_SCRIPT.encode())],
            2, ["byte-order mark"]),
        Row("replay: BOM on an interleave script", [
            p, "replay", ctx.file("b3.ops", bom + INTERLEAVE_SCRIPT.encode())], 2,
            ["byte-order mark"]),
        Row("compare: BOM", [p, "compare", str(ctx.path("b2.ops"))], 2, ["byte-order mark"]),
        Row("encode: BOM", [p, "encode", "--target=refcount_ops", str(ctx.path("b1.ops"))], 2,
            ["byte-order mark"]),
        Row("replay: a 1 MB token is cut", [p, "replay", ctx.file("huge.ops", f"get{huge}\n")], 2,
            ["(1000003 characters)"], [huge[:100]]),
        Row("replay mm: a 1 MB name is cut", [
            p, "replay", ctx.file("hugemm.ops", f"spawn A\nA{huge} exit\n")], 2,
            ["(1000001 characters)"], [huge[:100]]),
        Row("replay interleave: a 1 MB token is cut", [
            p, "replay", ctx.file("hugeil.ops", f"thread 1 pin {huge}\n")], 2,
            ["(1000000 characters)"], [huge[:100]]),
        Row("budget: a 1 MB key is cut", [
            p, "budget", "--sim_arrivals=0", "--layout=4/4/24",
            ctx.file("huge.workload", f"k{huge}\n")], 2,
            ["(1000001 characters)"], [huge[:100]]),
        Row("encode: a 1 MB token is cut", [
            p, "encode", "--target=refcount_ops", str(ctx.path("huge.ops"))], 2,
            ["(1000003 characters)"], [huge[:100]]),
        Row("pinsplit: a 100 kB command is cut", [p, long_arg], 2, ["(100000 characters)"],
            [long_arg[:100]]),
        Row("pinsplit: a 100 kB flag value is cut", [p, "replay", f"--impl={long_arg}", "f"], 2,
            ["(100000 characters)"], [long_arg[:100]]),
        Row("pinsplit: a 100 kB unknown flag is cut", [p, f"--{long_arg}"], 2,
            ["characters)"], [long_arg[:100]]),
        Row("stress: a 100 kB --mix entry is cut", [ctx.stress, f"--mix={long_arg}:1"], 2,
            ["characters)"], [long_arg[:100]]),
        Row("stress: a 100 kB --storm is cut", [ctx.stress, f"--storm={long_arg}"], 2,
            ["(100000 characters)"], [long_arg[:100]]),
        Row("replay: out-of-range number states the range", [
            p, "replay", ctx.file("range.ops", "set read=99999999999\n")], 2,
            ["out of range 0..4294967295"]),
        Row("stress: --threads out of range states it", [ctx.stress, "--threads=65"], 2,
            ["1..64"]),
        Row("./harness build without a preset", [str(ROOT / "harness"), "build"], 2,
            ["usage: ./harness build PRESET"], ["unbound variable", "parameter null"]),
        Row("./harness build with an unknown preset", [str(ROOT / "harness"), "build", "nope"],
            2, ["unknown preset"]),
        Row("stress --ops rounding is stated", [
            ctx.stress, "--storm=attack", "--scheme=bias", "--ops=33", "--threads=2",
            "--progress=false"], 0, ["rounds up to 64 operations per thread"]),
        Row("stress --ops on a whole burst says nothing", [
            ctx.stress, "--storm=attack", "--scheme=bias", "--ops=64", "--threads=2",
            "--progress=false"], 0, [], ["rounds up"]),
    ]
    for row in rows:
        ctx.run(row)
    # SIGTERM, like Ctrl-C, stops the storm and keeps its summary and JSON.
    out = ctx.path("term.json")
    process = subprocess.Popen([ctx.stress, "--storm=attack", "--scheme=bias", "--seconds=60",
                                "--threads=2", "--progress=false", f"--json={out}"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ctx.work)
    time.sleep(1.5)
    process.send_signal(signal.SIGTERM)
    try:
        stdout, stderr = process.communicate(timeout=20)
        ctx.check("stress SIGTERM", process.returncode == 0,
                  f"exit {process.returncode}: {stderr[-300:]!r}")
        ctx.check("stress SIGTERM", b"interrupted" in stdout, f"no summary: {stdout!r}")
        ctx.check("stress SIGTERM", out.exists() and
                  json.loads(out.read_text())["storms"][0]["interrupted"] is True,
                  "no JSON marked interrupted")
    except subprocess.TimeoutExpired:
        process.kill()
        ctx.failures.append("stress SIGTERM: did not stop within 20 s")
    # --json without --output: standard output is one JSON document (the summary on stderr).
    for name, argv in [("budget --json", [p, *QUICK_BUDGET, "--json"]),
                       ("fidelity --json", [p, "fidelity", "--json", FIDELITY_SCENARIO])]:
        done = ctx.run(Row(name, argv, 0))
        if done is not None:
            try:
                json.loads(done.stdout)
            except ValueError as error:
                ctx.failures.append(f"{name}: stdout is not one JSON document: {error}")
    doc = (ROOT / "docs" / "op-script.md").read_text()
    ctx.check("the 64-process cap is documented", "64 processes" in doc,
              "docs/op-script.md does not state the 64-process cap")


CLASSES = {name[len("class_"):]: fn for name, fn in globals().items()
           if name.startswith("class_")}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("cls", choices=sorted(CLASSES))
    parser.add_argument("--pinsplit", required=True)
    parser.add_argument("--stress", required=True)
    parser.add_argument("--sanitizer", default="none")
    args = parser.parse_args()
    args.pinsplit = str(Path(args.pinsplit).resolve())
    args.stress = str(Path(args.stress).resolve())
    with tempfile.TemporaryDirectory(prefix=f"robustness-{args.cls}-") as work:
        ctx = Context(args, Path(work))
        CLASSES[args.cls](ctx)
    if ctx.failures:
        print(f"{args.cls}: {len(ctx.failures)} row(s) failed:")
        for failure in ctx.failures:
            print(f"  - {failure}")
        return 1
    print(f"{args.cls}: every row held")
    return 0


if __name__ == "__main__":
    sys.exit(main())
