// SPDX-License-Identifier: MIT
// DeterministicMmModel: the mm model (core/pinsplit/mm/mm_model.h) on the deterministic
// scheduler: its page-table entries, write_protect_seq, has_pinned, process liveness and
// generations, page counters, mapcounts, AnonExclusive flags and payloads are DeterministicAtomic
// (every access a scheduling point), its mmap_lock and process-slot lock DeterministicMutex
// (waiters parked, deadlocks reported) and its fences DeterministicFence. The code is the
// production model's, instantiated on DeterministicSync; outside a scheduler run it behaves
// like the production model, sequentially.
//
// The deliberately broken builds (broken_mm_models.h) run on it too: RecheckBeforePin<
// DeterministicSync> and the others, defined in broken_mm_models.cc.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "broken_mm_models.h"
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

using DeterministicMmModel = mm::BasicMmModel<DeterministicSync>;
using DeterministicTruthOracle = mm::BasicTruthOracle<DeterministicMmModel>;

}  // namespace pinsplit

namespace pinsplit::mm {
extern template class BasicMmModel<DeterministicSync>;
extern template class BasicTruthOracle<BasicMmModel<DeterministicSync>>;
}  // namespace pinsplit::mm

PINSPLIT_DECLARE_BROKEN_MM_MODELS(::pinsplit::DeterministicSync)
