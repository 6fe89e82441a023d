// SPDX-License-Identifier: MIT
#include "fuzz_verdict.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "deterministic_refcounts.h"
#include "fuzz_input.h"
#include "interleave_replay.h"
#include "mm_ops_input.h"

namespace pinsplit {

std::optional<std::string> RefcountOpsVerdict(std::string_view bytes) {
  const std::vector<CounterOp> ops = DecodeRefcountOps(bytes);
  for (const std::string& name : CorrectRefcountNames()) {
    const RefcountOpsOutcome outcome = RunRefcountOps(ops, name, false);
    if (!outcome.difference) continue;
    DecodeOptions options;
    options.impl = name;
    const absl::StatusOr<std::string> script = DecodeFuzzInput("refcount_ops", bytes, options);
    return absl::StrCat("refcount_ops: ", name, " differs from the model: ", *outcome.difference,
                        "\n--- decoded ---\n", script.ok() ? *script : "(decode failed)", "\n");
  }
  return std::nullopt;
}

std::optional<std::string> InterleaveVerdict(std::string_view bytes, const std::string& counter) {
  InterleaveInput input = DecodeInterleave(bytes);
  const std::string& impl = counter.empty() ? InterleaveCounters()[input.counter_index] : counter;
  auto runner = InterleaveRunner::Create(std::move(input.script), impl);
  if (!runner.ok()) return std::nullopt;  // a `set` this counter cannot hold: no concurrency
  PreferenceChooser chooser((*runner)->script().schedule);
  thread_local InterleaveRun run;  // its storage serves every input of the thread
  (*runner)->Run(chooser, run);
  if (run.failures.empty()) return std::nullopt;
  DecodeOptions options;
  options.impl = impl;
  const absl::StatusOr<std::string> script = DecodeFuzzInput("interleave", bytes, options);
  return absl::StrCat("interleave: NOT linearizable on ", impl, "\n",
                      FormatInterleaveRun((*runner)->script(), run), "--- decoded ---\n",
                      script.ok() ? *script : "(decode failed)", "\n");
}

absl::StatusOr<std::optional<std::string>> MmOpsVerdict(std::string_view bytes,
                                                        const std::string& policy) {
  thread_local MmOpsRun run;  // its storage serves every input of the thread
  if (absl::Status s = RunMmOps(bytes, policy, run); !s.ok()) return s;
  if (run.result.violations.empty()) return std::nullopt;
  const bool known = UnexpectedViolationKinds(run.result.violations, policy).empty();
  return absl::StrCat("mm_ops: oracle violation under policy ", policy,
                      known ? " (a known bug class of the policy)" : " (UNEXPECTED kind)",
                      "\n--- decoded ---\n", FormatMmOpsRun(run, policy));
}

}  // namespace pinsplit
