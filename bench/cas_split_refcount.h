// SPDX-License-Identifier: MIT
// CasSplitRefcount: the split word with every operation a compare-exchange loop.
//
// A benchmark contender only, never used outside bench/: it shows what SplitRefcount's
// single-RMW fast paths (one fetch_add/fetch_sub for get and put) buy over the obvious
// implementation that reads the word, decides, and compare-exchanges the decided value in.
// (SplitRefcount's unpin has been such a loop too since issue 20; this one differs only in its
// last drop, which goes straight to the DEAD value.)
//
// Guarantees: the same layout, zones, states, results, memory orderings on success and misuse
// reports as SplitRefcount<Layout> (see split_refcount.h), so a sequential run of both on the
// same operations ends in the same word (cas_split_refcount_test.cc checks this). Because the
// decision is made before anything is written, misuse needs no undo: a refused operation leaves
// the word untouched, and the last drop goes straight from "one holder" to the DEAD value.
// try_pin, the reads and reset are SplitRefcount's own (they already are compare-exchange loops
// or plain loads).
#pragma once

#include <atomic>
#include <string_view>

#include "pinsplit/misuse.h"
#include "pinsplit/refcount.h"
#include "pinsplit/split_refcount.h"

namespace pinsplit::bench {

template <class Layout = SeedLayout, template <class> class Atom = std::atomic>
class CasSplitRefcount : public SplitRefcount<Layout, Atom> {
  using Base = SplitRefcount<Layout, Atom>;
  using Base::is_dead;
  using Base::is_live_zone;
  using Base::is_saturated;
  using Base::kDeadValue;
  using Base::kLiveBase;
  using Base::kMaxRefs;
  using Base::kSaturatedValue;
  using Base::pin_mask;
  using Base::pin_one;
  using Base::refs_offset;
  using Base::with_ordinary;
  using Base::word_;
  using typename Base::Word;

 public:
  using Base::Base;

  // Misuse reports carry SplitRefcount's name: the word and its meaning are the same.
  static constexpr std::string_view name() { return Base::name(); }

  // relaxed, like SplitRefcount::get: the caller already holds a reference.
  GetResult get() {
    Word old = word_.load(std::memory_order_relaxed);
    for (;;) {
      if (is_dead(old)) [[unlikely]] {
        report_misuse(Misuse::kGetOnDead, name(), old);
        return GetResult::kDead;
      }
      if (!is_live_zone(old)) [[unlikely]] {
        // Saturated stays saturated; an underflow (below the live zone) is being saturated.
        if (is_saturated(old)) report_misuse(Misuse::kSaturated, name(), old);
        return GetResult::kOk;
      }
      const bool overflows = refs_offset(old) == kMaxRefs;
      const Word next = overflows ? with_ordinary(old, kSaturatedValue) : old + 1;
      if (word_.compare_exchange_weak(old, next, std::memory_order_relaxed)) {
        if (overflows) [[unlikely]] {
          report_misuse(Misuse::kOverflow, name(), old);
        }
        return GetResult::kOk;
      }
    }
  }

  // try_get is already a compare-exchange loop in SplitRefcount.
  GetResult try_get() { return Base::try_get(); }

  // release; the last drop writes the DEAD value with acq_rel, so the one that frees sees every
  // access made under every earlier reference.
  PutResult put() {
    Word old = word_.load(std::memory_order_relaxed);
    for (;;) {
      if (is_dead(old)) [[unlikely]] {
        report_misuse(Misuse::kPutOnDead, name(), old);
        return PutResult::kLive;
      }
      if (!is_live_zone(old) || refs_offset(old) == 0) [[unlikely]] {
        if (is_saturated(old)) {
          report_misuse(Misuse::kSaturated, name(), old);
          return PutResult::kLive;
        }
        // No reference held while pins keep the object alive: saturate (a leak, never a free).
        if (word_.compare_exchange_weak(old, with_ordinary(old, kSaturatedValue),
                                        std::memory_order_relaxed)) {
          report_misuse(Misuse::kPutUnderflow, name(), old);
          return PutResult::kLive;
        }
        continue;
      }
      const bool last = old == kLiveBase + 1;
      const Word next = last ? kDeadValue : old - 1;
      if (word_.compare_exchange_weak(old, next,
                                      last ? std::memory_order_acq_rel : std::memory_order_release,
                                      std::memory_order_relaxed)) {
        return last ? PutResult::kLast : PutResult::kLive;
      }
    }
  }

  PinResult try_pin(PinKind kind) { return Base::try_pin(kind); }

  // release; the last drop acq_rel, as put.
  PutResult unpin(PinKind kind) {
    const Word one = pin_one(kind);
    Word old = word_.load(std::memory_order_relaxed);
    for (;;) {
      if ((old & pin_mask(kind)) == 0) [[unlikely]] {
        report_misuse(is_dead(old) ? Misuse::kUnpinOnDead : Misuse::kUnpinUnderflow, name(), old);
        return PutResult::kLive;
      }
      const bool last = old - one == kLiveBase;
      const Word next = last ? kDeadValue : old - one;
      if (word_.compare_exchange_weak(old, next,
                                      last ? std::memory_order_acq_rel : std::memory_order_release,
                                      std::memory_order_relaxed)) {
        return last ? PutResult::kLast : PutResult::kLive;
      }
    }
  }
};

static_assert(PinRefcount<CasSplitRefcount<>>);

}  // namespace pinsplit::bench
