// SPDX-License-Identifier: MIT
// Runs a process-level op script on the mm model with the truth oracle watching, and compares
// policies on one script.
//
// Every operation is checked by its own `=>` assertion, by the oracle's read checks and by
// check_state() after it; when nothing is held at the end, check_quiescent() runs too. A script
// that asks for something the model refuses (a write to an unmapped address, say) is an input
// error, not a violation.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "pinsplit/mm/mm_model.h"
#include "pinsplit/mm/mm_script.h"
#include "pinsplit/mm/truth_oracle.h"

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

// One model and its oracle, fed one operation at a time: the replayer, the mm_ops fuzz target
// and its decoder all drive this, so a decoded input replays exactly as it ran.
class MmSession {
 public:
  // InvalidArgument for a bad policy/counter pair.
  static absl::StatusOr<std::unique_ptr<MmSession>> Create(const MmOptions& options,
                                                           std::ostream* trace = nullptr);
  ~MmSession();

  // Runs `op`, checks its assertion and the oracle's invariants; `got` receives its result
  // ("ok", a value read, "pinned", "full"). FailedPrecondition "line L: OP: why" when the model
  // refuses it; a refused operation changes nothing (but a refused pin's has_pinned mark, as
  // MmModel says).
  absl::Status Step(const MmOp& op, std::string* got = nullptr);
  // Step, but a refusal returns the model's own status, without the "line L: OP:" context: for
  // callers that drop refused operations (the mm_ops decoder), where formatting each refusal
  // would cost more than running the operation.
  absl::Status TryStep(const MmOp& op, std::string* got = nullptr);
  // Starts over on the same model (MmModel::reset()): the next Step runs exactly as on a new
  // session, without the cost of building one. For callers that run many short scripts.
  void Reset();
  // The quiescence check (when nothing is held any more) and the final tally.
  const MmReplayResult& Finish();
  const MmReplayResult& result() const { return result_; }
  // What a step left behind, for comparing the model with another replayer (host/fidelity).
  const MmModel& model() const { return *model_; }
  // The live process, or the held pin, a script name stands for; nullopt when there is none.
  std::optional<ProcessId> process_id(const std::string& name) const;
  std::optional<PinId> pin_id(const std::string& name) const;

 private:
  MmSession(std::unique_ptr<MmModel> model, std::string policy, std::ostream* trace);
  absl::Status Apply(const MmOp& op, std::string& got, std::vector<Violation>& violations);
  void Report(int line, const std::vector<Violation>& violations);
  absl::StatusOr<ProcessId> Process(const std::string& name) const;

  std::unique_ptr<MmModel> model_;
  TruthOracle oracle_;
  std::ostream* trace_;
  std::vector<std::string> events_;
  // Script names to model ids; hash maps, whose clear() keeps their tables for the next Reset run.
  absl::flat_hash_map<std::string, ProcessId> processes_;
  absl::flat_hash_map<std::string, PinId> pins_;
  absl::flat_hash_map<std::string, RefId> refs_;
  MmReplayResult result_;
  std::set<std::string> reported_;
  int last_line_ = 0;
};

// InvalidArgument for a bad policy/counter pair; FailedPrecondition "line L: ..." when the model
// refuses an operation.
absl::StatusOr<MmReplayResult> ReplayMmScript(const MmScript& script, const MmOptions& options,
                                              std::ostream* trace = nullptr);

// One row per policy (KnownPolicies() order), each on its default counter.
absl::StatusOr<std::vector<MmReplayResult>> ComparePolicies(const MmScript& script);

std::string FormatCompareTable(const std::vector<MmReplayResult>& rows);
// A `kind: "compare"` result (docs/results-format.md); `run_json` is its "run" object.
std::string FormatCompareJson(const std::vector<MmReplayResult>& rows, std::string_view scenario,
                              std::string_view run_json = "{}");

}  // namespace pinsplit::mm
