// SPDX-License-Identifier: MIT
// RefcountModel: the sequential specification of every counting scheme, written on plain
// integers with no bit tricks, so that it can judge the lock-free code it describes.
//
// Unit tests, the refcount_ops fuzz target and the interleaving explorer run operations on a
// real counter and on this model side by side; any difference in a result, in the misuse
// reported or in the decoded state is a bug in one of them.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "pinsplit/misuse.h"
#include "pinsplit/refcount.h"

namespace pinsplit {

enum class Scheme : std::uint8_t { kSplit, kBias, kPlain };

class RefcountModel {
 public:
  // Split models take their field limits; bias and plain have fixed ones.
  static RefcountModel Split(std::uint32_t max_refs, std::uint32_t max_read,
                             std::uint32_t max_write) {
    return RefcountModel(Scheme::kSplit, max_refs, max_read, max_write);
  }
  static RefcountModel Bias() { return RefcountModel(Scheme::kBias, 0, 0, 0); }
  static RefcountModel Plain() { return RefcountModel(Scheme::kPlain, 0, 0, 0); }

  // The misuse the last operation should have reported, if any.
  std::optional<Misuse> misuse() const { return misuse_; }

  GetResult get() { return add_ref(/*try_only=*/false); }
  GetResult try_get() { return add_ref(/*try_only=*/true); }

  PutResult put() {
    misuse_.reset();
    if (dead()) return flag(Misuse::kPutOnDead), PutResult::kLive;
    if (scheme_ != Scheme::kSplit) return drop_count(1);
    if (saturated_) return flag(Misuse::kSaturated), PutResult::kLive;
    if (refs_ == 0) {
      saturated_ = true;
      return flag(Misuse::kPutUnderflow), PutResult::kLive;
    }
    --refs_;
    return finish_drop();
  }

  PinResult try_pin(PinKind kind) {
    misuse_.reset();
    if (dead()) return PinResult::kDead;
    switch (scheme_) {
      case Scheme::kSplit: {
        std::uint64_t& field = pins(kind);
        if (field == (kind == PinKind::kRead ? max_read_ : max_write_)) return PinResult::kFull;
        ++field;
        return PinResult::kPinned;
      }
      case Scheme::kBias:
        if (count_ + kBias > kBiasMax) return PinResult::kFull;
        count_ += kBias;
        return PinResult::kPinned;
      case Scheme::kPlain:
        count_ = (count_ + 1) & kPlainMask;
        return PinResult::kPinned;
    }
    return PinResult::kDead;
  }

  PutResult unpin(PinKind kind) {
    misuse_.reset();
    if (dead()) {
      // A plain unpin is a put, and reports as one.
      flag(scheme_ == Scheme::kPlain ? Misuse::kPutOnDead : Misuse::kUnpinOnDead);
      return PutResult::kLive;
    }
    switch (scheme_) {
      case Scheme::kSplit: {
        std::uint64_t& field = pins(kind);
        if (field == 0) return flag(Misuse::kUnpinUnderflow), PutResult::kLive;
        --field;
        return finish_drop();
      }
      case Scheme::kBias:
        if (count_ < kBias) return flag(Misuse::kUnpinUnderflow), PutResult::kLive;
        return drop_count(kBias);
      case Scheme::kPlain:
        return drop_count(1);
    }
    return PutResult::kLive;
  }

  // Mirrors the counters' reset(); false when the scheme cannot hold the state.
  bool reset(std::uint32_t refs, std::uint32_t read, std::uint32_t write, bool saturated) {
    switch (scheme_) {
      case Scheme::kSplit:
        if (read > max_read_ || write > max_write_ || (!saturated && refs > max_refs_)) {
          return false;
        }
        refs_ = saturated ? 0 : refs;
        read_ = read;
        write_ = write;
        saturated_ = saturated;
        return true;
      case Scheme::kBias: {
        const std::uint64_t count = std::uint64_t{refs} + kBias * (std::uint64_t{read} + write);
        if (saturated || count > kBiasMax) return false;
        count_ = count;
        return true;
      }
      case Scheme::kPlain: {
        const std::uint64_t count = std::uint64_t{refs} + read + write;
        if (saturated || count > kPlainMask) return false;
        count_ = count;
        return true;
      }
    }
    return false;
  }

  // Whether a real counter's decoded state is this model's (its raw word too, where the model
  // knows it), so that counts that decode alike (bias above INT32_MAX) still differ.
  bool matches(RefcountState counter) const {
    if (scheme_ == Scheme::kSplit) counter.raw = 0;
    return counter == state();
  }

  // What a counter's predicates must answer in this state: is_pinned() (for bias and plain a
  // "maybe": bias counts any 1024 references as a pin, plain any reference), is_pinned_writable()
  // (exact only where pin kinds are counted apart), saturated() and dead(). The one statement of
  // each scheme's rule; the fuzz target (predicate_differences) and the linearizability check
  // (refcount_predicates.h) both judge by it:
  //   split  pinned: a read or write pin is held;  writable: a write pin is held
  //   bias   pinned = writable: the count is in [1024, INT32_MAX] (at least one bias)
  //   plain  pinned = writable: the count is not zero (every holder may be a pin)
  struct Predicates {
    bool is_pinned = false;
    bool is_pinned_writable = false;
    bool saturated = false;
    bool dead = false;
  };
  Predicates predicates() const {
    Predicates p;
    p.dead = dead();
    switch (scheme_) {
      case Scheme::kSplit:
        p.is_pinned = read_ + write_ > 0;
        p.is_pinned_writable = write_ > 0;
        p.saturated = saturated_;
        break;
      case Scheme::kBias:
        p.is_pinned = count_ >= kBias && count_ <= kBiasMax;
        p.is_pinned_writable = p.is_pinned;
        break;
      case Scheme::kPlain:
        p.is_pinned = count_ != 0;
        p.is_pinned_writable = p.is_pinned;
        break;
    }
    return p;
  }

