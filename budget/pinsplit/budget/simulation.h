// SPDX-License-Identifier: MIT
// Discrete-event simulation of one page's holders, driving a real counter word.
//
// Fixed holders take their pins and references at time 0 and keep them. Transient classes arrive
// as Poisson processes, or source by source for a finite-source class (each idle source asks at
// its rate; a refused one goes back to idle), and hold for a time drawn from their hold
// distribution. Every pin is a
// try_pin() on the word (kFull counted as a refusal), every release an unpin() or put(); an
// ordinary reference is a try_get(), and one that finds the field full (split: the word
// saturates; bias: kFull) is counted as a saturation, and the word is put back where it was, as
// if that reference had been refused, so the run goes on. After every event the word is checked
// against the simulation's own tally; a difference is an error, not a statistic.
//
// With retry, a refused pin of a Poisson class tries again after an exponential back-off (mean: a
// multiple of its class's mean hold) up to `retries` times; the refusal counted is the final one.
//
// Estimates come with a confidence interval: batch means over `batches` equal slices of the
// measured time (after a warm-up of ten of the longest mean holds; the window is sized for about
// `arrivals` attempts at the rate the warm-up saw), Student t at 99.9%, widened
// by ln(1000)/N (the 99.9% bound on a probability when none of N attempts was refused). The
// simulation and the formula agree when the formula's value lies inside the interval.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "pinsplit/budget/field_model.h"
#include "pinsplit/budget/layout_space.h"
#include "pinsplit/budget/workload.h"

namespace pinsplit::budget {

struct SimOptions {
  // Checked every 65536 events; once true the run returns Cancelled (Ctrl-C in the CLI).
  const std::atomic<bool>* stop = nullptr;
  std::uint64_t seed = 1;
  std::uint64_t arrivals = 100000;  // transient arrivals in the measured window, roughly
  int batches = 20;
  RetryPolicy retry;
};

struct SimEstimate {
  double p = 0;
  double half_width = 0;
  std::uint64_t attempts = 0;
  std::uint64_t refused = 0;

  double low() const { return p - half_width < 0 ? 0 : p - half_width; }
  double high() const { return p + half_width > 1 ? 1 : p + half_width; }
  // The analytic value (log10) lies inside the interval.
  bool Contains(double log10_p) const;
};

struct SimResult {
  LayoutSpec layout;
  SimEstimate read, write, ordinary;
  std::optional<SimEstimate> false_maybe_pinned;  // bias only (time average)
  std::uint64_t events = 0;
  std::uint64_t seed = 0;  // the seed this run used (derived from the options' seed)
};

// Runs the simulation for one layout of the compiled-in sample (SimulatedLayouts) or bias.
// InvalidArgument for a layout outside the sample; Internal when the word and the tally differ;
// Cancelled when options.stop became true.
absl::StatusOr<SimResult> Simulate(const Workload& workload, const LayoutSpec& layout,
                                   const SimOptions& options);

// Whether the simulation agrees with the formula on every field it measured.
bool Agrees(const SimResult& sim, const struct LayoutResult& analytic);

}  // namespace pinsplit::budget
