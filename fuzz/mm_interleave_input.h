// SPDX-License-Identifier: MIT
// The mm_interleave fuzz target's byte format, its readable script, its replay and its verdict.
//
// An input is a small concurrent program of process-level operations on the mm model
// (testing/mm_interleave.h: P maps addresses 0 and 1; logical threads pin, fork, unmap, write,
// unpin, exit) plus the schedule: who runs at each scheduling decision of the deterministic
// scheduler. Every byte string is valid (bytes past the end read as 0):
//   input  := POLICY FLAGS thread{N} PREF*
//   POLICY   % 2: 0 split, 1 anon-exclusive
//   FLAGS    & 1: prefork (P forks C before the race); N = 2 + (FLAGS >> 1) % 2 threads
//   thread := LEN OP{1 + LEN % 3}
//   OP       C = OP % 102. C < 42: kind = C % 7 (pin-read, pin-write, fork, unmap, write,
//            unpin, exit), process = C / 7 % 3 (p0 is P, p1 is C, p2 the first child forked in
//            the run), address = C / 21 % 2. C >= 42, D = C - 42: kind = D % 10 (protect-ro,
//            protect-rw, ref, drop, pin-slow-read, pin-slow-write, pin-short-read,
//            pin-short-write, read, read-pin), process = D / 10 % 3, address = D / 30 % 2
//   PREF     at most kMaxMmSchedule; PREF % N + 1 is the thread preferred at each decision
//
// The script (what `pinsplit decode --target=mm_interleave` prints, `pinsplit replay` runs):
//   mm-interleave POLICY VARIANT        VARIANT: correct or a broken build (mm_interleave.h)
//   prefork                             optional
//   thread 1: pin-write p0 0, unpin     operations separated by commas (docs/op-script.md)
//   thread 2: fork p0
//   schedule 1 1 2 2 1 ...              the thread taken at every decision of the run
// The decoder writes the choices the run actually took, so a replay is exact.
#pragma once

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mm_interleave.h"

namespace pinsplit {

inline constexpr std::size_t kMaxMmSchedule = 1024;

struct MmInterleaveInput {
  MmInterleaveProgram program;
  MmModelVariant variant = MmModelVariant::kCorrect;  // not in the bytes: the target's choice
  std::vector<int> schedule;                          // preferred (bytes) or taken (scripts)
};

MmInterleaveInput DecodeMmInterleave(std::string_view bytes);
std::string EncodeMmInterleave(const MmInterleaveInput& input);

bool LooksLikeMmInterleaveScript(std::string_view text);
// InvalidArgument with "line L, column C" for malformed text.
absl::StatusOr<MmInterleaveInput> ParseMmInterleaveScript(std::string_view text);
std::string FormatMmInterleaveScript(const MmInterleaveInput& input);

// Runs the input once; the verdict holds the choices taken.
absl::StatusOr<MmRunVerdict> RunMmInterleave(const MmInterleaveInput& input);

// Bytes -> script (run once, with the choices taken and the verdict as comments). `variant`
// empty: correct. `policy` non-empty overrides the input's.
absl::StatusOr<std::string> DecodeMmInterleaveText(std::string_view bytes,
                                                   const std::string& variant,
                                                   const std::string& policy);
absl::StatusOr<std::string> EncodeMmInterleaveText(std::string_view text);

// The fuzz target's decision: the decoded script with its violations, or nothing.
absl::StatusOr<std::optional<std::string>> MmInterleaveVerdict(std::string_view bytes,
                                                               const std::string& variant);

// `pinsplit replay` on an mm-interleave script: prints the run's verdict; true when clean.
absl::StatusOr<bool> ReplayMmInterleaveScript(std::string_view text, std::ostream* out);

}  // namespace pinsplit
