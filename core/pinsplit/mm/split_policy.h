// SPDX-License-Identifier: MIT
// SplitPolicy: the seed's proposal, deciding on SplitRefcount's exact fields.
//
// Rules:
//   1. Pins only on pages with one mapping. A read pin on a page mapped more than once first
//      unshares it (a copy, PTE left read-only); a write pin breaks COW through rule 3.
//   2. Fork copies a page now exactly when it is pinned (READ or R/W, exact: no "mm ever
//      pinned" heuristic and no false positives from ordinary references); otherwise it shares.
//   3. A write fault reuses the page when it has one mapping (mapcount == 1), whatever other
//      references it holds; otherwise it copies.
//   GUP-fast pins a page only when it has one mapping AND is AnonExclusive (the flag a fork
//   clears and only a fault or pin under the mmap_lock sets); the fork sequence count catches a
//   fork that shares it in between. Mapcount alone is not enough: it drops when ANOTHER process
//   unmaps, exits or copies, without this process's lock, so a write fault here that decided
//   to copy on mapcount 2 could replace the entry after a GUP-fast pin that saw mapcount 1 had
//   pinned and rechecked it, leaving a long-term pin on a page the process no longer maps
//   (found by the mm interleaving explorer; the storm's rare "long-term pin coherence" report).
//
// Why it is safe: rules 1 and 2 keep every pinned page mapped by one process at most, the one
// that pinned it (a pinned page is never shared by fork, and a shared page is never pinned), so
// rule 3's reuse keeps every pin on the faulting process's page: long-term pins stay coherent.
// A page whose pinner unmapped it has no mapping left to fault. Isolation follows from rule 3:
// a page is written in place only by its sole mapper, and the pins on it are that mapper's.
// Extra references (LRU, swap cache) never force a copy, unlike the refcount policy, and
// ordinary references never look like pins, unlike BiasRefcount. A full pin field answers -EAGAIN
// and the pin is refused.
//
// What R vs R/W adds: the safety argument needs only exact "pinned". The kinds make the counts
// answerable ("was this page pinned R/W?") for introspection and for the comparison table.
#pragma once

#include "pinsplit/mm/policy.h"

namespace pinsplit::mm {

class SplitPolicy final : public Policy {
 public:
  std::string_view name() const override { return "split"; }
  std::string_view default_counter() const override { return "split"; }
  bool accepts(const Capabilities& caps) const override {
    return caps.exact_pins && caps.pin_kinds;
  }
  ForkDecision on_fork(const PageFacts& page) const override {
    return page.counter().is_pinned() ? ForkDecision::kCopy : ForkDecision::kShare;
  }
  FaultDecision on_write_fault(const PageFacts& page) const override {
    return page.mapcount() == 1 ? FaultDecision::kReuse : FaultDecision::kCopy;
  }
  ReadPinPrep before_read_pin(const PageFacts& page) const override {
    return page.mapcount() == 1 ? ReadPinPrep::kNone : ReadPinPrep::kUnshare;
  }
  bool fast_pin_allowed(const PageFacts& page, PinKind) const override {
    return page.mapcount() == 1 && page.exclusive();
  }
};

}  // namespace pinsplit::mm
