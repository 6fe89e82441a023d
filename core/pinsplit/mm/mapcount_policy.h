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
//
// Known bug classes, as the truth oracle names them: "isolation" (the leak above, seen when the
// pin or the other process reads), "anon-exclusive" (the same bug at the moment it happens:
// the reuse marks exclusive a page another process's pin still holds), and "long-term pin
// coherence" (fork shares a pinned page, so the pinner's own next write copies away from its
// pin). Never "accounting", "protection" or "writability": those are not this policy's to get
// wrong.
#pragma once

#include "pinsplit/mm/policy.h"
#include "pinsplit/mm/violation_kind.h"

namespace pinsplit::mm {

// The truth oracle's invariants this policy breaks, all through the bugs above (the fuzz
// verdict counts a crash of any other kind as unexpected).
inline constexpr std::string_view kMapcountKnownViolations[] = {
    violation_kind::kIsolation, violation_kind::kLongtermCoherence, violation_kind::kAnonExclusive};

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
  std::span<const std::string_view> known_violations() const override {
    return kMapcountKnownViolations;
  }
};

}  // namespace pinsplit::mm
