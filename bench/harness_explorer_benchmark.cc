// SPDX-License-Identifier: MIT
// Speed of the interleaving explorer: schedules per second (items = schedules run).
//
//   BM_Harness/explorer/<engine>/program:atomics   every schedule of 3 logical threads doing 2
//                                                  fetch_adds each on one DeterministicAtomic
//                                                  (90 schedules): the scheduler's own cost
//   BM_Harness/explorer/<engine>/program:counter   every schedule of the exhaustive test's
//                                                  program A on split from one reference: the
//                                                  counter, the ownership rules and the
//                                                  linearizability check included
//
// <engine> is `fibers` (user-space switches, the default) or `threads` (the OS-thread reference
// the fiber engine replaced); both run in the same process, back to back, so their ratio is the
// speed-up. There is no plain twin: ratio_to_plain is null. items_per_second is in real time; on
// a shared machine the counter `schedules_per_cpu_second` (schedules over the CPU time of the
// whole process, worker threads included) is the figure that does not depend on the load.
#include <time.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bench_suite.h"
#include "deterministic_atomic.h"
#include "deterministic_scheduler.h"
#include "interleave_replay.h"
#include "pinsplit/interleave_script.h"

namespace pinsplit::bench {
namespace {

struct Engine {
  const char* name;
  SchedulerEngine engine;
};
constexpr Engine kEngines[] = {{"fibers", SchedulerEngine::kFibers},
                               {"threads", SchedulerEngine::kThreads}};

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void Report(benchmark::State& state, std::int64_t schedules, double cpu_seconds) {
  state.SetItemsProcessed(schedules);
  state.counters["schedules_per_cpu_second"] =
      cpu_seconds > 0 ? static_cast<double>(schedules) / cpu_seconds : 0.0;
}

void ExploreAtomics(benchmark::State& state, SchedulerEngine engine) {
  DeterministicScheduler scheduler(engine);
  std::int64_t schedules = 0;
  const double cpu_start = ProcessCpuSeconds();
  for (auto _ : state) {
    ExhaustiveChooser chooser;
    do {
      DeterministicAtomic<std::uint32_t> word(0);
      std::vector<std::function<void()>> bodies;
      for (std::uint32_t t = 1; t <= 3; ++t) {
        bodies.push_back([&word, t] {
          word.fetch_add(t);
          word.fetch_add(t);
        });
      }
      scheduler.Run(bodies, chooser);
      benchmark::DoNotOptimize(word.load());
      ++schedules;
    } while (chooser.Advance());
  }
  Report(state, schedules, ProcessCpuSeconds() - cpu_start);
}

void ExploreCounter(benchmark::State& state, SchedulerEngine engine) {
  absl::StatusOr<InterleaveScript> script = ParseInterleaveScript(
      "thread 1 get\nthread 1 put\nthread 1 put\n"
      "thread 2 try_get\nthread 2 pin write\nthread 2 unpin write\n");
  InterleaveOptions options;
  options.engine = engine;
  std::int64_t schedules = 0;
  const double cpu_start = ProcessCpuSeconds();
  for (auto _ : state) {
    absl::StatusOr<ExploreSummary> summary = ExploreAllInterleavings(*script, "split", options);
    if (!summary.ok() || summary->violations != 0) {
      state.SkipWithError("the explorer failed or found a violation on split");
      return;
    }
    schedules += static_cast<std::int64_t>(summary->interleavings);
  }
  Report(state, schedules, ProcessCpuSeconds() - cpu_start);
}

void RegisterExplorerBenchmarks() {
  for (const Engine& e : kEngines) {
    const SchedulerEngine engine = e.engine;
    RegisterAtThreads(BenchName("Harness", "explorer", e.name) + "/program:atomics", 1,
                      [engine](benchmark::State& s) { ExploreAtomics(s, engine); });
  }
  for (const Engine& e : kEngines) {
    const SchedulerEngine engine = e.engine;
    RegisterAtThreads(BenchName("Harness", "explorer", e.name) + "/program:counter", 1,
                      [engine](benchmark::State& s) { ExploreCounter(s, engine); });
  }
}

}  // namespace

PINSPLIT_BENCH_SUITE(RegisterExplorerBenchmarks);

}  // namespace pinsplit::bench
