#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""pinsplit's kernel trial: `./harness kernel --help`.

Exit status: 0 the trial ran and every check held, 1 a check found a
violation, 2 bad input or an environment that cannot run it (the message
says which).
"""

import argparse
import os
import sys

import build
from common import TrialError, log, result_files


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="harness kernel", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Builds Linux 6.12 as user-mode Linux twice from one tree, stock and with\n"
                    "the split page refcount, and runs the trial in both (docs/kernel.md).",
        epilog="Exit status: 0 every check held, 1 a check failed, 2 bad input or a kernel\n"
               "that cannot be built or booted, 77 (--skip-unbuilt) no kernels.")
    p.add_argument("--layout", default="4/4/24",
                   help="the split kernel's READ/RW/ORDINARY bits (default: the seed's 4/4/24)")
    p.add_argument("--only", choices=["stock", "split"], help="build or use only this kernel")
    p.add_argument("--build-only", action="store_true", help="build the kernels, run no trial")
    p.add_argument("--force-build", action="store_true", help="run make even when up to date")
    p.add_argument("--boot", nargs=argparse.REMAINDER, metavar="CMD",
                   help="run CMD inside the kernel (--only, default split) and exit with its "
                        "status")
    p.add_argument("--timeout", type=int, default=600, help="seconds a boot may take")
    p.add_argument("--mem", default="1G", help="the guest's memory (UML mem=)")
    p.add_argument("--out", help="the result file (default results/kernel/RUN.json)")
    p.add_argument("--no-costs", action="store_true",
                   help="skip the cost measurements (the checks alone, as CTest runs them)")
    p.add_argument("--skip-unbuilt", action="store_true",
                   help="never build: without built kernels say 'skipped:' and exit 77")
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    try:
        layout = build.parse_layout(args.layout)
        kinds = [args.only] if args.only else ["stock", "split"]
        if args.boot is not None:
            import uml
            kind = args.only or "split"
            variant = build.variant_name(kind, layout)
            if not args.boot:
                raise TrialError("--boot needs a command")
            result = uml.boot(build.kernel_binary(variant), args.boot, timeout=args.timeout,
                              mem=args.mem)
            sys.stdout.write(result.output)
            return result.code
        if args.out and not args.build_only:
            # Before the builds and the boots, not after them.
            result_files.check_output_path(args.out)
        if args.skip_unbuilt:
            records = [build.read_record(build.variant_name(k, layout)) for k in kinds]
            if not all(records) or not all(os.path.exists(build.kernel_binary(r["variant"]))
                                           for r in records):
                print("skipped: the trial kernels are not built; ./harness kernel --build-only "
                      "builds them (8 minutes on 2 idle CPUs, docs/kernel.md)")
                return 77
        else:
            records = [build.build(k, layout, force=args.force_build) for k in kinds]
        if args.build_only:
            return 0
        import trial
        return trial.run_trial(records, layout, args)
    except (TrialError, result_files.OutputError) as e:
        print(f"harness kernel: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        log("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
