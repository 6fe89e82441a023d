// SPDX-License-Identifier: MIT
// The verdict on one fuzz input, decided exactly as its libFuzzer target decides it: each fuzz
// target (refcount_ops, interleave, mm_ops) prints a non-empty verdict and crashes, and the
// harness benchmark (bench/harness_benchmark.cc) times these same functions, so what is
// measured is what is fuzzed.
//
// A verdict is the report the target prints: what went wrong and the decoded script that
// replays it (docs/op-script.md). Sequential: each call runs its input to the end on its own
// thread (interleave's logical threads are joined before it returns).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace pinsplit {

// refcount_ops: the input's operations on every correct counter beside the sequential model.
std::optional<std::string> RefcountOpsVerdict(std::string_view bytes);

// interleave: the input's threads and schedule on the counter it picks (or on `counter` when
// not empty), judged for linearizability.
std::optional<std::string> InterleaveVerdict(std::string_view bytes, const std::string& counter);

// mm_ops: the input's processes under `policy`, judged by the truth oracle. InvalidArgument for
// an unknown policy (every input would be meaningless). Every violation makes a verdict; it says
// whether each violation's kind is one of the policy's known bug classes (its header's
// known_violations; mm_ops_input.h UnexpectedViolationKinds), and so does its decoded script.
absl::StatusOr<std::optional<std::string>> MmOpsVerdict(std::string_view bytes,
                                                        const std::string& policy);

}  // namespace pinsplit
