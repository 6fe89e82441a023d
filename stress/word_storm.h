// SPDX-License-Identifier: MIT
// The word storm: threads hammer a few shared counters, each guarding a payload that holders
// touch non-atomically and that the last dropper destroys and recycles.
//
// Each slot holds one object: a counter, a `seal` naming its incarnation and one cell per thread.
// The pool keeps a base reference on every object (`base_held`). Threads, by the mix:
//   get      try_get, then a nested get/put while holding, then put
//   pin_read / pin_write   try_pin of that kind instead of try_get, unpin at the end
//   retire   drop the pool's base reference (the object dies when its holders are gone)
// While holding, a thread reads the seal and writes its own cell, both plain memory. The thread
// whose drop is the last destroys the object (reads every cell, poisons it) and recycles the
// slot: a new seal, then reset() of the counter (a release store) and a new base reference.
// A missing release on a drop or acquire on the last drop makes the destroyer's plain accesses
// race with a holder's: ThreadSanitizer reports it. Checked as it runs: the seal a holder reads
// never changes while it holds (no free under a holder), a destroyed object is never destroyed
// again (no double free). Checked at the end: every slot back to exactly its base reference, no
// pins, one destroy per retired incarnation, no misuse reported.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "pinsplit/misuse.h"
#include "pinsplit/refcount.h"
#include "storm.h"

namespace pinsplit::stress {

inline const std::map<std::string, unsigned>& WordStormOps() {
  static const auto* ops = new std::map<std::string, unsigned>{
      {"get", 6}, {"pin_read", 2}, {"pin_write", 2}, {"retire", 1}};
  return *ops;
}

template <PinRefcount Counter>
class WordStorm {
 public:
  static constexpr int kSlots = 4;
  static constexpr int kMaxThreads = 64;
  static constexpr std::uint64_t kPoison = 0xDEADDEADDEADDEADull;

  explicit WordStorm(const StormOptions& options) : options_(options), control_(options) {}

  StormResult Run() {
    const std::uint64_t misuse_before = misuse_total();
    RunStormThreads(options_, control_, [this](int t) { Worker(t); });
    CheckBalance(misuse_total() - misuse_before);
    StormResult result = control_.result();
    result.counters["destroyed"] = destroyed_.load();
    result.counters["pins_refused"] = pins_refused_.load();
    return result;
  }

 private:
  struct Slot {
    Counter counter{1};
    std::atomic<bool> base_held{true};
    std::atomic<std::uint64_t> retired{0};  // incarnations whose base reference was dropped
    std::atomic<std::uint64_t> destroys{0};
    std::uint64_t seal = 1;                          // plain: written only by the destroyer
    std::array<std::uint64_t, kMaxThreads> cells{};  // plain: cell t written by thread t
  };

  void Worker(int t) {
    Rng rng(options_.seed * 0x100000001B3ull + static_cast<std::uint64_t>(t));
    std::uint64_t done = 0;
    while (!control_.done(done)) {
      for (std::uint64_t i = 0; i < kWordStormBurst; ++i, ++done) Step(t, rng);
      control_.count_ops(kWordStormBurst);
    }
  }

  void Step(int t, Rng& rng) {
    Slot& slot = slots_[rng.below(kSlots)];
    const std::string& op = options_.mix.pick(rng.below(options_.mix.total()));
    if (op == "retire") {
      if (slot.base_held.exchange(false, std::memory_order_acq_rel)) {
        slot.retired.fetch_add(1, std::memory_order_relaxed);
        if (slot.counter.put() == PutResult::kLast) Destroy(slot);
      }
      return;
    }
    const bool pin = op != "get";
    const PinKind kind = op == "pin_write" ? PinKind::kWrite : PinKind::kRead;
    if (pin) {
      const PinResult r = slot.counter.try_pin(kind);
      if (r == PinResult::kFull) pins_refused_.fetch_add(1, std::memory_order_relaxed);
      if (r != PinResult::kPinned) return;
    } else if (slot.counter.try_get() != GetResult::kOk) {
      return;
    }
    const std::uint64_t seal = slot.seal;
    if (seal == kPoison)
      control_.violation(absl::StrCat("thread ", t, " holds a destroyed object"));
    slot.cells[t] = seal + static_cast<std::uint64_t>(t);
    if (rng.below(4) == 0) {  // a nested reference taken while holding one
      slot.counter.get();
      slot.cells[t] += 1;
      if (slot.counter.put() == PutResult::kLast) {
        control_.violation(absl::StrCat("thread ", t, "'s nested put was the last drop"));
      }
    }
    if (slot.seal != seal) {
      control_.violation(absl::StrCat("thread ", t, " saw its object recycled while holding it"));
    }
    const PutResult r = pin ? slot.counter.unpin(kind) : slot.counter.put();
    if (r == PutResult::kLast) Destroy(slot);
  }

  // Runs in the thread that made the last drop: it alone may touch the object now.
  void Destroy(Slot& slot) {
    if (slot.seal == kPoison) {
      control_.violation("an object was destroyed twice");
      return;
    }
    std::uint64_t sum = 0;
    for (std::uint64_t cell : slot.cells) sum += cell;  // races with any unsynchronised holder
    sink_.fetch_add(sum, std::memory_order_relaxed);
    const std::uint64_t next_seal = slot.seal + kMaxThreads * 2;
    slot.seal = kPoison;
    slot.cells.fill(0);
    slot.destroys.fetch_add(1, std::memory_order_relaxed);
    destroyed_.fetch_add(1, std::memory_order_relaxed);
    slot.seal = next_seal;               // recycle: a new incarnation
    slot.counter.reset(1, 0, 0, false);  // release: publishes the new incarnation
    slot.base_held.store(true, std::memory_order_release);
  }

  void CheckBalance(std::uint64_t misuses) {
    for (int i = 0; i < kSlots; ++i) {
      Slot& slot = slots_[i];
      const RefcountState s = slot.counter.state();
      const bool base = slot.base_held.load();
      if (s.dead || s.refs != (base ? 1u : 0u) || s.pins != 0) {
        control_.violation(absl::StrCat("slot ", i, " ends with refs=", s.refs, " pins=", s.pins,
                                        " dead=", s.dead, ", expected only the base reference"));
      }
      if (slot.destroys.load() != slot.retired.load()) {
        control_.violation(absl::StrCat("slot ", i, ": ", slot.retired.load(),
                                        " incarnations retired but ", slot.destroys.load(),
                                        " destroyed"));
      }
    }
    if (misuses != 0) control_.violation(absl::StrCat(misuses, " misuse(s) reported"));
  }

  const StormOptions& options_;
  StormControl control_;
  std::array<Slot, kSlots> slots_;
  std::atomic<std::uint64_t> destroyed_{0};
  std::atomic<std::uint64_t> pins_refused_{0};
  std::atomic<std::uint64_t> sink_{0};
};

}  // namespace pinsplit::stress
