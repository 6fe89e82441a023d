// SPDX-License-Identifier: MIT
// Fidelity: one op script replayed on the kernel (HostSession) and on the mm model (MmSession,
// the anon-exclusive policy by default) side by side, step by step.
//
// After each step both sides must agree on
//   - the result (a value read by a process or through a pin, `pinned`);
//   - the copy decisions the step made: copies at fork, copies at fault, unshares;
//   - the page facts of every live process: which addresses are mapped, each page's mapcount
//     and anon-exclusive flag, and which mappings and pins share a page (model page ids and
//     kernel PFNs are matched as a partition, never compared as numbers);
//   - and the kernel must show no PFN change the step does not explain.
// At the end: the totals of the three counters and the verdict (an `=>` that failed, a
// violation). Faults are recorded but not compared: the model faults on the first write after
// `protect rw`, the kernel's mprotect upgrades an exclusive page at once (known difference,
// anon_exclusive_policy.h). A run that parts only by an extra copy on the kernel is rerun (up to
// twice): transient references (another CPU's LRU batch) make the kernel copy now and then
// where page_count() would otherwise be 1; a rerun that agrees is reported as such, never
// silently. A scenario the host cannot run (a pin with no mechanism and
// stand-ins off) is skipped with the reason; a script the model refuses is an input error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "host_session.h"

namespace pinsplit::host {

struct FidelityDifference {
  int line = 0;
  std::string op;
  std::string what;  // "result", "copy decisions", "page facts", "final accounting", ...
  std::string model;
  std::string host;
  bool host_copied_more = false;  // a copy decision where the kernel copied and the model did not
};

struct ScenarioFidelity {
  std::string scenario;
  bool agree = false;
  std::optional<std::string> skipped;
  std::vector<std::string> stand_ins;
  std::optional<FidelityDifference> first_difference;
  // A run that parted only because the kernel made a copy the model did not, and whose rerun
  // agreed: the known transient-reference difference (anon_exclusive_policy.h). The scenario
  // counts as agreeing (the rerun's result); this keeps what the first run saw.
  std::optional<FidelityDifference> transient_difference;
  int runs = 1;
  int steps = 0;
  int differing_steps = 0;
  std::string model_counts;  // "fork 1 fault 0 unshare 0"
  std::string host_counts;
};

struct FidelityOptions {
  HostOptions host;
  std::string model_policy = "anon-exclusive";
  std::ostream* trace = nullptr;  // both sides' steps, when given
};

// InvalidArgument for a script that does not parse or that the model refuses (input errors);
// Cancelled when a stop was requested; other host failures become a difference or a skip.
absl::StatusOr<ScenarioFidelity> CompareOnHost(const std::string& scenario, const std::string& text,
                                               const FidelityOptions& options);

}  // namespace pinsplit::host
