#!/bin/bash -eu
# SPDX-License-Identifier: MIT
# Builds pinsplit's fuzz targets the OSS-Fuzz / ClusterFuzzLite way.
#
# Reads  $CC $CXX $CFLAGS $CXXFLAGS   compilers and flags (sanitizers, -fsanitize=fuzzer-no-link)
#        $LIB_FUZZING_ENGINE          how to link the engine (-fsanitize=fuzzer, or a library)
#        $OUT                         where the targets go
#        $WORK (optional)             scratch space for the CMake build (default /tmp)
# Writes $OUT/<target>, $OUT/<target>.options, $OUT/<target>.dict and
#        $OUT/<target>_seed_corpus.zip for every target in fuzz/CMakeLists.txt.
#
# By hand, from a checkout:
#   CC=clang-14 CXX=clang++-14 CFLAGS="-fsanitize=address,fuzzer-no-link" \
#   CXXFLAGS="-fsanitize=address,fuzzer-no-link" LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
#   OUT=/tmp/out fuzz/build.sh
SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${WORK:-/tmp}/pinsplit-fuzz-build"
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
mkdir -p "$OUT"

cmake -S "$SRC_DIR" -B "$BUILD" -G Ninja \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="${CFLAGS:-}" -DCMAKE_CXX_FLAGS="${CXXFLAGS:-}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPINSPLIT_SANITIZER=oss-fuzz \
  -DPINSPLIT_FUZZ_ENGINE="$LIB_FUZZING_ENGINE" >/dev/null

mapfile -t targets < <(grep -v '^$' "$BUILD/fuzz/fuzz_targets.txt")
build_targets=()
for t in "${targets[@]}"; do build_targets+=("$t" "${t}_seed_corpus"); done
cmake --build "$BUILD" -j "$JOBS" --target "${build_targets[@]}"

for t in "${targets[@]}"; do
  cp "$BUILD/fuzz/$t" "$OUT/$t"
  for ext in options dict; do
    if [[ -f "$SRC_DIR/fuzz/$t.$ext" ]]; then cp "$SRC_DIR/fuzz/$t.$ext" "$OUT/$t.$ext"; fi
  done
  rm -f "$OUT/${t}_seed_corpus.zip"
  if compgen -G "$BUILD/fuzz/corpus/$t/*" >/dev/null; then
    # python3's zipfile: base-builder images have python3, not always zip.
    (cd "$BUILD/fuzz/corpus/$t" && python3 -m zipfile -c "$OUT/${t}_seed_corpus.zip" ./*)
    echo "built $OUT/$t with $(ls "$BUILD/fuzz/corpus/$t" | wc -l) seeds"
  else
    echo "built $OUT/$t (no seed corpus: fuzz/corpus/$t/*.ops is empty)"
  fi
done
