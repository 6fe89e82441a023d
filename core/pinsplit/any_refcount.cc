// SPDX-License-Identifier: MIT
#include "pinsplit/any_refcount.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "pinsplit/refcount_adapter.h"
#include "pinsplit/refcount_registry.h"

namespace pinsplit {
namespace {}  // namespace

std::vector<std::string> KnownRefcounts() { return RegisteredRefcountNames(); }

absl::StatusOr<std::unique_ptr<AnyRefcount>> MakeRefcount(std::string_view impl,
                                                          std::uint32_t refs) {
  std::unique_ptr<AnyRefcount> counter;
  VisitRefcountType(impl, [&]<class C>() { counter = std::make_unique<RefcountAdapter<C>>(refs); });
  if (counter != nullptr) return counter;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown counter '", std::string(impl), "'; known: ", absl::StrJoin(KnownRefcounts(), ", ")));
}

}  // namespace pinsplit
