// SPDX-License-Identifier: MIT
#include "pinsplit/mm/policy.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "pinsplit/mm/anon_exclusive_policy.h"
#include "pinsplit/mm/ideal_policy.h"
#include "pinsplit/mm/mapcount_policy.h"
#include "pinsplit/mm/refcount_policy.h"
#include "pinsplit/mm/split_policy.h"

namespace pinsplit::mm {

bool PageFacts::maybe_pinned() const {
  const bool answer = counter_.is_pinned();
  if (answer && !reader_.has_pin_holders(page_)) {
    counters_.false_maybe_pinned.fetch_add(1, std::memory_order_relaxed);
  }
  return answer;
}

std::uint32_t PageFacts::page_count() const {
  const RefcountState s = counter_.state();
  const Capabilities caps = counter_.capabilities();
  // A split word counts each pin once; the bias and plain words already hold the sum.
  return caps.pin_kinds ? s.refs + s.pins : s.raw;
}

std::vector<std::string> KnownPolicies() {
  return {"mapcount", "refcount", "anon-exclusive", "split", "ideal"};
}

absl::StatusOr<std::unique_ptr<Policy>> MakePolicy(std::string_view name) {
  if (name == "mapcount") return std::make_unique<MapcountPolicy>();
  if (name == "refcount") return std::make_unique<RefcountPolicy>();
  if (name == "anon-exclusive") return std::make_unique<AnonExclusivePolicy>();
  if (name == "split") return std::make_unique<SplitPolicy>();
  if (name == "ideal") return std::make_unique<IdealPolicy>();
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown policy '", std::string(name), "'; known: ", absl::StrJoin(KnownPolicies(), ", ")));
}

}  // namespace pinsplit::mm
