# SPDX-License-Identifier: GPL-2.0-only
"""What every part of the kernel trial shares: its directories, its error
type (bad input or an environment that cannot run the trial: exit 2), and
how it logs and runs commands."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "testing"))
import result_files  # noqa: E402,F401  (testing/result_files.py: version, atomic writes)
KBUILD = os.environ.get("PINSPLIT_KERNEL_BUILD", os.path.join(ROOT, "build", "kernel"))


# Coccinelle as every part runs it. The kernel's line limit is 100 columns
# (checkpatch's max_line_length); at spatch's default of 80 it wraps a
# replaced call with spaces, which checkpatch reports as CODE_INDENT.
SPATCH = ["spatch", "--very-quiet", "--max-width", "100"]


class TrialError(Exception):
    """The trial cannot go on: a missing tool, a boot that failed, bad input."""


def log(msg):
    print(f"[kernel] {msg}", file=sys.stderr, flush=True)


def run(cmd, cwd=None, capture=False, env=None):
    """Runs cmd; a failure becomes a TrialError that carries its output."""
    proc = subprocess.run(cmd, cwd=cwd, env=env, text=True,
                          capture_output=capture, check=False)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout or "").strip()[-2000:] if capture else ""
        raise TrialError(f"{' '.join(cmd[:4])}... exited {proc.returncode} in {cwd}\n{detail}")
    return proc.stdout if capture else ""
