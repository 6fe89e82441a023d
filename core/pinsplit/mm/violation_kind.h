// SPDX-License-Identifier: MIT
// The names of the truth oracle's invariants (truth_oracle.h), the `invariant` of a Violation.
//
// One list, so that a policy header can name the kinds of violation it is known to produce
// (Policy::known_violations) and the fuzz verdict can tell a known bug from a new one by name,
// without either depending on the oracle.
#pragma once

#include <string_view>

namespace pinsplit::mm::violation_kind {

inline constexpr std::string_view kIsolation = "isolation";
inline constexpr std::string_view kLongtermCoherence = "long-term pin coherence";
inline constexpr std::string_view kAccounting = "accounting";
inline constexpr std::string_view kProtection = "protection";
inline constexpr std::string_view kWritability = "writability";
inline constexpr std::string_view kAnonExclusive = "anon-exclusive";

inline constexpr std::string_view kAll[] = {kIsolation,  kLongtermCoherence, kAccounting,
                                            kProtection, kWritability,       kAnonExclusive};

}  // namespace pinsplit::mm::violation_kind
