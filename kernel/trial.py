# SPDX-License-Identifier: GPL-2.0-only
"""The trial: the same checks inside the stock and the split kernel, written
as a `kernel` result (results/kernel/RUN.json, docs/results-format.md).

  selftests  the tree's own cow, gup_longterm and gup_test, built once from
             the stock tree (the change touches no user-visible header)
  model      the project's mm scenarios through the host backend, each step
             compared with the model's policy for that kernel
  false-pin  which reference counts make each kernel's fork copy
  attacks    the budget's attack table run for real, bounded: R/W and READ
             fields filled, the ordinary field driven to saturation
  costs      fork, COW fault, io_uring register and vmsplice, split over
             stock, the kernels alternating in one run

Every check that fails is listed in "checks" and makes the exit status 1.
"""

import datetime
import hashlib
import json
import os
import re
import statistics
import subprocess
import time

import build
import uml
from common import HERE, KBUILD, ROOT, TrialError, log, result_files, run

SELFTESTS = os.path.join(KBUILD, "selftests")
GUEST = os.path.join(KBUILD, "guest")
TOTALS = re.compile(r"# Totals: pass:(\d+) fail:(\d+) xfail:\d+ xpass:\d+ skip:(\d+) error:(\d+)")
# What the split change itself prints when an attack does what it should.
EXPECTED_CONSOLE = ("page_pin_split: ordinary references saturated",)
CONSOLE_MARKS = ("WARNING:", "BUG:", "Oops", "page_pin_split:", "VM_BUG_ON", "refcount_t:")
COST_ROUNDS = 3


def build_guest_programs():
    """The selftests and pin_trial, compiled for the host ABI the guests run."""
    import tree
    bins = os.path.join(SELFTESTS, "bin")
    wanted = [os.path.join(bins, t) for t in ("cow", "gup_longterm", "gup_test")]
    if not all(os.path.exists(p) for p in wanted):
        headers = os.path.join(SELFTESTS, "headers")
        if not os.path.isdir(os.path.join(headers, "include", "linux")):
            log("installing the tree's uapi headers for the selftests")
            run(["make", "-s", "ARCH=x86_64", f"O={os.path.join(SELFTESTS, 'hdr-out')}",
                 f"INSTALL_HDR_PATH={headers}", "headers_install"], cwd=tree.SRC, capture=True)
        os.makedirs(bins, exist_ok=True)
        run(["make", "-s", f"OUTPUT={bins}", f"KHDR_INCLUDES=-isystem {headers}/include",
             *wanted], cwd=os.path.join(tree.SRC, "tools/testing/selftests/mm"), capture=True)
    os.makedirs(GUEST, exist_ok=True)
    source = os.path.join(HERE, "guest", "pin_trial.c")
    binary = os.path.join(GUEST, "pin_trial")
    if not os.path.exists(binary) or os.path.getmtime(binary) < os.path.getmtime(source):
        run(["gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", binary, source, "-luring"],
            capture=True)
    return bins, binary


class Kernel:
    """One built kernel and everything the guest said while the trial ran it."""

    def __init__(self, record, mem):
        self.record = record
        self.name = record["variant"]
        self.kind = record["kind"]
        self.binary = build.kernel_binary(self.name)
        self.mem = mem
        self.console = []
        self.boots = 0
        self.sessions = []

    def run(self, command, what, timeout=300):
        result = uml.boot(self.binary, command, timeout=timeout, mem=self.mem, cwd="/tmp")
        self.boots += 1
        self.sessions.append(result.session)
        for line in result.console.splitlines():
            if any(m in line for m in CONSOLE_MARKS):
                self.console.append({"during": what, "line": line.strip()})
        return result


