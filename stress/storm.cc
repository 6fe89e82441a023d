// SPDX-License-Identifier: MIT
#include "storm.h"

#include <climits>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "pinsplit/script_lexer.h"

namespace pinsplit::stress {
namespace {

std::atomic<bool> interrupted{false};

extern "C" void OnInterrupt(int) { interrupted.store(true, std::memory_order_relaxed); }

}  // namespace

unsigned Mix::total() const {
  unsigned sum = 0;
  for (const auto& [name, w] : weights) sum += w;
  return sum;
}

const std::string& Mix::pick(std::uint64_t r) const {
  for (const auto& [name, w] : weights) {
    if (r < w) return name;
    r -= w;
  }
  return weights.rbegin()->first;
}

absl::StatusOr<Mix> ParseMix(const std::string& spec,
                             const std::map<std::string, unsigned>& defaults) {
  Mix mix;
  if (spec.empty()) {
    mix.weights = defaults;
    return mix;
  }
  for (auto& [name, w] : defaults) mix.weights[name] = 0;
  for (absl::string_view item : absl::StrSplit(spec, ',', absl::SkipEmpty())) {
    std::vector<absl::string_view> parts = absl::StrSplit(item, ':');
    unsigned weight = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &weight)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "bad --mix entry ", Quoted(item), ": expected name:weight (weight 0..", UINT_MAX, ")"));
    }
    auto it = mix.weights.find(std::string(parts[0]));
    if (it == mix.weights.end()) {
      std::string known;
      for (auto& [name, w] : defaults) absl::StrAppend(&known, known.empty() ? "" : ", ", name);
      return absl::InvalidArgumentError(absl::StrCat("unknown operation ", Quoted(parts[0]),
                                                     " in --mix; this storm has: ", known));
    }
    it->second = weight;
  }
  if (mix.total() == 0) return absl::InvalidArgumentError("--mix gives every operation weight 0");
  return mix;
}

StormControl::StormControl(const StormOptions& options)
    : options_(options), start_(std::chrono::steady_clock::now()) {}

double StormControl::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

bool StormControl::done(std::uint64_t ops_done_by_this_thread) const {
  if (Interrupted() || halted_.load(std::memory_order_relaxed)) return true;
  if (options_.ops != 0) return ops_done_by_this_thread >= options_.ops;
  return elapsed() >= options_.seconds;
}

void StormControl::violation(const std::string& what) {
  violations_.fetch_add(1, std::memory_order_relaxed);
  if (options_.halt_on_violation) halted_.store(true, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  if (kept_.size() < kMaxKept) kept_.push_back(what);
}

StormResult StormControl::result() const {
  StormResult r;
  r.operations = ops();
  r.seconds = elapsed();
  r.violations = violations();
  r.interrupted = Interrupted();
  std::lock_guard lock(mu_);
  r.first_violations = kept_;
  return r;
}

void InstallInterruptHandler() {
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);  // a scheduler's stop keeps the summary, like Ctrl-C
}

std::uint64_t OpsPerThreadRun(const std::string& storm, std::uint64_t ops) {
  const std::uint64_t burst = storm == "word"     ? kWordStormBurst
                              : storm == "attack" ? kAttackStormBurst
                                                  : kMmStormBurst;
  if (ops == 0) return 0;
  const std::uint64_t bursts = ops / burst + (ops % burst != 0);
  return bursts > UINT64_MAX / burst ? UINT64_MAX : bursts * burst;
}

bool Interrupted() { return interrupted.load(std::memory_order_relaxed); }

void RunProgress(const StormControl& control, const std::atomic<bool>& finished) {
  auto last = std::chrono::steady_clock::now();
  while (!finished.load(std::memory_order_acquire)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (std::chrono::steady_clock::now() - last < std::chrono::seconds(1)) continue;
    last = std::chrono::steady_clock::now();
    const double elapsed = control.elapsed();
    const double budget = control.budget_seconds();
    std::fprintf(
        stderr, "  %6.1fs  %12.0f ops/s  %llu violation(s)%s\n", elapsed,
        elapsed > 0 ? static_cast<double>(control.ops()) / elapsed : 0.0,
        static_cast<unsigned long long>(control.violations()),
        budget > 0 ? absl::StrCat("  ", std::lround(budget - elapsed), "s left").c_str() : "");
  }
}

}  // namespace pinsplit::stress
