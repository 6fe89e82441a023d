// SPDX-License-Identifier: MIT
// The mm_ops fuzz target's byte format, and its translation to and from process-level scripts.
//
//   input := op*                               at most kMaxMmOps ops; missing bytes read as 0
//   op    := CODE a b c                        four bytes each; CODE % 13 picks:
//     0 spawn                  1 map P A          2 write P A        3 read P A
//     4 fork P                 5 pin P A F        6 pin io H F       7 unpin H
//     8 ref P A                9 drop R           10 protect P A F   11 unmap P A
//     12 exit P
//   (P, H, R come from byte a; A from byte b; F from byte c, or from b for pin io.)
//   P: a live process, by index (% how many are live, in creation order); H, R: a live pin or
//   extra reference likewise; A: an address, % kMmFuzzAddresses; F: flags — pin: bit 0 write,
//   bit 1 long-term, bit 2 GUP-fast; pin io: bit 0 write (through a write pin); protect: bit 0 rw.
//   Every write stores its line number in the decoded script, so every value names its step.
//
// Decoding runs the ops on an MmSession (model + truth oracle) and keeps only those the model
// accepts (an op on nothing, or one it refuses, is dropped), so the decoded script replays
// step for step to the same verdict. Encoding maps a script's names back to indices.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "pinsplit/mm/mm_replay.h"

namespace pinsplit {

inline constexpr std::size_t kMaxMmOps = 96;
inline constexpr mm::Addr kMmFuzzAddresses = 4;
// The model a decode runs on: at most this many live processes, and live pins (and extra
// references) each. Encoding refuses a script past them rather than silently losing its tail.
inline constexpr std::uint32_t kMmFuzzProcesses = 16;
inline constexpr std::uint32_t kMmFuzzHandles = 256;

struct MmOpsRun {
  mm::MmScript script;        // the operations that ran
  mm::MmReplayResult result;  // what the oracle found
};

// Runs `bytes` under `policy`. InvalidArgument for an unknown policy.
absl::StatusOr<MmOpsRun> RunMmOps(std::string_view bytes, const std::string& policy);
// The same into `run`, whose storage is reused: for the fuzz target's loop.
absl::Status RunMmOps(std::string_view bytes, const std::string& policy, MmOpsRun& run);

// The script of a run, with the command that replays it and the violations found as comments.
// A run with violations also gets a `# crash: expected ...` or `# crash: unexpected ...` line
// (UnexpectedViolationKinds), which run_fuzz.py reads to classify the crash.
std::string FormatMmOpsRun(const MmOpsRun& run, const std::string& policy);

// The invariant of one violation line as the oracle's replayer reports it ("line N: KIND: ..."),
// empty when the line has no such shape.
std::string ViolationKind(std::string_view violation);
// The kinds among `violations` that `policy` is not known to break (its header's
// Policy::known_violations), each once, in order of appearance: empty means every violation is a
// known bug of the policy. A violation whose kind cannot be read counts as unexpected.
std::vector<std::string> UnexpectedViolationKinds(const std::vector<std::string>& violations,
                                                  const std::string& policy);

// A process-level script -> canonical bytes. InvalidArgument for what the format cannot say
// (an address past kMmFuzzAddresses, a name used before it is defined, more than kMaxMmOps
// operations, more than kMmFuzzProcesses live processes or kMmFuzzHandles live pins or
// references): each a limit of the format, named in the message.
absl::StatusOr<std::string> EncodeMmOps(std::string_view script_text);

}  // namespace pinsplit
