// SPDX-License-Identifier: MIT
// The simulation engine behind Simulate() (simulation.h): one page's holders as a discrete-event
// simulation on a real counter word of type C. See simulation.h for what it measures and how.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "pinsplit/budget/simulation.h"
#include "pinsplit/refcount.h"

namespace pinsplit::budget {
namespace simulation_internal {

// Student t quantile at 0.9995 (two-sided 99.9%) for batches - 1 degrees of freedom; the table
// covers the batch counts the options allow, larger counts use the normal quantile.
inline double TQuantile999(int df) {
  static constexpr double kTable[] = {0,     636.6, 31.60, 12.92, 8.610, 6.869, 5.959, 5.408,
                                      5.041, 4.781, 4.587, 4.437, 4.318, 4.221, 4.140, 4.073,
                                      4.015, 3.965, 3.922, 3.883, 3.850, 3.819, 3.792, 3.768,
                                      3.745, 3.725, 3.707, 3.690, 3.674, 3.659, 3.646};
  if (df >= 1 && df <= 30) return kTable[df];
  return 3.291;
}

inline constexpr double kZeroEventBound = 6.907755278982137;  // ln(1000)

inline std::uint64_t Fnv1a(std::string_view text) {
  std::uint64_t h = 1469598103934665603ull;
  for (char c : text) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

enum class Field { kRead, kWrite, kOrdinary };

inline Field FieldOf(ClassKind kind) {
  switch (kind) {
    case ClassKind::kReadPin:
      return Field::kRead;
    case ClassKind::kWritePin:
      return Field::kWrite;
    case ClassKind::kOrdinary:
      break;
  }
  return Field::kOrdinary;
}

struct Event {
  double time;
  int cls;
  int attempt;  // -1: a release; >= 1: a retry, the attempt's number
  int batch;    // the batch of the original arrival (-1: warm-up)
  bool operator>(const Event& other) const { return time > other.time; }
};

struct Tally {
  std::vector<std::uint64_t> attempts, refused;
  bool fixed_refused = false;
  explicit Tally(int batches) : attempts(batches), refused(batches) {}
};

inline SimEstimate Estimate(const Tally& t, int batches) {
  SimEstimate e;
  for (int b = 0; b < batches; ++b) {
    e.attempts += t.attempts[b];
    e.refused += t.refused[b];
  }
  if (t.fixed_refused) {  // a fixed registration did not fit: every arrival is refused too
    e.p = 1;
    return e;
  }
  if (e.attempts == 0) return e;
  e.p = static_cast<double>(e.refused) / static_cast<double>(e.attempts);
  double sum = 0, sum_sq = 0;
  int used = 0;
  for (int b = 0; b < batches; ++b) {
    if (t.attempts[b] == 0) continue;
    const double r = static_cast<double>(t.refused[b]) / static_cast<double>(t.attempts[b]);
    sum += r;
    sum_sq += r * r;
    ++used;
  }
  double spread = 0;
  if (used >= 2) {
    const double mean = sum / used;
    const double variance = std::max(0.0, (sum_sq - used * mean * mean) / (used - 1));
    spread = TQuantile999(used - 1) * std::sqrt(variance / used);
  }
  e.half_width = spread + kZeroEventBound / static_cast<double>(e.attempts);
  return e;
}

template <class C>
class Simulator {
 public:
  Simulator(const Workload& workload, const SimOptions& options, std::uint64_t seed)
      : workload_(workload),
        options_(options),
        rng_(seed),
        read_(options.batches),
        write_(options.batches),
        ordinary_(options.batches),
        false_pinned_time_(options.batches, 0.0) {}

  absl::StatusOr<SimResult> Run() {
    if (absl::Status s = PlaceFixedHolders(); !s.ok()) return s;
    std::vector<int> transient;
    double expected_rate = 0, longest_hold = 0;
    idle_.assign(workload_.classes.size(), 0);
    for (std::size_t i = 0; i < workload_.classes.size(); ++i) {
      const HolderClass& c = workload_.classes[i];
      if (c.fixed() || c.ArrivalRate() <= 0) continue;
      transient.push_back(static_cast<int>(i));
      if (c.finite()) {
        has_finite_ = true;
        idle_[i] = static_cast<std::uint64_t>(c.Sources());
        // Attempts per second with each source idle 1 / (1 + beta) of the time (untruncated).
        expected_rate += c.ArrivalRate() / (1 + c.rate.value * c.hold_mean.value);
      } else {
        expected_rate += c.ArrivalRate();
      }
      longest_hold = std::max(longest_hold, c.hold_mean.value);
    }
    SimResult result;
    result.seed = seed_;
    if (transient.empty()) {
      for (int b = 0; b < options_.batches; ++b) false_pinned_time_[b] = FalselyPinned() ? 1 : 0;
      measured_ = options_.batches;
      return Finish(result);
    }
    // The arrival rate now: Poisson classes at their rate, finite-source classes at their rate
    // times the sources idle. Memoryless, so the next arrival may be redrawn after any event.
    auto class_rate = [&](int i) {
      const HolderClass& c = workload_.classes[i];
      return c.finite() ? c.rate.value * static_cast<double>(idle_[i]) : c.ArrivalRate();
    };
    auto current_rate = [&] {
      double r = 0;
      for (int i : transient) r += class_rate(i);
      return r;
    };
    auto pick = [&](double total) {
      double u = std::uniform_real_distribution<double>(0, total)(rng_);
      for (int i : transient) {
        u -= class_rate(i);
        if (u < 0) return i;
      }
      return transient.back();
    };
    auto next_gap = [&](double r) {
      return r > 0 ? std::exponential_distribution<double>(r)(rng_)
                   : std::numeric_limits<double>::infinity();
    };
    const double backoff = options_.retry.enabled ? options_.retry.backoff_multiple : 0;
    warmup_ = 10 * longest_hold * (1 + backoff * options_.retry.retries);
    // The measured window holds about `arrivals` attempts at the rate the warm-up saw (finite
    // sources that are refused ask again at once, so the untruncated estimate can be far off).
    double window = static_cast<double>(options_.arrivals) / expected_rate;
    std::uint64_t warmup_attempts = 0;
    bool window_set = false;
    double end = std::numeric_limits<double>::infinity();
    double rate = current_rate();
    double now = 0, next_arrival = next_gap(rate);
    while (true) {
      const bool arrival = events_.empty() || next_arrival <= events_.top().time;
      const double at = arrival ? next_arrival : events_.top().time;
      if (!window_set && at >= warmup_) {
        if (warmup_attempts > 0 && warmup_ > 0) {
          window = static_cast<double>(options_.arrivals) /
                   (static_cast<double>(warmup_attempts) / warmup_);
        }
        batch_length_ = window / options_.batches;
        end = warmup_ + window;
        window_set = true;
      }
      if (at > end) break;
      Advance(now, at);
      now = at;
      if (arrival) {
        if (!window_set) ++warmup_attempts;
        Attempt(pick(rate), 0, BatchOf(now), now);
      } else {
        const Event e = events_.top();
        events_.pop();
        if (e.attempt < 0) {
          if (absl::Status s = Release(e.cls); !s.ok()) return s;
        } else {
          Attempt(e.cls, e.attempt, e.batch, now);
        }
      }
      if (has_finite_) {
        rate = current_rate();
        next_arrival = now + next_gap(rate);
      } else if (arrival) {
        next_arrival = now + next_gap(rate);
      }
      ++result.events;
      if (absl::Status s = Check(); !s.ok()) return s;
      if ((result.events & 0xffff) == 0 && options_.stop != nullptr &&
          options_.stop->load(std::memory_order_relaxed)) {
        return absl::CancelledError("interrupted");
      }
    }
    if (!window_set) {  // nothing happened after the warm-up began
      batch_length_ = window / options_.batches;
      end = warmup_ + window;
    }
    Advance(now, end);
    measured_ = options_.batches;
    return Finish(result);
  }

  std::uint64_t seed_ = 0;

 private:
  static constexpr bool kBias = !C::kCapabilities.exact_pins;

  Tally& TallyOf(Field f) {
    return f == Field::kRead ? read_ : f == Field::kWrite ? write_ : ordinary_;
  }

  int BatchOf(double t) const {
    if (t < warmup_) return -1;
    return std::min(options_.batches - 1, static_cast<int>((t - warmup_) / batch_length_));
  }

  bool FalselyPinned() const { return read_pins_ + write_pins_ == 0 && word_.is_pinned(); }

  // Time passes from `from` to `to` with the word unchanged: credit the false-positive time.
  void Advance(double from, double to) {
    if (!kBias || !FalselyPinned()) return;
    from = std::max(from, warmup_);
    while (from < to) {
      const int b = BatchOf(from);
      const double batch_end = warmup_ + (b + 1) * batch_length_;
      double until = b == options_.batches - 1 ? to : std::min(to, batch_end);
      if (until <= from) until = to;  // rounding at a batch edge
      false_pinned_time_[b] += until - from;
      from = until;
    }
  }

  absl::Status PlaceFixedHolders() {
    std::uint64_t fixed_refs = 1;  // the owner's reference
    for (const HolderClass& c : workload_.classes) {
      if (c.kind == ClassKind::kOrdinary)
        fixed_refs += static_cast<std::uint64_t>(c.FixedHolders());
    }
    refs_ = fixed_refs;
    if (!word_.reset(static_cast<typename C::Word>(std::min<std::uint64_t>(fixed_refs, ~0u)), 0, 0,
                     false)) {
      ordinary_.fixed_refused = true;
      refs_ = MaxRefs();
      if (!word_.reset(static_cast<typename C::Word>(refs_), 0, 0, false)) {
        return absl::InternalError("cannot place the fixed references");
      }
    }
    for (const HolderClass& c : workload_.classes) {
      if (c.kind == ClassKind::kOrdinary || !c.fixed()) continue;
      const PinKind kind = c.kind == ClassKind::kReadPin ? PinKind::kRead : PinKind::kWrite;
      Tally& tally = TallyOf(FieldOf(c.kind));
      for (std::uint64_t i = 0; i < static_cast<std::uint64_t>(c.FixedHolders()); ++i) {
        const PinResult r = word_.try_pin(kind);
        if (r == PinResult::kFull) {
          tally.fixed_refused = true;
          break;
        }
        if (r != PinResult::kPinned) return absl::InternalError("fixed pin found the word dead");
        ++(kind == PinKind::kRead ? read_pins_ : write_pins_);
      }
    }
    return Check();
  }

  std::uint64_t MaxRefs() const {
    if constexpr (kBias) {
      return kBiasMaxCount;
    } else {
      return C::kMaxRefs;
    }
  }

  double Hold(const HolderClass& c) {
    switch (c.hold_distribution) {
      case HoldDistribution::kDeterministic:
        return c.hold_mean.value;
      case HoldDistribution::kUniform:
        return std::uniform_real_distribution<double>(0, 2 * c.hold_mean.value)(rng_);
      case HoldDistribution::kExponential:
        break;
    }
    return std::exponential_distribution<double>(1 / c.hold_mean.value)(rng_);
  }

  void Attempt(int cls, int attempt, int batch, double now) {
    const HolderClass& c = workload_.classes[cls];
    const Field field = FieldOf(c.kind);
    Tally& tally = TallyOf(field);
    if (attempt == 0 && batch >= 0) ++tally.attempts[batch];
    if (c.finite()) --idle_[cls];  // the source asks; it is idle again unless it gets the pin
    bool taken;
    if (field == Field::kOrdinary) {
      const GetResult g = word_.try_get();
      taken = g == GetResult::kOk && !word_.saturated();
      if (g == GetResult::kOk && !taken) {  // saturated: put the word back, the ref not taken
        word_.reset(static_cast<typename C::Word>(refs_), static_cast<typename C::Word>(read_pins_),
                    static_cast<typename C::Word>(write_pins_), false);
      }
      if (taken) ++refs_;
    } else {
      const PinKind kind = field == Field::kRead ? PinKind::kRead : PinKind::kWrite;
      taken = word_.try_pin(kind) == PinResult::kPinned;
      if (taken) ++(kind == PinKind::kRead ? read_pins_ : write_pins_);
    }
    if (taken) {
      events_.push({now + Hold(c), cls, -1, batch});
      return;
    }
    if (c.finite()) ++idle_[cls];  // refused: the source goes back to idle (its own retry)
    const bool retries = options_.retry.enabled && field != Field::kOrdinary && !c.finite() &&
                         attempt < options_.retry.retries;
    if (retries) {
      const double mean = options_.retry.backoff_multiple * c.hold_mean.value;
      events_.push(
          {now + std::exponential_distribution<double>(1 / mean)(rng_), cls, attempt + 1, batch});
      return;
    }
    if (batch >= 0) ++tally.refused[batch];
  }

  absl::Status Release(int cls) {
    const HolderClass& c = workload_.classes[cls];
    PutResult r;
    if (c.kind == ClassKind::kOrdinary) {
      r = word_.put();
      --refs_;
    } else {
      const PinKind kind = c.kind == ClassKind::kReadPin ? PinKind::kRead : PinKind::kWrite;
      r = word_.unpin(kind);
      --(kind == PinKind::kRead ? read_pins_ : write_pins_);
      if (c.finite()) ++idle_[cls];
    }
    if (r != PutResult::kLive)
      return absl::InternalError("a release dropped the owner's reference");
    return absl::OkStatus();
  }

  absl::Status Check() const {
    const RefcountState s = word_.state();
    bool ok;
    if constexpr (kBias) {
      ok = s.raw == refs_ + kBiasPinWeight * (read_pins_ + write_pins_);
    } else {
      ok = s.refs == refs_ && s.read_pins == read_pins_ && s.write_pins == write_pins_ &&
           !s.saturated && !s.dead;
    }
    if (ok) return absl::OkStatus();
    return absl::InternalError(absl::StrCat(std::string(C::name()), ": word ", s.raw,
                                            " disagrees with the tally (", refs_, " refs, ",
                                            read_pins_, " READ, ", write_pins_, " R/W pins)"));
  }

  absl::StatusOr<SimResult> Finish(SimResult& result) {
    result.read = Estimate(read_, options_.batches);
    result.write = Estimate(write_, options_.batches);
    result.ordinary = Estimate(ordinary_, options_.batches);
    if (kBias) {
      SimEstimate e;
      double sum = 0, sum_sq = 0;
      for (int b = 0; b < measured_; ++b) {
        const double f =
            batch_length_ > 0 ? false_pinned_time_[b] / batch_length_ : false_pinned_time_[b];
        sum += f;
        sum_sq += f * f;
      }
      const int n = measured_;
      e.p = sum / n;
      const double variance = n > 1 ? std::max(0.0, (sum_sq - n * e.p * e.p) / (n - 1)) : 0;
      const std::uint64_t arrivals =
          result.ordinary.attempts + result.read.attempts + result.write.attempts;
      e.attempts = arrivals;
      e.half_width = TQuantile999(n - 1) * std::sqrt(variance / n) +
                     (arrivals > 0 ? kZeroEventBound / static_cast<double>(arrivals) : 0);
      result.false_maybe_pinned = e;
    }
    return result;
  }

  const Workload& workload_;
  const SimOptions& options_;
  std::mt19937_64 rng_;
  C word_{1};
  std::uint64_t refs_ = 1, read_pins_ = 0, write_pins_ = 0;
  Tally read_, write_, ordinary_;
  std::vector<double> false_pinned_time_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  double warmup_ = 0, batch_length_ = 0;
  std::vector<std::uint64_t> idle_;  // per class: idle sources of a finite-source class
  bool has_finite_ = false;
  int measured_ = 0;
};

}  // namespace simulation_internal

// Simulates `workload` on counter type C, reported as `layout`. Simulate() calls it for the
// compiled-in sample; tests call it with counters that break the contract, to show the tally
// check catches them.
template <class C>
absl::StatusOr<SimResult> SimulateOn(const Workload& workload, const LayoutSpec& layout,
                                     const SimOptions& options) {
  const std::uint64_t seed = options.seed ^ simulation_internal::Fnv1a(workload.name) ^
                             (simulation_internal::Fnv1a(layout.Name()) * 0x9e3779b97f4a7c15ull);
  simulation_internal::Simulator<C> simulator(workload, options, seed);
  simulator.seed_ = seed;
  absl::StatusOr<SimResult> result = simulator.Run();
  if (result.ok()) result->layout = layout;
  return result;
}

}  // namespace pinsplit::budget
