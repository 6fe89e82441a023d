// SPDX-License-Identifier: MIT
// The counters instantiated on DeterministicAtomic, behind AnyRefcount, chosen by name.
//
// Covers every name KnownRefcounts() lists (the same schemes and layouts, so the interleaving
// explorer and the `interleave` fuzz target test exactly what ships) plus the deliberately
// broken variants of broken_refcounts.h. A unit test keeps this list in step with the core
// registry.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "pinsplit/any_refcount.h"

namespace pinsplit {

// The canonical names of the correct counters, in KnownRefcounts() order without the "split"
// alias: split:4/4/24, split:3/5/24, ..., bias, plain.
const std::vector<std::string>& CorrectRefcountNames();

// The deliberately broken variants: "broken:put-reread", "broken:put-relaxed-last",
// "broken:writable-predicate", "broken:unpin-repair-store", "broken:unpin-borrow",
// "broken:blind-mark-dead".
std::vector<std::string> BrokenRefcountNames();

// A counter on DeterministicAtomic holding `refs` references. Accepts "split", every name of
// CorrectRefcountNames() and of BrokenRefcountNames(); InvalidArgument otherwise.
absl::StatusOr<std::unique_ptr<AnyRefcount>> MakeDeterministicRefcount(std::string_view name,
                                                                       std::uint32_t refs = 1);

}  // namespace pinsplit
