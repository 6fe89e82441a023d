// SPDX-License-Identifier: MIT
#include "bench_suite.h"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "absl/flags/flag.h"

ABSL_FLAG(int, max_threads, 0,
          "most threads a threaded benchmark runs with; 0 means twice the CPU count");

namespace pinsplit::bench {
namespace {

std::vector<SuiteRegistrar>& Suites() {
  static std::vector<SuiteRegistrar> suites;
  return suites;
}

}  // namespace

int BenchCpus() {
  // The affinity mask, not the machine: a benchmark pinned to fewer CPUs is oversubscribed
  // sooner.
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

const std::vector<int>& BenchThreadCounts() {
  static const std::vector<int> counts = [] {
    const int cpus = BenchCpus();
    int most = absl::GetFlag(FLAGS_max_threads);
    if (most <= 0) most = 2 * cpus;
    std::vector<int> out;
    for (int t = 1; t <= most; t *= 2) out.push_back(t);
    for (int t : {cpus, cpus + 1, most}) {
      if (t <= most) out.push_back(t);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }();
  return counts;
}

std::string BenchName(std::string_view operation, std::string_view scheme, std::string_view mode) {
  for (std::string_view part : {operation, scheme, mode}) {
    if (part.empty() || part.find('/') != std::string_view::npos) {
      // A programming error in a suite; the post-processor could not parse the name.
      std::cerr << "bad benchmark name part '" << part << "'\n";
      std::abort();
    }
  }
  std::string name = "BM_";
  name.append(operation).append("/").append(scheme).append("/").append(mode);
  return name;
}

benchmark::internal::Benchmark* RegisterThreaded(const std::string& name,
                                                 std::function<void(benchmark::State&)> fn) {
  benchmark::internal::Benchmark* b = benchmark::RegisterBenchmark(
      name.c_str(), [fn = std::move(fn)](benchmark::State& state) { fn(state); });
  for (int threads : BenchThreadCounts()) b->Threads(threads);
  return b->UseRealTime();
}

benchmark::internal::Benchmark* RegisterAtThreads(const std::string& name, int threads,
                                                  std::function<void(benchmark::State&)> fn) {
  return benchmark::RegisterBenchmark(name.c_str(),
                                      [fn = std::move(fn)](benchmark::State& state) { fn(state); })
      ->Threads(threads)
      ->UseRealTime();
}

void LabelOversubscription(benchmark::State& state) {
  if (state.threads() > BenchCpus()) state.SetLabel("oversubscribed");
}

bool AddBenchSuite(SuiteRegistrar registrar) {
  Suites().push_back(registrar);
  return true;
}

void RegisterAllBenchSuites() {
  for (SuiteRegistrar registrar : Suites()) registrar();
}

}  // namespace pinsplit::bench
