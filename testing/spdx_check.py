#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every source, script and build file carries an SPDX license line in its first three lines:
`SPDX-License-Identifier: MIT` for the harness (LICENSE), any SPDX line under kernel/ (the
kernel change is GPL-2.0-only; kernel/ says so). Data files (op scripts, workloads, corpora,
JSON, Markdown) are left without one: a comment could change what they mean, and LICENSE covers
them.

Files are the ones git knows (tracked, or new and not ignored), so a file is checked before it
is committed. Exit status: 0 all carry one, 1 some do not (listed), 2 not a git checkout.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = re.compile(r"\.(cc|h|inc|c|mjs|js|py|sh|cmake|yml|yaml|cocci)$|\.(cc|cmake)\.in$|"
                  r"(^|/)(CMakeLists\.txt|harness|\.ci/run|Dockerfile)$")
SPDX = re.compile(r"SPDX-License-Identifier: (\S+)")


def files() -> list[str]:
    out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "--cached", "--others",
                          "--exclude-standard"], capture_output=True, text=True, check=True)
    return sorted(set(out.stdout.split()))


def main() -> int:
    try:
        names = files()
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"spdx_check.py: error: cannot list the checkout's files: {e}", file=sys.stderr)
        return 2
    missing = []
    checked = 0
    for name in names:
        path = ROOT / name
        if not CODE.search(name) or not path.is_file():
            continue
        checked += 1
        with path.open(encoding="utf-8", errors="replace") as f:
            head = "".join(f.readline() for _ in range(3))
        match = SPDX.search(head)
        if name.startswith("kernel/"):
            if not match:
                missing.append(f"{name}: no SPDX-License-Identifier line")
        elif not match or match.group(1) != "MIT":
            missing.append(f"{name}: " + (f"SPDX says {match.group(1)}, the harness is MIT"
                                          if match else "no SPDX-License-Identifier line"))
    for line in missing:
        print(line)
    print(f"{checked} files checked, {len(missing)} without the right SPDX line")
    return 1 if missing or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
