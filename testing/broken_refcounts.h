// SPDX-License-Identifier: MIT
// Deliberately broken SplitRefcount variants, built only so that the fuzzers, the
// interleaving explorer and the ThreadSanitizer storms can prove they have teeth. Never use
// them for anything else.
//
// Each derives from SplitRefcount and overrides one member (put(), or one predicate);
// everything else, including the slow paths put() hands over to, is the correct code.
#pragma once

#include <atomic>
#include <string_view>

#include "pinsplit/split_refcount.h"

namespace pinsplit {

// BUG: SplitRefcount's last drop as it was before issue 20's speed runs: the move from "live
// zero" to DEAD is an unconditional fetch_sub. Correct callers never notice (nothing can move a
// word at live zero). But a misused get makes a dying word look alive until its undo, and a
// try_get or try_pin admitted in that window then holds the word this subtraction hits: its own
// last drop answers kLast too (a double free) and one of the two subtractions wraps the word
// into the pin fields. Kept so that the racing-misuse tests show the finding reproduces on the
// old code and not on the fixed one (racing_misuse_test.cc).
template <class Layout = SeedLayout, template <class> class Atom = std::atomic>
class BlindMarkDeadSplitRefcount : public SplitRefcount<Layout, Atom> {
  using Base = SplitRefcount<Layout, Atom>;

 public:
  using Word = typename Base::Word;
  using Base::Base;

  static constexpr std::string_view name() { return "broken:blind-mark-dead"; }

  PutResult put() {
    const Word old = this->word_.fetch_sub(1, std::memory_order_release);
    if (Base::refs_offset(old) - 2 >= Base::kMaxRefs - 1) [[unlikely]] {
      return put_slow_blindly(old);
    }
    return PutResult::kLive;
  }

  // SplitRefcount::unpin with the same blind move after the last holder's unpin.
  PutResult unpin(PinKind kind) {
    const Word one = Base::pin_one(kind);
    const Word mask = Base::pin_mask(kind);
    Word old = this->word_.load(std::memory_order_relaxed);
    do {
      if ((old & mask) == 0) [[unlikely]]
        return Base::unpin_slow(old, kind);  // refused: writes nothing
    } while (!this->word_.compare_exchange_weak(old, old - one, std::memory_order_release,
                                                std::memory_order_relaxed));
    if (old - one != Base::kLiveBase) return PutResult::kLive;
    mark_dead_blindly();
    return PutResult::kLast;
  }

 protected:
  PutResult put_slow_blindly(Word old) {
    if (old != Base::kLiveBase + 1) return Base::put_slow(old);
    mark_dead_blindly();
    return PutResult::kLast;
  }

  // The bug: subtracts from whatever the word holds by now.
  void mark_dead_blindly() {
    this->word_.fetch_sub(Base::kLiveBase - Base::kDeadValue, std::memory_order_acquire);
  }
};

// BUG: put()'s slow path re-reads the word instead of deciding on the value its own fetch_sub
// returned, and reconstructs "the old value" as (re-read + 1). This is the bug class fixed in
// the kernel's rcuref in 2025. The window between the fetch_sub and the re-read lets another
// holder's drop land in it: with one reference held by A and one pin by B, A's fetch_sub
// leaves only the pin, B's unpin leaves "live zero", A re-reads live zero and believes it made
// the last drop, and both A and B return kLast: a double free. Its last drops are the blind move
// to DEAD the bug was written against: the real compare-exchange from live zero would refuse
// the second move and hide this schedule's double free, though not the bug (A would still
// decide on a word it no longer owns).
template <class Layout = SeedLayout, template <class> class Atom = std::atomic>
class RereadingPutSplitRefcount : public BlindMarkDeadSplitRefcount<Layout, Atom> {
  using Base = BlindMarkDeadSplitRefcount<Layout, Atom>;

 public:
  using Word = typename Base::Word;
  using Base::Base;

  static constexpr std::string_view name() { return "broken:put-reread"; }

  PutResult put() {
    const Word old = this->word_.fetch_sub(1, std::memory_order_release);
    if (Base::refs_offset(old) - 2 >= Base::kMaxRefs - 1) [[unlikely]] {
      const Word reread = this->word_.load(std::memory_order_relaxed);  // the bug
      return this->put_slow_blindly(reread + 1);
    }
    return PutResult::kLive;
  }
};

// BUG: put()'s last drop marks the word dead with a relaxed RMW instead of an acquire one, so
// the thread that frees does not synchronise with the release drops of earlier holders: their
// accesses to the object may race with the free. Results and states are the same as the
// correct counter's in every interleaving, so only a memory-model checker (ThreadSanitizer, a
// storm) can catch it; the interleaving explorer is expected to find nothing here.
template <class Layout = SeedLayout, template <class> class Atom = std::atomic>
class RelaxedLastPutSplitRefcount : public SplitRefcount<Layout, Atom> {
  using Base = SplitRefcount<Layout, Atom>;

