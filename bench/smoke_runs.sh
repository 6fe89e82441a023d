#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two tiny real benchmark runs with repetitions, each turned into a kind:bench result file, for
# the dashboard's browser test (bench/CMakeLists.txt). Fails if the benchmark binary or the
# post-processor fails, or if a result file lacks a ratio or a measured target.
#
#   smoke_runs.sh PINSPLIT_BENCH OUT_DIR      writes OUT_DIR/runs/*.json
set -euo pipefail
bench=$1
out=$2
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

rm -rf "$out/runs" "$out/raw"
mkdir -p "$out/runs" "$out/raw"
for run in 1 2; do
  # Enough benchmarks to measure every target, at 1 and 2 threads, 3 repetitions each.
  "$bench" --max_threads=2 --benchmark_min_time=0.01 --benchmark_repetitions=3 \
    --benchmark_filter='^BM_(GetPut|PinUnpinRead|PinUnpinWrite)/(plain|split|split_8_8_16|cas_split|raw_fetch_add|raw_cas_loop)/' \
    --benchmark_out="$out/raw/run-$run.json" --benchmark_out_format=json >/dev/null
  python3 "$here/report.py" "$out/raw/run-$run.json" --output-dir "$out/runs" \
    --git-revision "smoke-$run"
done

python3 - "$out/runs" <<'EOF'
import json, pathlib, sys
files = sorted(pathlib.Path(sys.argv[1]).glob("*.json"))
assert len(files) == 2, f"expected 2 result files, found {files}"
for f in files:
    doc = json.loads(f.read_text())
    assert doc["kind"] == "bench", f
    missing = [r["benchmark"] for r in doc["ratios"] if r["ratio_to_plain"] is None]
    assert not missing, f"{f}: no ratio for {missing}"
    unmeasured = [t["name"] for t in doc["targets"] if t["measured"] is None]
    assert not unmeasured, f"{f}: targets not measured: {unmeasured}"
print(f"{len(files)} bench result files with every ratio and target")
EOF
