// AnonExclusivePolicy: Linux 5.19 on (PageAnonExclusive).
//
// Rules: a fresh, copied or reused anonymous page is exclusive. Fork shares a page and clears
// its flag, except that it must copy an exclusive page that may be pinned (mm has pinned and the
// counter says maybe pinned). A write fault reuses an exclusive page without looking at counts;
// a shared page is reused (and marked exclusive) only when its page_count() is 1, else copied.
// A pin is taken only on an exclusive page: a read pin on a shared page first unshares it (a
// copy left read-only, or marking it exclusive when nobody else holds it); a write pin breaks COW.
// GUP-fast pins only exclusive pages and falls back to the slow path otherwise.
//
// What it gets right: isolation and long-term pin coherence.
// What it costs: "maybe pinned" is BiasRefcount's guess, so 1024 ordinary references force a
// copy at fork; read pins on shared pages always cost an unshare.
#pragma once

#include "pinsplit/mm/policy.h"

namespace pinsplit::mm {

class AnonExclusivePolicy final : public Policy {
 public:
  std::string_view name() const override { return "anon-exclusive"; }
  std::string_view default_counter() const override { return "bias"; }
  ForkDecision on_fork(const PageFacts& page) const override {
    return page.exclusive() && page.mm_has_pinned() && page.maybe_pinned() ? ForkDecision::kCopy
                                                                           : ForkDecision::kShare;
  }
  FaultDecision on_write_fault(const PageFacts& page) const override {
    return page.exclusive() || page.page_count() == 1 ? FaultDecision::kReuse
                                                      : FaultDecision::kCopy;
  }
  ReadPinPrep before_read_pin(const PageFacts& page) const override {
    if (page.exclusive()) return ReadPinPrep::kNone;
    return page.page_count() == 1 ? ReadPinPrep::kMarkExclusive : ReadPinPrep::kUnshare;
  }
  bool fast_pin_allowed(const PageFacts& page, PinKind) const override { return page.exclusive(); }
};

}  // namespace pinsplit::mm
