// SPDX-License-Identifier: MIT
#include "deterministic_refcounts.h"

#include <functional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "broken_refcounts.h"
#include "deterministic_atomic.h"
#include "pinsplit/refcount_adapter.h"
#include "pinsplit/refcount_registry.h"

namespace pinsplit {
namespace {

using Factory = std::function<std::unique_ptr<AnyRefcount>(std::uint32_t)>;

template <class C>
std::pair<std::string, Factory> Entry() {
  return {std::string(C::name()),
          [](std::uint32_t refs) { return std::make_unique<RefcountAdapter<C>>(refs); }};
}

// Every counter the core registry ships, on DeterministicAtomic: the same type list.
const std::vector<std::pair<std::string, Factory>>& CorrectRegistry() {
  static const auto* registry = [] {
    auto* entries = new std::vector<std::pair<std::string, Factory>>;
    [&]<class... C>(std::tuple<C...>*) {
      (entries->push_back(Entry<C>()), ...);
    }(static_cast<RegisteredRefcounts<DeterministicAtomic>*>(nullptr));
    return entries;
  }();
  return *registry;
}

const std::vector<std::pair<std::string, Factory>>& BrokenRegistry() {
  static const auto* registry = new std::vector<std::pair<std::string, Factory>>{
      Entry<RereadingPutSplitRefcount<SeedLayout, DeterministicAtomic>>(),
      Entry<RelaxedLastPutSplitRefcount<SeedLayout, DeterministicAtomic>>(),
      Entry<WritablePredicateLiesSplitRefcount<SeedLayout, DeterministicAtomic>>(),
      Entry<StoreRepairUnpinSplitRefcount<SeedLayout, DeterministicAtomic>>(),
      Entry<BorrowingUnpinSplitRefcount<SeedLayout, DeterministicAtomic>>(),
      Entry<BlindMarkDeadSplitRefcount<SeedLayout, DeterministicAtomic>>(),
  };
  return *registry;
}

}  // namespace

const std::vector<std::string>& CorrectRefcountNames() {
  // Built once: the interleave fuzz target picks from it on every input.
  static const auto* names = [] {
    auto* out = new std::vector<std::string>;
    for (const auto& [name, factory] : CorrectRegistry()) out->push_back(name);
    return out;
  }();
  return *names;
}

std::vector<std::string> BrokenRefcountNames() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : BrokenRegistry()) names.push_back(name);
  return names;
}

absl::StatusOr<std::unique_ptr<AnyRefcount>> MakeDeterministicRefcount(std::string_view name,
                                                                       std::uint32_t refs) {
  const std::string_view wanted = name == "split" ? SplitRefcount<>::name() : name;
  for (const auto* registry : {&CorrectRegistry(), &BrokenRegistry()}) {
    for (const auto& [known, factory] : *registry) {
      if (known == wanted) return factory(refs);
    }
  }
  std::vector<std::string> all = {"split"};
  for (const std::string& n : CorrectRefcountNames()) all.push_back(n);
  for (const std::string& n : BrokenRefcountNames()) all.push_back(n);
  return absl::InvalidArgumentError(
      absl::StrCat("unknown counter '", std::string(name), "'; known: ", absl::StrJoin(all, ", ")));
}

}  // namespace pinsplit
