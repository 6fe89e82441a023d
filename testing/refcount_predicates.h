// SPDX-License-Identifier: MIT
// What a counter's predicates say at one instant, and what the sequential model says they
// must say, in one comparable text.
//
// The predicates are those every scheme exposes through AnyRefcount: is_pinned() (the kernel's
// page_maybe_dma_pinned: exact for split, an estimate for bias and plain), is_pinned_writable(),
// and the decoded state()'s dead, saturated and pin counts (pins(kind) for split, the estimate
// for bias). The model's answer is RefcountModel::predicates() (refcount_model.h), the one place
// each scheme's rule is written; the refcount_ops fuzz target checks the same rule through
// RefcountModel::predicate_differences().
// The interleave runner reads them after every operation (testing/interleave_replay.h) and the
// linearizability check requires each reading to match the model at its linearization point.
#pragma once

#include <string>

#include "absl/strings/str_format.h"
#include "pinsplit/any_refcount.h"
#include "refcount_model.h"

namespace pinsplit {

struct PredicateReading {
  bool pinned = false;    // is_pinned()
  bool writable = false;  // is_pinned_writable()
  RefcountState state;    // state(): dead, saturated, pin counts (compared, raw and refs aside)

  friend bool operator==(const PredicateReading& a, const PredicateReading& b) {
    return a.pinned == b.pinned && a.writable == b.writable && a.state.dead == b.state.dead &&
           a.state.saturated == b.state.saturated && a.state.read_pins == b.state.read_pins &&
           a.state.write_pins == b.state.write_pins && a.state.pins == b.state.pins;
  }
};

inline std::string Format(const PredicateReading& r) {
  return absl::StrFormat("pinned=%s writable=%s dead=%s saturated=%s read=%u write=%u pins=%u",
                         r.pinned ? "yes" : "no", r.writable ? "yes" : "no",
                         r.state.dead ? "yes" : "no", r.state.saturated ? "yes" : "no",
                         r.state.read_pins, r.state.write_pins, r.state.pins);
}

// The counter's own predicates. Each is one load; callers that need one instant read them
// without a scheduling point between (DeterministicScheduler::Unscheduled).
inline PredicateReading ReadPredicates(const AnyRefcount& counter) {
  PredicateReading r;
  r.pinned = counter.is_pinned();
  r.writable = counter.is_pinned_writable();
  r.state = counter.state();
  return r;
}

// What the model says the predicates of its counter must read (the model is the counter's own:
// ModelFor, so its scheme's rule applies).
inline PredicateReading ModelPredicates(const RefcountModel& model) {
  const RefcountModel::Predicates p = model.predicates();
  PredicateReading r;
  r.pinned = p.is_pinned;
  r.writable = p.is_pinned_writable;
  r.state = model.state();
  return r;
}

}  // namespace pinsplit