def run_selftests(kernel, bins):
    tests = {}
    for name, args in (("cow", []), ("gup_longterm", []), ("gup_test -u", ["-u"]),
                       ("gup_test -a", ["-a"]), ("gup_test -ct", ["-ct", "-F", "0x1", "0", "19",
                                                                 "0x1000"])):
        exe = os.path.join(bins, name.split()[0])
        result = kernel.run([exe, *args], f"selftest {name}")
        totals = TOTALS.search(result.output)
        entry = {"exit": result.code, "seconds": round(result.seconds, 1)}
        if totals:
            entry.update(zip(("pass", "fail", "skip", "error"), map(int, totals.groups())))
        else:
            entry.update({"pass": 0, "fail": 1, "skip": 0, "error": 1})
        entry["failed"] = [l for l in result.output.splitlines() if l.startswith("not ok")]
        entry["skipped"] = sorted({re.sub(r"^ok \d+ ", "", l) for l in result.output.splitlines()
                                   if "# SKIP" in l})
        tests[name] = entry
        log(f"{kernel.name}: {name}: pass {entry.get('pass', 0)} fail {entry['fail']} "
            f"skip {entry['skip']}")
    return tests


def guest_json(kernel, pin_trial, args, what, timeout=300):
    result = kernel.run([pin_trial, *args], what, timeout=timeout)
    lines = [l for l in result.output.splitlines() if l.startswith("{")]
    if not lines:
        raise TrialError(f"{kernel.name}: {what} printed no result:\n{result.output[-1500:]}")
    doc = json.loads(lines[-1])
    if "error" in doc:
        raise TrialError(f"{kernel.name}: {what}: {doc['error']}")
    return doc