 public:
  using Word = typename Base::Word;
  using Base::Base;

  static constexpr std::string_view name() { return "broken:put-relaxed-last"; }

  PutResult put() {
    const Word old = this->word_.fetch_sub(1, std::memory_order_release);
    if (Base::refs_offset(old) - 2 >= Base::kMaxRefs - 1) [[unlikely]] {
      if (old == Base::kLiveBase + 1) {
        Word live_zero = Base::kLiveBase;
        return this->word_.compare_exchange_strong(live_zero, Base::kDeadValue,
                                                   std::memory_order_relaxed)  // the bug
                   ? PutResult::kLast
                   : PutResult::kLive;
      }
      return Base::put_slow(old);
    }
    return PutResult::kLive;
  }
};

// BUG: is_pinned_writable() tests the whole pin mask instead of the R/W pin field, so a page
// held only by READ pins answers "pinned writable": every count, result and state stays
// right, and only a check of the predicate itself (refcount_ops compares every predicate with
// the model after every operation) sees it. The kernel would refuse to reuse such a page on a
// write fault and copy it needlessly.
template <class Layout = SeedLayout, template <class> class Atom = std::atomic>
class WritablePredicateLiesSplitRefcount : public SplitRefcount<Layout, Atom> {
  using Base = SplitRefcount<Layout, Atom>;

 public:
  using Base::Base;

  static constexpr std::string_view name() { return "broken:writable-predicate"; }

  bool is_pinned_writable() const { return this->is_pinned(); }  // the bug
};

// The unpin SplitRefcount had before issue 20: a fetch_sub, so an unpin of an empty pin field
// borrows one from the field above until its slow path repairs the word. Two builds of it:
//
// BUG (broken:unpin-borrow, EmptyUnpinRepair::kAddBack): the old code itself. Alone it is exact
// (the misuse is reported and undone). Racing: a misused unpin write that borrows from a full
// READ field leaves it one below full, a racing try_pin(kRead) is admitted into that gap, and the
// repair's carry then wraps the READ field to zero, out of the top of the word. Held read pins
// vanish from the word and a later drop can answer kLast under them: an early free. Kept so that
// the racing-misuse tests show the finding still reproduces on the old code and not on the
// fixed one (racing_misuse_test.cc).
//
// BUG (broken:unpin-repair-store, EmptyUnpinRepair::kStoreBack): the repair stores back the
// value its own fetch_sub returned instead of adding the unit back. Alone the two are the same
// (the word is exactly that value less one unit); racing, every operation that landed between
// the fetch_sub and the store is erased: a get, a pin or a drop of a correct holder is lost, and
// a later drop can answer kLast while a holder remains. Only misuse racing with correct
// operations shows either (racing_misuse.h); the last-drop slow path is the correct one.
enum class EmptyUnpinRepair : bool { kAddBack, kStoreBack };

template <EmptyUnpinRepair kRepair, class Layout, template <class> class Atom>
class FetchSubUnpinSplitRefcount : public SplitRefcount<Layout, Atom> {
  using Base = SplitRefcount<Layout, Atom>;

 public:
  using Word = typename Base::Word;
  using Base::Base;

  static constexpr std::string_view name() {
    return kRepair == EmptyUnpinRepair::kAddBack ? "broken:unpin-borrow"
                                                 : "broken:unpin-repair-store";
  }

  PutResult unpin(PinKind kind) {
    const Word one = Base::pin_one(kind);
    const Word old = this->word_.fetch_sub(one, std::memory_order_release);  // borrows
    if ((old & Base::pin_mask(kind)) == 0) [[unlikely]] {
      if constexpr (kRepair == EmptyUnpinRepair::kAddBack) {
        this->word_.fetch_add(one, std::memory_order_relaxed);  // its carry can wrap
      } else {
        this->word_.store(old, std::memory_order_relaxed);  // erases what raced in
      }
      report_misuse(Base::is_dead(old) ? Misuse::kUnpinOnDead : Misuse::kUnpinUnderflow, name(),
                    old);
      return PutResult::kLive;
    }
    if (old - one == Base::kLiveBase) [[unlikely]] {
      return Base::unpin_slow(old, kind);
    }
    return PutResult::kLive;
  }
};

template <class Layout = SeedLayout, template <class> class Atom = std::atomic>
using BorrowingUnpinSplitRefcount =
    FetchSubUnpinSplitRefcount<EmptyUnpinRepair::kAddBack, Layout, Atom>;

template <class Layout = SeedLayout, template <class> class Atom = std::atomic>
using StoreRepairUnpinSplitRefcount =
    FetchSubUnpinSplitRefcount<EmptyUnpinRepair::kStoreBack, Layout, Atom>;

}  // namespace pinsplit
