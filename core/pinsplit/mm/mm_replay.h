// Runs a process-level op script on the mm model with the truth oracle watching, and compares
// policies on one script.
//
// Every operation is checked by its own `=>` assertion, by the oracle's read checks and by
// check_state() after it; when nothing is held at the end, check_quiescent() runs too. A script
// that asks for something the model refuses (a write to an unmapped address, say) is an input
// error, not a violation.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pinsplit/mm/mm_model.h"
#include "pinsplit/mm/mm_script.h"

namespace pinsplit::mm {

struct MmReplayResult {
  std::string policy;
  std::string counter;
  std::vector<std::string> violations;  // "line L: invariant: detail", in order
  std::vector<std::string> failures;    // `=>` assertions that did not hold
  std::vector<PageId> saturated_leaks;  // pages left at quiescence because they saturated
  MmStats stats;
  int steps = 0;
};

// InvalidArgument for a bad policy/counter pair; FailedPrecondition "line L: ..." when the model
// refuses an operation.
absl::StatusOr<MmReplayResult> ReplayMmScript(const MmScript& script, const MmOptions& options,
                                              std::ostream* trace = nullptr);

// One row per policy (KnownPolicies() order), each on its default counter.
absl::StatusOr<std::vector<MmReplayResult>> ComparePolicies(const MmScript& script);

std::string FormatCompareTable(const std::vector<MmReplayResult>& rows);
std::string FormatCompareJson(const std::vector<MmReplayResult>& rows, std::string_view scenario);

}  // namespace pinsplit::mm
