// SPDX-License-Identifier: MIT
// Deliberately broken builds of the mm model that only the truth oracle's newer invariants
// (protection, writability, anon-exclusive: truth_oracle.h) see at the step that breaks them.
// Each is the production code with one realistic flaw, expressed as broken_mm_models.h
// expresses its own: a Sync tag deriving from the Sync it runs on, for which one member of
// BasicMmModel is explicitly specialised, so core/ carries no trace of it.
//   FastWritePinIgnoresProtection  GUP-fast checks that the entry is present but not that it is
//                                  writable before a write pin (the kernel's
//                                  pte_access_permitted() check left out): a write pin lands on
//                                  a read-only mapping. Caught as "protection".
//   ForkLeavesParentWritable       fork shares a page and write-protects the child's entry but
//                                  not the parent's: the parent can write a page its child maps.
//                                  Caught as "writability" at the fork, before any write leaks.
//   ForkKeepsExclusive             fork shares a page without clearing its AnonExclusive flag:
//                                  a later fault reuses the shared page in place. Caught as
//                                  "anon-exclusive" at the fork.
//   MprotectKeepsWritable          mprotect(read-only) records the protection but leaves the
//                                  entry writable. Caught as "writability" at the mprotect.
//   UnmapKeepsMapcount             an unmap drops the mapping and its reference but not the
//                                  mapcount. Caught as "accounting" at the unmap.
// On StdSync only (sequential teeth tests: testing/truth_oracle_teeth_test.cc).
#pragma once

#include "absl/status/statusor.h"
#include "pinsplit/mm/mm_model.h"
#include "pinsplit/mm/std_sync.h"
#include "pinsplit/mm/truth_oracle.h"

namespace pinsplit {

template <class Base>
struct FastWritePinIgnoresProtection : Base {};
template <class Base>
struct ForkLeavesParentWritable : Base {};
template <class Base>
struct ForkKeepsExclusive : Base {};
template <class Base>
struct MprotectKeepsWritable : Base {};
template <class Base>
struct UnmapKeepsMapcount : Base {};

}  // namespace pinsplit

namespace pinsplit::mm {

using FastWritePinIgnoresProtectionSync = FastWritePinIgnoresProtection<StdSync>;
using ForkLeavesParentWritableSync = ForkLeavesParentWritable<StdSync>;
using ForkKeepsExclusiveSync = ForkKeepsExclusive<StdSync>;
using MprotectKeepsWritableSync = MprotectKeepsWritable<StdSync>;
using UnmapKeepsMapcountSync = UnmapKeepsMapcount<StdSync>;

template <>
PinOutcome BasicMmModel<FastWritePinIgnoresProtectionSync>::pin_fast(PinId id, ProcessId p,
                                                                     Addr addr, PinKind kind,
                                                                     bool longterm);
template <>
absl::Status BasicMmModel<ForkLeavesParentWritableSync>::copy_page_table(Process& from,
                                                                         ProcessId parent,
                                                                         Process& to,
                                                                         ProcessId child);
template <>
absl::Status BasicMmModel<ForkKeepsExclusiveSync>::copy_page_table(Process& from, ProcessId parent,
                                                                   Process& to, ProcessId child);
template <>
absl::Status BasicMmModel<MprotectKeepsWritableSync>::protect(ProcessId p, Addr addr,
                                                              bool writable);
template <>
void BasicMmModel<UnmapKeepsMapcountSync>::drop_mapping(PageId id, ProcessId p, Addr addr);

extern template class BasicMmModel<FastWritePinIgnoresProtectionSync>;
extern template class BasicTruthOracle<BasicMmModel<FastWritePinIgnoresProtectionSync>>;
extern template class BasicMmModel<ForkLeavesParentWritableSync>;
extern template class BasicTruthOracle<BasicMmModel<ForkLeavesParentWritableSync>>;
extern template class BasicMmModel<ForkKeepsExclusiveSync>;
extern template class BasicTruthOracle<BasicMmModel<ForkKeepsExclusiveSync>>;
extern template class BasicMmModel<MprotectKeepsWritableSync>;
extern template class BasicTruthOracle<BasicMmModel<MprotectKeepsWritableSync>>;
extern template class BasicMmModel<UnmapKeepsMapcountSync>;
extern template class BasicTruthOracle<BasicMmModel<UnmapKeepsMapcountSync>>;

}  // namespace pinsplit::mm
