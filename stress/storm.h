// SPDX-License-Identifier: MIT
// What every storm shares: its options, the control block its threads poll (stop flag, budget,
// violation log), the per-thread random source, and the result it reports.
//
// Violations are recorded as they happen (the first kMaxKept in full, all of them counted). A
// storm stops when its time or operation budget runs out, on Ctrl-C (SIGINT) or SIGTERM, or at
// its first violation when halt_on_violation is set; whatever it counted until then is its
// result. Threads check their budget between bursts of operations (kWordStormBurst, ...), so an
// --ops budget is rounded up to a whole number of bursts (OpsPerThreadRun says to how many).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"

namespace pinsplit::stress {

// Weights of a storm's operations, from "--mix=get:4,pin:1"; operations left out weigh 0.
struct Mix {
  std::map<std::string, unsigned> weights;
  unsigned total() const;
  // Picks an operation name from r in [0, total()).
  const std::string& pick(std::uint64_t r) const;
};

// Parses "name:weight,..." against the storm's operation names; InvalidArgument names the bad
// entry. An empty spec gives `defaults`.
absl::StatusOr<Mix> ParseMix(const std::string& spec,
                             const std::map<std::string, unsigned>& defaults);

// Operations a storm's thread runs between two looks at its budget.
inline constexpr std::uint64_t kWordStormBurst = 64;
inline constexpr std::uint64_t kAttackStormBurst = 32;
inline constexpr std::uint64_t kMmStormBurst = 16;

// The operations per thread a storm really runs for `--ops=ops`: rounded up to its burst.
std::uint64_t OpsPerThreadRun(const std::string& storm, std::uint64_t ops);

struct StormOptions {
  std::string storm;   // word, mm, attack
  std::string scheme;  // counter name (word, attack; mm: empty for the policy's own)
  std::string policy;  // mm
  int threads = 4;
  double seconds = 2.0;
  std::uint64_t ops = 0;  // per thread; 0: run for `seconds`
  std::uint64_t seed = 1;
  Mix mix;
  bool check_write_protect_seq = true;
  std::string mm_variant = "correct";  // mm: the model's build (broken_mm_models.h)
  bool halt_on_violation = false;
  bool progress = true;
};

struct StormResult {
  std::uint64_t operations = 0;
  double seconds = 0;
  std::uint64_t violations = 0;
  std::vector<std::string> first_violations;
  std::map<std::string, std::uint64_t> counters;  // storm-specific tallies, for the summary
  bool interrupted = false;
};

class StormControl {
 public:
  static constexpr std::size_t kMaxKept = 20;

  explicit StormControl(const StormOptions& options);

  // True once the budget is spent, Ctrl-C arrived, or a halting violation happened.
  bool done(std::uint64_t ops_done_by_this_thread) const;
  void count_ops(std::uint64_t n) { ops_.fetch_add(n, std::memory_order_relaxed); }
  void violation(const std::string& what);

  std::uint64_t ops() const { return ops_.load(std::memory_order_relaxed); }
  std::uint64_t violations() const { return violations_.load(std::memory_order_relaxed); }
  double elapsed() const;
  double budget_seconds() const { return options_.ops == 0 ? options_.seconds : 0; }
  StormResult result() const;

 private:
  const StormOptions& options_;
  std::chrono::steady_clock::time_point start_;
  std::atomic<std::uint64_t> ops_{0};
  std::atomic<std::uint64_t> violations_{0};
  std::atomic<bool> halted_{false};
  mutable std::mutex mu_;
  std::vector<std::string> kept_;
};

// Installs the SIGINT handler that asks every running storm to stop.
// Ctrl-C (SIGINT) and SIGTERM both stop the storm between bursts; its summary is kept.
void InstallInterruptHandler();
bool Interrupted();

// Prints "elapsed, ops/s, violations, left" about once a second until `finished` is set.
void RunProgress(const StormControl& control, const std::atomic<bool>& finished);

// Runs worker(t) for t in [0, options.threads) beside the progress printer (and `beside`, a
// helper thread that runs until the workers are done, when given), and joins every thread.
template <class Worker, class Beside = std::nullptr_t>
void RunStormThreads(const StormOptions& options, const StormControl& control, Worker worker,
                     Beside beside = nullptr) {
  std::atomic<bool> finished{false};
  std::thread progress, helper;
  if (options.progress) progress = std::thread([&] { RunProgress(control, finished); });
  if constexpr (!std::is_same_v<Beside, std::nullptr_t>) {
    helper = std::thread([&] { beside(finished); });
  }
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(options.threads));
  for (int t = 0; t < options.threads; ++t) threads.emplace_back([&worker, t] { worker(t); });
  for (std::thread& th : threads) th.join();
  finished.store(true, std::memory_order_release);
  if (progress.joinable()) progress.join();
  if (helper.joinable()) helper.join();
}

// A small, fast generator (splitmix64) so that seeding per thread is cheap and reproducible.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }

 private:
  std::uint64_t state_;
};

}  // namespace pinsplit::stress
