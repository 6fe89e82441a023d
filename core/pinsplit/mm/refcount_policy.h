// SPDX-License-Identifier: MIT
// RefcountPolicy: Linux 5.8 to 5.18.
//
// Rules: a write fault reuses the page only when its page_count() is 1 (the faulting mapping's
// own reference and nothing else); any other reference, a pin, a second mapping or an LRU or
// swap-cache reference, forces a copy. Fork copies a page now when the mm has ever pinned and
// the counter says the page is maybe pinned (BiasRefcount: count >= 1024); otherwise it shares.
// GUP never unshares; a write pin breaks COW through the fault rule.
//
// What it gets right: the vmsplice leak is gone (the pin's reference stops reuse).
// What it gets wrong: a pin on a page that later takes a write fault in the pinning process is
// left behind by the copy, so a long-term pin silently loses coherence: a read pin taken on a
// page shared after fork, or any pin followed by mprotect(read-only) and back. Every extra
// reference costs a copy, and 1024 ordinary references look pinned (copies at fork).
//
// Known bug class, as the truth oracle names it: "long-term pin coherence" alone. Reuse needs
// page_count() == 1, so no page anyone else holds is ever written in place or marked exclusive:
// any "isolation" or "anon-exclusive" here would be a new bug.
#pragma once

#include "pinsplit/mm/policy.h"
#include "pinsplit/mm/violation_kind.h"

namespace pinsplit::mm {

// The truth oracle's invariants this policy breaks, all through the bugs above (the fuzz
// verdict counts a crash of any other kind as unexpected).
inline constexpr std::string_view kRefcountKnownViolations[] = {violation_kind::kLongtermCoherence};

class RefcountPolicy final : public Policy {
 public:
  std::string_view name() const override { return "refcount"; }
  std::string_view default_counter() const override { return "bias"; }
  ForkDecision on_fork(const PageFacts& page) const override {
    return page.mm_has_pinned() && page.maybe_pinned() ? ForkDecision::kCopy : ForkDecision::kShare;
  }
  FaultDecision on_write_fault(const PageFacts& page) const override {
    return page.page_count() == 1 ? FaultDecision::kReuse : FaultDecision::kCopy;
  }
  ReadPinPrep before_read_pin(const PageFacts&) const override { return ReadPinPrep::kNone; }
  bool fast_pin_allowed(const PageFacts&, PinKind) const override { return true; }
  std::span<const std::string_view> known_violations() const override {
    return kRefcountKnownViolations;
  }
};

}  // namespace pinsplit::mm
