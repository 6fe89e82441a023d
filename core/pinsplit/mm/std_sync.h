// SPDX-License-Identifier: MIT
// StdSync: the synchronisation the mm model runs on in production: std::atomic, std::mutex,
// std::atomic_thread_fence and the counters of core/ (MakeRefcount).
//
// The mm model (BasicMmModel<Sync>) takes its synchronisation as a traits type so that testing/
// can run the same code on the deterministic scheduler's atomic, mutex and fence
// (testing/deterministic_mm_model.h); core/ knows only this instantiation. A Sync provides:
//   template <class T> using Atomic   a std::atomic<T> drop-in (load/store/exchange/fetch_*);
//   using Mutex                       Lockable;
//   static void Fence(order)          std::atomic_thread_fence;
//   static MakeCounter(impl, refs)    a page's counter by name, on the same atomics.
// Only what GUP-fast races with goes through it (page-table entries, write_protect_seq,
// has_pinned, liveness and generations of processes, page counters, mapcount, AnonExclusive,
// payloads, mmap_lock and the process-slot lock); the model's own bookkeeping (free lists,
// handle tables, statistics, the truth's holder lists) stays on std types, under leaf locks
// held across no access of a Sync atomic.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>

#include "absl/status/statusor.h"
#include "pinsplit/any_refcount.h"

namespace pinsplit::mm {

struct StdSync {
  template <class T>
  using Atomic = std::atomic<T>;
  using Mutex = std::mutex;
  static void Fence(std::memory_order order) { std::atomic_thread_fence(order); }
  static absl::StatusOr<std::unique_ptr<AnyRefcount>> MakeCounter(std::string_view impl,
                                                                  std::uint32_t refs) {
    return MakeRefcount(impl, refs);
  }
};

}  // namespace pinsplit::mm
