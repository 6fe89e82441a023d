// SPDX-License-Identifier: MIT
// MapcountPolicy: Linux before 5.8.
//
// Rules: fork always shares (copy-on-write). A write fault reuses the page when one mapping is
// left (page_mapcount() == 1) and copies otherwise. GUP never unshares: a read pin lands on
// whatever page is mapped, shared or not; a write pin breaks COW through the same fault rule.
//
// What it gets wrong: pins and other references are invisible to the reuse test. The vmsplice
// attack (CVE-2020-29374) follows: a child read-pins a page it shares with its parent, unmaps it,
// and the parent's next write reuses the page in place, so the child reads the parent's new data
// through its pin. It also reuses pinned pages that a fork left shared.
#pragma once

#include "pinsplit/mm/policy.h"

namespace pinsplit::mm {

class MapcountPolicy final : public Policy {
 public:
  std::string_view name() const override { return "mapcount"; }
  std::string_view default_counter() const override { return "bias"; }
  ForkDecision on_fork(const PageFacts&) const override { return ForkDecision::kShare; }
  FaultDecision on_write_fault(const PageFacts& page) const override {
    return page.mapcount() == 1 ? FaultDecision::kReuse : FaultDecision::kCopy;
  }
  ReadPinPrep before_read_pin(const PageFacts&) const override { return ReadPinPrep::kNone; }
  bool fast_pin_allowed(const PageFacts&, PinKind) const override { return true; }
};

}  // namespace pinsplit::mm
