// SPDX-License-Identifier: MIT
// The attack storm: the overflow attacks the kernel maintainers feared for a split word, on one
// object.
//
// The counter starts near the edge of its ordinary field (the last 1/8 of it, or 4096 below it)
// so the storm crosses into saturation (split) or into refusals (bias). Threads, by the mix:
//   hoard      take an ordinary reference (get, or try_get) and keep it (pipes, vmsplice
//              calls, children)
//   release    drop one kept reference
//   pin_read / pin_write   pin and keep the pin; a full field must refuse it cleanly
//   unpin      drop one kept pin
//   burst      a fork-like burst: 32 gets, then 32 puts
// A monitor samples the word as it runs: the object is never dead while the storm's base
// reference holds it, and once saturated it stays saturated. At the end, before letting go, the
// pin fields must equal the pins the threads hold, exactly, and the ordinary count the
// references they hold (unless saturated); then every holder lets go, and the object must be
// freed exactly once, or never if it saturated.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "pinsplit/refcount.h"
#include "storm.h"

namespace pinsplit::stress {

inline const std::map<std::string, unsigned>& AttackStormOps() {
  static const auto* ops = new std::map<std::string, unsigned>{
      {"hoard", 8}, {"release", 5}, {"pin_read", 2}, {"pin_write", 2}, {"unpin", 3}, {"burst", 1}};
  return *ops;
}

template <PinRefcount Counter>
class AttackStorm {
 public:
  static constexpr std::size_t kMaxHeld = 4096;  // per thread, per kind of holding

  explicit AttackStorm(const StormOptions& options) : options_(options), control_(options) {}

  StormResult Run() {
    std::uint32_t start = StartRefs();
    counter_.reset(start, 0, 0, false);
    std::vector<Holdings> held(static_cast<std::size_t>(options_.threads));
    RunStormThreads(
        options_, control_, [&](int t) { Worker(t, held[static_cast<std::size_t>(t)]); },
        [this](const std::atomic<bool>& finished) { Monitor(finished); });
    CheckAndRelease(held, start);
    StormResult result = control_.result();
    result.counters["pins_refused"] = pins_refused_.load();
    result.counters["refs_refused"] = refs_refused_.load();
    result.counters["saturated"] = counter_.saturated();
    result.counters["start_refs"] = start;
    return result;
  }

 private:
  struct Holdings {
    std::uint64_t refs = 0;
    std::uint64_t read_pins = 0;
    std::uint64_t write_pins = 0;
  };

  std::uint32_t StartRefs() {
    Counter probe(1);
    // Find the largest ordinary count the scheme holds, by halving down from 2^31.
    std::uint32_t max = 1;
    for (std::uint32_t step = 1u << 30; step > 0; step >>= 1) {
      if (probe.reset(max + step, 0, 0, false)) max += step;
    }
    const std::uint32_t margin = std::min<std::uint32_t>(max / 8, 4096);
    return max - margin;
  }

  void Worker(int t, Holdings& mine) {
    Rng rng(options_.seed * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(t));
    std::uint64_t done = 0;
    while (!control_.done(done)) {
      for (std::uint64_t i = 0; i < kAttackStormBurst; ++i, ++done) Step(rng, mine);
      control_.count_ops(kAttackStormBurst);
    }
  }

  void Step(Rng& rng, Holdings& mine) {
    const std::string& op = options_.mix.pick(rng.below(options_.mix.total()));
    if (op == "hoard") {
      if (mine.refs >= kMaxHeld) return;
      const GetResult r = rng.below(4) == 0 ? counter_.try_get() : counter_.get();
      if (r == GetResult::kOk) {
        ++mine.refs;
      } else {
        refs_refused_.fetch_add(1, std::memory_order_relaxed);
      }
    } else if (op == "release") {
      if (mine.refs == 0) return;
      --mine.refs;
      Drop(counter_.put());
    } else if (op == "pin_read" || op == "pin_write") {
      const PinKind kind = op == "pin_read" ? PinKind::kRead : PinKind::kWrite;
      std::uint64_t& pins = kind == PinKind::kRead ? mine.read_pins : mine.write_pins;
      if (pins >= kMaxHeld) return;
      const PinResult r = counter_.try_pin(kind);
      if (r == PinResult::kPinned) {
        ++pins;
      } else if (r == PinResult::kFull) {
        pins_refused_.fetch_add(1, std::memory_order_relaxed);
      } else {
        control_.violation("a pin found the object dead while the storm held it");
      }
    } else if (op == "unpin") {
      const bool read = mine.read_pins > 0 && (mine.write_pins == 0 || rng.below(2) == 0);
      if (read) {
        --mine.read_pins;
        Drop(counter_.unpin(PinKind::kRead));
      } else if (mine.write_pins > 0) {
        --mine.write_pins;
        Drop(counter_.unpin(PinKind::kWrite));
      }
    } else {  // burst
      int taken = 0;
      for (; taken < 32; ++taken) {
        if (counter_.get() != GetResult::kOk) break;
      }
      for (int i = 0; i < taken; ++i) Drop(counter_.put());
    }
  }

