// SPDX-License-Identifier: MIT
// pinsplit_bench: every pinsplit benchmark suite in one process, so each scheme runs beside its
// plain twin.
//
// Google Benchmark's own flags (--benchmark_filter, --benchmark_min_time, --benchmark_out, ...)
// are read first; the rest must be this program's flags (bench_suite.cc). --help prints both
// and exits 0; an unknown flag, a bad value or a positional argument exits 2.
//
// The build records what it was built with in the JSON context (pinsplit_compiler,
// pinsplit_flags, pinsplit_build_dir), which bench/report.py copies into the run's metadata.
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "bench_suite.h"
#include "benchmark/benchmark.h"
#include "command_line.h"

namespace {

constexpr char kUsage[] =
    "pinsplit_bench: throughput of pinsplit's counters against a plain atomic.\n\n"
    "Usage:\n"
    "  pinsplit_bench [--max_threads=N] [--benchmark_...]\n\n"
    "Benchmarks are named BM_<Operation>/<scheme>/<mode>/threads:N/real_time (see\n"
    "bench/bench_suite.h). bench/report.py turns --benchmark_out=FILE (JSON) into a result\n"
    "file with ratios to plain and targets; ./harness bench does both.\n\n"
    "Exit status: 0 ran, 2 bad flags.";

void PrintHelp() {
  std::cout << kUsage << "\n\nGoogle Benchmark flags:\n";
  benchmark::PrintDefaultHelp();
}

}  // namespace

int main(int argc, char** argv) {
  // Google Benchmark takes its flags out of argv (and handles --help with PrintHelp)...
  std::vector<std::string> help_args;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h" || arg == "--helpfull") help_args.push_back(arg);
  }
  if (!help_args.empty()) {
    // ...but then Abseil would never list this program's flags: print them first.
    PrintHelp();
    std::cout << "\n";
    char* help_argv[] = {argv[0], const_cast<char*>("--help")};
    pinsplit::ParseCommandLineOrExit(2, help_argv, "pinsplit_bench's own flags:");
  }
  benchmark::Initialize(&argc, argv, PrintHelp);
  // ...and whatever is left is ours, or wrong (exit 2).
  const std::vector<std::string> positional = pinsplit::ParseCommandLineOrExit(argc, argv, kUsage);
  if (!positional.empty()) {
    pinsplit::ExitBadInput("unexpected argument '" + absl::StrJoin(positional, " ") + "'");
  }

  benchmark::AddCustomContext("pinsplit_compiler", PINSPLIT_BENCH_COMPILER);
  benchmark::AddCustomContext("pinsplit_flags", PINSPLIT_BENCH_FLAGS);
  benchmark::AddCustomContext("pinsplit_build_dir", PINSPLIT_BENCH_BUILD_DIR);
  benchmark::AddCustomContext("pinsplit_bench_cpus", std::to_string(pinsplit::bench::BenchCpus()));

  pinsplit::bench::RegisterAllBenchSuites();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
