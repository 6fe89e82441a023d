# SPDX-License-Identifier: GPL-2.0-only
"""Configures and builds the trial's kernels, each in its own output
directory under build/kernel: stock from build/kernel/src, split (one per
layout) from build/kernel/split-src.

A build is skipped when its source commit and config are the ones the last
successful build recorded; otherwise make runs incrementally. Progress
(elapsed, compile steps done, steps/s, an estimate of what is left) goes to
stderr every few seconds; Ctrl-C stops make and keeps its log. Each build's
wall time is recorded in OUT/pinsplit-build.json and printed.
"""

import datetime
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time

import tree
from common import HERE, KBUILD, TrialError, log, run

ARCH = ["ARCH=um", "SUBARCH=x86_64"]
SEED_LAYOUT = (4, 4, 24)
STEP_LINE = re.compile(r"^\s+(CC|AS|LD|AR|GEN|HOSTCC|HOSTLD|CPP|OBJCOPY|UPD)\b")
# Compile steps of a full UML build of this tree, for the first estimate.
FULL_BUILD_STEPS = 1400


def parse_layout(text):
    """'R/W/O' with R + W + O == 32 and room for the saturation bits."""
    try:
        layout = tuple(int(x) for x in text.split("/"))
    except ValueError:
        layout = ()
    if len(layout) != 3 or sum(layout) != 32 or min(layout[:2]) < 1 or max(layout[:2]) > 12 \
            or layout[2] < 8:
        raise TrialError(f"--layout={text}: want READ/RW/ORDINARY bits, 1..12 pin bits each, "
                         "at least 8 ordinary, 32 in all (the seed's is 4/4/24)")
    return layout


def variant_name(kind, layout=SEED_LAYOUT):
    if kind == "stock" or layout == SEED_LAYOUT:
        return kind
    return f"split-{layout[0]}-{layout[1]}-{layout[2]}"


def out_dir(variant):
    return os.path.join(KBUILD, f"out-{variant}")


def kernel_binary(variant):
    return os.path.join(out_dir(variant), "linux")


def read_record(variant):
    try:
        with open(os.path.join(out_dir(variant), "pinsplit-build.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def config_fragment(kind, layout):
    with open(os.path.join(HERE, "config", "trial.config")) as f:
        text = f.read()
    if kind == "split":
        text += (f"CONFIG_PAGE_PIN_SPLIT=y\nCONFIG_PAGE_PIN_SPLIT_READ_BITS={layout[0]}\n"
                 f"CONFIG_PAGE_PIN_SPLIT_RW_BITS={layout[1]}\n")
    return text


def configure(src, out, fragment):
    os.makedirs(out, exist_ok=True)
    frag_path = os.path.join(out, "pinsplit.config")
    with open(frag_path, "w") as f:
        f.write(fragment)
    run(["make", "-s", *ARCH, f"O={out}", "defconfig"], cwd=src, capture=True)
    run(["scripts/kconfig/merge_config.sh", "-m", "-O", out, os.path.join(out, ".config"),
         frag_path], cwd=src, capture=True)
    run(["make", "-s", *ARCH, f"O={out}", "olddefconfig"], cwd=src, capture=True)
    with open(os.path.join(out, ".config")) as f:
        config = f.read()
    # merge_config only warns about a value it could not set; the trial needs them all.
    missing = [l for l in fragment.splitlines()
               if l.startswith("CONFIG_") and not l.endswith("=n") and l not in config]
    if missing:
        raise TrialError(f"{out}/.config lacks {', '.join(missing)}")


def run_make(src, out, target, expected_steps):
    """make with progress lines; returns (exit code, compile steps seen)."""
    log_path = os.path.join(out, "build.log")
    start = time.monotonic()
    steps = 0
    last = 0.0
    with open(log_path, "w") as logf:
        proc = subprocess.Popen(["make", *ARCH, f"O={out}", f"-j{os.cpu_count() or 2}", target],
                                cwd=src, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)
        try:
            for line in proc.stdout:
                logf.write(line)
                steps += bool(STEP_LINE.match(line))
                now = time.monotonic()
                if now - last >= 15:
                    last = now
                    elapsed = now - start
                    rate = steps / elapsed if elapsed else 0
                    left = max(expected_steps - steps, 0)
                    eta = f"~{left / rate / 60:.0f} min left" if rate and left else "finishing"
                    log(f"{os.path.basename(out)}: {elapsed / 60:.1f} min, {steps} steps "
                        f"({rate:.1f}/s), {eta}")
            return proc.wait(), steps
        except KeyboardInterrupt:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait()
            log(f"interrupted; make's output so far is in {log_path}")
            raise
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def build(kind, layout=SEED_LAYOUT, force=False):
    """Builds one kernel if its inputs changed; returns its build record."""
    variant = variant_name(kind, layout)
    if kind == "stock":
        tree.prepare_stock()
        src = tree.SRC
    else:
        tree.prepare_stock()
        tree.prepare_split()
        src = tree.SPLIT_SRC
    out = out_dir(variant)
    commit = run(["git", "rev-parse", "HEAD"], cwd=src, capture=True).strip()
    fragment = config_fragment(kind, layout)
    inputs = hashlib.sha256((commit + fragment).encode()).hexdigest()[:16]
    record = read_record(variant)
    if (not force and record and record.get("inputs") == inputs
            and os.path.exists(kernel_binary(variant))):
        log(f"{variant}: up to date (built {record['finished']} in {record['wall_s']:.0f} s)")
        return record
    log(f"{variant}: configuring {out}")
    configure(src, out, fragment)
    expected = (record or read_record("stock") or {}).get("steps", FULL_BUILD_STEPS)
    incremental = os.path.exists(os.path.join(out, "vmlinux.o"))
    log(f"{variant}: make linux ({'incremental' if incremental else 'full'} build)")
    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.monotonic()
    code, steps = run_make(src, out, "linux", expected)
    wall = time.monotonic() - t0
    if code != 0:
        raise TrialError(f"{variant}: make exited {code} after {wall:.0f} s; see "
                         f"{out}/build.log")
    previous = read_record(variant)
    record = {
        "variant": variant, "kind": kind, "layout": list(layout) if kind == "split" else None,
        "source_commit": commit, "inputs": inputs, "wall_s": round(wall, 1), "steps": steps,
        "incremental": incremental, "cpus": os.cpu_count(),
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    # The last full build's time outlives the incremental ones that follow it.
    record["full_build"] = (previous or {}).get("full_build") if incremental else {
        "wall_s": record["wall_s"], "steps": steps, "started": record["started"]}
    tmp = os.path.join(out, "pinsplit-build.json.tmp")
    with open(tmp, "w") as f:
        json.dump(record, f, indent=2)
    os.replace(tmp, os.path.join(out, "pinsplit-build.json"))
    log(f"{variant}: built in {wall / 60:.1f} min ({steps} steps)")
    return record


if __name__ == "__main__":
    sys.exit("use kernel/main.py")
