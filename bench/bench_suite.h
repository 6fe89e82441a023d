// SPDX-License-Identifier: MIT
// The shape every pinsplit benchmark shares, so that one post-processor (bench/report.py) and
// one dashboard can read any of them without knowing it in advance.
//
// Names. A benchmark is registered as
//
//     BM_<Operation>/<scheme>/<mode>[/<key>:<value>...]
//
// and Google Benchmark appends "/threads:N" and "/real_time". <Operation> is CamelCase (its
// snake_case form is the "operation" in results), <scheme> names the counter or policy and holds
// no '/', <mode> is "uncontended" or "contended" (or any word without ':'). The post-processor
// pairs each benchmark with its twin whose <scheme> is "plain" and the rest of the name equal,
// and reports ratio_to_plain; a benchmark without a twin gets a null ratio. Register a scheme's
// benchmarks and the plain twin in the same binary, so both run in one process, side by side.
//
// Throughput. Every benchmark calls SetItemsProcessed, so its JSON carries items_per_second, and
// threaded ones use real time, so items_per_second is the throughput of all threads together.
//
// Adding benchmarks from another file: define a function that registers them with
// RegisterThreaded (or benchmark::RegisterBenchmark directly, keeping the names above) and add
//
//     PINSPLIT_BENCH_SUITE(RegisterMyBenchmarks);
//
// at namespace scope in a .cc file listed in bench/CMakeLists.txt. bench_main.cc parses the
// flags first, then calls every suite, so suites see the thread counts chosen on the command
// line.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "benchmark/benchmark.h"

namespace pinsplit::bench {

// Thread counts to run threaded benchmarks at: 1, powers of two, the CPU count and the first
// count past it, up to max_threads (twice the CPU count unless --max_threads says otherwise).
// On 2 CPUs: 1, 2, 3, 4.
const std::vector<int>& BenchThreadCounts();

// CPUs this process may run on; thread counts above it are oversubscribed.
int BenchCpus();

// "BM_<operation>/<scheme>/<mode>", checked: no part may hold a '/' or be empty.
std::string BenchName(std::string_view operation, std::string_view scheme, std::string_view mode);

// Registers fn under `name` at every BenchThreadCounts() count, using real time. fn must call
// state.SetItemsProcessed. Returns the benchmark for further settings.
benchmark::internal::Benchmark* RegisterThreaded(const std::string& name,
                                                 std::function<void(benchmark::State&)> fn);

// The same at one thread count. Registering a scheme and its plain twin one after the other at
// each count makes them run back to back, so drift on a shared machine hits both alike.
benchmark::internal::Benchmark* RegisterAtThreads(const std::string& name, int threads,
                                                  std::function<void(benchmark::State&)> fn);

// Labels the run "oversubscribed" when it has more threads than CPUs (the console shows it; the
// post-processor also derives it from the thread count and the CPU count).
void LabelOversubscription(benchmark::State& state);

using SuiteRegistrar = void (*)();

// Adds a suite; returns true so it can initialise a namespace-scope constant.
bool AddBenchSuite(SuiteRegistrar registrar);

// Calls every suite added with PINSPLIT_BENCH_SUITE, once.
void RegisterAllBenchSuites();

}  // namespace pinsplit::bench

#define PINSPLIT_BENCH_SUITE_CONCAT_INNER(a, b) a##b
#define PINSPLIT_BENCH_SUITE_CONCAT(a, b) PINSPLIT_BENCH_SUITE_CONCAT_INNER(a, b)
#define PINSPLIT_BENCH_SUITE(registrar)                           \
  [[maybe_unused]] static const bool PINSPLIT_BENCH_SUITE_CONCAT( \
      pinsplit_bench_suite_, __LINE__) = ::pinsplit::bench::AddBenchSuite(registrar)