  // Every predicate `counter` answers that this model contradicts, as "name counter, model
  // says model" joined by "; "; empty when they all agree. (state().pins, the pin count, is
  // compared by matches().)
  template <class Counter>
  std::string predicate_differences(const Counter& counter) const {
    const Predicates want = predicates();
    std::string out;
    const auto check = [&out](std::string_view name, bool got, bool expected) {
      if (got == expected) return;
      if (!out.empty()) out += "; ";
      out += std::string(name) + (got ? " true" : " false") + ", model says " +
             (expected ? "true" : "false");
    };
    check("is_pinned", counter.is_pinned(), want.is_pinned);
    check("is_pinned_writable", counter.is_pinned_writable(), want.is_pinned_writable);
    check("saturated", counter.saturated(), want.saturated);
    check("dead", counter.dead(), want.dead);
    return out;
  }

  bool dead() const {
    if (scheme_ == Scheme::kSplit) return !saturated_ && refs_ == 0 && read_ == 0 && write_ == 0;
    return count_ == 0;
  }

  // The decoded state the real counter must show. Bias and plain store exactly their count, so
  // their raw word is part of it; a split model has no word (raw stays 0).
  RefcountState state() const {
    RefcountState s;
    s.dead = dead();
    if (scheme_ != Scheme::kSplit) s.raw = static_cast<std::uint32_t>(count_);
    if (scheme_ == Scheme::kSplit) {
      s.refs = saturated_ ? 0 : static_cast<std::uint32_t>(refs_);
      s.read_pins = static_cast<std::uint32_t>(read_);
      s.write_pins = static_cast<std::uint32_t>(write_);
      s.pins = s.read_pins + s.write_pins;
      s.saturated = saturated_;
    } else if (scheme_ == Scheme::kBias) {
      if (count_ <= kBiasMax) {  // a negative count estimates nothing
        s.refs = static_cast<std::uint32_t>(count_ % kBias);
        s.pins = static_cast<std::uint32_t>(count_ / kBias);
      }
    } else {
      s.refs = static_cast<std::uint32_t>(count_);
    }
    return s;
  }

 private:
  static constexpr std::uint64_t kBias = 1024;
  static constexpr std::uint64_t kBiasMax = std::numeric_limits<std::int32_t>::max();
  static constexpr std::uint64_t kPlainMask = std::numeric_limits<std::uint32_t>::max();

  RefcountModel(Scheme scheme, std::uint32_t max_refs, std::uint32_t max_read,
                std::uint32_t max_write)
      : scheme_(scheme), max_refs_(max_refs), max_read_(max_read), max_write_(max_write) {}

  void flag(Misuse m) { misuse_ = m; }
  std::uint64_t& pins(PinKind kind) { return kind == PinKind::kRead ? read_ : write_; }

  GetResult add_ref(bool try_only) {
    misuse_.reset();
    if (dead()) {
      if (!try_only) flag(Misuse::kGetOnDead);
      return GetResult::kDead;
    }
    switch (scheme_) {
      case Scheme::kSplit:
        if (saturated_) {
          if (!try_only) flag(Misuse::kSaturated);
        } else if (refs_ == max_refs_) {
          saturated_ = true;
          refs_ = 0;
          flag(Misuse::kOverflow);
        } else {
          ++refs_;
        }
        return GetResult::kOk;
      case Scheme::kBias:
        // get_page() adds unconditionally; try_get_page() refuses a count that would go
        // negative (and one that already is).
        if (try_only && count_ >= kBiasMax) return GetResult::kFull;
        count_ = (count_ + 1) & kPlainMask;
        return GetResult::kOk;
      case Scheme::kPlain:
        count_ = (count_ + 1) & kPlainMask;
        return GetResult::kOk;
    }
    return GetResult::kDead;
  }

  PutResult drop_count(std::uint64_t n) {
    count_ -= n;
    return count_ == 0 ? PutResult::kLast : PutResult::kLive;
  }

  PutResult finish_drop() const { return dead() ? PutResult::kLast : PutResult::kLive; }

  Scheme scheme_;
  std::uint64_t max_refs_, max_read_, max_write_;
  std::uint64_t refs_ = 1, read_ = 0, write_ = 0;
  bool saturated_ = false;
  std::uint64_t count_ = 1;  // bias and plain
  std::optional<Misuse> misuse_;
};

}  // namespace pinsplit

namespace pinsplit {

// The model that specifies `counter` (anything with capabilities() and limits()).
template <class AnyCounter>
RefcountModel ModelFor(const AnyCounter& counter) {
  const Capabilities caps = counter.capabilities();
  if (caps.pin_kinds) {
    const auto limits = counter.limits();
    return RefcountModel::Split(limits.max_refs, limits.max_read_pins, limits.max_write_pins);
  }
  return caps.refuses_overflow ? RefcountModel::Bias() : RefcountModel::Plain();
}

}  // namespace pinsplit