def predicted_attacks(layout):
    """The budget's attack rows for this layout, unmitigated (docs/budget.md)."""
    binary = pinsplit_binary()
    if not binary:
        return {}
    out = subprocess.run([binary, "budget", f"--layout={'/'.join(map(str, layout))}", "--json"],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return {}
    rows = json.loads(out.stdout)["attacks"]
    return {r["attack"]: r for r in rows if r["mitigation"] == "none"}


def pinsplit_binary():
    """The release build's pinsplit, else the one CTest names (PINSPLIT_BIN)."""
    for path in (os.path.join(ROOT, "build", "release", "cli", "pinsplit"),
                 os.environ.get("PINSPLIT_BIN", "")):
        if path and os.path.exists(path):
            return path
    return None


def run_attacks(kernel, pin_trial, layout):
    read_max, rw_max = (1 << layout[0]) - 1, (1 << layout[1]) - 1
    ordinary_limit = 1 << (layout[2] - 2)
    bound = max(read_max, rw_max) + 8
    attacks = []
    for name, args in (("rw", ["attack-rw", str(bound)]), ("read", ["attack-read", str(bound)]),
                       ("ordinary", ["attack-ordinary", str(ordinary_limit + 4096)])):
        doc = guest_json(kernel, pin_trial, args, f"attack {name}", timeout=600)
        doc["kernel"] = kernel.name
        attacks.append(doc)
    return attacks


def judge_attack(doc, layout, kind):
    """What the kernel did, and the checks the split kernel must pass."""
    read_max, rw_max = (1 << layout[0]) - 1, (1 << layout[1]) - 1
    checks = []
    name = doc["attack"]
    if name in ("rw", "read"):
        field_max = rw_max if name == "rw" else read_max
        if doc["refused_at"]:
            doc["outcome"] = f"refused ({doc['errno']}) at pin {doc['refused_at']}"
        else:
            doc["outcome"] = f"success: all {doc['accepted']} pins taken (bound {doc['bound']})"
        if kind == "split":
            checks.append((f"{name} field: {field_max} pins, then -EAGAIN",
                           doc["accepted"] == field_max and doc["errno"] == "EAGAIN",
                           f"accepted {doc['accepted']}, errno {doc['errno'] or 'none'}"))
            at_max, before, after = doc["at_max"], doc["before"], doc["after"]
            pins = lambda f: (f["read"], f["rw"])  # noqa: E731
            checks.append((f"{name} field exact while full and after release",
                           bool(at_max and before and after) and at_max[name] == field_max
                           and pins(after) == pins(before) == (0, 0),
                           f"before {before}, full {at_max}, after {after}"))
    else:
        held = doc["held"]
        if held and held["saturated"]:
            doc["outcome"] = f"saturated after {doc['refs_taken']} references"
        elif held:
            doc["outcome"] = f"counted {held['ordinary']} references, not saturated"
        else:
            doc["outcome"] = f"success: {doc['refs_taken']} references held, no limit reached"
        if kind == "split":
            pinned, after = doc["pinned_while_held"], doc["after"]
            checks.append(("ordinary field saturates instead of overflowing",
                           bool(held) and held["saturated"] and held["read"] == 0
                           and held["rw"] == 0, f"held {held}"))
            checks.append(("an R/W pin beside a saturated field counts exactly",
                           doc["rw_pin_while_held"] == 0 and bool(pinned) and pinned["rw"] == 1
                           and pinned["read"] == 0, f"pinned {pinned}"))
            checks.append(("pin fields exact after the release (the page stays saturated)",
                           bool(after) and after["read"] == 0 and after["rw"] == 0
                           and after["saturated"], f"after {after}"))
    return checks


# Each kernel is compared with both policies: the split kernel keeps PageAnonExclusive (the
# change only moves the pin count into fields), so anon-exclusive is what it should match; the
# split policy is the model of the split word without that bit (docs/kernel.md#results).
MODEL_POLICIES = ("anon-exclusive", "split")
RANDOM_SCRIPTS = 30


def run_model_checks(kernel):
    """The host backend's scenarios, random scripts and false-pin sweep inside the guest."""
    binary = pinsplit_binary()
    if not binary:
        return {"fidelity": {"skipped": "no build/release/cli/pinsplit: ./harness build "
                                        "release pinsplit"}}
    out = {"fidelity_by_policy": {}}
    for policy in MODEL_POLICIES:
        report = os.path.join(KBUILD, "runs", f"fidelity-{kernel.name}-{policy}.json")
        if os.path.exists(report):
            os.unlink(report)
        # Random scripts only against the kernel's own policy: the split policy's known
        # differences (below) would show up in them under many names.
        extra = ([f"--random={RANDOM_SCRIPTS}", "--seed=1", "--false_pin"]
                 if policy == "anon-exclusive" else [])
        result = kernel.run([binary, "host", "fidelity", f"--model={policy}", *extra,
                             f"--output={report}", os.path.join(ROOT, "scenarios", "mm")],
                            f"fidelity --model={policy}", timeout=900)
        try:
            with open(report) as f:
                doc = json.load(f)
        except (OSError, ValueError):
            doc = {"skipped": f"no report (exit {result.code}): {result.output[-800:]}"}
        doc["exit"] = result.code
        doc["policy"] = policy
        out["fidelity_by_policy"][policy] = doc
        log(f"{kernel.name}: against the {policy} model: {doc.get('summary')}")
    # The kernel's own policy is the headline; the other stays in fidelity_by_policy.
    out["fidelity"] = out["fidelity_by_policy"]["anon-exclusive"]
    out["false_pin"] = out["fidelity"].get("false_pin")
    return out


# Where the split kernel parts from the split policy, and why (docs/kernel.md#results): the
# kernel keeps PageAnonExclusive, so an R/O long-term pin unshares a shared page (the model's
# split policy records the pin without it) and a write fault on a non-exclusive page with an
# extra reference copies; and no mechanism on any host holds 16 READ pins of one page for the
# scenario that fills the field (its pins run through stand-ins).
EXPLAINED_SPLIT_MODEL_DIFFERENCES = {
    "ro_pin_previously_shared", "ro_pin_fast_previously_shared", "extra_reference_at_fault",
    "read_pin_field_full"}


def judge_model(kernel, entry):
    checks = []
    by_policy = entry.get("fidelity_by_policy")
    if not by_policy:
        return [(f"{kernel.name}: model checks ran", False, str(entry.get("fidelity")))]
    own = by_policy["anon-exclusive"]
    summary = own.get("summary") or {}
    checks.append((f"{kernel.name}: every scenario and random script agrees with the "
                   "anon-exclusive model", bool(summary) and summary.get("disagree") == 0
                   and summary.get("agree", 0) > 0, f"{summary or own.get('skipped')}"))
    split = by_policy["split"]
    differing = {os.path.basename(sc["scenario"]).removesuffix(".ops")
                 for sc in split.get("scenarios", []) if sc.get("agree") is False}
    checks.append((f"{kernel.name}: every difference from the split model is one "
                   "docs/kernel.md explains", bool(split.get("summary"))
                   and differing <= EXPLAINED_SPLIT_MODEL_DIFFERENCES,
                   f"unexplained: {sorted(differing - EXPLAINED_SPLIT_MODEL_DIFFERENCES)}"))
    sweep = own.get("false_pin") or {}
    threshold = sweep.get("host_copy_threshold")
    if kernel.kind == "split":
        checks.append(("split: fork never copies on references alone (false-pin sweep)",
                       bool(sweep) and threshold is None, f"threshold {threshold}"))
    else:
        checks.append(("stock: fork copies at about 1023 extra references (false-pin sweep)",
                       threshold is not None and 1000 <= threshold <= 1024,
                       f"threshold {threshold}"))
    return checks


def run_costs(kernels, pin_trial):
    rounds = {k.name: [] for k in kernels}
    for r in range(COST_ROUNDS):
        for k in kernels:  # alternating, so drift on the host hits both alike
            doc = guest_json(k, pin_trial, ["costs", "256", "7"], f"costs round {r + 1}")
            rounds[k.name].append(doc["costs"])
    costs = {}
    for name, docs in rounds.items():
        keys = [key for key in docs[0] if key.endswith("_us")]
        costs[name] = {key: statistics.median(d[key] for d in docs) for key in keys}
        costs[name]["rounds"] = docs
    return costs


def cached_findings(record):
    """findings.py over the split tree, once per source commit (it takes minutes)."""
    import findings
    import tree
    with open(findings.__file__, "rb") as f:
        tool = hashlib.sha256(f.read()).hexdigest()[:8]
    cache = os.path.join(KBUILD, f"findings-{record['source_commit'][:12]}-{tool}.json")
    if os.path.exists(cache):
        with open(cache) as f:
            return json.load(f)
    log("findings: unpin call sites, signed and raw readers of the refcount (a few minutes)")
    doc = findings.findings(tree.SPLIT_SRC)
    result_files.write_atomically(cache, doc)
    return doc


def run_trial(records, layout, args):
    """Runs the trial and writes its result; Ctrl-C keeps what was measured, marked
    "interrupted": true, and returns 130."""
    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.monotonic()
    doc = {"kind": "kernel", "run": run_info(started), "arch": "um", "layout": list(layout),
           "builds": records, "kernels": {}, "attacks": [], "checks": []}
    checks = []
    kernels = []
    interrupted = False
    try:
        measure(doc, checks, kernels, records, layout, args)
    except KeyboardInterrupt:
        interrupted = True
        log("interrupted: writing what was measured so far")
    left = leftovers(kernels)
    checks.append(("nothing left behind: no UML process, no memory file in /dev/shm",
                   not left, f"{left}"))
    doc["checks"] = [{"check": c, "ok": bool(ok), "detail": d} for c, ok, d in checks]
    doc["seconds"] = round(time.monotonic() - t0, 1)
    if interrupted:
        doc["interrupted"] = True
    out = args.out or os.path.join(result_files_root(), "kernel", f"{doc['run']['id']}.json")
    result_files.write_atomically(out, doc)
    failed = [c for c in doc["checks"] if not c["ok"]]
    for c in doc["checks"]:
        log(f"{'ok  ' if c['ok'] else 'FAIL'} {c['check']}" + ("" if c["ok"] else
                                                                 f": {c['detail']}"))
    log(f"trial written to {out} ({doc['seconds']:.0f} s, {len(failed)} failed checks"
        + (", interrupted)" if interrupted else ")"))
    return 130 if interrupted else 1 if failed else 0


def measure(doc, checks, kernels, records, layout, args):
    """The trial's steps, filling doc, checks and kernels as it goes."""
    bins, pin_trial = build_guest_programs()
    kernels += [Kernel(r, args.mem) for r in records]
    predicted = predicted_attacks(layout)
    for k in kernels:
        log(f"{k.name}: selftests")
        entry = {"selftests": run_selftests(k, bins)}
        doc["kernels"][k.name] = entry
        for name, st in entry["selftests"].items():
            checks.append((f"{k.name}: selftest {name} has no failures", st["fail"] == 0
                           and st["error"] == 0, f"failed: {st['failed'][:3]}"))
        log(f"{k.name}: model scenarios and false-pin sweep")
        entry.update(run_model_checks(k))
        checks += judge_model(k, entry)
        log(f"{k.name}: attacks")
        for attack in run_attacks(k, pin_trial, layout):
            checks += judge_attack(attack, layout, k.kind)
            row = predicted.get({"rw": "A1", "read": "A2b", "ordinary": "A3''"}[attack["attack"]])
            attack["predicted"] = row and {"attack": row["attack"], "units": row["units"],
                                           "syscalls": row["syscalls"]}
            doc["attacks"].append(attack)
    split_records = [r for r in records if r["kind"] == "split"]
    if split_records:
        doc["findings"] = cached_findings(split_records[0])
    if len(kernels) == 2 and not args.no_costs:
        log("costs, the kernels alternating")
        costs = run_costs(kernels, pin_trial)
        stock, split = (costs[k.name] for k in kernels)
        costs["ratio_split_over_stock"] = {key: round(split[key] / stock[key], 3)
                                           for key in stock if key.endswith("_us")}
        doc["costs"] = costs
    for k in kernels:
        # Saturation is the ordinary attack's expected end; anywhere else it is a finding.
        unexpected = [c for c in k.console if not (c["during"] == "attack ordinary" and any(
            e in c["line"] for e in EXPECTED_CONSOLE))]
        doc["kernels"][k.name]["console_warnings"] = k.console
        doc["kernels"][k.name]["boots"] = k.boots
        checks.append((f"{k.name}: no kernel warning the trial did not expect", not unexpected,
                       f"{unexpected[:3]}"))


def leftovers(kernels):
    """Processes of any session the trial's boots started, and UML memory files."""
    left = [f"pid {pid}" for k in kernels for sid in k.sessions
            for pid in uml.session_pids(sid)]
    left += [f"/dev/shm/{n}" for n in os.listdir("/dev/shm") if n.startswith("vm_file-")]
    return left


def result_files_root():
    return os.environ.get("PINSPLIT_RESULTS", os.path.join(ROOT, "results"))


def run_info(started):
    revision = os.environ.get("PINSPLIT_GIT_REVISION") or result_files.git_revision()
    stamp = started.strftime("%Y-%m-%dT%H-%M-%SZ")
    return {"id": f"{stamp}-{revision}", "started": started.isoformat(timespec="seconds"),
            "version": result_files.project_version(), "git_revision": revision,
            "host": os.uname().nodename, "cpus": os.cpu_count(),
            "compiler": gcc_version(), "flags": "ARCH=um SUBARCH=x86_64", "preset": "kernel"}


def gcc_version():
    try:
        out = subprocess.run(["gcc", "-dumpfullversion"], capture_output=True, text=True,
                             check=False).stdout.strip()
    except OSError:
        out = ""
    return f"gcc {out}" if out else "gcc"
