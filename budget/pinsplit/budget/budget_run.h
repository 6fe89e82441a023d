// SPDX-License-Identifier: MIT
// One bit-budget run: every selected workload against every selected layout, analytically; the
// compiled-in sample also by simulation; the attacker's price per layout; and the verdict.
//
// Verdict:
//   meeting  the layouts whose READ and R/W refusal and ordinary saturation are at or below the
//            target for every selected workload (bias's false "maybe pinned" is reported, not
//            judged: the kernel accepts false positives by design);
//   pareto   the split layouts no other split beats on both axes of the trade-off: risk (the
//            worst log10 refusal or saturation over fields and workloads, lower is better) and
//            price (the cheapest unmitigated attack's memlock + kernel bytes to fill any field,
//            higher is better); bias is the reference, not a point on it;
//   seed     where 4/4/24 stands (it is always analysed, selected or not).
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "pinsplit/budget/attack_cost.h"
#include "pinsplit/budget/field_model.h"
#include "pinsplit/budget/simulation.h"
#include "pinsplit/budget/workload.h"

namespace pinsplit::budget {

struct BudgetOptions {
  std::vector<Workload> workloads;
  std::vector<LayoutSpec> layouts;  // analysed; empty means AllLayouts()
  double target = 1e-6;
  bool simulate = true;  // the sample (SimulatedLayoutSpecs) that is among `layouts`
  SimOptions sim;        // sim.retry is the run's retry policy
};

struct WorkloadReport {
  Workload workload;
  std::vector<LayoutResult> analytic;  // one per layout, in the options' order
  std::vector<SimResult> simulated;    // the sample's layouts among them
  std::vector<bool> agrees;            // per simulated layout: formula inside the interval
};

struct Verdict {
  std::vector<std::string> meeting;
  std::vector<std::string> pareto;
  bool seed_meets = false;
  std::vector<std::string> seed_failing;
};

struct BudgetReport {
  double target = 0;
  RetryPolicy retry;
  std::uint64_t seed = 0;
  std::vector<LayoutSpec> layouts;
  std::vector<WorkloadReport> workloads;
  std::vector<AttackCost> attacks;
  Verdict verdict;
  double analytic_seconds = 0, simulation_seconds = 0, total_seconds = 0;
  // options.sim.stop was raised: the workloads finished before it are reported, the rest not.
  bool interrupted = false;
  std::uint64_t simulation_events = 0;
};

// Runs everything; progress lines (one per workload) go to `progress` when it is not null.
// Internal when a simulation finds its word disagreeing with its tally. When options.sim.stop
// is raised the report holds the workloads finished so far and says `interrupted`.
absl::StatusOr<BudgetReport> RunBudget(const BudgetOptions& options, std::ostream* progress);

// Human-readable: a table per workload over `shown` layouts (the sample, bias and the Pareto
// frontier when empty), the attack prices, the verdict and the timing.
std::string FormatBudgetText(const BudgetReport& report, const std::vector<LayoutSpec>& shown);

// kind "budget" (docs/results-format.md); `run` is the run object's JSON.
std::string FormatBudgetJson(const BudgetReport& report, const std::string& run);

}  // namespace pinsplit::budget
