// SPDX-License-Identifier: MIT
// BasicPage<Sync>: one physical page of the mm model: a counter from core/, a payload, and what
// the model knows about who holds it. Sync (std_sync.h) supplies the atomics; `Page` is the
// production one.
//
// The counter is what a policy may consult (through PageFacts). Everything else here is the
// model's bookkeeping: `mapcount` and `exclusive` are what the kernel keeps beside the refcount
// (page_mapcount(), PageAnonExclusive), and `holders` is the truth only the oracle and the
// omniscient `ideal` policy may read.
//
// Pages live in a fixed arena and are recycled, never deallocated, so a lockless walker (GUP-fast)
// may always dereference a page index it read from a page table; it detects recycling by
// rechecking the page table after its pin, as the kernel does.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "pinsplit/any_refcount.h"
#include "pinsplit/mm/std_sync.h"
#include "pinsplit/refcount.h"

namespace pinsplit::mm {

using Addr = std::uint32_t;
using PageId = std::uint32_t;
using ProcessId = std::uint32_t;
using PinId = std::uint32_t;
using RefId = std::uint32_t;

inline constexpr PageId kNoPage = UINT32_MAX;

// A process slot is reused after exit; the slot with the generation it had when the process
// was created names one process for good.
using ProcessKey = std::uint64_t;
constexpr ProcessKey MakeProcessKey(ProcessId slot, std::uint32_t generation) {
  return (ProcessKey{generation} << 32) | slot;
}

// A pin as the truth knows it: who took it and how.
struct PinHolder {
  PinId pin;
  ProcessKey owner;
  PinKind kind;
};

// Who holds a page, as the model knows it (never as a counter answers).
struct PageHolders {
  std::vector<std::pair<ProcessId, Addr>> mappings;  // the reverse map
  std::vector<PinHolder> pins;
  int extra_refs = 0;

  int read_pins() const;
  int write_pins() const;
  bool pinned_by_other_than(ProcessKey p) const;
  bool pinned_by(ProcessKey p) const;
  bool mapped_by_other_than(ProcessId p) const;
  bool empty() const { return mappings.empty() && pins.empty() && extra_refs == 0; }
  // Holds nothing again, keeping the lists' capacity: pages are recycled on hot paths.
  void clear() {
    mappings.clear();
    pins.clear();
    extra_refs = 0;
  }
};

template <class Sync>
struct BasicPage {
  std::unique_ptr<AnyRefcount> counter;  // made by Sync::MakeCounter
  typename Sync::template Atomic<std::uint64_t> payload{0};
  typename Sync::template Atomic<int> mapcount{0};
  typename Sync::template Atomic<bool> exclusive{false};
  // Bookkeeping for the oracle and tests, not read by any decision.
  std::atomic<bool> in_use{false};
  std::atomic<std::uint32_t> generation{0};

  // Guards `holders`; a leaf lock: nothing under it touches a Sync atomic, so it is never held
  // across a scheduling point of the deterministic instantiation.
  mutable std::mutex holders_mu;
  PageHolders holders;
};

using Page = BasicPage<StdSync>;

inline int PageHolders::read_pins() const {
  int n = 0;
  for (const PinHolder& p : pins) n += p.kind == PinKind::kRead;
  return n;
}

inline int PageHolders::write_pins() const { return static_cast<int>(pins.size()) - read_pins(); }

inline bool PageHolders::pinned_by_other_than(ProcessKey p) const {
  for (const PinHolder& h : pins) {
    if (h.owner != p) return true;
  }
  return false;
}

inline bool PageHolders::pinned_by(ProcessKey p) const {
  for (const PinHolder& h : pins) {
    if (h.owner == p) return true;
  }
  return false;
}

inline bool PageHolders::mapped_by_other_than(ProcessId p) const {
  for (const auto& [process, addr] : mappings) {
    if (process != p) return true;
  }
  return false;
}

}  // namespace pinsplit::mm
