// SPDX-License-Identifier: MIT
// PlainRefcount: one std::atomic counter in which a pin is just another reference. The
// throughput baseline every other scheme is measured against.
//
//   0               dead: try_get and try_pin refuse (no resurrection)
//   1 .. 2^32-1     live; it wraps past 2^32-1 (no overflow protection, like atomic_t)
//
// It cannot tell pins from references, so is_pinned() answers "maybe": any live reference could
// be a pin. try_pin never answers kFull.
//
// Memory ordering: get relaxed; try_get and try_pin compare-exchange loops, acquire on success;
// put and unpin release fetch_sub, the last drop followed by an acquire load of the word (which
// reads its own RMW, the end of every earlier drop's release sequence). Reads acquire.
//
// Misuse: a get or a drop on zero is undone and reported (misuse.h), so nothing is freed twice.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include "pinsplit/misuse.h"
#include "pinsplit/refcount.h"

namespace pinsplit {

template <template <class> class Atom = std::atomic>
class PlainRefcount {
 public:
  using Word = std::uint32_t;

  static constexpr Capabilities kCapabilities{
      .exact_refs = false,
      .exact_pins = false,
      .pin_kinds = false,
      .saturates = false,
      .refuses_overflow = false,
      .detects_unpin_misuse = false,
      .pin_weight = 1,
  };

  static constexpr std::string_view name() { return "plain"; }

  explicit PlainRefcount(Word refs = 1) : count_(refs) {}
  PlainRefcount(const PlainRefcount&) = delete;
  PlainRefcount& operator=(const PlainRefcount&) = delete;

  GetResult get() {
    const Word old = count_.fetch_add(1, std::memory_order_relaxed);
    if (old == 0) [[unlikely]] {
      return get_on_dead();
    }
    return GetResult::kOk;
  }

  GetResult try_get() {
    Word old = count_.load(std::memory_order_relaxed);
    do {
      if (old == 0) return GetResult::kDead;
    } while (!count_.compare_exchange_weak(old, old + 1, std::memory_order_acquire,
                                           std::memory_order_relaxed));
    return GetResult::kOk;
  }

  PutResult put() {
    const Word old = count_.fetch_sub(1, std::memory_order_release);
    if (old <= 1) [[unlikely]] {
      return put_slow(old);
    }
    return PutResult::kLive;
  }

  PinResult try_pin(PinKind /*kind*/) {
    return try_get() == GetResult::kOk ? PinResult::kPinned : PinResult::kDead;
  }

  PutResult unpin(PinKind /*kind*/) { return put(); }

  RefcountState state() const { return decode(count_.load(std::memory_order_acquire)); }
  bool is_pinned() const { return count_.load(std::memory_order_acquire) != 0; }
  bool is_pinned_writable() const { return is_pinned(); }
  bool saturated() const { return false; }
  bool dead() const { return count_.load(std::memory_order_acquire) == 0; }
  Word raw() const { return count_.load(std::memory_order_acquire); }

  bool reset(Word refs, Word read_pins, Word write_pins, bool saturated) {
    const std::uint64_t count = std::uint64_t{refs} + read_pins + write_pins;
    if (saturated || count > UINT32_MAX) return false;
    count_.store(static_cast<Word>(count), std::memory_order_release);
    return true;
  }

  static RefcountState decode(Word count) {
    RefcountState s;
    s.raw = count;
    s.refs = count;
    s.dead = count == 0;
    return s;
  }

 private:
  [[gnu::noinline]] GetResult get_on_dead() {
    count_.fetch_sub(1, std::memory_order_relaxed);
    report_misuse(Misuse::kGetOnDead, name(), 0);
    return GetResult::kDead;
  }

  [[gnu::noinline]] PutResult put_slow(Word old) {
    if (old == 1) {
      (void)count_.load(std::memory_order_acquire);
      return PutResult::kLast;
    }
    count_.fetch_add(1, std::memory_order_relaxed);
    report_misuse(Misuse::kPutOnDead, name(), old);
    return PutResult::kLive;
  }

  Atom<Word> count_;
};

}  // namespace pinsplit
