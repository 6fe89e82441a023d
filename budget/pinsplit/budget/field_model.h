// SPDX-License-Identifier: MIT
// The analytic model: each field of a layout as a loss system (erlang.h).
//
// A workload's classes add up per field: fixed holders k (count x multiplicity) and offered load
// a (rate x hold x multiplicity, Erlangs). A field of capacity c then refuses an arrival with
// probability B(c - k, a); refuses everything when k > c (a registration does not fit); never
// when a = 0 and k <= c. The ordinary field also carries the page's own reference (the owner:
// page cache or first mapping), so its k is one more than the workload declares, and its
// "refusal" is saturation: a SplitRefcount reference that finds kMaxRefs held saturates the word
// (sticky, a leak), so B there is the chance that an arriving reference saturates it.
//
// Bias (BiasRefcount): pins and references share one count; a pin is refused when the count
// would pass INT32_MAX, so the pin capacity is (INT32_MAX - refs) / 1024. "Maybe pinned" is
// count >= 1024; with no pin held that is a false positive, probability
// P(no pin held) x P(refs >= 1024), pins and references independent and never refused
// (infinite-server: P(no pin) = [k = 0] e^-a, refs = k + Poisson(a)).
//
// Finite sources (`sources N`, e.g. a queue depth or 8 sub-page buffers): a field that has them
// uses the product-form loss formula instead (erlang.h, Log10MixedLoss); N sources can never
// hold more than N pins, where Poisson arrivals would. P(no pin) for bias gains
// prod (1 + beta)^-N.
//
// Retry (the -EAGAIN path): a refused pin retries up to `retries` times after a back-off much
// longer than a hold, so each attempt sees an independent state; retries add load,
// a' = a (1 + B + ... + B^r) with B = B(n, a') (a fixed point), and the pin fails for good with
// probability B^(r+1). An approximation, exact in the limit of long back-offs: the simulation
// finds it within its 7% interval at 1000 holds, 8% optimistic at 100, and too optimistic for
// short ones (attempts then hit the same busy period: about 2x at 10 holds, a Poisson READ load
// of 1.6 on 2/2/28). The retry formula covers
// Poisson classes; a refused finite source goes idle and asks again later, which is its retry.
#pragma once

#include <optional>
#include <vector>

#include "pinsplit/budget/erlang.h"
#include "pinsplit/budget/layout_space.h"
#include "pinsplit/budget/workload.h"

namespace pinsplit::budget {

struct RetryPolicy {
  bool enabled = false;
  int retries = 3;
  double backoff_multiple = 100;  // mean back-off = this x the class's mean hold [estimate]
};

// What a workload asks of one kind of field.
struct FieldDemand {
  double fixed = 0;                       // k
  double load = 0;                        // a, Erlangs, of the Poisson classes
  double rate = 0;                        // Poisson arrivals per second
  std::vector<FiniteSourceClass> finite;  // finite-source (Engset) classes
};

struct WorkloadDemand {
  FieldDemand read, write, ordinary;  // ordinary.fixed includes the owner's reference
};

WorkloadDemand DemandOf(const Workload& workload);

// log10 of the probability that an arrival is (finally) refused by a field of `capacity`
// holding `demand`: 0 for certain, -infinity for never.
double Log10FieldRefusal(double capacity, const FieldDemand& demand, const RetryPolicy& retry);

struct LayoutResult {
  LayoutSpec layout;
  double read_refusal_log10 = 0;
  double write_refusal_log10 = 0;
  double ordinary_saturation_log10 = 0;
  std::optional<double> false_maybe_pinned_log10;  // bias only
  bool meets_target = false;  // both pin refusals and saturation at or below the target
};

LayoutResult Analyze(const WorkloadDemand& demand, const LayoutSpec& layout,
                     const RetryPolicy& retry, double target);

}  // namespace pinsplit::budget