  void Drop(PutResult r) {
    if (r == PutResult::kLast)
      control_.violation("a drop freed the object while the storm held it");
  }

  // Saturation counts as established once the ordinary field has been pulled to within the
  // racing-thread bound of kSaturatedValue; before that an overflowing get and a racing put may
  // legitimately cross back (split_refcount.h).
  static bool SaturationEstablished(const RefcountState& s) {
    if constexpr (requires { Counter::kSaturatedValue; }) {
      const std::uint32_t ordinary = s.raw & Counter::kOrdinaryMask;
      return ordinary + Counter::kMaxRacingThreads >= Counter::kSaturatedValue;
    } else {
      return s.saturated;
    }
  }

  void Monitor(const std::atomic<bool>& finished) {
    bool established = false;
    while (!finished.load(std::memory_order_acquire)) {
      const RefcountState s = counter_.state();
      if (s.dead) control_.violation(absl::StrCat("the word read as dead: raw=", s.raw));
      if (established && !s.saturated) {
        control_.violation(absl::StrCat("saturation did not stick: raw=", s.raw));
      }
      established = established || SaturationEstablished(s);
      std::this_thread::yield();
    }
  }

  void CheckAndRelease(std::vector<Holdings>& held, std::uint32_t start) {
    Holdings total;
    for (const Holdings& h : held) {
      total.refs += h.refs;
      total.read_pins += h.read_pins;
      total.write_pins += h.write_pins;
    }
    const RefcountState s = counter_.state();
    const Capabilities caps = Counter::kCapabilities;
    if (caps.pin_kinds && (s.read_pins != total.read_pins || s.write_pins != total.write_pins)) {
      control_.violation(absl::StrCat("pin fields read ", s.read_pins, "/", s.write_pins,
                                      " but threads hold ", total.read_pins, "/",
                                      total.write_pins));
    }
    if (caps.pin_kinds && !s.saturated && s.refs != start + total.refs) {
      control_.violation(absl::StrCat("ordinary field reads ", s.refs, " but ", start, " + ",
                                      total.refs, " references are held"));
    }
    if (caps.refuses_overflow &&
        s.raw != start + total.refs + 1024 * (total.read_pins + total.write_pins)) {
      control_.violation(
          absl::StrCat("count reads ", s.raw, ", expected ",
                       start + total.refs + 1024 * (total.read_pins + total.write_pins)));
    }
    // Let go of everything: the starting references, the threads' holdings.
    int lasts = 0;
    auto drop = [&](PutResult r) { lasts += r == PutResult::kLast; };
    for (Holdings& h : held) {
      for (; h.read_pins > 0; --h.read_pins) drop(counter_.unpin(PinKind::kRead));
      for (; h.write_pins > 0; --h.write_pins) drop(counter_.unpin(PinKind::kWrite));
      for (; h.refs > 0; --h.refs) drop(counter_.put());
    }
    // The starting references are one holder's: check them, then drop them as one last put.
    const bool saturated = counter_.saturated();
    const RefcountState left = counter_.state();
    const bool exact = caps.pin_kinds ? left.pins == 0 && left.refs == start : left.raw == start;
    if (!saturated && !exact) {
      control_.violation(absl::StrCat("after every thread let go the word is raw=", left.raw,
                                      ", expected only the ", start, " starting references"));
    }
    if (!saturated) counter_.reset(1, 0, 0, false);
    drop(counter_.put());
    if (saturated && lasts != 0) control_.violation("a saturated object was freed");
    if (!saturated && lasts != 1) {
      control_.violation(absl::StrCat("the object was freed ", lasts, " times, expected once"));
    }
  }

  const StormOptions& options_;
  StormControl control_;
  Counter counter_{1};
  std::atomic<std::uint64_t> pins_refused_{0};
  std::atomic<std::uint64_t> refs_refused_{0};
};

}  // namespace pinsplit::stress
