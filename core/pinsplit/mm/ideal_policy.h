// SPDX-License-Identifier: MIT
// IdealPolicy: an omniscient reference that copies only when the truth requires it.
//
// It reads the page's true holders (which process holds each pin, every mapping) and may move
// other processes' mappings, so it is the yardstick for unnecessary copies, not a kernel design.
// Rules, with "parties" = the processes that map the page or hold a pin on it:
//   fork: share, unless the page holds a write pin (a device may write it; the child must not
//         see that), then copy for the child.
//   write fault by P: reuse when P is the only party; when P holds pins on the page (and by the
//         pin rule nobody else does), P keeps it and the other mappings move to one fresh copy;
//         otherwise P copies.
//   read pin by P: unshare (copy for P) only when another process holds a pin on the page.
//   write pin by P: break COW through the write-fault rule, so P's page has no other party.
// It runs only in sequential runs (scripts, fuzzing): moving other mappings needs their locks.
#pragma once

#include "pinsplit/mm/policy.h"

namespace pinsplit::mm {

class IdealPolicy final : public Policy {
 public:
  std::string_view name() const override { return "ideal"; }
  std::string_view default_counter() const override { return "split"; }
  bool omniscient() const override { return true; }
  ForkDecision on_fork(const PageFacts& page) const override {
    return page.with_holders([](const PageHolders& h) {
      return h.write_pins() > 0 ? ForkDecision::kCopy : ForkDecision::kShare;
    });
  }
  FaultDecision on_write_fault(const PageFacts& page) const override {
    const ProcessKey p = page.actor_key();
    return page.with_holders([&](const PageHolders& h) {
      if (!h.mapped_by_other_than(page.actor()) && !h.pinned_by_other_than(p)) {
        return FaultDecision::kReuse;
      }
      if (h.pinned_by(p) && !h.pinned_by_other_than(p)) return FaultDecision::kReuseAndMoveOthers;
      return FaultDecision::kCopy;
    });
  }
  ReadPinPrep before_read_pin(const PageFacts& page) const override {
    return page.with_holders([&](const PageHolders& h) {
      return h.pinned_by_other_than(page.actor_key()) ? ReadPinPrep::kUnshare : ReadPinPrep::kNone;
    });
  }
  bool fast_pin_allowed(const PageFacts&, PinKind) const override { return false; }
};

}  // namespace pinsplit::mm
