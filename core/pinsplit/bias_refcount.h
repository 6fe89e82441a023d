// SPDX-License-Identifier: MIT
// BiasRefcount: the kernel's page refcount with GUP_PIN_COUNTING_BIAS, as Linux has counted
// FOLL_PIN on small pages since 5.7.
//
// One signed 32-bit count. An ordinary reference adds 1, a pin adds kPinBias (1024). Nothing
// tells a pin from 1024 references, nor a read pin from a write pin, so:
//   - is_pinned() is "maybe pinned": count >= 1024, a false positive once 1024 references exist;
//   - state().pins = count / 1024 and state().refs = count % 1024 are estimates;
//   - an unpin with no pin held is caught only while the count is below 1024.
//
//   0                 dead: try_get and try_pin refuse (no resurrection)
//   1 .. INT32_MAX    live
//   < 0               live, overflowed: try_get and try_pin refuse; put and unpin still count
//
// Overflow, as the 2019 fix for CVE-2019-11487 has it: get() is the kernel's get_page(), an
// unconditional increment by a caller that already holds a reference, which may take the count
// negative; try_get() (try_get_page) and try_pin() (try_grab_page) refuse whenever their result
// would be negative (GetResult::kFull, PinResult::kFull). Refusal is decided by compare-exchange,
// so it is exact: a speculative add-then-undo refusal in get() would let one refused get make a
// racing get or try_get refuse too (found by the interleave fuzzer). Nothing saturates; the 2^31
// negative values are the room that keeps racing gets from wrapping to zero.
//
// Memory ordering: get relaxed; try_get and try_pin compare-exchange loops, acquire on success;
// put and unpin release fetch_sub, and the last drop follows with an acquire load of the word,
// which reads its own RMW and so the end of every earlier drop's release sequence. Reads acquire.
//
// Fast paths: get, put and unpin are one RMW plus a test on the value it returned. Misuse found
// in that value (get or put at zero, unpin below 1024) is undone and reported (misuse.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <string_view>

#include "pinsplit/misuse.h"
#include "pinsplit/refcount.h"

namespace pinsplit {

template <template <class> class Atom = std::atomic>
class BiasRefcount {
 public:
  using Word = std::uint32_t;

  static constexpr Word kPinBias = 1024;  // GUP_PIN_COUNTING_BIAS
  static constexpr Word kMaxCount = std::numeric_limits<std::int32_t>::max();

  static constexpr Capabilities kCapabilities{
      .exact_refs = false,
      .exact_pins = false,
      .pin_kinds = false,
      .saturates = false,
      .refuses_overflow = true,
      .detects_unpin_misuse = false,
      .pin_weight = kPinBias,
  };

  static constexpr std::string_view name() { return "bias"; }

  explicit BiasRefcount(Word refs = 1) : count_(refs) {}
  BiasRefcount(const BiasRefcount&) = delete;
  BiasRefcount& operator=(const BiasRefcount&) = delete;

  GetResult get() {
    const Word old = count_.fetch_add(1, std::memory_order_relaxed);
    if (old == 0) [[unlikely]] {
      return get_on_dead();
    }
    return GetResult::kOk;
  }

  GetResult try_get() {
    switch (try_add(1)) {
      case PinResult::kPinned:
        return GetResult::kOk;
      case PinResult::kFull:
        return GetResult::kFull;
      case PinResult::kDead:
        break;
    }
    return GetResult::kDead;
  }

  PutResult put() { return drop(1); }

  PinResult try_pin(PinKind /*kind*/) { return try_add(kPinBias); }

  PutResult unpin(PinKind /*kind*/) { return drop(kPinBias); }

  RefcountState state() const { return decode(count_.load(std::memory_order_acquire)); }
  bool is_pinned() const {
    return count_.load(std::memory_order_acquire) - kPinBias <= kMaxCount - kPinBias;
  }
  bool is_pinned_writable() const { return is_pinned(); }
  bool saturated() const { return false; }
  bool dead() const { return count_.load(std::memory_order_acquire) == 0; }
  Word raw() const { return count_.load(std::memory_order_acquire); }

  bool reset(Word refs, Word read_pins, Word write_pins, bool saturated) {
    const std::uint64_t count =
        std::uint64_t{refs} + std::uint64_t{kPinBias} * (std::uint64_t{read_pins} + write_pins);
    if (saturated || count > kMaxCount) return false;
    count_.store(static_cast<Word>(count), std::memory_order_release);
    return true;
  }

  static RefcountState decode(Word count) {
    RefcountState s;
    s.raw = count;
    s.dead = count == 0;
    if (count <= kMaxCount) {
      s.pins = count / kPinBias;
      s.refs = count % kPinBias;
    }
    return s;
  }

 private:
  // Adds `n` unless the count is zero (dead) or the sum would go negative (refused).
  PinResult try_add(Word n) {
    Word old = count_.load(std::memory_order_relaxed);
    for (;;) {
      if (old == 0) return PinResult::kDead;
      if (old > kMaxCount - n) return PinResult::kFull;
      if (count_.compare_exchange_weak(old, old + n, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return PinResult::kPinned;
      }
    }
  }

  PutResult drop(Word n) {
    const Word old = count_.fetch_sub(n, std::memory_order_release);
    if (old <= n) [[unlikely]] {  // the last drop, or too little left to drop
      return drop_slow(old, n);
    }
    return PutResult::kLive;
  }

  [[gnu::noinline]] PutResult drop_slow(Word old, Word n) {
    if (old == n) {
      (void)count_.load(std::memory_order_acquire);
      return PutResult::kLast;
    }
    count_.fetch_add(n, std::memory_order_relaxed);
    Misuse kind = Misuse::kPutOnDead;
    if (n == kPinBias) kind = old == 0 ? Misuse::kUnpinOnDead : Misuse::kUnpinUnderflow;
    report_misuse(kind, name(), old);
    return PutResult::kLive;
  }

  [[gnu::noinline]] GetResult get_on_dead() {
    count_.fetch_sub(1, std::memory_order_relaxed);
    report_misuse(Misuse::kGetOnDead, name(), 0);
    return GetResult::kDead;
  }

  Atom<Word> count_;
};

}  // namespace pinsplit
