// What a counter's predicates say at one instant, and what the sequential model says they
// must say, in one comparable text.
//
// The predicates are those every scheme exposes through AnyRefcount: is_pinned() (the kernel's
// page_maybe_dma_pinned: exact for split, an estimate for bias and plain), is_pinned_writable(),
// and the decoded state()'s dead, saturated and pin counts (pins(kind) for split, the estimate
// for bias). The model's answer follows each scheme's documented rule (Capabilities::pin_weight
// tells the schemes apart):
//   split  pinned: a read or write pin is held;  writable: a write pin is held
//   bias   pinned = writable: the count is in [1024, INT32_MAX] (at least one bias)
//   plain  pinned = writable: the count is not zero (every holder may be a pin)
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

// What the model says the predicates of a counter with `caps` must read.
inline PredicateReading ModelPredicates(const RefcountModel& model, const Capabilities& caps) {
  PredicateReading r;
  r.state = model.state();
  const RefcountState& s = r.state;
  if (caps.pin_weight == 0) {  // split: a field per pin kind
    r.pinned = s.read_pins + s.write_pins > 0;
    r.writable = s.write_pins > 0;
  } else if (caps.pin_weight > 1) {  // bias: pins are the count's high part
    r.pinned = r.writable = s.pins > 0;
  } else {  // plain: any holder may be a pin
    r.pinned = r.writable = !s.dead;
  }
  return r;
}

}  // namespace pinsplit
