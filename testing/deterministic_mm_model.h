// DeterministicMmModel: the mm model (core/pinsplit/mm/mm_model.h) on the deterministic
// scheduler: its page-table entries, write_protect_seq, has_pinned, process liveness and
// generations, page counters, mapcounts, AnonExclusive flags and payloads are DeterministicAtomic
// (every access a scheduling point), its mmap_lock and process-slot lock DeterministicMutex
// (waiters parked, deadlocks reported) and its fences DeterministicFence. The code is the
// production model's, instantiated on DeterministicSync; outside a scheduler run it behaves
// like the production model, sequentially.
//
// Besides the correct model, deliberately broken instantiations for proof of teeth, each a
// flaw that NARROWS the fork window instead of removing a check (like broken_refcounts.h for
// the counters); their code is in broken_mm_models.cc:
//   RecheckBeforePinSync   GUP-fast rechecks write_protect_seq before it takes its pin rather
//                          than after (the pin lands after the last look at the sequence);
//   LateForkBumpSync       fork makes write_protect_seq odd only after it has copied the
//                          first present entry (that entry's copy is unbracketed).
//   MapcountFastPinSync    split's GUP-fast licensed by mapcount == 1 alone, as it was before
//                          the mm explorer found that a COW fault in the same process can copy
//                          the page away after the pin (other policies unchanged).
// The model's option check_write_protect_seq = false (removing the recheck) is the fourth.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "deterministic_atomic.h"
#include "deterministic_mutex.h"
#include "deterministic_refcounts.h"
#include "pinsplit/mm/mm_model.h"
#include "pinsplit/mm/truth_oracle.h"

namespace pinsplit {

struct DeterministicSync {
  template <class T>
  using Atomic = DeterministicAtomic<T>;
  using Mutex = DeterministicMutex;
  static void Fence(std::memory_order order) { DeterministicFence(order); }
  static absl::StatusOr<std::unique_ptr<AnyRefcount>> MakeCounter(std::string_view impl,
                                                                  std::uint32_t refs) {
    return MakeDeterministicRefcount(impl, refs);
  }
};

// Distinct types so that broken_mm_models.cc can specialise one member each.
struct RecheckBeforePinSync : DeterministicSync {};
struct LateForkBumpSync : DeterministicSync {};
struct MapcountFastPinSync : DeterministicSync {};

using DeterministicMmModel = mm::BasicMmModel<DeterministicSync>;
using DeterministicTruthOracle = mm::BasicTruthOracle<DeterministicMmModel>;

}  // namespace pinsplit

namespace pinsplit::mm {
// The broken members (defined in broken_mm_models.cc), declared before any instantiation.
template <>
PinOutcome BasicMmModel<RecheckBeforePinSync>::pin_fast(PinId id, ProcessId p, Addr addr,
                                                        PinKind kind, bool longterm);
template <>
bool BasicMmModel<MapcountFastPinSync>::fast_pin_allowed(PageId page, ProcessId p,
                                                         PinKind kind) const;
template <>
absl::StatusOr<ProcessId> BasicMmModel<LateForkBumpSync>::fork(ProcessId parent);
template <>
absl::Status BasicMmModel<LateForkBumpSync>::copy_page_table(Process& from, ProcessId parent,
                                                             Process& to, ProcessId child);

extern template class BasicMmModel<DeterministicSync>;
extern template class BasicTruthOracle<BasicMmModel<DeterministicSync>>;
extern template class BasicMmModel<RecheckBeforePinSync>;
extern template class BasicTruthOracle<BasicMmModel<RecheckBeforePinSync>>;
extern template class BasicMmModel<LateForkBumpSync>;
extern template class BasicTruthOracle<BasicMmModel<LateForkBumpSync>>;
extern template class BasicMmModel<MapcountFastPinSync>;
extern template class BasicTruthOracle<BasicMmModel<MapcountFastPinSync>>;
}  // namespace pinsplit::mm
