// SPDX-License-Identifier: MIT
// The counter types pinsplit compiles in, in one list, so that every tool that picks a scheme
// by name (the CLI, the storms, the deterministic explorer) agrees on the names and the types.
//
//   VisitRefcountType<Atom>(name, f) calls f.template operator()<C>() with the type C whose
//   name() is `name` ("split" means the seed layout) and returns true, or returns false.
#pragma once

#include <atomic>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "pinsplit/bias_refcount.h"
#include "pinsplit/plain_refcount.h"
#include "pinsplit/split_refcount.h"

namespace pinsplit {

template <template <class> class Atom = std::atomic>
using RegisteredRefcounts = std::tuple<
    SplitRefcount<SeedLayout, Atom>, SplitRefcount<SplitLayout<3, 5, 24>, Atom>,
    SplitRefcount<SplitLayout<2, 6, 24>, Atom>, SplitRefcount<SplitLayout<6, 6, 20>, Atom>,
    SplitRefcount<SplitLayout<8, 8, 16>, Atom>, SplitRefcount<SplitLayout<10, 10, 12>, Atom>,
    SplitRefcount<SplitLayout<13, 13, 6>, Atom>, BiasRefcount<Atom>, PlainRefcount<Atom>>;

// "split" first, then every registered name() in list order.
inline std::vector<std::string> RegisteredRefcountNames() {
  std::vector<std::string> names = {"split"};
  [&]<class... C>(std::tuple<C...>*) {
    (names.emplace_back(C::name()), ...);
  }(static_cast<RegisteredRefcounts<>*>(nullptr));
  return names;
}

template <template <class> class Atom = std::atomic, class F>
bool VisitRefcountType(std::string_view name, F&& f) {
  if (name == "split") name = SplitRefcount<SeedLayout, Atom>::name();
  bool found = false;
  [&]<class... C>(std::tuple<C...>*) {
    ((!found && C::name() == name ? (f.template operator()<C>(), found = true) : false), ...);
  }(static_cast<RegisteredRefcounts<Atom>*>(nullptr));
  return found;
}

}  // namespace pinsplit
